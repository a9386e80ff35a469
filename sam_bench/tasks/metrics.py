"""Evaluation metrics as plain NumPy functions.

Every function here returns a *fraction* (0..1) or a correlation (-1..1), like
scikit-learn and scipy; the tasks multiply by 100 to report on the papers'
0-100 scale. The definitions follow ``t5/evaluation/metrics.py``:

* ``macro_f1`` is T5's ``mean_multiclass_f1``: the per-class F1 over a fixed
  list of classes, averaged with equal weight (a prediction outside the classes,
  e.g. an unparsable one mapped to -1, is simply a wrong prediction).
* ``squad_em`` / ``squad_f1`` are the SQuAD v1.1 definitions (T5's ``squad``):
  answers are normalised (lower case, punctuation removed, articles a/an/the
  removed, whitespace collapsed) and the best score over the gold answers is kept.
  One deliberate difference: when a normalised answer is empty, F1 follows the SQuAD
  v2.0 script (1 if both are empty, else 0) instead of v1.1's 0, so that a prediction
  identical to the gold answer always scores 100.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Sequence

import numpy as np

__all__ = [
    "accuracy",
    "macro_f1",
    "per_class_f1",
    "mcc",
    "pearson",
    "spearman",
    "rankdata",
    "normalize_answer",
    "squad_em",
    "squad_f1",
    "squad",
]


def _as_1d(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _check_same_length(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"length mismatch: {a.shape[0]} gold values vs {b.shape[0]} predictions")
    if a.shape[0] == 0:
        raise ValueError("cannot score an empty set of examples")


# ---------------------------------------------------------------- classification
def accuracy(y_true, y_pred) -> float:
    """Fraction of exact matches (sklearn.metrics.accuracy_score)."""
    t, p = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    _check_same_length(t, p)
    return float(np.mean(t == p))


def per_class_f1(y_true, y_pred, labels: Sequence) -> np.ndarray:
    """F1 of each class in ``labels``; 0 where a class has no true and no predicted examples.

    Equals ``sklearn.metrics.f1_score(y_true, y_pred, labels=labels, average=None)``.
    """
    t, p = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    _check_same_length(t, p)
    out = np.zeros(len(labels), dtype=np.float64)
    for k, label in enumerate(labels):
        tp = np.sum((t == label) & (p == label))
        fp = np.sum((t != label) & (p == label))
        fn = np.sum((t == label) & (p != label))
        denom = 2 * tp + fp + fn
        out[k] = 0.0 if denom == 0 else 2.0 * tp / denom
    return out


def macro_f1(y_true, y_pred, labels: Sequence | None = None) -> float:
    """Unweighted mean of per-class F1 (T5's ``mean_multiclass_f1``).

    ``labels`` fixes the classes (T5 uses ``range(num_classes)``); by default the
    sorted union of the classes in ``y_true`` and ``y_pred`` (as scikit-learn does).
    """
    if labels is None:
        labels = sorted(set(np.asarray(y_true).tolist()) | set(np.asarray(y_pred).tolist()))
    return float(np.mean(per_class_f1(y_true, y_pred, labels)))


def mcc(y_true, y_pred) -> float:
    """Matthews correlation coefficient, multiclass form (sklearn.metrics.matthews_corrcoef).

    Returns 0.0 when it is undefined (a constant prediction or a constant truth).
    """
    t, p = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    _check_same_length(t, p)
    classes, codes = np.unique(np.concatenate([t, p]), return_inverse=True)
    n_cls = len(classes)
    ti, pi = codes[: len(t)], codes[len(t):]
    cm = np.zeros((n_cls, n_cls), dtype=np.float64)
    np.add.at(cm, (ti, pi), 1.0)
    t_sum = cm.sum(axis=1)
    p_sum = cm.sum(axis=0)
    n_correct = np.trace(cm)
    n = cm.sum()
    cov_ytyp = n_correct * n - np.dot(t_sum, p_sum)
    cov_ypyp = n * n - np.dot(p_sum, p_sum)
    cov_ytyt = n * n - np.dot(t_sum, t_sum)
    denom = cov_ytyt * cov_ypyp
    if denom == 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(denom))


# ------------------------------------------------------------------ correlation
def pearson(x, y) -> float:
    """Pearson's r (scipy.stats.pearsonr). Returns 0.0 when either input is constant.

    The 0.0 (rather than NaN) keeps best-checkpoint selection well defined when an
    early model emits the same score for every example.
    """
    a = _as_1d(x, "x").astype(np.float64)
    b = _as_1d(y, "y").astype(np.float64)
    _check_same_length(a, b)
    a = a - a.mean()
    b = b - b.mean()
    na, nb = np.sqrt(np.dot(a, a)), np.sqrt(np.dot(b, b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    r = float(np.dot(a, b) / (na * nb))
    return max(-1.0, min(1.0, r))


def rankdata(x) -> np.ndarray:
    """Ranks starting at 1, ties get their average rank (scipy.stats.rankdata 'average')."""
    a = _as_1d(x, "x")
    order = np.argsort(a, kind="mergesort")
    sorted_a = a[order]
    # boundaries of runs of equal values
    is_new = np.concatenate([[True], sorted_a[1:] != sorted_a[:-1]])
    run_id = np.cumsum(is_new) - 1
    starts = np.flatnonzero(is_new)
    ends = np.concatenate([starts[1:], [len(a)]])
    avg_rank = (starts + 1 + ends) / 2.0  # mean of ranks start+1 .. end
    ranks = np.empty(len(a), dtype=np.float64)
    ranks[order] = avg_rank[run_id]
    return ranks


def spearman(x, y) -> float:
    """Spearman's rho (scipy.stats.spearmanr): Pearson on average ranks. 0.0 if a side is constant."""
    a, b = _as_1d(x, "x"), _as_1d(y, "y")
    _check_same_length(a, b)
    return pearson(rankdata(a), rankdata(b))


# ------------------------------------------------------------------------- SQuAD
_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalisation: lower, drop punctuation, drop a/an/the, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _em_single(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1_single(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        # SQuAD v2.0 rule for answers that normalise to nothing ("---", ")", "A+"):
        # both empty is a match. (SQuAD v1.1/T5 would score 0 even for an exact copy;
        # this touches 4 of the 3,610 NQ-open dev questions.)
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2.0 * precision * recall / (precision + recall)


def _check_answers(answers: Sequence[str]) -> Sequence[str]:
    if isinstance(answers, str):
        raise TypeError("answers must be a list of strings, not a single string")
    if len(answers) == 0:
        raise ValueError("an example needs at least one gold answer")
    return answers


def squad_em(prediction: str, answers: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0."""
    return max(_em_single(prediction, g) for g in _check_answers(answers))


def squad_f1(prediction: str, answers: Sequence[str]) -> float:
    """Best token-level F1 (bag of normalised tokens) over the gold answers."""
    return max(_f1_single(prediction, g) for g in _check_answers(answers))


def squad(predictions: Sequence[str], answer_lists: Sequence[Sequence[str]]) -> dict[str, float]:
    """Mean EM and F1 over examples, as fractions: {"em": ..., "f1": ...}."""
    if len(predictions) != len(answer_lists):
        raise ValueError(
            f"length mismatch: {len(answer_lists)} gold answer lists vs {len(predictions)} predictions"
        )
    if len(predictions) == 0:
        raise ValueError("cannot score an empty set of examples")
    em = np.mean([squad_em(p, a) for p, a in zip(predictions, answer_lists)])
    f1 = np.mean([squad_f1(p, a) for p, a in zip(predictions, answer_lists)])
    return {"em": float(em), "f1": float(f1)}
