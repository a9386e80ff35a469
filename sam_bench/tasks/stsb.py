"""STS Benchmark (GLUE STS-B): sentence similarity regression in [0, 5].

Files: GLUE's ``glue/STS-B/{train,dev,test}.tsv`` (STS-B.zip; header index, genre, filename,
year, old_index, source1, source2, sentence1, sentence2, score; no score in test.tsv), or the
original STS Benchmark release the GLUE files were made from,
``stsbenchmark/sts-{train,dev,test}.csv``: tab-separated without quoting, columns genre, file,
year, id, score, sentence1, sentence2 [, extra source fields] (its test file carries gold
scores). Both give the same pairs in the same order.

Records: {"sentence1", "sentence2", "label", "idx"} (tensorflow-datasets' glue/stsb features).
tfds stores the label as float32; the label here is that float32 written back as the
shortest decimal (so "3.800" -> 3.8), identical from both layouts and from tfds.

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

import sam_bench.tasks.metrics as metrics
from sam_bench.data.spec import SourceSpec, TfdsSpec
from sam_bench.tasks.base import EncoderSpec, Task, UnlabeledSplitError
from sam_bench.tasks.formats import DataFormatError, read_tab_separated, read_tsv_rows

FIELDS = ("genre", "file", "year", "id", "score", "sentence1", "sentence2")
GLUE_COLUMNS = ("sentence1", "sentence2")
UNPARSABLE = -1.0


def float32_label(value) -> float:
    """The float32 value tfds stores, as the shortest decimal that round-trips ("3.800" -> 3.8)."""
    return float(str(np.float32(value)))


def _score(raw: str, path, line, field_name="score") -> float:
    try:
        score = float(raw)
    except (TypeError, ValueError):
        raise DataFormatError(path, line, f"score {raw!r} is not a number", field_name) from None
    if not (0.0 <= score <= 5.0):
        raise DataFormatError(path, line, f"score {score} is outside [0, 5]", field_name)
    return float32_label(score)


def _read_stsbenchmark(path: Path) -> list[dict]:
    out = []
    for lineno, fields in read_tab_separated(path, min_fields=len(FIELDS)):
        score = _score(fields[4], path, lineno)
        for k, name in ((5, "sentence1"), (6, "sentence2")):
            if not fields[k].strip():
                raise DataFormatError(path, lineno, "empty sentence", name)
        out.append({"sentence1": fields[5], "sentence2": fields[6], "label": score, "idx": len(out)})
    return out


def _read_glue(path: Path) -> list[dict]:
    header, rows = read_tsv_rows(path, header=True, required=GLUE_COLUMNS)
    has_score = "score" in header
    out = []
    for n, (line, row) in enumerate(rows):
        if row["sentence1"] is None or row["sentence2"] is None:
            continue  # tfds filters rows with a missing column
        out.append({"sentence1": row["sentence1"], "sentence2": row["sentence2"],
                    "label": _score(row["score"], path, line) if has_score else None, "idx": n})
    return out


def read(path: Path) -> list[dict]:
    path = Path(path)
    return _read_glue(path) if path.suffix == ".tsv" else _read_stsbenchmark(path)


def round_label(score: float) -> float:
    """Score rounded to the nearest 0.2 as T5 does (float32, round half to even)."""
    return float(np.round(np.float32(score) * np.float32(5.0)) / np.float32(5.0))


def preprocess(example: dict) -> dict:
    label = example.get("label")
    return {
        "inputs": f"stsb sentence1: {example['sentence1']} sentence2: {example['sentence2']}",
        "targets": "<unk>" if label is None else "%.1f" % round_label(label),
    }


def postprocess(text: str, example: dict | None = None) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        return UNPARSABLE
    return value if math.isfinite(value) else UNPARSABLE


def _gold(examples) -> np.ndarray:
    if any(ex.get("label") is None for ex in examples):
        raise UnlabeledSplitError("task 'stsb': examples without a score cannot be scored")
    return np.array([postprocess(preprocess(ex)["targets"]) for ex in examples])


def metric_fn(examples, values) -> dict[str, float]:
    gold = _gold(examples)
    pred = np.asarray(values, dtype=np.float64)
    return {
        "pearson": 100.0 * metrics.pearson(gold, pred),
        "spearman": 100.0 * metrics.spearman(gold, pred),
    }


def score(examples, predictions) -> dict[str, float]:
    return TASK.score(examples, predictions)


def _tfds_convert(key, ex):
    label = float(ex["label"])
    return {"sentence1": ex["sentence1"], "sentence2": ex["sentence2"],
            "label": None if label == -1.0 else float32_label(label), "idx": int(ex["idx"])}


def _encoder(example: dict) -> dict:
    return {"text_a": example["sentence1"], "text_b": example["sentence2"], "label": example.get("label")}


TASK = Task(
    name="stsb",
    benchmark="glue",
    metric_names=("pearson", "spearman"),
    preprocessor=preprocess,
    postprocessor=postprocess,
    metric_fn=metric_fn,
    encoder=EncoderSpec("regression", (), _encoder, lambda out, ex: float(out)),
    source=SourceSpec(
        split_files=(("train", "glue/STS-B/train.tsv"), ("validation", "glue/STS-B/dev.tsv"),
                     ("test", "glue/STS-B/test.tsv")),
        alternatives=(("train", ("stsbenchmark/sts-train.csv",)), ("validation", ("stsbenchmark/sts-dev.csv",)),
                      ("test", ("stsbenchmark/sts-test.csv",))),
        layout="glue/STS-B/{train,dev,test}.tsv (GLUE STS-B.zip), or stsbenchmark/sts-{train,dev,test}.csv "
            "(the original release: tab-separated without quoting: genre, file, year, id, score, sentence1, sentence2)",
        reader=read,
        tfds=TfdsSpec((("train", "train"), ("validation", "validation"), ("test", "test")), _tfds_convert),
    ),
)
