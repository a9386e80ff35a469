"""CommitmentBank (SuperGLUE CB): three-way entailment.

Files (SuperGLUE release): ``super_glue/CB/{train,val,test}.jsonl``; each line
{"premise": str, "hypothesis": str, "label": "entailment"|"contradiction"|"neutral", "idx": int}
(no label in test.jsonl).

T5 conventions (t5.data.preprocessors.glue with benchmark_name "cb"): the features other
than label/idx are joined in sorted key order, so
``inputs = "cb hypothesis: {hypothesis} premise: {premise}"``, ``targets = label name``.
Postprocessing maps the text to the class id (entailment 0, contradiction 1, neutral 2),
-1 for anything else (T5's string_label_to_class_id); metrics are accuracy and
T5's mean_multiclass_f1 over the 3 classes, reported as "f1".

The task itself is defined with the other SuperGLUE tasks in ``sam_bench.tasks.superglue``;
this module keeps the names it has always exported.
"""

from __future__ import annotations

from sam_bench.tasks.superglue import CB as TASK
from sam_bench.tasks.superglue_records import CB_LABELS as LABELS
from sam_bench.tasks.superglue_records import read_cb as read

__all__ = ["LABELS", "TASK", "read", "preprocess", "postprocess", "score"]


def preprocess(example: dict) -> dict:
    return TASK.preprocess(example)


def postprocess(text: str) -> int:
    """Class id of the predicted label, -1 if the text is not a label."""
    return TASK.postprocess(text)


def score(examples, predictions) -> dict[str, float]:
    return TASK.score(examples, predictions)
