"""The training objective and the jitted training step shared by pretraining and fine-tuning."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from sam_bench.models import apply, shift_right, token_cross_entropy


def make_loss_fn(graphdef):
    def loss_fn(params, batch, dropout_key):
        logits = apply(graphdef, params, batch["inputs"], shift_right(batch["targets"]), dropout_key=dropout_key)
        return token_cross_entropy(logits, batch["targets"], batch["targets"] != 0)

    return loss_fn


def make_train_step(loss_fn, optimizer, gradient):
    @jax.jit
    def train_step(params, opt_state, batch, dropout_key):
        loss, grads = gradient(loss_fn, params, batch, dropout_key)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return jax.tree.map(jnp.add, params, updates), opt_state, loss

    return train_step
