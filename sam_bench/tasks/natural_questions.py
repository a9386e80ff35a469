"""Natural Questions, open-domain / closed-book (NQ-open).

Files (google-research-datasets/natural-questions, nq_open/): ``nq_open/NQ-open.train.jsonl``
and ``nq_open/NQ-open.dev.jsonl``; each line {"question": str, "answer": [str, ...]}.
The papers report NQ on its "test" set, which for NQ-open is this dev file (tfds
``natural_questions_open`` calls it "validation"). Two extra local splits read the
EfficientQA files of the same release (``efficientqa_dev``, ``efficientqa_test``: 1,800 and
1,769 questions; extra fields are ignored).

T5 closed-book QA conventions (t5.data.preprocessors.natural_questions_open): ``inputs =
"nq question: {question}"``; when an example has several acceptable answers the FIRST one
is the training target, and all of them are kept for evaluation. Predictions are used as
text (T5's qa postprocessor); metrics are SQuAD exact match and token F1 (normalised:
lower case, no punctuation, no articles, collapsed whitespace), the max over the gold
answers, averaged over examples.
"""

from __future__ import annotations

from pathlib import Path

from sam_bench.data.spec import SourceSpec, TfdsSpec
from sam_bench.tasks.base import Task
from sam_bench.tasks.common import qa_scores
from sam_bench.tasks.formats import read_jsonl, require_field, require_str_list


def _validate(obj: dict, path: Path, line: int) -> dict:
    question = require_field(obj, "question", str, path, line)
    answers = require_str_list(obj, "answer", path, line)
    return {"question": question, "answer": answers}


def read(path: Path) -> list[dict]:
    return read_jsonl(path, _validate)


def preprocess(example: dict) -> dict:
    return {"inputs": f"nq question: {example['question']}", "targets": example["answer"][0]}


def postprocess(text: str, example: dict | None = None) -> str:
    return text


def metric_fn(examples, values) -> dict[str, float]:
    return qa_scores("natural_questions", examples, values, lambda ex: ex["answer"])


def score(examples, predictions) -> dict[str, float]:
    return TASK.score(examples, predictions)


TASK = Task(
    name="natural_questions",
    benchmark="cbqa",
    metric_names=("em", "f1"),
    preprocessor=preprocess,
    postprocessor=postprocess,
    metric_fn=metric_fn,
    paper_split="test",
    unlabeled_splits=(),
    source=SourceSpec(
        split_files=(("train", "nq_open/NQ-open.train.jsonl"), ("validation", "nq_open/NQ-open.dev.jsonl"),
                     ("efficientqa_dev", "nq_open/NQ-open.efficientqa.dev.1.1.jsonl"),
                     ("efficientqa_test", "nq_open/NQ-open.efficientqa.test.1.1.jsonl")),
        layout='nq_open/NQ-open.{train,dev}.jsonl, one {"question": str, "answer": [str, ...]} per line',
        reader=read,
        tfds=TfdsSpec((("train", "train"), ("validation", "validation")),
                      lambda key, ex: {"question": ex["question"], "answer": list(ex["answer"])}),
    ),
)
