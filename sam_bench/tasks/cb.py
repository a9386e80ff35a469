"""CommitmentBank (SuperGLUE CB): three-way entailment.

Files (SuperGLUE release): ``super_glue/CB/train.jsonl``, ``super_glue/CB/val.jsonl``;
each line {"premise": str, "hypothesis": str, "label": "entailment"|"contradiction"|"neutral", "idx": int}.

T5 conventions (t5.data.preprocessors.glue with benchmark_name "cb"): the features other
than label/idx are joined in sorted key order, so
``inputs = "cb hypothesis: {hypothesis} premise: {premise}"``, ``targets = label name``.
Postprocessing maps the text to the class id (entailment 0, contradiction 1, neutral 2),
-1 for anything else (T5's string_label_to_class_id); metrics are accuracy and
T5's mean_multiclass_f1 over the 3 classes, reported as "f1".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sam_bench.tasks import metrics
from sam_bench.tasks.base import Task
from sam_bench.tasks.formats import DataFormatError, read_jsonl, require_field

LABELS = ("entailment", "contradiction", "neutral")
_LABEL_ID = {name: i for i, name in enumerate(LABELS)}


def _validate(obj: dict, path: Path, line: int) -> dict:
    premise = require_field(obj, "premise", str, path, line)
    hypothesis = require_field(obj, "hypothesis", str, path, line)
    label = require_field(obj, "label", str, path, line)
    if label not in _LABEL_ID:
        raise DataFormatError(path, line, f"label {label!r} is not one of {list(LABELS)}", "label")
    idx = require_field(obj, "idx", int, path, line)
    return {"premise": premise, "hypothesis": hypothesis, "label": label, "idx": idx}


def read(path: Path) -> list[dict]:
    return read_jsonl(path, _validate)


def preprocess(example: dict) -> dict:
    return {
        "inputs": f"cb hypothesis: {example['hypothesis']} premise: {example['premise']}",
        "targets": example["label"],
    }


def postprocess(text: str) -> int:
    """Class id of the predicted label, -1 if the text is not a label."""
    return _LABEL_ID.get(text.strip(), -1)


def score(examples, predictions) -> dict[str, float]:
    gold = np.array([_LABEL_ID[ex["label"]] for ex in examples])
    pred = np.array([postprocess(p) for p in predictions])
    return {
        "accuracy": 100.0 * metrics.accuracy(gold, pred),
        "f1": 100.0 * metrics.macro_f1(gold, pred, labels=range(len(LABELS))),
    }


TASK = Task(
    name="cb",
    benchmark="superglue",
    metric_names=("accuracy", "f1"),
    split_files=(("train", "super_glue/CB/train.jsonl"), ("validation", "super_glue/CB/val.jsonl")),
    layout="super_glue/CB/{train,val}.jsonl, one JSON object per line with premise, hypothesis, label, idx",
    reader=read,
    preprocessor=preprocess,
    postprocessor=postprocess,
    scorer=score,
    label_names=LABELS,
)
