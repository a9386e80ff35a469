"""A factory for GLUE/SuperGLUE-style classification tasks (T5's ``preprocessors.glue``).

Every such task has: a fixed order of input features, a closed set of label names (the
tensorflow-datasets ClassLabel names, which are also T5's targets), class-id
postprocessing, and one of a few metric recipes. The encoder form is a sentence (pair)
classification over the same labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import sam_bench.tasks.metrics as metrics
from sam_bench.data.spec import SourceSpec, TfdsSpec
from sam_bench.tasks.base import EncoderSpec, Task
from sam_bench.tasks.common import class_id, glue_inputs, gold_class_ids, label_target

__all__ = ["METRICS", "make_classification_task", "classification_metric_fn"]

#: metric recipe -> the metric names it returns (as in ../shared/papers/tables)
METRICS = {
    "accuracy": ("accuracy",),
    "cb": ("accuracy", "f1"),
    "f1_accuracy": ("f1", "accuracy"),
    "mcc": ("mcc",),
    "axb": ("mcc", "accuracy"),
    "axg": ("gender_parity", "accuracy"),
    "multirc": ("f1a", "em"),
}


def classification_metric_fn(task_name: str, recipe: str, label_names: Sequence[str]):
    """(examples, predicted class ids) -> metrics on the 0-100 scale."""

    def fn(examples, values):
        gold = gold_class_ids(task_name, examples, label_names)
        pred = np.asarray(values, dtype=np.int64)
        if recipe == "accuracy":
            return {"accuracy": 100.0 * metrics.accuracy(gold, pred)}
        if recipe == "cb":
            return {
                "accuracy": 100.0 * metrics.accuracy(gold, pred),
                "f1": 100.0 * metrics.macro_f1(gold, pred, labels=range(len(label_names))),
            }
        if recipe == "f1_accuracy":
            return {"f1": 100.0 * metrics.f1_with_invalid(gold, pred),
                    "accuracy": 100.0 * metrics.accuracy(gold, pred)}
        if recipe == "mcc":
            return {"mcc": 100.0 * metrics.mcc(gold, pred)}
        if recipe == "axb":
            return {"mcc": 100.0 * metrics.mcc(gold, pred), "accuracy": 100.0 * metrics.accuracy(gold, pred)}
        if recipe == "axg":
            # minimal pairs: examples 2k and 2k+1 share the hypothesis, their premises differ
            # only in the pronoun's gender
            pairs = [int(ex["idx"]) // 2 for ex in examples]
            return {"gender_parity": 100.0 * metrics.gender_parity(pred, pairs),
                    "accuracy": 100.0 * metrics.accuracy(gold, pred)}
        if recipe == "multirc":
            groups = [(ex["idx"]["paragraph"], ex["idx"]["question"]) for ex in examples]
            r = metrics.multirc(gold, pred, groups)
            return {"f1a": 100.0 * r["f1a"], "em": 100.0 * r["em"]}
        raise ValueError(f"unknown metric recipe {recipe!r}")

    return fn


def make_classification_task(
    *,
    name: str,
    benchmark: str,
    prefix: str,
    feature_names: Sequence[str],
    label_names: Sequence[str],
    split_files: Sequence[tuple[str, str]],
    layout: str,
    reader: Callable,
    recipe: str = "accuracy",
    encoder_texts: tuple[Callable[[dict], str], Callable[[dict], str] | None] | None = None,
    tfds: TfdsSpec | None = None,
    alternatives: Sequence[tuple[str, tuple[str, ...]]] = (),
    companions: Sequence[tuple[str, tuple[str, ...]]] = (),
    postprocess_inputs: Callable[[str], str] | None = None,
    **task_kwargs,
) -> Task:
    """A Task with T5 glue-style text, class-id postprocessing and the ``recipe`` metrics, over the
    records of ``split_files`` ... ``tfds`` (its ``SourceSpec``)."""
    label_names = tuple(label_names)
    feature_names = tuple(feature_names)

    def preprocess(example: dict) -> dict:
        inputs = glue_inputs(prefix, example, feature_names)
        if postprocess_inputs is not None:
            inputs = postprocess_inputs(inputs)
        return {"inputs": inputs, "targets": label_target(example)}

    def postprocess(text: str, example: dict | None = None) -> int:
        return class_id(text, label_names)

    encoder = None
    if encoder_texts is not None:
        text_a, text_b = encoder_texts

        def convert(example: dict) -> dict:
            label = example.get("label")
            return {
                "text_a": text_a(example),
                "text_b": None if text_b is None else text_b(example),
                "label": None if label is None else label_names.index(label),
            }

        encoder = EncoderSpec("classification", label_names, convert, lambda out, ex: int(out))

    return Task(
        name=name,
        benchmark=benchmark,
        metric_names=METRICS[recipe],
        preprocessor=preprocess,
        postprocessor=postprocess,
        metric_fn=classification_metric_fn(name, recipe, label_names),
        label_names=label_names,
        encoder=encoder,
        **task_kwargs,
        source=SourceSpec(
            split_files=tuple(split_files),
            layout=layout,
            reader=reader,
            alternatives=tuple(alternatives),
            companions=tuple(companions),
            tfds=tfds,
        ),
    )


def field(name: str) -> Callable[[dict], str]:
    return lambda ex: ex[name]
