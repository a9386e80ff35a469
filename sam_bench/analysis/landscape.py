"""Loss landscapes around trained weights (FSAM Figures 4 and 5).

* 1-D: the loss along the line through the initial weights θ₀ and the trained weights θ₁,
  at θ₁ + α(θ₁ − θ₀) for α ∈ [−1, 1] (FSAM §6.4, after Hao et al. 2019): α = 0 is θ₁, α = −1
  is θ₀, α = 1 extrapolates past θ₁ by the same step.
* 2-D: the loss on the plane θ₁ + α d₁ + β d₂, α, β ∈ [−1, 1] (25 × 25 in FSAM Fig. 4), d₁, d₂
  random Gaussian directions *filter-normalised* (Li et al. 2018, "Visualizing the loss
  landscape of neural nets"): every filter of d is rescaled to the norm of the same filter of
  θ₁, so that the plot does not depend on the scale of each layer. A filter is one output unit:
  a slice along the last axis of a kernel ([in, out] here, as flax stores it). Tensors with one
  axis (biases, layer-norm scales) get a zero direction, Li et al.'s ``ignore='biasbn'``.

``loss_fn(params) -> scalar`` is the training loss on a fixed sample with dropout off (see
``sam_bench.analysis.cells``); results are tidy rows, one per point.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["interpolation_1d", "filter_normalized_direction", "surface_2d", "landscape_rows", "axis_points"]


def axis_points(n: int, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """``n`` evenly spaced points from ``low`` to ``high`` (both included); n = 25 is FSAM's grid."""
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"a landscape axis needs an integer number of points >= 2, got {n!r}")
    return np.linspace(low, high, n)


def _loss_along(loss_fn) -> Callable:
    @jax.jit
    def at(base, d1, d2, a, b):
        return loss_fn(jax.tree.map(lambda w, x, y: w + a * x + b * y, base, d1, d2))

    return at


def interpolation_1d(loss_fn: Callable[[Any], jax.Array], theta0, theta1, alphas: Sequence[float]) -> np.ndarray:
    """Loss at θ₁ + α(θ₁ − θ₀) for each α."""
    delta = jax.tree.map(jnp.subtract, theta1, theta0)
    zero = jax.tree.map(jnp.zeros_like, delta)
    at = _loss_along(loss_fn)
    return np.array([float(at(theta1, delta, zero, float(a), 0.0)) for a in alphas])


def filter_normalized_direction(params, key: jax.Array):
    """A Gaussian direction with each filter rescaled to the norm of ``params``' filter (Li et al. 2018)."""
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))
    out = []
    for k, w in zip(keys, leaves):
        w = jnp.asarray(w)
        if w.ndim < 2:
            out.append(jnp.zeros_like(w))
            continue
        d = jax.random.normal(k, w.shape, w.dtype)
        axes = tuple(range(w.ndim - 1))  # a filter: everything feeding one output unit (last axis)
        d_norm = jnp.sqrt(jnp.sum(d * d, axis=axes, keepdims=True))
        w_norm = jnp.sqrt(jnp.sum(w * w, axis=axes, keepdims=True))
        out.append(d * w_norm / jnp.maximum(d_norm, 1e-12))
    return jax.tree.unflatten(treedef, out)


def surface_2d(loss_fn: Callable[[Any], jax.Array], theta, d1, d2, alphas: Sequence[float],
               betas: Sequence[float]) -> np.ndarray:
    """Loss at θ + α d₁ + β d₂: an array ``[len(alphas), len(betas)]``."""
    at = _loss_along(loss_fn)
    return np.array([[float(at(theta, d1, d2, float(a), float(b))) for b in betas] for a in alphas])


def landscape_rows(base: dict, *, alphas_1d=None, values_1d=None, alphas_2d=None, betas_2d=None,
                   values_2d=None) -> list[dict]:
    """Tidy rows: ``metric`` landscape_1d (column ``alpha``) or landscape_2d (``alpha``, ``beta``),
    ``value`` the training loss, every key of ``base`` (the cell's axes) repeated."""
    rows, r = [], lambda x: round(float(x), 10)  # linspace's 1e-17 noise would split a join on alpha
    if values_1d is not None:
        rows += [{**base, "metric": "landscape_1d", "alpha": r(a), "beta": None, "value": float(v)}
                 for a, v in zip(alphas_1d, values_1d)]
    if values_2d is not None:
        rows += [{**base, "metric": "landscape_2d", "alpha": r(a), "beta": r(b), "value": float(values_2d[i, j])}
                 for i, a in enumerate(alphas_2d) for j, b in enumerate(betas_2d)]
    return rows
