"""Classification, regression and multiple-choice examples as fixed-shape arrays for
BERT-family encoders (the FSAM experiments).

A task's encoder form (``Task.encoder_example``) is ``{"text_a", "text_b", "label"}`` or
``{"choices": [(a, b), ...], "label"}``. Here it becomes the encoder's inputs, truncated
``longest_first`` and padded by the checkpoint's tokenizer (as Hugging Face's GLUE scripts
do), and a label array:

================  =============================================================================
kind              arrays
================  =============================================================================
classification    ``input_ids``, ``token_type_ids``, ``attention_mask`` [N, L] int32; ``label`` [N] int32
regression        the same inputs; ``label`` [N] float32
multiple_choice   the inputs [N, C, L] (C: the most choices of any example, shorter rows padded
                  with empty pairs); ``choice_mask`` [N, C] int32 (1 on real choices); ``label``
                  [N, C] float32, 1 on every correct choice (one for COPA, any number for
                  ReCoRD's entities)
================  =============================================================================
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

__all__ = ["EncodedSplit", "KINDS", "encode_examples"]

KINDS = ("classification", "regression", "multiple_choice")


@dataclasses.dataclass(frozen=True)
class EncodedSplit:
    """Named arrays sharing their first dimension (one row per example)."""

    arrays: dict[str, np.ndarray]

    def __post_init__(self):
        rows = {k: v.shape[0] for k, v in self.arrays.items()}
        if len(set(rows.values())) > 1:
            raise ValueError(f"row counts differ: {rows}")

    def __len__(self) -> int:
        return int(next(iter(self.arrays.values())).shape[0])

    def take(self, indices) -> "EncodedSplit":
        idx = np.asarray(indices, dtype=np.int64)
        return EncodedSplit({k: v[idx] for k, v in self.arrays.items()})

    def as_batch(self) -> dict[str, np.ndarray]:
        return dict(self.arrays)


def _pairs(rows: Sequence[tuple[str, str | None]], where: str) -> tuple[list[str], list[str] | None]:
    firsts = [a for a, _ in rows]
    seconds = [b for _, b in rows]
    if all(b is None for b in seconds):
        return firsts, None
    if any(b is None for b in seconds):
        raise ValueError(f"{where}: some examples have a second text and some do not")
    return firsts, seconds


def _check_labels(examples: Sequence[dict], where: str) -> None:
    unlabeled = [i for i, ex in enumerate(examples) if ex["label"] is None]
    if unlabeled:
        raise ValueError(f"{where}: {len(unlabeled)} examples have no label (first at index {unlabeled[0]}); "
                         f"encoder cells train and evaluate on labelled splits only")


def encode_examples(examples: Sequence[dict], kind: str, tokenizer, max_length: int, *,
                    where: str = "examples") -> EncodedSplit:
    """Encode encoder-form examples (all of one task) into an :class:`EncodedSplit`.

    ``tokenizer`` is a :class:`sam_bench.models.tokenizers.BertFamilyTokenizer`;
    ``where`` names the examples in error messages (task and split).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown encoder task kind {kind!r}; valid: {KINDS}")
    if not examples:
        raise ValueError(f"{where}: no examples to encode")
    _check_labels(examples, where)
    if kind != "multiple_choice":
        texts, pairs = _pairs([(ex["text_a"], ex["text_b"]) for ex in examples], where)
        arrays = tokenizer(texts, pairs, max_length=max_length)
        dtype = np.float32 if kind == "regression" else np.int32
        arrays["label"] = np.asarray([ex["label"] for ex in examples], dtype)
        return EncodedSplit(arrays)

    n_choices = max(len(ex["choices"]) for ex in examples)
    rows, mask = [], np.zeros((len(examples), n_choices), np.int32)
    label = np.zeros((len(examples), n_choices), np.float32)
    for i, ex in enumerate(examples):
        choices = list(ex["choices"])
        mask[i, : len(choices)] = 1
        rows += choices + [("", "")] * (n_choices - len(choices))
        correct = ex["label"] if isinstance(ex["label"], (list, tuple)) else [ex["label"]]
        label[i, list(correct)] = 1.0
    texts, pairs = _pairs(rows, where)
    flat = tokenizer(texts, pairs, max_length=max_length)
    arrays = {k: v.reshape(len(examples), n_choices, max_length) for k, v in flat.items()}
    arrays.update(choice_mask=mask, label=label)
    return EncodedSplit(arrays)
