"""BART (Lewis et al. 2020) encoder-decoder in ``flax.nnx``, and the import of Hugging Face
``BartForConditionalGeneration`` checkpoints (FSAM Table 2: BART-base/large on XSUM, CoNLL-2014).

The network reproduces transformers' PyTorch BART:

* token embedding ``shared`` (scaled by sqrt(d_model) only with ``scale_embedding``; false for
  bart-base/large) used by encoder, decoder and, transposed, as the output projection, plus
  ``final_logits_bias``;
* learned positions with BART's offset of 2 (row ``t + 2`` for position t), then
  ``layernorm_embedding``;
* post-norm blocks (sublayer, residual add, LayerNorm with bias, eps 1e-5);
* attention with biases, queries scaled by d_head^-1/2; GELU (exact) feed-forward ``fc1``/``fc2``;
* padding (``pad_token_id``, 1) masked as keys in encoder self-attention and cross-attention;
  the decoder self-attention is causal.

Dropout (``dropout`` on embeddings and sublayer outputs, ``attention_dropout`` on the attention
probabilities, ``activation_dropout`` after the GELU) draws from one key per call. The call
takes T5's arguments (``deterministic``, ``rngs`` with a ``dropout`` stream) and the model has
T5's ``encode`` / ``decoder_hidden`` / ``lm_logits``, so the text-to-text objective and greedy
decoding serve both. Parameter tree (HF name without ``model.`` and ``.weight``; the mapping is
:mod:`sam_bench.models.bart_names`)::

    shared.embedding                                [vocab, d_model]
    {encoder,decoder}.embed_positions.embedding     [max_position_embeddings + 2, d_model]
    {encoder,decoder}.layernorm_embedding.{scale,bias}
    encoder.layers[i].self_attn.{q,k,v,out}_proj.{kernel,bias}   kernel [in, out] (HF weight transposed)
    encoder.layers[i].{self_attn_layer_norm,final_layer_norm}.{scale,bias}
    encoder.layers[i].{fc1,fc2}.{kernel,bias}
    decoder.layers[i]: the same plus encoder_attn.* and encoder_attn_layer_norm.*
    final_logits_bias                               [1, vocab]   (HF: a buffer of that shape)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from sam_bench.models.layers import Dense, Embedding, LayerNorm, check_dtype, keyed_dropout

Array = jax.Array


@dataclass(frozen=True)
class BartConfig:
    """Hugging Face's ``BartConfig`` fields that shape the network (same names); bart-base defaults."""

    vocab_size: int = 50265
    d_model: int = 768
    encoder_layers: int = 6
    decoder_layers: int = 6
    encoder_attention_heads: int = 12
    decoder_attention_heads: int = 12
    encoder_ffn_dim: int = 3072
    decoder_ffn_dim: int = 3072
    max_position_embeddings: int = 1024  # learned positions; the table has 2 more rows (BART's offset)
    scale_embedding: bool = False  # multiply token embeddings by sqrt(d_model)
    pad_token_id: int = 1  # masked as a key in self- and cross-attention
    bos_token_id: int = 0
    eos_token_id: int = 2
    decoder_start_token_id: int = 2  # first decoder input of teacher forcing
    dropout: float = 0.1  # on embeddings and sublayer outputs
    attention_dropout: float = 0.0  # on the attention probabilities
    activation_dropout: float = 0.0  # after the feed-forward GELU
    layer_norm_eps: float = 1e-5
    dtype: str = "float32"  # the compute dtype; BART computes in float32 only


    def __post_init__(self):
        for name in ("vocab_size", "d_model", "encoder_layers", "decoder_layers", "encoder_attention_heads",
                     "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim", "max_position_embeddings"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"BartConfig.{name} must be a positive integer, got {value!r}")
        for heads in (self.encoder_attention_heads, self.decoder_attention_heads):
            if self.d_model % heads:
                raise ValueError(f"BartConfig.d_model={self.d_model} must be divisible by the head count {heads}")
        for name in ("dropout", "attention_dropout", "activation_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"BartConfig.{name} must be in [0, 1), got {getattr(self, name)!r}")
        check_dtype("BartConfig", self.dtype)
        if self.dtype != "float32":
            raise ValueError(f"BartConfig.dtype {self.dtype!r}: BART computes in float32 only (finetune.dtype)")

    def replace(self, **overrides: Any) -> "BartConfig":
        return dataclasses.replace(self, **overrides)


_PUBLISHED_DROPOUT = dict(attention_dropout=0.1, activation_dropout=0.1)  # the hub's config.json files

#: bart-base (140M) and bart-large (406M) as published on the Hugging Face hub (their dropout
#: rates too); bart-tiny is a CPU/CI size whose vocabulary comes from a trained BPE.
BART_CONFIGS = {
    "bart-base": BartConfig(**_PUBLISHED_DROPOUT),
    "bart-large": BartConfig(d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
                             decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096,
                             **_PUBLISHED_DROPOUT),
    "bart-tiny": BartConfig(vocab_size=1024, d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                            decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
                            max_position_embeddings=256),
}


def _linear(n_in: int, n_out: int, *, rngs: nnx.Rngs) -> Dense:
    """A float32 linear layer with bias, initialised N(0, 0.02) as transformers' BART."""
    return Dense(n_in, n_out, std=0.02, dtype=jnp.float32, rngs=rngs, bias=True)


class Attention(nnx.Module):
    def __init__(self, d: int, heads: int, dropout: float, *, rngs: nnx.Rngs):
        self.q_proj, self.k_proj = _linear(d, d, rngs=rngs), _linear(d, d, rngs=rngs)
        self.v_proj, self.out_proj = _linear(d, d, rngs=rngs), _linear(d, d, rngs=rngs)
        self.heads, self.dropout = heads, dropout

    def __call__(self, x, kv, mask, drop):
        b, t, d = x.shape
        split = lambda y: y.reshape(y.shape[0], y.shape[1], self.heads, d // self.heads)
        q = split(self.q_proj(x)) * (d // self.heads) ** -0.5
        k, v = split(self.k_proj(kv)), split(self.v_proj(kv))
        scores = jnp.where(mask, jnp.einsum("bqhd,bkhd->bhqk", q, k), jnp.finfo(jnp.float32).min)
        weights = drop(jax.nn.softmax(scores, axis=-1), self.dropout)
        out = jnp.einsum("bhqk,bkhd->bqhd", weights, v)
        return self.out_proj(out.reshape(b, t, d))


class _Dropout:
    """Numbers the dropout sites of one forward pass (1, 2, ...) in the order they are met."""

    def __init__(self, key):
        self.key, self.site = key, 0

    def __call__(self, x, rate):
        if self.key is None or rate == 0.0:
            return x
        self.site += 1
        return keyed_dropout(x, rate, self.key, self.site)


class Layer(nnx.Module):
    def __init__(self, c: BartConfig, *, decoder: bool, rngs: nnx.Rngs):
        d = c.d_model
        heads = c.decoder_attention_heads if decoder else c.encoder_attention_heads
        ffn = c.decoder_ffn_dim if decoder else c.encoder_ffn_dim
        self.self_attn = Attention(d, heads, c.attention_dropout, rngs=rngs)
        self.self_attn_layer_norm = LayerNorm(d, eps=c.layer_norm_eps)
        if decoder:
            self.encoder_attn = Attention(d, heads, c.attention_dropout, rngs=rngs)
            self.encoder_attn_layer_norm = LayerNorm(d, eps=c.layer_norm_eps)
        self.fc1, self.fc2 = _linear(d, ffn, rngs=rngs), _linear(ffn, d, rngs=rngs)
        self.final_layer_norm = LayerNorm(d, eps=c.layer_norm_eps)
        self.decoder, self.dropout, self.activation_dropout = decoder, c.dropout, c.activation_dropout

    def __call__(self, x, self_mask, encoded, cross_mask, drop: _Dropout):
        x = self.self_attn_layer_norm(x + drop(self.self_attn(x, x, self_mask, drop), self.dropout))
        if self.decoder:
            x = self.encoder_attn_layer_norm(x + drop(self.encoder_attn(x, encoded, cross_mask, drop), self.dropout))
        h = drop(jax.nn.gelu(self.fc1(x), approximate=False), self.activation_dropout)
        return self.final_layer_norm(x + drop(self.fc2(h), self.dropout))


class Stack(nnx.Module):
    def __init__(self, c: BartConfig, *, decoder: bool, rngs: nnx.Rngs):
        self.embed_positions = Embedding(c.max_position_embeddings + 2, c.d_model, std=0.02, rngs=rngs)
        self.layernorm_embedding = LayerNorm(c.d_model, eps=c.layer_norm_eps)
        n = c.decoder_layers if decoder else c.encoder_layers
        self.layers = nnx.List([Layer(c, decoder=decoder, rngs=rngs) for _ in range(n)])
        self.dropout = c.dropout

    def __call__(self, embedded, self_mask, encoded, cross_mask, drop):
        t = embedded.shape[1]
        x = self.layernorm_embedding(embedded + self.embed_positions.embedding[2: t + 2][None])
        x = drop(x, self.dropout)
        for layer in self.layers:
            x = layer(x, self_mask, encoded, cross_mask, drop)
        return x


class Bart(nnx.Module):
    """``(input_ids [B, L], decoder_input_ids [B, T]) -> logits [B, T, vocab]`` (float32).

    Dropout is on with ``deterministic=False`` and draws from ``rngs`` (stream ``dropout``),
    as T5's call does; one key serves the whole pass (its sites are numbered in order).
    """

    def __init__(self, config: BartConfig, *, rngs: nnx.Rngs):
        self.config = config
        self.shared = Embedding(config.vocab_size, config.d_model, std=0.02, rngs=rngs)
        self.encoder = Stack(config, decoder=False, rngs=rngs)
        self.decoder = Stack(config, decoder=True, rngs=rngs)
        self.final_logits_bias = nnx.Param(jnp.zeros((1, config.vocab_size), jnp.float32))

    def _embed(self, ids):
        scale = self.config.d_model ** 0.5 if self.config.scale_embedding else 1.0
        return jnp.take(self.shared.embedding[...], ids, axis=0) * scale

    def _keys(self, input_ids):
        return (input_ids != self.config.pad_token_id)[:, None, None, :]

    def _check(self, name, ids):
        if ids.shape[1] > self.config.max_position_embeddings:
            raise ValueError(f"{name} has {ids.shape[1]} positions; BART has {self.config.max_position_embeddings}")

    def _encode(self, input_ids, drop):
        self._check("input_ids", input_ids)
        return self.encoder(self._embed(input_ids), self._keys(input_ids), None, None, drop)

    def _decoder_hidden(self, encoded, input_ids, decoder_input_ids, drop):
        self._check("decoder_input_ids", decoder_input_ids)
        t = decoder_input_ids.shape[1]
        causal = jnp.tril(jnp.ones((t, t), bool))[None, None]
        return self.decoder(self._embed(decoder_input_ids), causal, encoded, self._keys(input_ids), drop)

    def encode(self, input_ids, *, deterministic: bool = True):
        """Encoder hidden states ``[B, L, d_model]`` without dropout (decoding)."""
        _no_dropout(deterministic)
        return self._encode(input_ids, _Dropout(None))

    def decoder_hidden(self, encoded, input_ids, decoder_input_ids, *, deterministic: bool = True):
        """Decoder hidden states ``[B, T, d_model]`` without dropout (decoding)."""
        _no_dropout(deterministic)
        return self._decoder_hidden(encoded, input_ids, decoder_input_ids, _Dropout(None))

    def lm_logits(self, hidden):
        """float32 logits: the tied output projection plus ``final_logits_bias``."""
        return hidden @ self.shared.embedding[...].T + self.final_logits_bias[...]

    def __call__(self, input_ids, decoder_input_ids, *, deterministic: bool = True, rngs: nnx.Rngs | None = None):
        if not deterministic and rngs is None:
            raise ValueError("BART called with deterministic=False needs rngs=nnx.Rngs(dropout=key)")
        drop = _Dropout(None if deterministic else rngs.dropout())
        encoded = self._encode(input_ids, drop)
        return self.lm_logits(self._decoder_hidden(encoded, input_ids, decoder_input_ids, drop))


def _no_dropout(deterministic: bool) -> None:
    if not deterministic:
        raise ValueError("BART's encode/decoder_hidden are for decoding (deterministic); call the model to train")


def bart_config(name: str, **overrides: Any) -> BartConfig:
    if name not in BART_CONFIGS:
        raise ValueError(f"unknown BART model {name!r}; valid: {sorted(BART_CONFIGS)}")
    return BART_CONFIGS[name].replace(**overrides)


def init_bart(config: BartConfig, seed: int) -> tuple[nnx.GraphDef, nnx.State]:
    return nnx.split(Bart(config, rngs=nnx.Rngs(params=seed)), nnx.Param)


def bart_apply(graphdef, params, input_ids, decoder_input_ids, dropout_key=None) -> Array:
    """Pure forward pass (deterministic with ``dropout_key=None``), as :func:`sam_bench.models.t5.apply`."""
    model = nnx.merge(graphdef, params)
    if dropout_key is None:
        return model(input_ids, decoder_input_ids)
    return model(input_ids, decoder_input_ids, deterministic=False, rngs=nnx.Rngs(dropout=dropout_key))


def shift_tokens_right(labels: np.ndarray, config: BartConfig) -> np.ndarray:
    """HF's teacher-forcing decoder inputs: decoder_start_token_id, then the labels shifted right."""
    labels = np.asarray(labels)
    out = np.full_like(labels, config.decoder_start_token_id)
    out[:, 1:] = np.where(labels[:, :-1] == -100, config.pad_token_id, labels[:, :-1])
    return out
