"""BERT-family encoders in ``flax.nnx``: BERT, RoBERTa, ELECTRA (discriminator), MiniLM, ALBERT.

One module computes what Hugging Face's ``BertModel`` / ``RobertaModel`` /
``ElectraModel`` / ``AlbertModel`` compute, followed by the family's
sequence-classification head (``*ForSequenceClassification``). The network
returns float32 logits ``[B, num_labels]``; the loss lives apart
(``sam_bench.models.losses``). ``num_labels=1`` is the regression head (STS-B:
mean squared error on the single output, as HF's ``problem_type="regression"``);
``num_labels=0`` builds the encoder alone (sentence embeddings, e.g. MiniLM).

What differs between the families (all read from :class:`BertConfig`):

==========  ==================================================================
family      differences from BERT
==========  ==================================================================
bert        post-norm encoder, learned absolute positions from 0, exact GELU,
            ``pooler`` (dense + tanh on [CLS]) then ``classifier``. MiniLM is a
            BERT with other sizes.
roberta     positions start at ``pad_token_id + 1`` and skip padding (HF's
            ``create_position_ids_from_input_ids``), one token type, layer-norm
            eps 1e-5, no pooler: ``classifier.dense`` + tanh + ``classifier.out_proj``
            on the first token.
electra     BERT encoder (optionally ``embedding_size < hidden_size`` with an
            ``embeddings_project`` layer), no pooler: ``classifier.dense`` + GELU +
            ``classifier.out_proj`` on the first token.
albert      factorised embedding (``embedding_size``) mapped to ``hidden_size`` by
            ``encoder.embedding_hidden_mapping_in``; ``num_hidden_groups`` groups of
            ``inner_group_num`` layers whose parameters are shared across the
            ``num_hidden_layers`` applications; tanh-GELU; ``pooler`` + ``classifier``.
==========  ==================================================================

Parameter names mirror HF's without the base-model prefix (``bert.``,
``roberta.``, ...): ``embeddings.word_embeddings.embedding``,
``encoder.layer[i].attention.self.query.{kernel,bias}``, ``pooler.dense``,
``classifier...``; a linear ``kernel`` is HF's ``weight`` transposed, an
``embedding`` is HF's ``weight``, a layer norm's ``scale``/``bias`` are HF's
``weight``/``bias``. Parameters are float32; ``dtype="bfloat16"`` runs the
matmuls in bfloat16 (layer-norm statistics, softmax and logits stay float32).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from sam_bench.models.bert_configs import FAMILIES, NAMED_BERT_CONFIGS, BertConfig, bert_config
from sam_bench.models.dropout import dropout
from sam_bench.models.layers import NEG_INF, Dense, Embedding, LayerNorm, activation, dropout_stream

Array = jax.Array

__all__ = ["FAMILIES", "NAMED_BERT_CONFIGS", "BertConfig", "BertEncoder", "bert_apply", "bert_config", "bert_encode",
           "count_bert_params", "init_bert_params", "mean_pool"]

# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------


def _attention(q: Array, k: Array, v: Array, mask: Array, heads: int, rate: float, drop) -> Array:
    """Scaled dot-product attention on ``[B, L, H*d]`` projections; mask ``[B, 1, 1, L]``."""
    b, t, width = q.shape
    d = width // heads
    q = q.reshape(b, t, heads, d)
    k = k.reshape(b, k.shape[1], heads, d)
    v = v.reshape(b, v.shape[1], heads, d)
    scores = jnp.einsum("bqhd,bkhd->bhqk", q, k, preferred_element_type=jnp.float32) / math.sqrt(d)
    scores = jnp.where(mask, scores, NEG_INF)
    weights = jax.nn.softmax(scores, axis=-1)
    weights = dropout(weights, rate, drop)
    out = jnp.einsum("bhqk,bkhd->bqhd", weights.astype(v.dtype), v)
    return out.reshape(b, t, width)


def _linear(c: BertConfig, n_in: int, n_out: int, *, rngs: nnx.Rngs) -> Dense:
    """A linear layer with bias, its kernel drawn from N(0, initializer_range) as HF does."""
    return Dense(n_in, n_out, std=c.initializer_range, dtype=c.compute_dtype, rngs=rngs, bias=True)


class SelfAttention(nnx.Module):  # HF: attention.self
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        h = c.hidden_size
        self.query = _linear(c, h, h, rngs=rngs)
        self.key = _linear(c, h, h, rngs=rngs)
        self.value = _linear(c, h, h, rngs=rngs)
        self.heads = c.num_attention_heads
        self.attn_rate = float(c.attention_probs_dropout_prob)

    def attend(self, x, mask, drop):
        return _attention(self.query(x), self.key(x), self.value(x), mask, self.heads, self.attn_rate, drop)

    def __call__(self, x, mask, drop):
        return self.attend(x, mask, drop)


class DenseLayerNorm(nnx.Module):  # HF: attention.output / output (dense, dropout, residual, LayerNorm)
    def __init__(self, n_in: int, c: BertConfig, *, rngs: nnx.Rngs):
        self.dense = _linear(c, n_in, c.hidden_size, rngs=rngs)
        self.LayerNorm = LayerNorm(c.hidden_size, eps=c.layer_norm_eps, dtype=c.compute_dtype)
        self.rate = float(c.hidden_dropout_prob)

    def __call__(self, x, residual, drop):
        return self.LayerNorm(dropout(self.dense(x), self.rate, drop) + residual)


class Attention(nnx.Module):  # HF: BertAttention
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.self = SelfAttention(c, rngs=rngs)
        self.output = DenseLayerNorm(c.hidden_size, c, rngs=rngs)

    def __call__(self, x, mask, drop):
        return self.output(self.self(x, mask, drop), x, drop)


class Intermediate(nnx.Module):
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.dense = _linear(c, c.hidden_size, c.intermediate_size, rngs=rngs)
        self.act = c.hidden_act

    def __call__(self, x):
        return activation(self.act, self.dense(x))


class Layer(nnx.Module):  # HF: BertLayer
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.attention = Attention(c, rngs=rngs)
        self.intermediate = Intermediate(c, rngs=rngs)
        self.output = DenseLayerNorm(c.intermediate_size, c, rngs=rngs)

    def __call__(self, x, mask, drop):
        a = self.attention(x, mask, drop)
        return self.output(self.intermediate(a), a, drop)


def _in_turn(layers, x, mask, drop):
    for layer in layers:
        x = layer(x, mask, drop)
    return x


class Encoder(nnx.Module):  # HF: BertEncoder
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.layer = nnx.List([Layer(c, rngs=rngs) for _ in range(c.num_hidden_layers)])

    def __call__(self, x, mask, drop):
        return _in_turn(self.layer, x, mask, drop)


class AlbertAttention(SelfAttention):
    """ALBERT keeps the attention output (dense, dropout, residual, LayerNorm) in the same module."""

    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        super().__init__(c, rngs=rngs)
        self.dense = _linear(c, c.hidden_size, c.hidden_size, rngs=rngs)
        self.LayerNorm = LayerNorm(c.hidden_size, eps=c.layer_norm_eps, dtype=c.compute_dtype)
        self.rate = float(c.hidden_dropout_prob)

    def __call__(self, x, mask, drop):
        return self.LayerNorm(x + dropout(self.dense(self.attend(x, mask, drop)), self.rate, drop))


class AlbertLayer(nnx.Module):
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.attention = AlbertAttention(c, rngs=rngs)
        self.ffn = _linear(c, c.hidden_size, c.intermediate_size, rngs=rngs)
        self.ffn_output = _linear(c, c.intermediate_size, c.hidden_size, rngs=rngs)
        self.full_layer_layer_norm = LayerNorm(c.hidden_size, eps=c.layer_norm_eps, dtype=c.compute_dtype)
        self.act = c.hidden_act
        self.rate = float(c.hidden_dropout_prob)

    def __call__(self, x, mask, drop):
        a = self.attention(x, mask, drop)
        f = self.ffn_output(activation(self.act, self.ffn(a)))
        return self.full_layer_layer_norm(dropout(f, self.rate, drop) + a)


class AlbertLayerGroup(nnx.Module):
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.albert_layers = nnx.List([AlbertLayer(c, rngs=rngs) for _ in range(c.inner_group_num)])

    def __call__(self, x, mask, drop):
        return _in_turn(self.albert_layers, x, mask, drop)


class AlbertEncoder(nnx.Module):
    """Factorised embedding mapping, then ``num_hidden_layers`` applications of shared groups."""

    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.embedding_hidden_mapping_in = _linear(c, c.emb_size, c.hidden_size, rngs=rngs)
        self.albert_layer_groups = nnx.List([AlbertLayerGroup(c, rngs=rngs) for _ in range(c.num_hidden_groups)])
        self.num_layers = c.num_hidden_layers
        self.num_groups = c.num_hidden_groups

    def __call__(self, x, mask, drop):
        x = self.embedding_hidden_mapping_in(x)
        per_group = self.num_layers // self.num_groups
        for i in range(self.num_layers):
            x = self.albert_layer_groups[i // per_group](x, mask, drop)
        return x


class Embeddings(nnx.Module):
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        e, std = c.emb_size, c.initializer_range
        self.word_embeddings = Embedding(c.vocab_size, e, std=std, rngs=rngs)
        self.position_embeddings = Embedding(c.max_position_embeddings, e, std=std, rngs=rngs)
        self.token_type_embeddings = Embedding(c.type_vocab_size, e, std=std, rngs=rngs)
        self.LayerNorm = LayerNorm(e, eps=c.layer_norm_eps, dtype=c.compute_dtype)
        self.rate = float(c.hidden_dropout_prob)
        self.family = c.family
        self.pad = c.pad_token_id

    def position_ids(self, input_ids: Array) -> Array:
        if self.family == "roberta":
            real = (input_ids != self.pad).astype(jnp.int32)
            return jnp.cumsum(real, axis=1) * real + self.pad
        return jnp.broadcast_to(jnp.arange(input_ids.shape[1], dtype=jnp.int32), input_ids.shape)

    def __call__(self, input_ids, token_type_ids, drop):
        x = (
            self.word_embeddings(input_ids)
            + self.token_type_embeddings(token_type_ids)
            + self.position_embeddings(self.position_ids(input_ids))
        )
        return dropout(self.LayerNorm(x), self.rate, drop)


class Pooler(nnx.Module):  # HF BertPooler: dense + tanh on the first token
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.dense = _linear(c, c.hidden_size, c.hidden_size, rngs=rngs)

    def __call__(self, h):
        return jnp.tanh(self.dense(h[:, 0]))


class ClassificationHead(nnx.Module):  # HF Roberta/ElectraClassificationHead
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.dense = _linear(c, c.hidden_size, c.hidden_size, rngs=rngs)
        self.out_proj = _linear(c, c.hidden_size, c.num_labels, rngs=rngs)
        self.family = c.family
        self.rate = c.head_dropout

    def __call__(self, h, drop):
        x = dropout(h[:, 0], self.rate, drop)
        x = self.dense(x)
        x = jnp.tanh(x) if self.family == "roberta" else jax.nn.gelu(x, approximate=False)
        x = dropout(x, self.rate, drop)
        return self.out_proj(x, out_dtype=jnp.float32)


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------


class BertEncoder(nnx.Module):
    """A BERT-family encoder with its family's sequence-classification head.

    ``encode`` gives the last hidden states ``[B, L, hidden]``; calling the model
    gives float32 logits ``[B, num_labels]``. ``attention_mask`` defaults to
    ``input_ids != pad_token_id`` and ``token_type_ids`` to zeros.
    """

    def __init__(self, config: BertConfig, *, rngs: nnx.Rngs):
        c = config
        self.config = c
        self.embeddings = Embeddings(c, rngs=rngs)
        if c.family == "albert":
            self.encoder = AlbertEncoder(c, rngs=rngs)
        else:
            if c.emb_size != c.hidden_size:  # ELECTRA-small style
                self.embeddings_project = _linear(c, c.emb_size, c.hidden_size, rngs=rngs)
            self.encoder = Encoder(c, rngs=rngs)
        if c.has_pooler:
            if c.family == "albert":  # HF AlbertModel.pooler is a bare Linear
                self.pooler = _linear(c, c.hidden_size, c.hidden_size, rngs=rngs)
            else:
                self.pooler = Pooler(c, rngs=rngs)
        if c.num_labels > 0:
            if c.has_pooler:
                self.classifier = _linear(c, c.hidden_size, c.num_labels, rngs=rngs)
            else:
                self.classifier = ClassificationHead(c, rngs=rngs)

    def _inputs(self, input_ids, token_type_ids, attention_mask):
        input_ids = jnp.asarray(input_ids, jnp.int32)
        if token_type_ids is None:
            token_type_ids = jnp.zeros_like(input_ids)
        if attention_mask is None:
            attention_mask = input_ids != self.config.pad_token_id
        mask = jnp.asarray(attention_mask).astype(bool)[:, None, None, :]
        return input_ids, jnp.asarray(token_type_ids, jnp.int32), mask

    def _stream(self, deterministic: bool, rngs):
        c = self.config
        return dropout_stream(deterministic, rngs, c.hidden_dropout_prob, c.attention_probs_dropout_prob,
                              c.head_dropout)

    def _hidden(self, input_ids, token_type_ids, attention_mask, drop):
        ids, types, mask = self._inputs(input_ids, token_type_ids, attention_mask)
        x = self.embeddings(ids, types, drop)
        if hasattr(self, "embeddings_project"):
            x = self.embeddings_project(x)
        return self.encoder(x, mask, drop)

    def encode(self, input_ids, token_type_ids=None, attention_mask=None, *, deterministic=True, rngs=None):
        """Last hidden states ``[B, L, hidden]`` (compute dtype)."""
        return self._hidden(input_ids, token_type_ids, attention_mask, self._stream(deterministic, rngs))

    def pooled(self, hidden: Array) -> Array:
        """BERT/ALBERT pooler output (tanh of a dense layer on the first token)."""
        if not self.config.has_pooler:
            raise ValueError(f"{self.config.family} has no pooler; use the first token or a mean")
        if self.config.family == "albert":
            return jnp.tanh(self.pooler(hidden[:, 0]))
        return self.pooler(hidden)

    def head(self, hidden: Array, drop=None) -> Array:
        """float32 logits ``[B, num_labels]`` from the last hidden states."""
        c = self.config
        if c.num_labels == 0:
            raise ValueError("this BertConfig has num_labels=0 (encoder only): there is no head")
        if c.has_pooler:
            x = dropout(self.pooled(hidden), c.head_dropout, drop)
            return self.classifier(x, out_dtype=jnp.float32)
        return self.classifier(hidden, drop)

    def __call__(self, input_ids, token_type_ids=None, attention_mask=None, *, deterministic=True, rngs=None):
        drop = self._stream(deterministic, rngs)
        return self.head(self._hidden(input_ids, token_type_ids, attention_mask, drop), drop)


def mean_pool(hidden: Array, attention_mask: Array, normalize: bool = False) -> Array:
    """Mean of the hidden states over real tokens (sentence-transformers' pooling), float32."""
    m = jnp.asarray(attention_mask, jnp.float32)[..., None]
    out = jnp.sum(hidden.astype(jnp.float32) * m, axis=1) / jnp.maximum(jnp.sum(m, axis=1), 1e-9)
    if normalize:
        out = out / jnp.maximum(jnp.linalg.norm(out, axis=-1, keepdims=True), 1e-12)
    return out


# --------------------------------------------------------------------------
# Functional interface
# --------------------------------------------------------------------------


def init_bert_params(config: BertConfig, seed: int) -> tuple[nnx.GraphDef, nnx.State]:
    """``(graphdef, params)`` of a randomly initialised encoder (HF's N(0, 0.02) init)."""
    return nnx.split(BertEncoder(config, rngs=nnx.Rngs(params=seed)), nnx.Param)


def bert_apply(graphdef, params, input_ids, token_type_ids=None, attention_mask=None, dropout_key=None) -> Array:
    """Pure forward pass: float32 logits ``[B, num_labels]``; ``dropout_key=None`` is deterministic."""
    model = nnx.merge(graphdef, params)
    if dropout_key is None:
        return model(input_ids, token_type_ids, attention_mask)
    return model(input_ids, token_type_ids, attention_mask, deterministic=False,
                 rngs=nnx.Rngs(dropout=dropout_key))


def bert_encode(graphdef, params, input_ids, token_type_ids=None, attention_mask=None) -> Array:
    """Pure encoder pass: last hidden states ``[B, L, hidden]`` (deterministic)."""
    return nnx.merge(graphdef, params).encode(input_ids, token_type_ids, attention_mask)


def count_bert_params(config: BertConfig) -> int:
    """Trainable parameters, from shapes only."""
    shapes = jax.eval_shape(lambda: nnx.split(BertEncoder(config, rngs=nnx.Rngs(params=0)), nnx.Param)[1])
    return int(sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(shapes)))
