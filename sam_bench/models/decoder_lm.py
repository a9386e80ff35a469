"""A decoder-only Transformer language model in ``flax.nnx`` (the Functional-SAM experiments).

Pre-norm blocks (RMS norm, scale only, as T5), causal multi-head self-attention scaled by
1/sqrt(d_head), a GELU feed-forward, and a final norm. Positions are rotary (RoPE, Su et al.
2021, rotate-half form with base 10,000) or a learned table; the output projection is the
token embedding transposed (``tie_embeddings``) or its own ``lm_head``. Layers are bias-free.

Initialisation: embeddings std d_model^-1/2 (so tied logits start O(1)), every kernel std
fan_in^-1/2, and the two projections that write into the residual stream (attention ``o``,
feed-forward ``wo``) additionally by (2 · num_layers)^-1/2 (GPT-2's residual scaling).

Parameter tree (``nnx.split(model, nnx.Param)``)::

    embed.embedding                       [vocab, d_model]
    position.embedding                    [max_length, d_model]   (learned positions only)
    blocks[i].attn_norm.scale             [d_model]
    blocks[i].{q,k,v}.kernel              [d_model, d_model]
    blocks[i].o.kernel                    [d_model, d_model]
    blocks[i].mlp_norm.scale              [d_model]
    blocks[i].wi.kernel / wo.kernel       [d_model, d_ff] / [d_ff, d_model]
    final_norm.scale                      [d_model]
    lm_head.kernel                        [d_model, vocab]         (untied only)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from sam_bench.models.layers import DTYPES, Dense, Embedding, RMSNorm, check_dtype, keyed_dropout

Array = jax.Array
POSITIONS = ("rope", "learned")


@dataclass(frozen=True)
class DecoderLMConfig:
    """Shape of a decoder-only LM; ``max_length`` is its context (and training window) length."""

    vocab_size: int = 256
    d_model: int = 64
    num_heads: int = 4
    d_ff: int = 256
    num_layers: int = 2
    max_length: int = 64
    positions: str = "rope"
    tie_embeddings: bool = True
    dropout_rate: float = 0.0
    layer_norm_epsilon: float = 1e-6
    rope_base: float = 10000.0
    dtype: str = "float32"

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "num_heads", "d_ff", "num_layers", "max_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"DecoderLMConfig.{name} must be a positive integer, got {value!r}")
        if self.d_model % self.num_heads:
            raise ValueError(f"DecoderLMConfig.d_model={self.d_model} must be divisible by num_heads={self.num_heads}")
        if self.positions == "rope" and (self.d_model // self.num_heads) % 2:
            raise ValueError(f"rotary positions need an even head width; d_model/num_heads = "
                             f"{self.d_model // self.num_heads}")
        if self.positions not in POSITIONS:
            raise ValueError(f"DecoderLMConfig.positions must be one of {POSITIONS}, got {self.positions!r}")
        if not isinstance(self.tie_embeddings, bool):
            raise ValueError(f"DecoderLMConfig.tie_embeddings must be true or false, got {self.tie_embeddings!r}")
        if not 0.0 <= float(self.dropout_rate) < 1.0:
            raise ValueError(f"DecoderLMConfig.dropout_rate must be in [0, 1), got {self.dropout_rate!r}")
        check_dtype("DecoderLMConfig", self.dtype)

    @property
    def compute_dtype(self):
        return DTYPES[self.dtype]

    def replace(self, **overrides: Any) -> "DecoderLMConfig":
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown decoder-LM setting(s) {unknown}; valid: "
                             f"{[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **overrides)


#: Named sizes. "tiny" trains on a CPU core in seconds; "small" is a width/depth step up.
DECODER_LM_CONFIGS: dict[str, DecoderLMConfig] = {
    "decoder-lm-tiny": DecoderLMConfig(d_model=64, num_heads=4, d_ff=256, num_layers=2, max_length=64),
    "decoder-lm-small": DecoderLMConfig(d_model=256, num_heads=8, d_ff=1024, num_layers=4, max_length=128),
}


def decoder_lm_config(name: str, **overrides: Any) -> DecoderLMConfig:
    if name not in DECODER_LM_CONFIGS:
        raise ValueError(f"unknown decoder LM {name!r}; valid: {sorted(DECODER_LM_CONFIGS)}")
    return DECODER_LM_CONFIGS[name].replace(**overrides)


def rope(x: Array, base: float) -> Array:
    """Rotary position embedding of ``x [B, T, H, D]`` (rotate-half pairing: i with i + D/2)."""
    t, d = x.shape[1], x.shape[-1]
    inv_freq = base ** (-jnp.arange(0, d // 2, dtype=jnp.float32) * 2.0 / d)
    angles = jnp.arange(t, dtype=jnp.float32)[:, None] * inv_freq[None, :]      # [T, D/2]
    cos, sin = jnp.cos(angles)[None, :, None, :], jnp.sin(angles)[None, :, None, :]
    x1, x2 = x[..., : d // 2].astype(jnp.float32), x[..., d // 2:].astype(jnp.float32)
    return jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1).astype(x.dtype)


class Block(nnx.Module):
    def __init__(self, c: DecoderLMConfig, *, rngs: nnx.Rngs):
        dt, d = c.compute_dtype, c.d_model
        resid = (2 * c.num_layers) ** -0.5
        self.attn_norm = RMSNorm(d, eps=c.layer_norm_epsilon, dtype=dt)
        self.q = Dense(d, d, std=d ** -0.5, dtype=dt, rngs=rngs)
        self.k = Dense(d, d, std=d ** -0.5, dtype=dt, rngs=rngs)
        self.v = Dense(d, d, std=d ** -0.5, dtype=dt, rngs=rngs)
        self.o = Dense(d, d, std=d ** -0.5 * resid, dtype=dt, rngs=rngs)
        self.mlp_norm = RMSNorm(d, eps=c.layer_norm_epsilon, dtype=dt)
        self.wi = Dense(d, c.d_ff, std=d ** -0.5, dtype=dt, rngs=rngs)
        self.wo = Dense(c.d_ff, d, std=c.d_ff ** -0.5 * resid, dtype=dt, rngs=rngs)
        self.num_heads, self.rope_base = c.num_heads, c.rope_base
        self.use_rope, self.dropout_rate = c.positions == "rope", float(c.dropout_rate)

    def __call__(self, x: Array, key: Array | None, layer: int) -> Array:
        b, t, d = x.shape
        h = self.attn_norm(x)
        heads = lambda y: y.reshape(b, t, self.num_heads, d // self.num_heads)
        q, k, v = heads(self.q(h)), heads(self.k(h)), heads(self.v(h))
        if self.use_rope:
            q, k = rope(q, self.rope_base), rope(k, self.rope_base)
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k, preferred_element_type=jnp.float32) / jnp.sqrt(d / self.num_heads)
        causal = jnp.tril(jnp.ones((t, t), bool))
        weights = jax.nn.softmax(jnp.where(causal, scores, jnp.finfo(jnp.float32).min), axis=-1)
        attn = jnp.einsum("bhqk,bkhd->bqhd", weights.astype(v.dtype), v).reshape(b, t, d)
        x = x + keyed_dropout(self.o(attn), self.dropout_rate, key, 2 * layer)
        ff = self.wo(jax.nn.gelu(self.wi(self.mlp_norm(x)), approximate=True))
        return x + keyed_dropout(ff, self.dropout_rate, key, 2 * layer + 1)


class DecoderLM(nnx.Module):
    """Token ids ``[B, T]`` (T <= max_length) -> float32 next-token logits ``[B, T, vocab]``."""

    def __init__(self, config: DecoderLMConfig, *, rngs: nnx.Rngs):
        c = self.config = config
        self.embed = Embedding(c.vocab_size, c.d_model, std=c.d_model ** -0.5, rngs=rngs)
        if c.positions == "learned":
            self.position = Embedding(c.max_length, c.d_model, std=c.d_model ** -0.5, rngs=rngs)
        self.blocks = nnx.List([Block(c, rngs=rngs) for _ in range(c.num_layers)])
        self.final_norm = RMSNorm(c.d_model, eps=c.layer_norm_epsilon, dtype=c.compute_dtype)
        if not c.tie_embeddings:
            self.lm_head = Dense(c.d_model, c.vocab_size, std=c.d_model ** -0.5, dtype=c.compute_dtype, rngs=rngs)

    def __call__(self, ids: Array, dropout_key: Array | None = None) -> Array:
        c = self.config
        if ids.shape[1] > c.max_length:
            raise ValueError(f"sequence length {ids.shape[1]} exceeds the model's max_length {c.max_length}")
        x = self.embed(ids)
        if c.positions == "learned":
            x = x + self.position.embedding[: ids.shape[1]][None]
        x = x.astype(c.compute_dtype)
        for i, block in enumerate(self.blocks):
            x = block(x, dropout_key, i)
        h = self.final_norm(x)
        if c.tie_embeddings:
            return jnp.dot(h, self.embed.embedding[...].T.astype(h.dtype), preferred_element_type=jnp.float32)
        return self.lm_head(h, out_dtype=jnp.float32)


def init_decoder_lm(config: DecoderLMConfig, seed: int) -> tuple[nnx.GraphDef, nnx.State]:
    return nnx.split(DecoderLM(config, rngs=nnx.Rngs(params=seed)), nnx.Param)


def decoder_lm_apply(graphdef: nnx.GraphDef, params: nnx.State, ids: Array, dropout_key: Array | None = None) -> Array:
    """Pure forward pass: logits ``[B, T, vocab]``; ``dropout_key=None`` is deterministic."""
    return nnx.merge(graphdef, params)(ids, dropout_key)
