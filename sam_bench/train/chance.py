"""The chance line of an evaluation set: per metric, the best score a constant prediction
gets (the majority class, the most frequent answer, the label mean), computed with the
task's own scorer on the same examples a cell is scored on. A model whose score does not
clear it has learned nothing the label distribution does not already give."""
from __future__ import annotations

import warnings
from collections import Counter
from typing import Callable, Iterable

import numpy as np

from sam_bench.train.cell_data import TaskData

MAX_CANDIDATES = 20  # the most frequent targets; the best constant is almost always the commonest


def best_constant_scores(score: Callable[[list], dict], n: int, candidates: Iterable) -> dict[str, float]:
    """{metric: best value over constant predictions}; a correlation of a constant is
    undefined (NaN) and counts as 0, the score of no linear relation."""
    best: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns that a constant input has no correlation
        for candidate in candidates:
            for metric, value in score([candidate] * n).items():
                value = float(value) if np.isfinite(value) else 0.0
                best[metric] = max(best.get(metric, -np.inf), value)
    return best


def text_to_text_chance(data: TaskData) -> dict[str, float]:
    """The best constant output string among the evaluation set's most frequent targets; for
    grammatical error correction, whose output is its input edited, the input left unchanged
    (scoring 20 constant sentences against every source would also take hours of M2 search)."""
    if data.task.benchmark == "gec":
        return {m: float(v) for m, v in data.task.score(data.examples, [ex["source"] for ex in data.examples]).items()}
    targets = Counter(data.task.oracle_prediction(ex) for ex in data.examples)
    candidates = [text for text, _ in targets.most_common(MAX_CANDIDATES)]
    return best_constant_scores(lambda preds: data.task.score(data.examples, preds), len(data.examples), candidates)


def encoder_chance(data: TaskData, kind: str, num_outputs: int) -> dict[str, float]:
    """Every class id, every choice position, or the mean label (regression)."""
    if kind == "regression":
        candidates = [float(np.mean(data.split.arrays["label"]))]
    elif kind == "multiple_choice":
        candidates = range(data.split.arrays["input_ids"].shape[1])
    else:
        candidates = range(num_outputs)
    return best_constant_scores(lambda outs: data.task.score_encoder(data.examples, outs), len(data.examples),
                                candidates)


def chance_table(validation: list[TaskData], chance_of: Callable[[TaskData], dict]) -> dict:
    """{(task, metric): chance score} over a cell's evaluation sets."""
    return {(data.name, metric): value for data in validation for metric, value in chance_of(data).items()}
