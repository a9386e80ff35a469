"""Deterministic, nested subsampling of a training set, and dataset fingerprints.

``subsample_indices(n, rate, seed)`` keeps the first ``k`` entries of one permutation
of ``range(n)`` drawn from ``np.random.default_rng(seed)``; the permutation does not
depend on the rate, so for a fixed seed the subsets are nested: rate r1 < r2 implies
indices(r1) is a subset of indices(r2). The count is

    k = max(1, floor(rate * n + 0.5))       (round half up, at least one example)

and the indices are returned sorted ascending (file order), as int64.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["subsample_count", "subsample_indices", "subsample", "dataset_fingerprint"]


def _check_rate(rate) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise ValueError(f"subsample rate must be a number in (0, 1], got {rate!r}")
    r = float(rate)
    if not (math.isfinite(r) and 0.0 < r <= 1.0):
        raise ValueError(f"subsample rate must be in (0, 1], got {rate!r}")
    return r


def subsample_count(n: int, rate: float) -> int:
    """Number of examples kept: max(1, floor(rate * n + 0.5))."""
    r = _check_rate(rate)
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"dataset size must be a positive integer, got {n!r}")
    return max(1, min(int(n), int(math.floor(r * int(n) + 0.5))))


def subsample_indices(n: int, rate: float, seed: int) -> np.ndarray:
    """Sorted indices of the examples kept at ``rate`` for ``seed`` (nested across rates)."""
    k = subsample_count(n, rate)
    perm = np.random.default_rng(int(seed)).permutation(int(n))
    return np.sort(perm[:k]).astype(np.int64)


def subsample(records: Sequence, rate: float, seed: int) -> list:
    """The kept records, in their original order."""
    return [records[i] for i in subsample_indices(len(records), rate, seed)]


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot fingerprint a value of type {type(obj).__name__}")


def dataset_fingerprint(records) -> str:
    """sha256 (hex) of a canonical JSON of the records (sorted keys, compact, UTF-8).

    Any change of content or order changes it; NumPy scalars/arrays hash like their
    Python equivalents.
    """
    blob = json.dumps(
        records, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
        default=_json_default,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
