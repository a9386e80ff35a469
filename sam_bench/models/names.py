"""Parameter paths and where a tensor comes from: what every family's name mapping shares.

A path is a key tuple of the pure parameter dict (``("encoder", "block", 0, ...)``); a
:class:`Rule` says which checkpoint tensor fills it and how to lay it out. The
families' mappings (:mod:`sam_bench.models.t5_names`, :mod:`sam_bench.models.bert_names`)
build on :class:`HFNames`, the Hugging Face convention both follow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

PathT = tuple  # a path in the pure parameter dict, e.g. ("encoder", "block", 0, ...)


def flat(tree: dict, prefix: PathT = ()) -> dict[PathT, Any]:
    """``{path: leaf}`` of a nested dict."""
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + (k,)))
        else:
            out[prefix + (k,)] = v
    return out


def unflat(leaves: dict[PathT, Any]) -> dict:
    """The nested dict of ``{path: leaf}``."""
    out: dict = {}
    for path, v in leaves.items():
        node = out
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = v
    return out


def dotted(path: PathT) -> str:
    return ".".join(str(p) for p in path)


@dataclasses.dataclass(frozen=True)
class Rule:
    """Where one of our tensors comes from: source key, and how to reshape it."""

    key: str
    transpose: bool = False
    reshape: bool = False  # T5X: 3-D attention kernels folded to 2-D


class HFNames:
    """Hugging Face names of a model's parameters.

    Our paths mirror HF's module names; the leaf differs: a linear ``kernel`` is HF's
    ``weight`` transposed (HF stores ``[out, in]``), an ``embedding`` or a norm's
    ``scale`` is HF's ``weight``, a ``bias`` is a ``bias``. Families override what
    differs (prefixes, legacy names, tied tensors, extras to ignore).
    """

    #: the Hugging Face ``model_type`` values of this family
    MODEL_TYPES: tuple[str, ...] = ()

    def __init__(self, config):
        self.config = config

    def rule(self, path: PathT) -> Rule:
        *mods, leaf = path
        name = dotted(mods)
        if leaf == "kernel":
            return Rule(name + ".weight", transpose=True)
        if leaf in ("embedding", "scale"):
            return Rule(name + ".weight")
        if leaf == "bias":
            return Rule(name + ".bias")
        raise ValueError(f"no Hugging Face name for parameter {dotted(path)}")

    def export_key(self, path: PathT) -> str:
        """The state-dict key ``path`` is written under."""
        return self.rule(path).key

    def view(self, keys: Iterable[str]) -> tuple[dict[str, str], list[str]]:
        """``({our name: checkpoint key}, [tied tensors taken from a twin])`` of a state dict."""
        return {k: k for k in keys}, []

    def ignored(self, name: str) -> bool:
        """A known extra of the checkpoint that the model does not use."""
        return False

    def is_head(self, path: PathT) -> bool:
        """A task-head tensor that may be initialised when the checkpoint lacks it."""
        return False

    def hint(self, unexpected: list[str]) -> str:
        """A likely cause of a name mismatch, or ""."""
        return ""

    def t5x_rules(self) -> dict[PathT, Rule] | None:
        """Our path -> T5X ``target`` key, or None: the family has no T5X checkpoints."""
        return None

    def hf_config(self) -> dict:
        """A Hugging Face ``config.json`` for this architecture."""
        raise NotImplementedError

    @classmethod
    def config_from_hf(cls, hf: dict, **overrides: Any):
        """Our config from a Hugging Face ``config.json`` dict of one of :attr:`MODEL_TYPES`."""
        raise NotImplementedError
