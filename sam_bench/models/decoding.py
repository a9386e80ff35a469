"""Greedy decoding for evaluation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from sam_bench.models.t5 import PAD_ID

Array = jax.Array


def greedy_decode(
    graphdef: nnx.GraphDef,
    params: nnx.State,
    input_ids: Array,
    max_length: int,
    eos_id: int = 1,
) -> Array:
    """Greedy (argmax) decoding: int32 tokens ``[B, max_length]``.

    The encoder runs once; a ``jax.lax.while_loop`` then recomputes the decoder
    over the fixed-size buffer of generated tokens at each step (no KV cache;
    the causal mask makes the not-yet-generated positions irrelevant) and
    appends the argmax token. Every token after a sequence's first ``eos_id``
    is 0 (pad), and the loop stops early once every sequence has emitted EOS.

    Matches Hugging Face greedy ``generate`` (``do_sample=False, num_beams=1``,
    ``decoder_start_token_id=0``, ``pad_token_id=0``) with
    ``max_new_tokens=max_length``, except that the leading decoder start token
    is not returned and the output is always padded to ``max_length``.

    Jittable with ``max_length`` static, e.g.
    ``jax.jit(greedy_decode, static_argnames=("max_length", "eos_id"))``;
    the encoder padding mask is taken from ``input_ids != 0``.
    """
    if not isinstance(max_length, int) or max_length <= 0:
        raise ValueError(f"max_length must be a positive int, got {max_length!r}")
    model = nnx.merge(graphdef, params)
    input_ids = jnp.asarray(input_ids, jnp.int32)
    batch = input_ids.shape[0]
    encoded = model.encode(input_ids, deterministic=True)

    def cond(state):
        i, _, _, done = state
        return (i < max_length) & ~jnp.all(done)

    def body(state):
        i, decoder_inputs, out, done = state
        hidden = model.decoder_hidden(encoded, input_ids, decoder_inputs, deterministic=True)
        h_i = jax.lax.dynamic_index_in_dim(hidden, i, axis=1, keepdims=False)  # [B, d]
        logits = model.lm_logits(h_i)  # [B, V]
        token = jnp.argmax(logits, axis=-1).astype(jnp.int32)
        token = jnp.where(done, jnp.int32(PAD_ID), token)
        out = out.at[:, i].set(token)
        # Next decoder input; the write past the end (last step) is dropped.
        decoder_inputs = decoder_inputs.at[:, i + 1].set(token, mode="drop")
        done = done | (token == eos_id)
        return i + 1, decoder_inputs, out, done

    decoder_inputs = jnp.zeros((batch, max_length), jnp.int32)  # start token 0
    out = jnp.zeros((batch, max_length), jnp.int32)
    done = jnp.zeros((batch,), bool)
    _, _, out, _ = jax.lax.while_loop(cond, body, (jnp.int32(0), decoder_inputs, out, done))
    return out
