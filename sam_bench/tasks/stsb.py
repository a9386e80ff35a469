"""STS Benchmark (GLUE STS-B): sentence similarity regression in [0, 5].

Files (original STS Benchmark release, the source of GLUE's STS-B):
``stsbenchmark/sts-train.csv`` and ``stsbenchmark/sts-dev.csv``, tab-separated without
quoting: genre, file, year, id, score, sentence1, sentence2 [, extra source fields].

T5 conventions (t5.data.preprocessors.stsb):
``inputs = "stsb sentence1: {s1} sentence2: {s2}"``; the target is the score rounded to
the nearest 0.2 and printed with one decimal ("%.1f"). T5 computes
``round(label * 5) / 5`` with TensorFlow's round-half-to-even on the float32 label;
we do the same in NumPy float32. Predictions are parsed with T5's string_to_float
(unparsable or non-finite text becomes -1.0). As in T5 (seqio scores against the
postprocessed target strings), Pearson/Spearman compare predictions with the *rounded*
targets, so feeding the targets back as predictions scores 100.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sam_bench.tasks import metrics
from sam_bench.tasks.base import Task
from sam_bench.tasks.formats import DataFormatError, read_tab_separated

FIELDS = ("genre", "file", "year", "id", "score", "sentence1", "sentence2")
UNPARSABLE = -1.0


def read(path: Path) -> list[dict]:
    out = []
    for lineno, fields in read_tab_separated(path, min_fields=len(FIELDS)):
        raw = fields[4]
        try:
            score = float(raw)
        except ValueError:
            raise DataFormatError(path, lineno, f"score {raw!r} is not a number", "score") from None
        if not (0.0 <= score <= 5.0):
            raise DataFormatError(path, lineno, f"score {score} is outside [0, 5]", "score")
        for k, name in ((5, "sentence1"), (6, "sentence2")):
            if not fields[k].strip():
                raise DataFormatError(path, lineno, "empty sentence", name)
        out.append(
            {
                "sentence1": fields[5],
                "sentence2": fields[6],
                "label": score,
                "idx": len(out),
                "genre": fields[0],
                "file": fields[1],
                "year": fields[2],
                "id": fields[3],
            }
        )
    return out


def round_label(score: float) -> float:
    """Score rounded to the nearest 0.2 as T5 does (float32, round half to even)."""
    return float(np.round(np.float32(score) * np.float32(5.0)) / np.float32(5.0))


def preprocess(example: dict) -> dict:
    return {
        "inputs": f"stsb sentence1: {example['sentence1']} sentence2: {example['sentence2']}",
        "targets": "%.1f" % round_label(example["label"]),
    }


def postprocess(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        return UNPARSABLE
    return value if math.isfinite(value) else UNPARSABLE


def score(examples, predictions) -> dict[str, float]:
    gold = np.array([postprocess(preprocess(ex)["targets"]) for ex in examples])
    pred = np.array([postprocess(p) for p in predictions])
    return {
        "pearson": 100.0 * metrics.pearson(gold, pred),
        "spearman": 100.0 * metrics.spearman(gold, pred),
    }


TASK = Task(
    name="stsb",
    benchmark="glue",
    metric_names=("pearson", "spearman"),
    split_files=(("train", "stsbenchmark/sts-train.csv"), ("validation", "stsbenchmark/sts-dev.csv")),
    layout=(
        "stsbenchmark/sts-{train,dev}.csv, tab-separated without quoting: "
        "genre, file, year, id, score, sentence1, sentence2"
    ),
    reader=read,
    preprocessor=preprocess,
    postprocessor=postprocess,
    scorer=score,
)
