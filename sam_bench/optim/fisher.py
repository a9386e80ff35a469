"""FSAM's Fisher mask (Zhong et al. 2022): keep the (1 − s) share of parameters with the
largest empirical Fisher, perturb only those.

Two ways to estimate the Fisher are offered:

- ``"paper"`` (Eq. 9): F̂ = (1/N) Σᵢ (∇ log p(yᵢ|xᵢ))², per-example squared gradients over
  N_Fisher examples (here: the first N_Fisher examples of the batch of the refresh step;
  log p(yᵢ|xᵢ) is minus the loss of example i alone, for T5 its mean token log-likelihood).
  Every parameter can be masked.
- ``"reference"`` (github.com/WHU-ZQH/FSAM4PLM, ``SAM_Mask.set_fisher_mask``): F̂ = g², the
  square of the mini-batch (ascent) gradient of the refresh step, and parameters whose name
  contains "bias" or "embed" are never masked (always perturbed) and take no part in the top-k.

The top-k is done with a threshold: a parameter is kept when F̂ ≥ t, t the k-th largest value
(k = ⌊(1 − s)·d⌋ over the maskable parameters, found exactly by bisection on the float bits,
no sort or concatenation of the whole model). Ties at t are all kept, which makes the mask
independent of the order of the parameter tree; when t = 0 (more than a share s of zero
Fisher) only the strictly positive entries are kept. s = 0 keeps everything (FSAM = SAM).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

FISHER_MODES = ("paper", "reference")
REFERENCE_UNMASKED = ("bias", "embed")


@dataclass(frozen=True)
class FisherMask:
    sparsity: float = 0.9          # s: the share of parameters NOT perturbed
    fisher_interval: int = 100     # the paper's Fi: refresh every Fi optimizer steps (0, Fi, 2Fi, ...)
    mode: str = "paper"            # "paper" | "reference"
    n_fisher: int | None = None    # paper mode: examples in the Fisher (None: the whole batch)
    chunk: int = 8                 # paper mode: per-example gradients computed this many at a time

    def maskable(self, params):
        """A tree of Python bools: which leaves take part in the mask."""
        paths, treedef = jax.tree_util.tree_flatten_with_path(params)
        flags = []
        for path, _ in paths:
            name = jax.tree_util.keystr(path).lower()
            flags.append(not (self.mode == "reference" and any(word in name for word in REFERENCE_UNMASKED)))
        return jax.tree_util.tree_unflatten(treedef, flags)

    def initial(self, params):
        return jax.tree.map(lambda p: jnp.ones(jnp.shape(p), jnp.bool_), params)

    def from_fisher(self, fisher, params):
        """The binary mask (bool tree) from a Fisher tree."""
        maskable = self.maskable(params)
        f_leaves = jax.tree.leaves(fisher)
        m_leaves, treedef = jax.tree.flatten(maskable)
        candidates = [f for f, m in zip(f_leaves, m_leaves) if m]
        d = sum(int(f.size) for f in candidates)
        k = int(math.floor((1.0 - self.sparsity) * d + 1e-6))  # 1e-6: (1 - 0.9)·100 is 9.999…
        if self.sparsity == 0.0 or not candidates:
            keep = [jnp.ones(f.shape, jnp.bool_) for f in candidates]
        elif k == 0:
            keep = [jnp.zeros(f.shape, jnp.bool_) for f in candidates]
        else:
            t = kth_largest([f.astype(jnp.float32) for f in candidates], k)
            keep = [jnp.where(t > 0, f >= t, f > 0) for f in candidates]
        it = iter(keep)
        out = [next(it) if m else jnp.ones(f.shape, jnp.bool_) for f, m in zip(f_leaves, m_leaves)]
        return jax.tree.unflatten(jax.tree.structure(fisher), out)


def kth_largest(leaves, k: int):
    """The k-th largest value over non-negative float32 arrays (exact; 31 counting passes)."""
    bits = [jax.lax.bitcast_convert_type(jnp.maximum(x, 0.0), jnp.int32) for x in leaves]

    def count_at_least(threshold):
        return sum(jnp.sum(b >= threshold, dtype=jnp.int32) for b in bits)

    def body(_, bounds):
        lo, hi = bounds
        mid = lo + (hi - lo) // 2
        ok = count_at_least(mid) >= k
        return jnp.where(ok, mid, lo), jnp.where(ok, hi, mid)

    # invariant: count(>= lo) >= k and count(>= hi) < k; +inf's bit pattern is 0x7f800000
    lo, _ = jax.lax.fori_loop(0, 32, body, (jnp.int32(0), jnp.int32(0x7F800001)))
    return jax.lax.bitcast_convert_type(lo, jnp.float32)


def empirical_fisher(loss_fn, params, examples: dict, dropout_key, chunk: int):
    """(1/N) Σᵢ (∇ℓᵢ)², ℓᵢ the loss of example i alone; N = the examples' leading size."""
    n = jax.tree.leaves(examples)[0].shape[0]
    chunk = max(1, min(chunk, n))

    def squared_sum(group):
        grads = jax.vmap(lambda ex: jax.grad(loss_fn)(params, jax.tree.map(lambda x: x[None], ex), dropout_key))(group)
        return jax.tree.map(lambda g: jnp.sum(jnp.square(g.astype(jnp.float32)), axis=0), grads)

    full, rest = divmod(n, chunk)
    total = jax.tree.map(lambda p: jnp.zeros(jnp.shape(p), jnp.float32), params)
    if full:
        stacked = jax.tree.map(lambda x: x[: full * chunk].reshape(full, chunk, *x.shape[1:]), examples)

        def body(acc, group):
            return optax.tree.add(acc, squared_sum(group)), None

        total, _ = jax.lax.scan(body, total, stacked)
    if rest:
        total = optax.tree.add(total, squared_sum(jax.tree.map(lambda x: x[full * chunk:], examples)))
    return jax.tree.map(lambda t: t / n, total)
