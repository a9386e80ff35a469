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

__all__ = [
    "subsample_count", "subsample_indices", "subsample", "dataset_fingerprint",
    "LADDER", "nested_levels", "encode_levels", "decode_levels", "indices_digest",
]


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


# ------------------------------------------------------------- the pinned ladder
#: the subsample rates pinned in data_manifests/ (nested: each list contains the previous ones)
LADDER = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # 0.3-0.9 added for FSAM Figure 2


def nested_levels(n: int, seed: int, ladder=LADDER) -> np.ndarray:
    """uint8 [n]: for each example, the index of the first ladder rate whose subsample holds it
    (``len(ladder)`` if none does). ``np.flatnonzero(levels <= j)`` equals
    ``subsample_indices(n, ladder[j], seed)``; nesting across rates is built in."""
    if list(ladder) != sorted(ladder):
        raise ValueError(f"the ladder must be increasing, got {ladder}")
    counts = np.array([subsample_count(n, r) for r in ladder], dtype=np.int64)
    perm = np.random.default_rng(int(seed)).permutation(int(n))
    rank = np.empty(int(n), dtype=np.int64)
    rank[perm] = np.arange(int(n))
    return np.searchsorted(counts, rank, side="right").astype(np.uint8)


def encode_levels(levels: np.ndarray) -> str:
    """Compact text form of ``nested_levels`` for a manifest: base64 of zlib(level bytes)."""
    import base64
    import zlib

    return base64.b64encode(zlib.compress(np.asarray(levels, dtype=np.uint8).tobytes(), 9)).decode("ascii")


def decode_levels(text: str, n: int) -> np.ndarray:
    import base64
    import zlib

    levels = np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=np.uint8)
    if levels.shape[0] != n:
        raise ValueError(f"pinned subsample levels hold {levels.shape[0]} examples, expected {n}")
    return levels


def indices_digest(indices) -> str:
    """sha256 of the index list written as comma-separated decimals (for pinning)."""
    return hashlib.sha256(",".join(str(int(i)) for i in indices).encode("ascii")).hexdigest()
