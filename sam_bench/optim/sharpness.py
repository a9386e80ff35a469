"""Sharpness-aware gradients.

A gradient function maps (loss_fn, params, batch, dropout_key) to (loss, grads); its
output feeds any optax optimizer unchanged, so a sharpness-aware run and its baseline
share every line of code but this one (Bahri et al. §4.1). `loss_fn(params, batch,
dropout_key) -> scalar` is the mean loss over the batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

LossFn = Callable[[Any, dict, jax.Array], jax.Array]


def batch_size(batch: dict) -> int:
    return jax.tree.leaves(batch)[0].shape[0]


def standard_gradient(loss_fn: LossFn, params, batch: dict, dropout_key: jax.Array):
    return jax.value_and_grad(loss_fn)(params, batch, dropout_key)


@dataclass(frozen=True)
class SAM:
    """SAM (Foret et al. 2021) with Bahri et al.'s efficient ascent and m-sharpness.

    The batch of b examples is split into m shards of b/m. In each shard the first a/m
    examples give the ascent gradient g_j, the perturbation is ε_j = ρ g_j / (‖g_j‖₂ + δ),
    and the descent gradient is taken on the whole shard at w + ε_j; the m descent
    gradients are averaged. m = 1 and a = b is vanilla SAM; a = b/4 is Algorithm 1 of
    Bahri et al. 2022. Both passes use the same dropout key. The returned loss is the
    loss at the perturbed point(s), i.e. the SAM objective.

    Data parallelism: the ascent gradient here is per shard (per device when shards are
    mapped to devices), as in Foret et al.'s m-sharpness; no cross-shard reduction is
    made before the perturbation.
    """

    rho: float
    ascent_size: int | None = None  # a; None means the whole batch (a = b)
    m: int = 1
    norm_eps: float = 1e-12  # keeps ε finite when g = 0

    def perturbation(self, grads):
        scale = self.rho / (optax.tree.norm(grads) + self.norm_eps)
        return jax.tree.map(lambda g: scale * g, grads)

    def __call__(self, loss_fn: LossFn, params, batch: dict, dropout_key: jax.Array):
        b = batch_size(batch)
        a = b if self.ascent_size is None else self.ascent_size
        if b % self.m or a % self.m or a > b:
            raise ValueError(f"SAM needs m | b, m | a and a <= b; got b={b}, a={a}, m={self.m}")
        ascent_per_shard = a // self.m

        def shard_gradient(shard):
            ascent = jax.tree.map(lambda x: x[:ascent_per_shard], shard)
            eps = self.perturbation(jax.grad(loss_fn)(params, ascent, dropout_key))
            perturbed = jax.tree.map(jnp.add, params, eps)
            return jax.value_and_grad(loss_fn)(perturbed, shard, dropout_key)

        if self.m == 1:
            return shard_gradient(batch)
        shards = jax.tree.map(lambda x: x.reshape(self.m, b // self.m, *x.shape[1:]), batch)
        losses, grads = jax.lax.map(shard_gradient, shards)
        return losses.mean(), jax.tree.map(lambda g: g.mean(axis=0), grads)
