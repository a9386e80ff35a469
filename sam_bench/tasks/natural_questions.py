"""Natural Questions, open-domain / closed-book (NQ-open).

Files (google-research-datasets/natural-questions, nq_open/): ``nq_open/NQ-open.train.jsonl``
and ``nq_open/NQ-open.dev.jsonl``; each line {"question": str, "answer": [str, ...]}.
The papers report NQ on its "test" set, which for NQ-open is this dev file.

T5 closed-book QA conventions (t5.data.preprocessors.natural_questions_open): ``inputs =
"nq question: {question}"``; when an example has several acceptable answers the FIRST one
is the training target, and all of them are kept for evaluation. Predictions are used as
text (T5's qa postprocessor); metrics are SQuAD exact match and token F1 (normalised:
lower case, no punctuation, no articles, collapsed whitespace), the max over the gold
answers, averaged over examples.
"""

from __future__ import annotations

from pathlib import Path

from sam_bench.tasks import metrics
from sam_bench.tasks.base import Task
from sam_bench.tasks.formats import DataFormatError, read_jsonl, require_field


def _validate(obj: dict, path: Path, line: int) -> dict:
    question = require_field(obj, "question", str, path, line)
    answers = require_field(obj, "answer", list, path, line)
    if not answers:
        raise DataFormatError(path, line, "empty answer list", "answer")
    for a in answers:
        if not isinstance(a, str):
            raise DataFormatError(path, line, f"answers must be strings, got {a!r}", "answer")
    return {"question": question, "answer": list(answers)}


def read(path: Path) -> list[dict]:
    return read_jsonl(path, _validate)


def preprocess(example: dict) -> dict:
    return {"inputs": f"nq question: {example['question']}", "targets": example["answer"][0]}


def postprocess(text: str) -> str:
    return text


def score(examples, predictions) -> dict[str, float]:
    result = metrics.squad([postprocess(p) for p in predictions], [ex["answer"] for ex in examples])
    return {"em": 100.0 * result["em"], "f1": 100.0 * result["f1"]}


TASK = Task(
    name="natural_questions",
    benchmark="cbqa",
    metric_names=("em", "f1"),
    split_files=(("train", "nq_open/NQ-open.train.jsonl"), ("validation", "nq_open/NQ-open.dev.jsonl")),
    layout='nq_open/NQ-open.{train,dev}.jsonl, one {"question": str, "answer": [str, ...]} per line',
    reader=read,
    preprocessor=preprocess,
    postprocessor=postprocess,
    scorer=score,
)
