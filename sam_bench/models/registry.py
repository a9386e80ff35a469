"""One registry over every named architecture: T5.1.1 / mT5, BART and the BERT family.

``model_config(name)`` gives the config a cell's ``model`` names; :data:`FAMILIES` says,
for each family, its config type, its network and where its parameters live in public
checkpoints, so the trainer, the importer (:mod:`sam_bench.models.checkpoints`) and the
memory planner treat both families alike. The registry knows specs only; it never loads.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Union

import jax
from flax import nnx

from sam_bench.models.bart import BART_CONFIGS, Bart, BartConfig
from sam_bench.models.bart_names import BartNames
from sam_bench.models.bert import NAMED_BERT_CONFIGS, BertConfig, BertEncoder
from sam_bench.models.bert_names import BertNames
from sam_bench.models.names import HFNames
from sam_bench.models.t5 import EOS_ID, NAMED_CONFIGS, PAD_ID, T5, T5Config
from sam_bench.models.t5_names import T5Names

ModelConfig = Union[T5Config, BartConfig, BertConfig]

#: Every named architecture (T5.1.1/mT5 names first, then BART, then the BERT family).
MODEL_CONFIGS: dict[str, ModelConfig] = {**NAMED_CONFIGS, **BART_CONFIGS, **NAMED_BERT_CONFIGS}

#: Parameter counts as published (paper or model card), for the comparison in docs/models.md.
PUBLISHED_PARAMS: dict[str, float] = {
    "t5.1.1-small": 77e6, "t5.1.1-base": 250e6, "t5.1.1-large": 800e6, "t5.1.1-xl": 3e9,
    "t5.1.1-xxl": 11e9, "bart-base": 140e6, "bart-large": 406e6,
    "mt5-small": 300e6, "mt5-base": 580e6, "mt5-large": 1.2e9, "mt5-xl": 3.7e9, "mt5-xxl": 13e9,
    "bert-base-uncased": 110e6, "bert-large-uncased": 340e6, "bert-large-cased": 340e6,
    "roberta-base": 125e6, "roberta-large": 355e6,
    "electra-base-discriminator": 110e6, "electra-large-discriminator": 335e6,
    "albert-base-v2": 12e6, "albert-xxlarge-v2": 235e6,
    "all-minilm-l6-v2": 22.7e6,
}


def model_config(name: str, **overrides: Any) -> ModelConfig:
    """The named architecture with dataclass fields overridden (``dtype``, ``num_labels``, ...)."""
    if name not in MODEL_CONFIGS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODEL_CONFIGS)}")
    return MODEL_CONFIGS[name].replace(**overrides)


@dataclasses.dataclass(frozen=True)
class Family:
    """One model family: its config type, its network, and its checkpoint names."""

    name: str
    config_type: type
    network: type[nnx.Module]
    names: type[HFNames]


#: ``"t5"`` and ``"bart"`` (encoder-decoders, text-to-text cells) and ``"bert"`` (BERT-family encoders).
FAMILIES: dict[str, Family] = {
    "t5": Family("t5", T5Config, T5, T5Names),
    "bart": Family("bart", BartConfig, Bart, BartNames),
    "bert": Family("bert", BertConfig, BertEncoder, BertNames),
}

#: The families whose cells are text to text (sam_bench.train.text_to_text).
SEQ2SEQ = ("t5", "bart")


@dataclasses.dataclass(frozen=True)
class Seq2SeqIds:
    """The token ids an encoder-decoder's data and decoding depend on."""

    pad: int  # pads inputs and targets; masked as a key and in the loss
    eos: int  # ends every input and target; decoding stops at it
    decoder_start: int  # the first decoder input (teacher forcing and decoding)


def seq2seq_ids(config: ModelConfig) -> Seq2SeqIds:
    """T5: pad 0, eos 1, start 0 (the pad). BART: its config's (pad 1, eos 2, start 2 = ``</s>``)."""
    if isinstance(config, BartConfig):
        return Seq2SeqIds(config.pad_token_id, config.eos_token_id, config.decoder_start_token_id)
    if isinstance(config, T5Config):
        return Seq2SeqIds(PAD_ID, EOS_ID, PAD_ID)
    raise TypeError(f"{type(config).__name__} is not an encoder-decoder config")


def family_of(config: ModelConfig) -> Family:
    for family in FAMILIES.values():
        if isinstance(config, family.config_type):
            return family
    raise TypeError(f"not a model config: {type(config).__name__}")


def model_family(config: ModelConfig) -> str:
    """``"t5"``, ``"bart"`` (encoder-decoders) or ``"bert"`` (BERT-family encoder)."""
    return family_of(config).name


def checkpoint_names(config: ModelConfig) -> HFNames:
    """Where ``config``'s parameters live in Hugging Face (and, for T5, T5X) checkpoints."""
    return family_of(config).names(config)


def _module(config: ModelConfig, seed: int = 0) -> nnx.Module:
    return family_of(config).network(config, rngs=nnx.Rngs(params=seed))


def init_model(config: ModelConfig, seed: int) -> tuple[nnx.GraphDef, nnx.State]:
    """``(graphdef, params)`` of a randomly initialised model of either family."""
    return nnx.split(_module(config, seed), nnx.Param)


def abstract_model(config: ModelConfig) -> tuple[nnx.GraphDef, nnx.State]:
    """``(graphdef, params)`` whose leaves are ``ShapeDtypeStruct``: nothing is allocated."""
    return nnx.split(nnx.eval_shape(lambda: _module(config, 0)), nnx.Param)


def count_model_params(config: ModelConfig) -> int:
    """Trainable parameters of either family, from shapes only."""
    _, shapes = abstract_model(config)
    return int(sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(shapes)))
