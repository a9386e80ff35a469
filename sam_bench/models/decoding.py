"""Greedy decoding for evaluation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from sam_bench.models.registry import seq2seq_ids

Array = jax.Array


def greedy_decode(
    graphdef: nnx.GraphDef,
    params: nnx.State,
    input_ids: Array,
    max_length: int,
    eos_id: int | None = None,
) -> Array:
    """Greedy (argmax) decoding: int32 tokens ``[B, max_length]``.

    The encoder runs once; a ``jax.lax.while_loop`` then recomputes the decoder
    over the fixed-size buffer of generated tokens at each step (no KV cache;
    the causal mask makes the not-yet-generated positions irrelevant) and
    appends the argmax token. Every token after a sequence's first ``eos_id``
    is the pad, and the loop stops early once every sequence has emitted EOS.

    The decoder start, pad and (by default) EOS ids are the model's
    (:func:`~sam_bench.models.registry.seq2seq_ids`: T5 starts with and pads 0 and
    ends at 1; BART starts with ``</s>`` 2, pads 1 and ends at 2). Matches Hugging
    Face greedy ``generate`` (``do_sample=False, num_beams=1``) with
    ``max_new_tokens=max_length`` and no forced tokens, except that the leading
    decoder start token is not returned and the output is always padded to
    ``max_length``.

    Jittable with ``max_length`` static, e.g.
    ``jax.jit(greedy_decode, static_argnames=("max_length", "eos_id"))``;
    the encoder padding mask is taken from ``input_ids != pad``.
    """
    if not isinstance(max_length, int) or max_length <= 0:
        raise ValueError(f"max_length must be a positive int, got {max_length!r}")
    model = nnx.merge(graphdef, params)
    ids = seq2seq_ids(model.config)
    eos_id = ids.eos if eos_id is None else eos_id
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
        token = jnp.where(done, jnp.int32(ids.pad), token)
        out = out.at[:, i].set(token)
        # Next decoder input; the write past the end (last step) is dropped.
        decoder_inputs = decoder_inputs.at[:, i + 1].set(token, mode="drop")
        done = done | (token == eos_id)
        return i + 1, decoder_inputs, out, done

    decoder_inputs = jnp.full((batch, max_length), ids.decoder_start, jnp.int32)  # only [:, 0] is read unwritten
    out = jnp.full((batch, max_length), ids.pad, jnp.int32)
    done = jnp.zeros((batch,), bool)
    _, _, out, _ = jax.lax.while_loop(cond, body, (jnp.int32(0), decoder_inputs, out, done))
    return out
