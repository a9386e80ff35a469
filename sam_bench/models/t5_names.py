"""Where the parameters of :mod:`sam_bench.models.t5` live in Hugging Face and T5X checkpoints.

Hugging Face ``T5ForConditionalGeneration`` uses our module names (see the tree in
:mod:`sam_bench.models.t5`); T5X names its layers ``layers_<i>`` and stores attention
kernels as 3-D ``DenseGeneral`` arrays. Both hold T5.1.1 / mT5 (gated-GELU, untied head).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sam_bench.errors import CheckpointError
from sam_bench.models.names import HFNames, PathT, Rule
from sam_bench.models.t5 import T5Config

_IGNORED = re.compile(r"^(encoder|decoder)\.embed_tokens\.weight$")
_T5X_ATTENTION = {"q": "query", "k": "key", "v": "value", "o": "out"}


class T5Names(HFNames):
    MODEL_TYPES = ("t5", "mt5")

    def view(self, keys: Iterable[str]) -> tuple[dict[str, str], list[str]]:
        names = {k: k for k in keys}
        tied = []
        if "shared.weight" not in names:
            for alias in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight"):
                if alias in names:
                    names["shared.weight"] = names.pop(alias)
                    break
        if "lm_head.weight" not in names and "shared.weight" in names:
            # transformers >= 5 ties lm_head to shared unless a checkpoint holds both (its save
            # then drops lm_head); the model is still T5.1.1 (no output scaling, checked in config.json)
            names["lm_head.weight"] = names["shared.weight"]
            tied.append("lm_head.weight = shared.weight")
        return names, tied

    def ignored(self, name: str) -> bool:
        return bool(_IGNORED.match(name))

    def hint(self, unexpected: list[str]) -> str:
        if any("DenseReluDense.wi." in m for m in unexpected):
            return "this looks like an original T5 (v1.0, ReLU) checkpoint; sam-bench models T5.1.1/mT5 (gated-GELU)"
        return ""

    def t5x_rules(self) -> dict[PathT, Rule]:
        """Our path -> the T5X ``target`` key (``encoder/layers_0/...``) of every parameter."""
        config = self.config
        rules: dict[PathT, Rule] = {("shared", "embedding"): Rule("token_embedder/embedding")}
        for stack, n in (("encoder", config.num_encoder_layers), ("decoder", config.num_decoder_layers)):
            rules[(stack, "block", 0, "layer", 0, "SelfAttention", "relative_attention_bias", "embedding")] = Rule(
                f"{stack}/relpos_bias/rel_embedding", transpose=True
            )
            rules[(stack, "final_layer_norm", "scale")] = Rule(f"{stack}/{stack}_norm/scale")
            sub = (
                [("pre_attention_layer_norm", "attention", "SelfAttention"), ("pre_mlp_layer_norm", "mlp", None)]
                if stack == "encoder"
                else [
                    ("pre_self_attention_layer_norm", "self_attention", "SelfAttention"),
                    ("pre_cross_attention_layer_norm", "encoder_decoder_attention", "EncDecAttention"),
                    ("pre_mlp_layer_norm", "mlp", None),
                ]
            )
            for i in range(n):
                for j, (norm, t5x_name, ours) in enumerate(sub):
                    base = (stack, "block", i, "layer", j)
                    rules[base + ("layer_norm", "scale")] = Rule(f"{stack}/layers_{i}/{norm}/scale")
                    if ours is None:
                        for w in ("wi_0", "wi_1", "wo"):
                            rules[base + ("DenseReluDense", w, "kernel")] = Rule(f"{stack}/layers_{i}/mlp/{w}/kernel")
                    else:
                        for o, t in _T5X_ATTENTION.items():
                            rules[base + (ours, o, "kernel")] = Rule(
                                f"{stack}/layers_{i}/{t5x_name}/{t}/kernel", reshape=True
                            )
        rules[("lm_head", "kernel")] = Rule("decoder/logits_dense/kernel")
        return rules

    def hf_config(self) -> dict:
        c = self.config
        return {
            "architectures": ["T5ForConditionalGeneration"], "model_type": "t5",
            "vocab_size": c.vocab_size, "d_model": c.d_model, "d_kv": c.d_kv, "d_ff": c.d_ff,
            "num_heads": c.num_heads, "num_layers": c.num_encoder_layers,
            "num_decoder_layers": c.num_decoder_layers,
            "relative_attention_num_buckets": c.relative_attention_num_buckets,
            "relative_attention_max_distance": c.relative_attention_max_distance,
            "dropout_rate": c.dropout_rate, "layer_norm_epsilon": c.layer_norm_epsilon,
            "feed_forward_proj": "gated-gelu", "dense_act_fn": "gelu_new", "is_gated_act": True,
            "tie_word_embeddings": False, "is_encoder_decoder": True,
            "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1, "initializer_factor": 1.0,
        }

    @classmethod
    def config_from_hf(cls, hf: dict, **overrides: Any) -> T5Config:
        act = hf.get("feed_forward_proj", "relu")
        # transformers < 5 marks T5.1.1 by tie_word_embeddings=False; >= 5 always writes
        # tie_word_embeddings=True and says scale_decoder_outputs=False instead
        scales = hf.get("scale_decoder_outputs", hf.get("tie_word_embeddings", True))
        if act != "gated-gelu" or scales:
            raise CheckpointError(
                f"this T5 checkpoint has feed_forward_proj={act!r} and scales the decoder output by "
                f"d_model**-0.5 ({scales}): an original T5 (v1.0); sam-bench models T5.1.1/mT5 "
                "(gated-gelu, separate unscaled lm_head)"
            )
        fields = dict(
            vocab_size=hf["vocab_size"], d_model=hf["d_model"], d_kv=hf["d_kv"], d_ff=hf["d_ff"],
            num_heads=hf["num_heads"], num_encoder_layers=hf["num_layers"],
            num_decoder_layers=hf.get("num_decoder_layers") or hf["num_layers"],
            relative_attention_num_buckets=hf.get("relative_attention_num_buckets", 32),
            relative_attention_max_distance=hf.get("relative_attention_max_distance", 128),
            dropout_rate=hf.get("dropout_rate", 0.1), layer_norm_epsilon=hf.get("layer_norm_epsilon", 1e-6),
        )
        return T5Config(**{**fields, **overrides})
