"""The shape of a T5.1.1 / mT5 model (:class:`T5Config`) and the named published sizes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sam_bench.models.layers import DTYPES, check_dtype


@dataclass(frozen=True)
class T5Config:
    """Shape and regularisation hyper-parameters of a T5.1.1 model.

    ``dtype`` is the compute dtype ("float32" or "bfloat16"); parameters are
    always stored in float32, and logits / layer-norm statistics / softmax are
    always float32.
    """

    vocab_size: int
    d_model: int
    d_kv: int
    d_ff: int
    num_heads: int
    num_encoder_layers: int
    num_decoder_layers: int
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout_rate: float = 0.1
    layer_norm_epsilon: float = 1e-6
    dtype: str = "float32"

    def __post_init__(self) -> None:
        positive = (
            "vocab_size",
            "d_model",
            "d_kv",
            "d_ff",
            "num_heads",
            "num_encoder_layers",
            "num_decoder_layers",
            "relative_attention_num_buckets",
            "relative_attention_max_distance",
        )
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(
                    f"T5Config.{name} must be an int, got {type(value).__name__} {value!r}"
                )
            if value <= 0:
                raise ValueError(f"T5Config.{name} must be positive, got {value}")
        nb = self.relative_attention_num_buckets
        if nb < 4 or nb % 2:
            raise ValueError(
                "T5Config.relative_attention_num_buckets must be an even number >= 4 "
                f"(bidirectional buckets split it in two), got {nb}"
            )
        if self.relative_attention_max_distance <= nb // 2:
            raise ValueError(
                "T5Config.relative_attention_max_distance must exceed "
                f"relative_attention_num_buckets // 2 = {nb // 2}, "
                f"got {self.relative_attention_max_distance}"
            )
        rate = self.dropout_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise ValueError(f"T5Config.dropout_rate must be a float, got {rate!r}")
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"T5Config.dropout_rate must be in [0, 1), got {rate}")
        eps = self.layer_norm_epsilon
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
            raise ValueError(
                f"T5Config.layer_norm_epsilon must be a positive float, got {eps!r}"
            )
        check_dtype("T5Config", self.dtype)

    @property
    def inner_dim(self) -> int:
        """Width of the concatenated attention heads, ``num_heads * d_kv``."""
        return self.num_heads * self.d_kv

    @property
    def compute_dtype(self) -> Any:
        return DTYPES[self.dtype]

    def replace(self, **overrides: Any) -> "T5Config":
        return _replace(self, overrides)


def _replace(config: T5Config, overrides: dict[str, Any]) -> T5Config:
    fields = {f.name for f in dataclasses.fields(T5Config)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(
            f"unknown T5Config field(s) {unknown}; valid fields: {sorted(fields)}"
        )
    return dataclasses.replace(config, **overrides)


def _shape(vocab, d_model, d_kv, heads, d_ff, enc, dec) -> T5Config:
    return T5Config(
        vocab_size=vocab,
        d_model=d_model,
        d_kv=d_kv,
        d_ff=d_ff,
        num_heads=heads,
        num_encoder_layers=enc,
        num_decoder_layers=dec,
    )


T5_VOCAB = 32128
MT5_VOCAB = 250112
TINY_DEFAULT_VOCAB = 1152

#: Named architectures. ``t5.1.1-tiny`` is a CPU/CI size whose vocabulary size
#: comes from a trained SentencePiece model (override ``vocab_size``); the others
#: are the published T5.1.1 and mT5 shapes.
NAMED_CONFIGS: dict[str, T5Config] = {
    "t5.1.1-tiny": _shape(TINY_DEFAULT_VOCAB, 128, 32, 4, 256, 2, 2),
    "t5.1.1-small": _shape(T5_VOCAB, 512, 64, 6, 1024, 8, 8),
    "t5.1.1-base": _shape(T5_VOCAB, 768, 64, 12, 2048, 12, 12),
    "t5.1.1-large": _shape(T5_VOCAB, 1024, 64, 16, 2816, 24, 24),
    "t5.1.1-xl": _shape(T5_VOCAB, 2048, 64, 32, 5120, 24, 24),
    "mt5-small": _shape(MT5_VOCAB, 512, 64, 6, 1024, 8, 8),
    "mt5-base": _shape(MT5_VOCAB, 768, 64, 12, 2048, 12, 12),
    "mt5-large": _shape(MT5_VOCAB, 1024, 64, 16, 2816, 24, 24),
    "mt5-xl": _shape(MT5_VOCAB, 2048, 64, 32, 5120, 24, 24),
    # for memory planning: the XXL sizes (11B / 13B), too big to fine-tune on one 80 GB GPU
    "t5.1.1-xxl": _shape(T5_VOCAB, 4096, 64, 64, 10240, 24, 24),
    "mt5-xxl": _shape(MT5_VOCAB, 4096, 64, 64, 10240, 24, 24),
}


def t5_config(name: str, **overrides: Any) -> T5Config:
    """The named configuration, with dataclass fields overridden by ``overrides``."""
    if name not in NAMED_CONFIGS:
        raise ValueError(
            f"unknown T5 config {name!r}; valid names: {', '.join(NAMED_CONFIGS)}"
        )
    return _replace(NAMED_CONFIGS[name], overrides)
