"""Paired bootstrap significance test of two systems' outputs on the same test set
(Berg-Kirkpatrick, Burkett & Klein 2012, "An empirical investigation of statistical
significance in NLP", §2, the test FSAM Table 2 reports for BART).

Each system's output on example i is summarised by sufficient statistics ``stats[i]`` (a row
of k numbers: a ROUGE score, or (tp, fp, fn) of the edits of an M2 F0.5), and ``metric(rows)``
computes the corpus-level score from any multiset of rows, so that corpus-level metrics
(F0.5 from summed counts) are resampled correctly. With δ(x) = metric_A(x) − metric_B(x) on
the test set x, the test draws ``samples`` test sets x⁽ⁱ⁾ of the same size with replacement
(the same indices for both systems) and returns

    p = #{i : δ(x⁽ⁱ⁾) > 2 δ(x)} / samples

the probability, under the bootstrap's null (the resampled δ shifted by δ(x)), of a gain as
large as the observed one. When δ(x) <= 0, A did not beat B and p = 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["BootstrapResult", "paired_bootstrap", "f_beta_from_counts"]


@dataclass(frozen=True)
class BootstrapResult:
    delta: float                   # metric_A − metric_B on the test set
    p_value: float
    interval: tuple[float, float]  # 95% percentile interval of the resampled δ
    samples: int


def paired_bootstrap(stats_a, stats_b, metric: Callable[[np.ndarray], float], *, samples: int = 1000,
                     seed: int = 0) -> BootstrapResult:
    """Is system A better than system B? ``stats_a``/``stats_b``: ``[N, k]`` (or ``[N]``) per-example
    statistics of the same N examples; ``metric``: rows -> corpus score (higher is better)."""
    a, b = np.asarray(stats_a, np.float64), np.asarray(stats_b, np.float64)
    a, b = (a[:, None] if a.ndim == 1 else a), (b[:, None] if b.ndim == 1 else b)
    if a.shape[0] != b.shape[0] or a.shape[0] == 0:
        raise ValueError(f"the two systems need statistics for the same, non-empty test set; got {a.shape[0]} "
                         f"and {b.shape[0]} examples")
    if not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be an integer >= 1, got {samples!r}")
    delta = float(metric(a) - metric(b))
    rng = np.random.default_rng(seed)
    n = a.shape[0]
    deltas = np.empty(samples)
    for i in range(samples):
        idx = rng.integers(0, n, n)
        deltas[i] = metric(a[idx]) - metric(b[idx])
    p = 1.0 if delta <= 0 else float(np.mean(deltas > 2 * delta))
    low, high = np.percentile(deltas, [2.5, 97.5])
    return BootstrapResult(delta, p, (float(low), float(high)), samples)


def f_beta_from_counts(rows: np.ndarray, beta: float = 0.5) -> float:
    """Corpus F_β (×100) from per-sentence (tp, fp, fn) rows, as the M2 scorer sums them."""
    tp, fp, fn = np.asarray(rows, np.float64).sum(axis=0)[:3]
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return 100.0 * (1 + beta ** 2) * p * r / (beta ** 2 * p + r) if p + r else 0.0
