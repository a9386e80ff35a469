"""Curvature of a loss from Hessian-vector products; the Hessian is never materialised.

    hvp(v) = ∂/∂t ∇L(θ + t v) |ₜ₌₀ = jax.jvp(jax.grad(L), (θ,), (v,))[1]

costs about two gradient evaluations. On top of it:

* :func:`top_eigenvalue`: the largest (algebraic) eigenvalue λ_max of ∇²L(θ) by Lanczos
  with full re-orthogonalisation (Golub & Van Loan §10.1; Ghorbani et al. 2019 use it for
  neural-network spectra). The Ritz values of the k × k tridiagonal matrix converge to the
  extreme eigenvalues first; the residual ``β_k |s_k|`` of the top Ritz pair bounds its
  error (|λ − θ_top| ≤ residual for some eigenvalue λ).
* :func:`hutchinson_trace`: tr ∇²L(θ) ≈ mean of vᵀ(∇²L)v over Rademacher vectors v
  (Hutchinson 1990), with its standard error. For a diagonal Hessian every sample is exact.

The Lanczos vectors live on the host in float64 (k vectors of the parameter count); the
HVP runs jitted in the parameters' dtype. ``loss_fn(params) -> scalar`` is a closure over a
fixed batch with dropout off, so the curvature is that of one deterministic function.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from scipy.linalg import eigh_tridiagonal

__all__ = ["HessianSpectrum", "hvp", "flat_hvp", "top_eigenvalue", "hutchinson_trace", "curvature"]


def hvp(loss_fn: Callable[[Any], jax.Array], params, vector):
    """∇²L(params) · vector, both pytrees of the same structure (forward-over-reverse)."""
    return jax.jvp(jax.grad(loss_fn), (params,), (vector,))[1]


def flat_hvp(loss_fn: Callable[[Any], jax.Array], params) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """(matvec, n): the HVP at ``params`` as a function of flat float64 NumPy vectors of length n."""
    flat, unravel = ravel_pytree(params)

    @jax.jit
    def product(p, v):
        return ravel_pytree(hvp(loss_fn, p, unravel(v.astype(flat.dtype))))[0]

    def matvec(v: np.ndarray) -> np.ndarray:
        return np.asarray(product(params, jnp.asarray(v)), np.float64)

    return matvec, int(flat.size)


@dataclass(frozen=True)
class HessianSpectrum:
    """What a Lanczos run found: the top eigenvalue, its residual bound and every Ritz value."""

    top_eigenvalue: float
    residual: float          # β_k |s_k| of the top Ritz pair: an error bound on top_eigenvalue
    ritz_values: tuple       # all k Ritz values, ascending
    steps: int               # Lanczos steps taken (HVPs computed)


def _lanczos(matvec: Callable[[np.ndarray], np.ndarray], n: int, steps: int, seed: int) -> HessianSpectrum:
    steps = min(steps, n)
    q = np.random.default_rng(seed).standard_normal(n)
    basis = np.zeros((steps, n))
    basis[0] = q / np.linalg.norm(q)
    alphas, betas = [], []
    for j in range(steps):
        w = matvec(basis[j])
        alphas.append(float(w @ basis[j]))
        for _ in range(2):  # "twice is enough" (Kahan, Parlett): keeps the basis orthogonal in floating point
            w = w - basis[: j + 1].T @ (basis[: j + 1] @ w)
        beta = float(np.linalg.norm(w))
        betas.append(beta)
        scale = max(abs(a) for a in alphas) or 1.0
        if j + 1 == steps or beta <= 1e-10 * scale:  # done, or an invariant subspace: its Ritz values are exact
            break
        basis[j + 1] = w / beta
    k = len(alphas)
    values, vectors = eigh_tridiagonal(np.array(alphas), np.array(betas[: k - 1])) if k > 1 else (
        np.array(alphas), np.ones((1, 1)))
    return HessianSpectrum(top_eigenvalue=float(values[-1]), residual=float(abs(betas[k - 1] * vectors[-1, -1])),
                           ritz_values=tuple(float(v) for v in values), steps=k)


def top_eigenvalue(loss_fn: Callable[[Any], jax.Array], params, *, steps: int = 20, seed: int = 0) -> HessianSpectrum:
    """The largest eigenvalue of ∇²loss_fn(params) by ``steps`` Lanczos iterations (HVPs).

    ``steps`` = the parameter count gives the exact spectrum (up to rounding); 20 usually
    pins the top eigenvalue of a network's Hessian to a few digits (see ``residual``)."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    matvec, n = flat_hvp(loss_fn, params)
    return _lanczos(matvec, n, steps, seed)


def hutchinson_trace(loss_fn: Callable[[Any], jax.Array], params, *, samples: int = 10,
                     seed: int = 0) -> tuple[float, float]:
    """(estimate, standard error) of tr ∇²loss_fn(params) from ``samples`` Rademacher probes."""
    if not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be an integer >= 1, got {samples!r}")
    matvec, n = flat_hvp(loss_fn, params)
    return _hutchinson(matvec, n, samples, seed)


def curvature(loss_fn: Callable[[Any], jax.Array], params, *, steps: int = 20, probes: int = 10,
              seed: int = 0) -> tuple[HessianSpectrum, float, float]:
    """(top-eigenvalue spectrum, trace estimate, its standard error) sharing one compiled HVP."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if not isinstance(probes, int) or probes < 1:
        raise ValueError(f"samples must be an integer >= 1, got {probes!r}")
    matvec, n = flat_hvp(loss_fn, params)
    return (_lanczos(matvec, n, steps, seed), *_hutchinson(matvec, n, probes, seed))


def _hutchinson(matvec, n: int, samples: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(samples):
        v = rng.choice([-1.0, 1.0], size=n)
        values.append(float(v @ matvec(v)))
    stderr = float(np.std(values, ddof=1) / np.sqrt(samples)) if samples > 1 else float("nan")
    return float(np.mean(values)), stderr
