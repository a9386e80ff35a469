"""Independent NumPy references for the sharpness-aware variants, written from the papers'
formulas with hand-derived gradients (no JAX autodiff); test_optim_reference.py checks the
hand gradients. The tests in tests/test_optim_*.py import from here. Two small problems:
logistic regression (params w [5], bias [1]) and a two-layer tanh MLP (w1 [128, 129], bias1,
w2 [129, 3], bias2; w1 is large enough for Adafactor to factor its second moment).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from sam_bench.optim import Objective

# --------------------------------------------------------------------------
# the two problems, in NumPy (float64) and as JAX Objectives (float32)
# --------------------------------------------------------------------------


def _softplus(z):
    return np.logaddexp(0.0, z)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class LogReg:
    name = "logreg"

    @staticmethod
    def init(seed=0, n=16):
        rng = np.random.default_rng(seed)
        params = {"w": rng.normal(size=5), "bias": rng.normal(size=1) * 0.1}
        x = rng.normal(size=(n, 5))
        batch = {"x": x, "y": (rng.random(n) < _sigmoid(x @ rng.normal(size=5))).astype(np.float64)}
        return params, batch

    # network and loss head
    @staticmethod
    def logits(p, batch):
        return batch["x"] @ p["w"] + p["bias"][0]

    @staticmethod
    def per_example_from_logits(z, batch):
        return _softplus(z) - batch["y"] * z

    @staticmethod
    def dloss_dlogits(z, batch):
        return (_sigmoid(z) - batch["y"]) / len(z)

    @staticmethod
    def vjp(p, batch, cot):
        return {"w": batch["x"].T @ cot, "bias": np.array([cot.sum()])}

    # jax
    @staticmethod
    def jax_objective():
        def logits_fn(p, batch, key):
            return batch["x"] @ p["w"] + p["bias"][0]

        def per_example(z, batch):
            return jax.nn.softplus(z) - batch["y"] * z

        return Objective(logits_fn, lambda z, batch: jnp.mean(per_example(z, batch)), per_example)


class MLP:
    name = "mlp"
    D, H, C = 128, 129, 3

    @classmethod
    def init(cls, seed=0, n=16):
        rng = np.random.default_rng(seed)
        params = {"w1": rng.normal(size=(cls.D, cls.H)) / np.sqrt(cls.D), "bias1": rng.normal(size=cls.H) * 0.1,
                  "w2": rng.normal(size=(cls.H, cls.C)) / np.sqrt(cls.H), "bias2": rng.normal(size=cls.C) * 0.1}
        batch = {"x": rng.normal(size=(n, cls.D)), "y": rng.integers(0, cls.C, n)}
        return params, batch

    @staticmethod
    def hidden(p, batch):
        return np.tanh(batch["x"] @ p["w1"] + p["bias1"])

    @classmethod
    def logits(cls, p, batch):
        return cls.hidden(p, batch) @ p["w2"] + p["bias2"]

    @staticmethod
    def per_example_from_logits(z, batch):
        logp = z - z.max(axis=-1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(axis=-1, keepdims=True))
        return -logp[np.arange(len(z)), batch["y"]]

    @staticmethod
    def dloss_dlogits(z, batch):
        onehot = np.eye(z.shape[-1])[batch["y"]]
        return (_softmax(z) - onehot) / len(z)

    @classmethod
    def vjp(cls, p, batch, cot):
        h = cls.hidden(p, batch)
        dh = (cot @ p["w2"].T) * (1.0 - h**2)
        return {"w1": batch["x"].T @ dh, "bias1": dh.sum(0), "w2": h.T @ cot, "bias2": cot.sum(0)}

    @staticmethod
    def jax_objective():
        def logits_fn(p, batch, key):
            return jnp.tanh(batch["x"] @ p["w1"] + p["bias1"]) @ p["w2"] + p["bias2"]

        def per_example(z, batch):
            return optax.softmax_cross_entropy_with_integer_labels(z, batch["y"])

        return Objective(logits_fn, lambda z, batch: jnp.mean(per_example(z, batch)), per_example)


PROBLEMS = {"logreg": LogReg, "mlp": MLP}


def to_jax(tree):
    return {k: jnp.asarray(v, jnp.int32 if np.issubdtype(np.asarray(v).dtype, np.integer) else jnp.float32)
            for k, v in tree.items()}


def to_numpy(tree):
    return {k: np.asarray(v, np.float64) for k, v in dict(tree).items()}


# --------------------------------------------------------------------------
# NumPy helpers
# --------------------------------------------------------------------------

def take(batch, idx):
    return {k: v[idx] for k, v in batch.items()}


def loss(P, p, batch):
    return P.per_example_from_logits(P.logits(p, batch), batch).mean()


def grad(P, p, batch):
    z = P.logits(p, batch)
    return P.vjp(p, batch, P.dloss_dlogits(z, batch))


def per_example_grads(P, p, batch):
    n = len(batch["y"])
    return [grad(P, p, take(batch, [i])) for i in range(n)]


def norm(t):
    return np.sqrt(sum(np.sum(v**2) for v in t.values()))


def axpy(a, x, y):
    return {k: a * x[k] + y[k] for k in y}


def scale(a, x):
    return {k: a * x[k] for k in x}


def dot(x, y):
    return sum(np.sum(x[k] * y[k]) for k in x)


# --------------------------------------------------------------------------
# the variants, from the papers
# --------------------------------------------------------------------------

def sam_perturbation(g, rho):
    """Foret et al. Eq. 2 with p = 2: ε = ρ g/‖g‖."""
    return scale(rho / norm(g), g)


def fisher_mask(F, s, unmasked=()):
    """FSAM Eq. 10–11: keep the ⌊(1 − s)·d⌋ largest Fisher entries among the maskable
    parameters (ties at the threshold kept), the unmasked names always."""
    names = [k for k in F if k not in unmasked]
    values = np.concatenate([F[k].ravel() for k in names])
    k = int(np.floor((1 - s) * values.size + 1e-6))
    if s == 0:
        t = -np.inf
    else:
        t = np.sort(values)[::-1][k - 1]
    mask = {}
    for name in F:
        if name in unmasked:
            mask[name] = np.ones_like(F[name], bool)
        else:
            mask[name] = F[name] >= t if t > 0 else (F[name] > 0 if s > 0 else np.ones_like(F[name], bool))
    return mask


def empirical_fisher(P, p, batch, n):
    """FSAM Eq. 9: (1/N) Σ ∇ log p(y_i|x_i)²."""
    grads = per_example_grads(P, p, take(batch, np.arange(n)))
    return {k: np.mean([g[k] ** 2 for g in grads], axis=0) for k in p}


def reference_gradient(P, p, batch, *, kind, rho, a=None, m=1, eta=0.01, mask=None, selection=None, beta=1.0,
                       gamma=1.0, alpha=None, precond=None, functional=False):
    """One step's gradient of a sharpness-aware variant, from the formulas.

    kind: "sam" (ℓ2), "asam" (T = |w| + η), "precond" (P⁻¹g). mask: FSAM mask (dict of bools).
    selection: ESAM SWP choice per tensor (dict of bools) with beta; gamma: ESAM SDS share.
    alpha: GSAM. functional: Functional-SAM descent."""
    n = len(batch["y"])
    a = n if a is None else a
    out_loss, out_grads = [], []
    for j in range(m):
        group = take(batch, np.arange(j * n // m, (j + 1) * n // m))
        ng = n // m
        k = math.gcd(a // m, ng)  # the ascent set: the first a/(mk) of each of k blocks of the group
        g = grad(P, p, take(group, np.arange(ng).reshape(k, ng // k)[:, : a // m // k].ravel()))
        if kind == "sam":
            direction, measured = g, g
        elif kind == "asam":
            t = {k: np.abs(p[k]) + eta for k in p}
            direction = {k: t[k] ** 2 * g[k] for k in p}
            measured = {k: t[k] * g[k] for k in p}
        elif kind == "precond":
            direction = {k: g[k] / precond[k] for k in p}
            measured = direction
        factor = rho
        if selection is not None:
            direction = {k: direction[k] * selection[k] for k in p}
            measured = {k: measured[k] * selection[k] for k in p}
            factor = rho / beta
        eps = scale(factor / (norm(measured) + 1e-12), direction)  # δ: no NaN when nothing is selected
        if mask is not None:
            eps = {k: eps[k] * mask[k] for k in p}
        w_eps = axpy(1.0, eps, p)
        descent = group
        if gamma < 1:
            sharp = (P.per_example_from_logits(P.logits(w_eps, group), group)
                     - P.per_example_from_logits(P.logits(p, group), group))
            keep = np.argsort(-sharp, kind="stable")[: int(gamma * ng)]
            descent = take(group, keep)
        if functional:
            cot = P.dloss_dlogits(P.logits(p, descent), descent)
            g_p = P.vjp(w_eps, descent, cot)
        else:
            g_p = grad(P, w_eps, descent)
        if alpha is not None:
            coef = dot(g, g_p) / dot(g_p, g_p)
            g_perp = axpy(-coef, g_p, g)
            g_p = axpy(-alpha, g_perp, g_p)
        out_loss.append(loss(P, w_eps, descent))
        out_grads.append(g_p)
    return np.mean(out_loss), {k: np.mean([g[k] for g in out_grads], axis=0) for k in p}


# --------------------------------------------------------------------------
# the base optimizers' second moments after one step with gradient g (for P at step 2)
# --------------------------------------------------------------------------

def second_moment_after_one_step(base, g, args=None):
    args = args or {}
    if base in ("adam", "adamw", "amsgrad"):
        b2, eps = args.get("b2", 0.999), args.get("eps", 1e-8)
        return {k: np.sqrt((1 - b2) * v**2 / (1 - b2)) + eps for k, v in g.items()}
    if base == "adagrad":
        eps = args.get("eps", 1e-7)
        return {k: np.sqrt(0.1 + v**2 + eps) for k, v in g.items()}
    if base == "adafactor":  # first decay rate is 1 − 1^(−0.8) = 0: v = g² + ε₁
        out = {}
        for k, v in g.items():
            sq = v**2 + 1e-30
            if v.ndim == 2 and min(v.shape) >= 128:
                d0 = int(np.argmax(v.shape))       # the largest axis is averaged for the row factor
                d1 = 1 - d0
                row = sq.mean(axis=d0)
                col = sq.mean(axis=d1)
                v_hat = np.expand_dims(row / row.mean(), d0) * np.expand_dims(col, d1)
            else:
                v_hat = sq
            out[k] = np.sqrt(v_hat + 1e-30)
        return out
    return None  # sgd: P = I
