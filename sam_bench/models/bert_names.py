"""Where the parameters of :mod:`sam_bench.models.bert` live in Hugging Face checkpoints.

HF prefixes the base model with its family (``bert.``, ``roberta.``, ...) but not the
head (``classifier.``); old TF-converted checkpoints name layer-norm tensors
``gamma``/``beta``; pre-training heads and buffers are known extras.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sam_bench.models.bert import FAMILIES, BertConfig
from sam_bench.models.names import HFNames, PathT

_HEAD = ("classifier", "pooler")
_IGNORED = re.compile(
    r"(^|\.)(position_ids|token_type_ids)$|^(cls|lm_head|generator\w*|discriminator_predictions|predictions"
    r"|sop_classifier|qa_outputs)\."
)
_ARCH = {"bert": "Bert", "roberta": "Roberta", "electra": "Electra", "albert": "Albert"}


class BertNames(HFNames):
    MODEL_TYPES = FAMILIES

    @property
    def prefix(self) -> str:
        return self.config.family + "."

    def export_key(self, path: PathT) -> str:
        key = self.rule(path).key
        return key if path[0] == "classifier" else self.prefix + key

    def view(self, keys: Iterable[str]) -> tuple[dict[str, str], list[str]]:
        names = {}
        for key in keys:
            name = key.removeprefix(self.prefix)
            names[re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", name))] = key
        return names, []

    def ignored(self, name: str) -> bool:
        if _IGNORED.search(name):
            return True
        if name.startswith("pooler.") and not self.config.has_pooler:
            return True  # RoBERTa/ELECTRA classify without the pooler (HF drops it too)
        return name.startswith("classifier.") and self.config.num_labels == 0

    def is_head(self, path: PathT) -> bool:
        return path[0] in _HEAD

    def hf_config(self) -> dict:
        c = self.config
        d = {
            "architectures": [f"{_ARCH[c.family]}ForSequenceClassification" if c.num_labels
                              else f"{_ARCH[c.family]}Model"],
            "model_type": c.family, "vocab_size": c.vocab_size, "hidden_size": c.hidden_size,
            "num_hidden_layers": c.num_hidden_layers, "num_attention_heads": c.num_attention_heads,
            "intermediate_size": c.intermediate_size, "max_position_embeddings": c.max_position_embeddings,
            "type_vocab_size": c.type_vocab_size, "hidden_act": c.hidden_act, "layer_norm_eps": c.layer_norm_eps,
            "pad_token_id": c.pad_token_id, "hidden_dropout_prob": c.hidden_dropout_prob,
            "attention_probs_dropout_prob": c.attention_probs_dropout_prob, "initializer_range": c.initializer_range,
            "num_labels": max(c.num_labels, 1),
        }
        if c.num_labels == 1:
            d["problem_type"] = "regression"
        if c.family in ("albert", "electra"):
            d["embedding_size"] = c.emb_size
        if c.family == "albert":
            d.update(num_hidden_groups=c.num_hidden_groups, inner_group_num=c.inner_group_num,
                     classifier_dropout_prob=c.head_dropout)
        else:
            d["classifier_dropout"] = c.classifier_dropout
        if c.family == "roberta":
            d.update(bos_token_id=0, eos_token_id=2)
        return d

    @classmethod
    def config_from_hf(cls, hf: dict, **overrides: Any) -> BertConfig:
        kind = hf["model_type"]
        act = hf.get("hidden_act", "gelu")
        act = {"gelu_pytorch_tanh": "gelu_new", "gelu_fast": "gelu_new"}.get(act, act)
        fields = dict(
            family=kind, vocab_size=hf["vocab_size"], hidden_size=hf["hidden_size"],
            num_hidden_layers=hf["num_hidden_layers"], num_attention_heads=hf["num_attention_heads"],
            intermediate_size=hf["intermediate_size"],
            max_position_embeddings=hf.get("max_position_embeddings", 512),
            type_vocab_size=hf.get("type_vocab_size", 2), hidden_act=act,
            layer_norm_eps=hf.get("layer_norm_eps", 1e-12), pad_token_id=hf.get("pad_token_id") or 0,
            hidden_dropout_prob=hf.get("hidden_dropout_prob", 0.1),
            attention_probs_dropout_prob=hf.get("attention_probs_dropout_prob", 0.1),
            initializer_range=hf.get("initializer_range", 0.02),
        )
        if kind in ("albert", "electra") and hf.get("embedding_size") not in (None, hf["hidden_size"]):
            fields["embedding_size"] = hf["embedding_size"]
        if kind == "albert":
            fields.update(num_hidden_groups=hf.get("num_hidden_groups", 1),
                          inner_group_num=hf.get("inner_group_num", 1))
            if hf.get("classifier_dropout_prob", 0.1) != 0.1:  # 0.1 is what None means for ALBERT
                fields["classifier_dropout"] = hf["classifier_dropout_prob"]
        elif hf.get("classifier_dropout") is not None:
            fields["classifier_dropout"] = hf["classifier_dropout"]
        archs = hf.get("architectures") or []
        if any(a.endswith("ForSequenceClassification") for a in archs):
            fields["num_labels"] = int(hf.get("num_labels", len(hf.get("id2label", {})) or 2))
        return BertConfig(**{**fields, **overrides})
