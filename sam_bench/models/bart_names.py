"""Where the parameters of :mod:`sam_bench.models.bart` live in Hugging Face checkpoints.

``BartForConditionalGeneration`` prefixes the network with ``model.`` (a ``BartModel``
checkpoint has no prefix) and keeps ``final_logits_bias`` ([1, vocab]) outside it. The token
embedding is stored once as ``shared`` and tied to ``encoder.embed_tokens``,
``decoder.embed_tokens`` and ``lm_head``: those copies are known extras. A checkpoint without
``final_logits_bias`` (a ``BartModel``) gets its initial value, zeros, as transformers does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from sam_bench.errors import CheckpointError
from sam_bench.models.bart import BartConfig
from sam_bench.models.names import HFNames, PathT, Rule

_TIED = ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight")
_BIAS = ("final_logits_bias",)
#: config.json fields that are ours by the same name (dtype is the cell's, not the file's)
_FIELDS = [f.name for f in dataclasses.fields(BartConfig) if f.name != "dtype"]


class BartNames(HFNames):
    MODEL_TYPES = ("bart",)

    def rule(self, path: PathT) -> Rule:
        return Rule("final_logits_bias") if tuple(path) == _BIAS else super().rule(path)

    def export_key(self, path: PathT) -> str:
        key = self.rule(path).key
        return key if tuple(path) == _BIAS else "model." + key

    def view(self, keys: Iterable[str]) -> tuple[dict[str, str], list[str]]:
        names = {k.removeprefix("model."): k for k in keys}
        tied = []
        if "shared.weight" not in names:  # a save that kept one of the tied copies instead
            for alias in _TIED:
                if alias in names:
                    names["shared.weight"] = names[alias]
                    tied.append(f"shared.weight = {names[alias]}")
                    break
        return names, tied

    def ignored(self, name: str) -> bool:
        return name in _TIED

    def is_head(self, path: PathT) -> bool:
        return tuple(path) == _BIAS

    def hf_config(self) -> dict:
        c = self.config
        return {"architectures": ["BartForConditionalGeneration"], "model_type": "bart",
                **{f: getattr(c, f) for f in _FIELDS}, "activation_function": "gelu", "normalize_before": False,
                "add_final_layer_norm": False, "add_bias_logits": False, "is_encoder_decoder": True,
                "tie_word_embeddings": True, "init_std": 0.02}

    @classmethod
    def config_from_hf(cls, hf: dict, **overrides: Any) -> BartConfig:
        layout = {"activation_function": ("gelu", hf.get("activation_function", "gelu")),
                  "normalize_before": (False, hf.get("normalize_before", False)),
                  "add_final_layer_norm": (False, hf.get("add_final_layer_norm", False)),
                  "add_bias_logits": (False, hf.get("add_bias_logits", False))}
        wrong = [f"{k}={got!r}" for k, (want, got) in layout.items() if got != want]
        if wrong:  # mBART and other variants share model_type "bart"-like configs
            raise CheckpointError(f"this BART checkpoint has {', '.join(wrong)}; sam-bench implements BART's "
                                  "post-norm GELU layout (activation_function 'gelu', no pre-norm, no final layer "
                                  "norm, no logits bias layer)")
        return BartConfig(**{**{k: hf[k] for k in _FIELDS if k in hf}, **overrides})
