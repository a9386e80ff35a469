"""Statistics over seeds: mean with a 95% bootstrap interval, paired differences, P(improvement).

Seeds are replicates. Each "ours" number is the mean over seeds with a 95% percentile bootstrap
interval (``scipy.stats.bootstrap``, ``method="percentile"``, 10 000 resamples of the seeds,
fixed random state, so a report is reproducible); paired differences (method − baseline, matched
by seed) get the same interval, and the probability of improvement is the share of seed pairs
where the method wins (ties count one half, as in rliable's P(X > Y)). One seed gives no
interval (NaN), never a made-up one; seeds that agree exactly give a zero-width interval.

Many cells are computed at once: values with the same number of seeds are stacked and bootstrapped
in one vectorised call.
"""

from __future__ import annotations

import inspect
from typing import Sequence

import numpy as np
from scipy import stats as _st

__all__ = ["CONFIDENCE", "N_RESAMPLES", "METHOD", "mean_ci", "paired", "describe"]

CONFIDENCE = 0.95
N_RESAMPLES = 10_000
METHOD = "percentile"
_SEED = 0
# scipy >= 1.15 names the generator `rng` (random_state is on its way out)
_RNG_ARG = "rng" if "rng" in inspect.signature(_st.bootstrap).parameters else "random_state"


def describe() -> str:
    """The sentence every table's notes carry."""
    return (f"Ours: mean over seeds; [lo, hi] = {CONFIDENCE:.0%} percentile bootstrap interval over seeds "
            f"(scipy.stats.bootstrap, {N_RESAMPLES} resamples); no interval for n = 1. Δ: method − baseline paired "
            "by seed (same model, data rate, subsample), with its interval; P(↑) = share of seed pairs where the "
            "method wins (ties ½).")


def _intervals(groups: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) per 1-d array in ``groups``, NaN where fewer than 2 values."""
    lo = np.full(len(groups), np.nan)
    hi = np.full(len(groups), np.nan)
    by_n: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        if len(g) >= 2:
            by_n.setdefault(len(g), []).append(i)
    for n, idx in by_n.items():
        data = np.stack([groups[i] for i in idx])  # (cells, seeds)
        same = np.all(data == data[:, :1], axis=1)
        lo[np.array(idx)[same]] = hi[np.array(idx)[same]] = data[same, 0]
        if (~same).any():
            res = _st.bootstrap((data[~same],), np.mean, axis=-1, vectorized=True, confidence_level=CONFIDENCE,
                                n_resamples=N_RESAMPLES, method=METHOD, **{_RNG_ARG: np.random.default_rng(_SEED)})
            lo[np.array(idx)[~same]] = res.confidence_interval.low
            hi[np.array(idx)[~same]] = res.confidence_interval.high
    return lo, hi


def mean_ci(groups: Sequence[Sequence[float]]) -> dict[str, np.ndarray]:
    """Per group of seed values (NaNs dropped): mean, lo, hi, n."""
    clean = [np.asarray(g, dtype="float64")[~np.isnan(np.asarray(g, dtype="float64"))] for g in groups]
    lo, hi = _intervals(clean)
    mean = np.array([g.mean() if len(g) else np.nan for g in clean])
    return {"mean": mean, "lo": lo, "hi": hi, "n": np.array([len(g) for g in clean])}


def paired(diffs: Sequence[Sequence[float]], lower_is_better: bool = False) -> dict[str, np.ndarray]:
    """Per group of per-seed differences (method − baseline): mean, lo, hi, n and P(improvement)."""
    out = mean_ci(diffs)
    sign = -1.0 if lower_is_better else 1.0
    p = []
    for g in diffs:
        g = np.asarray(g, dtype="float64")
        g = sign * g[~np.isnan(g)]
        p.append(float(np.mean((g > 0) + 0.5 * (g == 0))) if len(g) else np.nan)
    out["p_improve"] = np.array(p)
    return out
