"""Pieces shared by the task definitions: T5 text conventions, label handling, metric wrappers.

T5 conventions followed here (t5/data/preprocessors.py, t5/data/glue_utils.py,
t5/data/postprocessors.py; mT5's multilingual/preprocessors.py):

* GLUE/SuperGLUE classification (``preprocessors.glue``): ``inputs = "<benchmark> k1: v1 k2: v2"``
  with the features in a fixed order (sorted names unless the task fixes one), joined by single
  spaces; ``targets`` is the label name, or ``"<unk>"`` for an unlabeled example.
* Postprocessing of a class label (``string_label_to_class_id``): the index of the text in the
  label names, -1 when the text is not a label. We strip surrounding whitespace first.
* SQuAD-style answers for mT5 (``xquad``): punctuation is padded with spaces (every
  character that is not "_", ASCII whitespace, or a Unicode number/letter/mark), whitespace
  runs collapse to one space; answers are padded the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

import sam_bench.tasks.metrics as metrics
from sam_bench.tasks.base import UnlabeledSplitError

UNK = "<unk>"

# RE2's \s (what TensorFlow's regex_replace uses) is ASCII whitespace only.
_RE2_SPACE = re.compile(r"[\t\n\f\r ]+")
_RE2_SPACE_CHARS = frozenset("\t\n\f\r ")


def glue_inputs(benchmark: str, example: dict, feature_names: Sequence[str]) -> str:
    """``"<benchmark> name1: value1 name2: value2"`` (T5's ``preprocessors.glue``)."""
    parts = [benchmark]
    for key in feature_names:
        parts.append(f"{key}:")
        parts.append(example[key])
    return " ".join(parts)


def label_target(example: dict) -> str:
    """The label name, or T5's ``"<unk>"`` for an unlabeled example."""
    label = example.get("label")
    return UNK if label is None else label


def class_id(text: str, label_names: Sequence[str]) -> int:
    """Index of the predicted label name, -1 if the text is not a label."""
    text = text.strip()
    return label_names.index(text) if text in label_names else -1


def gold_class_ids(task_name: str, examples: Sequence[dict], label_names: Sequence[str]) -> np.ndarray:
    out = []
    for ex in examples:
        label = ex.get("label")
        if label is None:
            raise UnlabeledSplitError(
                f"task {task_name!r}: example idx={ex.get('idx')!r} has no label "
                "(a test split published without labels cannot be scored)"
            )
        out.append(label_names.index(label))
    return np.array(out)


_PAD_TABLE: dict[int, str] = {}  # char code -> " c " for the characters mT5 pads (grown lazily)
_SEEN: set[str] = set()


def pad_punctuation(text: str) -> str:
    """mT5's ``_pad_punctuation``: spaces around every char not in [_ \\s \\p{N} \\p{L} \\p{M}]."""
    new = set(text) - _SEEN
    for ch in new:
        if not (ch == "_" or ch in _RE2_SPACE_CHARS or unicodedata.category(ch)[0] in "NLM"):
            _PAD_TABLE[ord(ch)] = f" {ch} "
        _SEEN.add(ch)
    return _RE2_SPACE.sub(" ", text.translate(_PAD_TABLE))


def string_join(parts: Sequence[str]) -> str:
    """mT5's ``_string_join``: join on a space and collapse whitespace runs."""
    return _RE2_SPACE.sub(" ", " ".join(parts))


def qa_scores(task_name: str, examples: Sequence[dict], predictions: Sequence[str], answers_of,
              normalizer: str = "squad") -> dict[str, float]:
    """{"em", "f1"} on the 0-100 scale, the max over each example's gold answers."""
    answer_lists = []
    for ex in examples:
        answers = answers_of(ex)
        if not answers:
            raise UnlabeledSplitError(
                f"task {task_name!r}: an example has no gold answers (a test split without answers "
                "cannot be scored)"
            )
        answer_lists.append(answers)
    fn = metrics.squad if normalizer == "squad" else metrics.trivia_qa
    result = fn(list(predictions), answer_lists)
    return {"em": 100.0 * result["em"], "f1": 100.0 * result["f1"]}
