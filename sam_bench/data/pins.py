"""Pinned subsamples: the index lists in ``data_manifests/<dataset>.json`` every cell trains on.

Each training task's entry holds the nested index lists for every (rate, seed) of the ladder
2% < 5% < 10% < 20% < 40% < 80%, stored as one "level" per example
(``sam_bench.data.subsample.nested_levels``), with the sha256 of each list, the training-set
size they were drawn for and the fingerprint(s) of the training records.

``subsample_for_task`` is what every cell uses: it returns the pinned indices, and refuses
(``DatasetChangedError``) when the training set differs from the one the lists were pinned
for, instead of silently drawing a new subsample. ``task_pin_problems`` says the same before
any data is read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from sam_bench.data.catalog import CATALOG
from sam_bench.data.subsample import (
    LADDER,
    dataset_fingerprint,
    decode_levels,
    encode_levels,
    indices_digest,
    nested_levels,
    subsample_count,
    subsample_indices,
)

__all__ = ["DatasetChangedError", "SubsampleNotPinnedError", "manifest_dir", "load_manifest", "clear_cache", "pin_entry",
           "subsample_for_task", "task_pin_problems"]

GENERATOR = ("numpy.random.default_rng(seed).permutation(n); the subsample at rate r keeps the first "
             "max(1, floor(r*n + 0.5)) positions of that permutation, as sorted indices into the file order")


class DatasetChangedError(RuntimeError):
    """The training records differ from those the pinned subsample lists were made for."""


class SubsampleNotPinnedError(RuntimeError):
    """A (rate, seed) the manifest has no pinned index list for."""


def manifest_dir() -> Path:
    """``$SAM_BENCH_MANIFESTS`` or the repository's data_manifests/."""
    env = os.environ.get("SAM_BENCH_MANIFESTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data_manifests"


_CACHE: dict[tuple[str, str], dict] = {}


def clear_cache() -> None:
    """Forget the manifests read so far (after writing one)."""
    _CACHE.clear()


def load_manifest(dataset: str, directory: str | Path | None = None) -> dict:
    directory = Path(directory) if directory is not None else manifest_dir()
    key = (str(directory), dataset)
    path = directory / f"{dataset}.json"
    if key not in _CACHE or _CACHE[key].get("_mtime") != (path.stat().st_mtime if path.exists() else None):
        if not path.is_file():
            raise FileNotFoundError(f"no manifest for dataset {dataset!r}: {path} does not exist "
                                    f"(datasets: {sorted(CATALOG)})")
        data = json.loads(path.read_text())
        data["_mtime"] = path.stat().st_mtime
        _CACHE[key] = data
    return _CACHE[key]


def pin_entry(n: int, seeds, fingerprints=()) -> dict:
    counts = [subsample_count(n, r) for r in LADDER]
    entry = {"split": "train", "examples": int(n), "fingerprints": list(fingerprints),
             "generator": GENERATOR, "ladder": list(LADDER), "counts": counts, "seeds": {}}
    for seed in seeds:
        levels = nested_levels(n, seed)
        digests = [indices_digest(np.flatnonzero(levels <= j)) for j in range(len(LADDER))]
        entry["seeds"][str(int(seed))] = {"sha256": digests, "levels": encode_levels(levels)}
    return entry


def _rate_index(rate: float) -> int | None:
    for j, r in enumerate(LADDER):
        if abs(float(rate) - r) < 1e-12:
            return j
    return None


def subsample_for_task(task, records: list, rate: float, seed: int, policy: str = "manifest",
                       fingerprint: str | None = None, directory: str | Path | None = None) -> tuple[np.ndarray, dict]:
    """(sorted kept indices into ``records``, provenance) for one task's training set.

    policy "generate": ``subsample_indices(len(records), rate, seed)`` (synthetic data).
    policy "manifest": the list pinned in the task's manifest; the training set must have the
    pinned size and, where the manifest records fingerprints, one of them; else
    DatasetChangedError. Rate 1.0 keeps everything (after the same checks).
    """
    n = len(records)
    if policy == "generate":
        idx = subsample_indices(n, rate, seed)
        return idx, {"policy": "generate", "examples": n, "kept": int(len(idx)), "sha256": indices_digest(idx)}
    if policy != "manifest":
        raise ValueError(f"unknown subsample policy {policy!r}; valid: manifest, generate")
    name = task.name
    manifest = load_manifest(task.dataset, directory)
    where = f"data_manifests/{task.dataset}.json"
    pins = manifest.get("subsamples", {}).get(name)
    if pins is None:
        raise SubsampleNotPinnedError(f"{where} pins no subsamples for task {name!r}")
    fp = fingerprint or dataset_fingerprint(records)
    hint = (f"If the data changed on purpose, re-pin with `sam-bench data pin {task.dataset} "
            "--root <data root>` (and commit the manifest); for data that is not the official release (e.g. a "
            "generated suite) use the synthetic source or subsamples='generate'.")
    if n != pins["examples"]:
        raise DatasetChangedError(
            f"task {name!r}: the training set has {n} examples, but {where} pins subsamples for "
            f"{pins['examples']} (fingerprint(s) {[f['sha256'][:12] for f in pins['fingerprints']]}). "
            f"The dataset is not the one the subsamples were drawn for. {hint}")
    known = [f["sha256"] for f in pins["fingerprints"]]
    if known and fp not in known:
        raise DatasetChangedError(
            f"task {name!r}: the training records (fingerprint {fp[:12]}) differ from the recorded ones "
            f"({', '.join(k[:12] for k in known)}, {where}) although the size matches. {hint}")
    if float(rate) == 1.0:
        idx = np.arange(n, dtype=np.int64)
        return idx, {"policy": "manifest", "manifest": where, "examples": n, "kept": n, "fingerprint": fp,
                     "sha256": indices_digest(idx)}
    j = _rate_index(rate)
    if j is None:
        raise SubsampleNotPinnedError(
            f"task {name!r}: rate {rate} is not pinned; {where} pins the rates {list(LADDER)} (and 1.0 keeps all)")
    seed_entry = pins["seeds"].get(str(int(seed)))
    if seed_entry is None:
        raise SubsampleNotPinnedError(
            f"task {name!r}: subsample seed {seed} is not pinned in {where} (pinned seeds: {sorted(pins['seeds'])}); "
            f"pin it with `sam-bench data pin {task.dataset} --root <data root> --seeds "
            f"{' '.join(sorted(pins['seeds']))} {seed}`")
    levels = decode_levels(seed_entry["levels"], n)
    idx = np.flatnonzero(levels <= j).astype(np.int64)
    digest = indices_digest(idx)
    if digest != seed_entry["sha256"][j] or len(idx) != pins["counts"][j]:
        raise DatasetChangedError(f"{where}: the pinned list for ({name}, rate {rate}, seed {seed}) does not match "
                                  "its recorded sha256; the manifest is corrupt")
    return idx, {"policy": "manifest", "manifest": where, "examples": n, "kept": int(len(idx)), "fingerprint": fp,
                 "sha256": digest}


def task_pin_problems(task, rate: float, seed: int, directory: str | Path | None = None) -> list[str]:
    """Why a cell training ``task`` at (rate, seed) on official data cannot use pinned subsamples,
    without loading any data (empty if it can). For config validation before compute."""
    if not task.trains:
        return []
    try:
        pins = load_manifest(task.dataset, directory).get("subsamples", {}).get(task.name)
    except FileNotFoundError as e:
        return [str(e)]
    if pins is None:
        return [f"data_manifests/{task.dataset}.json pins no subsamples for task {task.name!r}"]
    if float(rate) == 1.0:
        return []
    if _rate_index(rate) is None:
        return [f"{task.name}: subsample rate {rate} is not pinned (pinned: {list(LADDER)} and 1.0)"]
    if str(int(seed)) not in pins["seeds"]:
        return [f"{task.name}: subsample seed {seed} is not pinned in data_manifests/{task.dataset}.json "
                f"(pinned: {sorted(pins['seeds'], key=int)}; add it with `sam-bench data pin {task.dataset} "
                "--root <data root> --seeds ...`)"]
    return []
