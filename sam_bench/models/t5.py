"""T5.1.1 encoder-decoder in ``flax.nnx``.

The network reproduces the computation of Hugging Face
``T5ForConditionalGeneration`` for T5.1.1 / mT5 checkpoints
(``feed_forward_proj="gated-gelu"``, ``tie_word_embeddings=False``):

* one shared token embedding used by encoder and decoder, and a separate,
  untied ``lm_head`` (hence no ``d_model**-0.5`` rescaling of the decoder
  output);
* pre-norm residual blocks with an RMS layer norm (scale only, no bias, no
  mean subtraction, statistics in float32);
* multi-head attention without biases and without ``1/sqrt(d_kv)`` scaling;
* a relative position bias computed by the first layer of the encoder
  (bidirectional buckets) and of the decoder self-attention (causal buckets)
  and shared by all later layers of that stack; cross-attention has none;
* gated-GELU feed-forward ``wo(gelu_tanh(wi_0 x) * wi_1 x)``;
* dropout exactly where HF T5 puts it: on the embeddings, on the attention
  probabilities, inside the feed-forward after the gating, on each sublayer
  output before the residual add, and after each stack's final layer norm.

Token id 0 is padding: encoder self-attention and cross-attention mask padded
encoder positions; the decoder self-attention is causal only (its first input
token is the decoder start token, which is also 0).

Parameter tree (``nnx.split(model, nnx.Param)``), mirroring HF names::

    shared.embedding                                      [vocab, d_model]
    encoder.block[i].layer[0].layer_norm.scale            [d_model]
    encoder.block[i].layer[0].SelfAttention.{q,k,v}.kernel [d_model, H*d_kv]
    encoder.block[i].layer[0].SelfAttention.o.kernel      [H*d_kv, d_model]
    encoder.block[0].layer[0].SelfAttention.relative_attention_bias.embedding
                                                          [num_buckets, H]
    encoder.block[i].layer[1].layer_norm.scale
    encoder.block[i].layer[1].DenseReluDense.{wi_0,wi_1}.kernel [d_model, d_ff]
    encoder.block[i].layer[1].DenseReluDense.wo.kernel    [d_ff, d_model]
    encoder.final_layer_norm.scale
    decoder.block[i].layer[0]  (SelfAttention, causal; relative bias in block 0)
    decoder.block[i].layer[1]  (EncDecAttention + layer_norm)
    decoder.block[i].layer[2]  (DenseReluDense + layer_norm)
    decoder.final_layer_norm.scale
    lm_head.kernel                                        [d_model, vocab]

HF checkpoint import: ``X.weight`` of a linear layer is ``X.kernel`` transposed
(HF stores ``[out, in]``); embeddings (``shared``,
``relative_attention_bias``) map ``weight`` -> ``embedding`` unchanged; layer
norms map ``weight`` -> ``scale``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from sam_bench.models.dropout import DropoutStream, dropout
from sam_bench.models.layers import NEG_INF, Dense, Embedding, RMSNorm, dropout_stream, rms_norm
from sam_bench.models.t5_configs import NAMED_CONFIGS, T5Config, t5_config

__all__ = ["EOS_ID", "NAMED_CONFIGS", "PAD_ID", "T5", "T5Config", "apply", "count_params", "init_params",
           "relative_position_bucket", "rms_norm", "shift_right", "t5_config"]

Array = jax.Array

PAD_ID = 0
EOS_ID = 1


# --------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------


def relative_position_bucket(
    relative_position: Array,
    *,
    bidirectional: bool,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> Array:
    """T5 relative position buckets (``relative_position = key - query``).

    Same arithmetic as HF ``T5Attention._relative_position_bucket``: half of the
    buckets are exact small distances, the rest are log-spaced up to
    ``max_distance``; bidirectional buckets give positive offsets (keys after the
    query) the upper half of the buckets; causal buckets map all future
    offsets to bucket 0.
    """
    relative_position = jnp.asarray(relative_position, jnp.int32)
    buckets = jnp.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).astype(jnp.int32) * num_buckets
        relative_position = jnp.abs(relative_position)
    else:
        relative_position = -jnp.minimum(relative_position, 0)
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    # float32 like HF; the maximum(., 1) only keeps log() finite where the
    # `is_small` branch is taken anyway.
    scaled = jnp.maximum(relative_position, 1).astype(jnp.float32) / max_exact
    large = max_exact + (
        jnp.log(scaled)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).astype(jnp.int32)
    large = jnp.minimum(large, num_buckets - 1)
    return buckets + jnp.where(is_small, relative_position, large)


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------


class T5Attention(nnx.Module):
    def __init__(
        self,
        config: T5Config,
        *,
        has_relative_attention_bias: bool,
        bidirectional: bool,
        rngs: nnx.Rngs,
    ):
        c = config
        dt = c.compute_dtype
        inner = c.inner_dim
        self.num_heads = c.num_heads
        self.d_kv = c.d_kv
        self.dropout_rate = float(c.dropout_rate)
        self.bidirectional = bidirectional
        self.num_buckets = c.relative_attention_num_buckets
        self.max_distance = c.relative_attention_max_distance
        self.dtype = dt
        self.q = Dense(c.d_model, inner, std=(c.d_model * c.d_kv) ** -0.5, dtype=dt, rngs=rngs)
        self.k = Dense(c.d_model, inner, std=c.d_model**-0.5, dtype=dt, rngs=rngs)
        self.v = Dense(c.d_model, inner, std=c.d_model**-0.5, dtype=dt, rngs=rngs)
        self.o = Dense(inner, c.d_model, std=inner**-0.5, dtype=dt, rngs=rngs)
        self.has_relative_attention_bias = has_relative_attention_bias
        if has_relative_attention_bias:
            self.relative_attention_bias = Embedding(
                self.num_buckets, c.num_heads, std=c.d_model**-0.5, rngs=rngs
            )

    def compute_bias(self, query_length: int, key_length: int) -> Array:
        """Relative position bias ``[1, heads, query_length, key_length]`` (float32)."""
        context = jnp.arange(query_length)[:, None]
        memory = jnp.arange(key_length)[None, :]
        buckets = relative_position_bucket(
            memory - context,
            bidirectional=self.bidirectional,
            num_buckets=self.num_buckets,
            max_distance=self.max_distance,
        )
        values = self.relative_attention_bias(buckets)  # [q, k, heads]
        return jnp.transpose(values, (2, 0, 1))[None].astype(jnp.float32)

    def _heads(self, x: Array) -> Array:
        b, t, _ = x.shape
        return x.reshape(b, t, self.num_heads, self.d_kv)

    def __call__(
        self,
        x: Array,
        kv: Array,
        mask: Array,
        position_bias: Array | None,
        drop: DropoutStream | None,
    ) -> Array:
        q = self._heads(self.q(x))
        k = self._heads(self.k(kv))
        v = self._heads(self.v(kv))
        # No 1/sqrt(d_kv) scaling: T5 folds it into the initialisation of q.
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k, preferred_element_type=jnp.float32)
        if position_bias is not None:
            scores = scores + position_bias
        scores = jnp.where(mask, scores, NEG_INF)
        weights = jax.nn.softmax(scores, axis=-1)
        weights = dropout(weights, self.dropout_rate, drop)
        out = jnp.einsum("bhqk,bkhd->bqhd", weights.astype(self.dtype), v)
        b, t = out.shape[:2]
        return self.o(out.reshape(b, t, self.num_heads * self.d_kv))


class T5DenseGatedActDense(nnx.Module):
    def __init__(self, config: T5Config, *, rngs: nnx.Rngs):
        c = config
        dt = c.compute_dtype
        self.wi_0 = Dense(c.d_model, c.d_ff, std=c.d_model**-0.5, dtype=dt, rngs=rngs)
        self.wi_1 = Dense(c.d_model, c.d_ff, std=c.d_model**-0.5, dtype=dt, rngs=rngs)
        self.wo = Dense(c.d_ff, c.d_model, std=c.d_ff**-0.5, dtype=dt, rngs=rngs)
        self.dropout_rate = float(c.dropout_rate)

    def __call__(self, x: Array, drop: DropoutStream | None) -> Array:
        h = jax.nn.gelu(self.wi_0(x), approximate=True) * self.wi_1(x)
        h = dropout(h, self.dropout_rate, drop)
        return self.wo(h)


class _PreNormSublayer(nnx.Module):
    """The layer norm and output dropout around a sublayer: ``x + dropout(f(layer_norm(x)))``."""

    def __init__(self, config: T5Config):
        self.layer_norm = RMSNorm(config.d_model, eps=config.layer_norm_epsilon, dtype=config.compute_dtype)
        self.dropout_rate = float(config.dropout_rate)

    def residual(self, x: Array, out: Array, drop: DropoutStream | None) -> Array:
        return x + dropout(out, self.dropout_rate, drop)


class T5LayerSelfAttention(_PreNormSublayer):
    def __init__(self, config: T5Config, *, has_relative_attention_bias: bool, bidirectional: bool, rngs: nnx.Rngs):
        super().__init__(config)
        self.SelfAttention = T5Attention(
            config,
            has_relative_attention_bias=has_relative_attention_bias,
            bidirectional=bidirectional,
            rngs=rngs,
        )

    def __call__(self, x, mask, position_bias, drop):
        normed = self.layer_norm(x)
        return self.residual(x, self.SelfAttention(normed, normed, mask, position_bias, drop), drop)


class T5LayerCrossAttention(_PreNormSublayer):
    def __init__(self, config: T5Config, *, rngs: nnx.Rngs):
        super().__init__(config)
        self.EncDecAttention = T5Attention(config, has_relative_attention_bias=False, bidirectional=True, rngs=rngs)

    def __call__(self, x, encoded, mask, drop):
        return self.residual(x, self.EncDecAttention(self.layer_norm(x), encoded, mask, None, drop), drop)


class T5LayerFF(_PreNormSublayer):
    def __init__(self, config: T5Config, *, rngs: nnx.Rngs):
        super().__init__(config)
        self.DenseReluDense = T5DenseGatedActDense(config, rngs=rngs)

    def __call__(self, x, drop):
        return self.residual(x, self.DenseReluDense(self.layer_norm(x), drop), drop)


class T5Block(nnx.Module):
    """``layer[0]`` self-attention, (decoder only) ``layer[1]`` cross-attention, ``layer[-1]`` FF."""

    def __init__(self, config: T5Config, *, is_decoder: bool, has_relative_attention_bias: bool, rngs: nnx.Rngs):
        layers: list[nnx.Module] = [
            T5LayerSelfAttention(
                config,
                has_relative_attention_bias=has_relative_attention_bias,
                bidirectional=not is_decoder,
                rngs=rngs,
            )
        ]
        if is_decoder:
            layers.append(T5LayerCrossAttention(config, rngs=rngs))
        layers.append(T5LayerFF(config, rngs=rngs))
        self.layer = nnx.List(layers)
        self.is_decoder = is_decoder

    def __call__(self, x, self_mask, position_bias, encoded, cross_mask, drop):
        x = self.layer[0](x, self_mask, position_bias, drop)
        if self.is_decoder:
            x = self.layer[1](x, encoded, cross_mask, drop)
        return self.layer[-1](x, drop)


class T5Stack(nnx.Module):
    """A stack of blocks plus the final layer norm; takes embedded tokens."""

    def __init__(self, config: T5Config, *, is_decoder: bool, rngs: nnx.Rngs):
        n = config.num_decoder_layers if is_decoder else config.num_encoder_layers
        self.block = nnx.List(
            [
                T5Block(config, is_decoder=is_decoder, has_relative_attention_bias=(i == 0), rngs=rngs)
                for i in range(n)
            ]
        )
        self.final_layer_norm = RMSNorm(
            config.d_model, eps=config.layer_norm_epsilon, dtype=config.compute_dtype
        )
        self.dropout_rate = float(config.dropout_rate)
        self.is_decoder = is_decoder

    def __call__(self, embedded, self_mask, encoded=None, cross_mask=None, *, deterministic=True, rngs=None):
        drop = dropout_stream(deterministic, rngs, self.dropout_rate)
        t = embedded.shape[1]
        position_bias = self.block[0].layer[0].SelfAttention.compute_bias(t, t)
        x = dropout(embedded, self.dropout_rate, drop)
        for block in self.block:
            x = block(x, self_mask, position_bias, encoded, cross_mask, drop)
        x = self.final_layer_norm(x)
        return dropout(x, self.dropout_rate, drop)


def _padding_mask(input_ids: Array) -> Array:
    """``[B, 1, 1, L]`` True where the key is a real (non-pad) encoder token."""
    return (input_ids != PAD_ID)[:, None, None, :]


class T5(nnx.Module):
    """T5.1.1 encoder-decoder returning float32 logits ``[B, T, vocab]``.

    Dropout draws its randomness from the ``rngs`` passed at call time (stream
    ``dropout``); ``deterministic=True`` (the default) disables it.
    """

    def __init__(self, config: T5Config, *, rngs: nnx.Rngs):
        self.config = config
        self.shared = Embedding(config.vocab_size, config.d_model, std=1.0, rngs=rngs)
        self.encoder = T5Stack(config, is_decoder=False, rngs=rngs)
        self.decoder = T5Stack(config, is_decoder=True, rngs=rngs)
        # Untied head, so no d_model**-0.5 rescaling of its input. Initialised
        # like T5X (fan-in, std d_model**-0.5) rather than HF's std 1, so that a
        # from-scratch model starts with O(1) logits.
        self.lm_head = Dense(
            config.d_model, config.vocab_size, std=config.d_model**-0.5,
            dtype=config.compute_dtype, rngs=rngs,
        )

    def _embed(self, ids: Array) -> Array:
        return self.shared(ids).astype(self.config.compute_dtype)

    def encode(self, input_ids: Array, *, deterministic: bool = True, rngs: nnx.Rngs | None = None) -> Array:
        """Encoder hidden states ``[B, L, d_model]`` (compute dtype)."""
        _check_rngs(deterministic, rngs, self.config)
        return self.encoder(
            self._embed(input_ids), _padding_mask(input_ids), deterministic=deterministic, rngs=rngs
        )

    def decoder_hidden(self, encoded: Array, input_ids: Array, decoder_input_ids: Array, *,
                       deterministic: bool = True, rngs: nnx.Rngs | None = None) -> Array:
        """Decoder final hidden states ``[B, T, d_model]`` (before ``lm_head``)."""
        _check_rngs(deterministic, rngs, self.config)
        t = decoder_input_ids.shape[1]
        causal = jnp.tril(jnp.ones((t, t), dtype=bool))[None, None]
        return self.decoder(
            self._embed(decoder_input_ids),
            causal,
            encoded,
            _padding_mask(input_ids),
            deterministic=deterministic,
            rngs=rngs,
        )

    def lm_logits(self, hidden: Array) -> Array:
        """float32 logits from decoder hidden states."""
        return self.lm_head(hidden, out_dtype=jnp.float32)

    def decode(self, encoded: Array, input_ids: Array, decoder_input_ids: Array, *,
               deterministic: bool = True, rngs: nnx.Rngs | None = None) -> Array:
        """float32 logits ``[B, T, vocab]`` given the encoder output ``encoded``.

        ``input_ids`` are the encoder inputs (for the cross-attention padding mask).
        """
        hidden = self.decoder_hidden(
            encoded, input_ids, decoder_input_ids, deterministic=deterministic, rngs=rngs
        )
        return self.lm_logits(hidden)

    def __call__(
        self,
        input_ids: Array,
        decoder_input_ids: Array,
        *,
        deterministic: bool = True,
        rngs: nnx.Rngs | None = None,
    ) -> Array:
        encoded = self.encode(input_ids, deterministic=deterministic, rngs=rngs)
        return self.decode(encoded, input_ids, decoder_input_ids, deterministic=deterministic, rngs=rngs)


def _check_rngs(deterministic: bool, rngs: nnx.Rngs | None, config: T5Config) -> None:
    if not deterministic and config.dropout_rate > 0 and rngs is None:
        raise ValueError("T5 called with deterministic=False needs rngs=nnx.Rngs(dropout=key)")


# --------------------------------------------------------------------------
# Functional interface (trainer / SAM)
# --------------------------------------------------------------------------


def init_params(config: T5Config, seed: int) -> tuple[nnx.GraphDef, nnx.State]:
    """Build a randomly initialised model and split it into ``(graphdef, params)``.

    ``params`` (an ``nnx.State`` pytree of float32 arrays) is the only state of
    the model: there are no batch statistics and no stored RNG streams.
    """
    model = T5(config, rngs=nnx.Rngs(params=seed))
    graphdef, params = nnx.split(model, nnx.Param)
    return graphdef, params


def apply(
    graphdef: nnx.GraphDef,
    params: nnx.State,
    input_ids: Array,
    decoder_input_ids: Array,
    dropout_key: Array | None = None,
) -> Array:
    """Pure forward pass: float32 logits ``[B, T, vocab]``.

    ``dropout_key=None`` is deterministic; otherwise the same key gives the same
    dropout masks (so two SAM passes can share them).
    """
    model = nnx.merge(graphdef, params)
    if dropout_key is None:
        return model(input_ids, decoder_input_ids, deterministic=True)
    return model(
        input_ids, decoder_input_ids, deterministic=False, rngs=nnx.Rngs(dropout=dropout_key)
    )


def shift_right(targets: Array, decoder_start_id: int = 0) -> Array:
    """Teacher-forcing decoder inputs: ``[start, t_0, ..., t_{T-2}]``."""
    targets = jnp.asarray(targets)
    start = jnp.full((targets.shape[0], 1), decoder_start_id, dtype=targets.dtype)
    return jnp.concatenate([start, targets[:, :-1]], axis=1)


def count_params(config: T5Config) -> int:
    """Number of trainable parameters, from shapes only (nothing is allocated)."""

    def build():
        return nnx.split(T5(config, rngs=nnx.Rngs(params=0)), nnx.Param)[1]

    shapes = jax.eval_shape(build)
    return int(sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(shapes)))
