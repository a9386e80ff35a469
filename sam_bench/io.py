"""Atomic file writes: a reader never sees a half-written output.

Every output of the package goes through :func:`atomic_write`: a temporary file beside the
target, flushed, given the permissions a plain ``open()`` would give (``0666`` less the
umask: ``mkstemp``'s ``0600`` would hide results from collaborators on a shared
filesystem), then renamed over the target.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it; set straight back
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, data: bytes | str | Callable[[str], Any]) -> Path:
    """Write ``data`` (bytes, text as UTF-8, or a ``writer(tmp_path)`` that writes the file
    itself) to ``path`` atomically, with the umask's permissions. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        if callable(data):
            os.close(fd)
            data(tmp)
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    return atomic_write(path, json.dumps(obj, indent=1, sort_keys=True) + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())
