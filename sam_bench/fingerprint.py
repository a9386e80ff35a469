"""Content fingerprints of the files a cell reads (its initial checkpoint, its data files),
so that replaced weights or data make a new cell instead of silently reusing old results.

A fingerprint is the sha256 over (relative path, size, sha256) of every file under a path.
Hashing a multi-gigabyte checkpoint takes seconds to minutes, so each file's hash is cached
by (absolute path, size, mtime) in ``$SAM_BENCH_CACHE/fingerprints.json`` (default
``~/.cache/sam-bench``); a file that is replaced gets a new size or mtime and is hashed again.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from sam_bench.io import atomic_write

_SKIP = {"__pycache__", ".git", ".cache"}


def cache_path() -> Path:
    root = os.environ.get("SAM_BENCH_CACHE") or Path.home() / ".cache" / "sam-bench"
    return Path(root) / "fingerprints.json"


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    out = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP)
        out += [Path(root) / n for n in sorted(names) if not n.endswith(".pyc") and not n.startswith(".")]
    return out


def sha256_file(path: str | os.PathLike) -> str:
    """sha256 (hex) of one file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


class Fingerprints:
    """Content fingerprints with the per-file cache; one instance per config expansion."""

    def __init__(self, cache: Path | None = None):
        self.cache_file = cache or cache_path()
        try:
            self.cache = json.loads(self.cache_file.read_text())
        except (OSError, ValueError):  # none yet, or unreadable: hash afresh
            self.cache = {}
        self.memo: dict[str, str] = {}
        self.dirty = False

    def of(self, path: str | os.PathLike) -> str:
        """sha256 (hex, 16 characters) of everything under ``path`` (a file or a folder)."""
        path = Path(path).expanduser().resolve()
        if str(path) in self.memo:
            return self.memo[str(path)]
        entries = []
        for f in _files(path):
            stat = f.stat()
            key = f"{f}|{stat.st_size}|{stat.st_mtime_ns}"
            if key not in self.cache:
                self.cache[key] = sha256_file(f)
                self.dirty = True
            rel = f.name if f == path else str(f.relative_to(path))
            entries.append([rel, stat.st_size, self.cache[key]])
        digest = hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:16]
        self.memo[str(path)] = digest
        return digest

    def save(self) -> None:
        if self.dirty:
            try:
                atomic_write(self.cache_file, json.dumps(self.cache, indent=0, sort_keys=True))
            except OSError:  # a read-only home only costs the hashing next time
                pass
            self.dirty = False
