"""Evaluation metrics: thin adapters over scikit-learn, scipy and rouge-score (the libraries
T5's own ``t5/evaluation/metrics.py`` calls), plus the SQuAD/TriviaQA answer normalisation
and the group metrics that no library provides.

Every function here returns a *fraction* (0..1) or a correlation (-1..1), like
scikit-learn and scipy; the tasks multiply by 100 to report on the papers'
0-100 scale. Two documented deviations from the libraries: a correlation with a constant
side is 0.0 (scipy: NaN), so best-checkpoint selection stays defined; and SQuAD F1 of two
answers that normalise to nothing is 1 (below). The definitions follow T5:

* ``macro_f1`` is T5's ``mean_multiclass_f1``: the per-class F1 over a fixed
  list of classes, averaged with equal weight (a prediction outside the classes,
  e.g. an unparsable one mapped to -1, is simply a wrong prediction).
* ``squad_em`` / ``squad_f1`` are the SQuAD v1.1 definitions (T5's ``squad``):
  answers are normalised (lower case, punctuation removed, articles a/an/the
  removed, whitespace collapsed) and the best score over the gold answers is kept.
  One deliberate difference: when a normalised answer is empty, F1 follows the SQuAD
  v2.0 script (1 if both are empty, else 0) instead of v1.1's 0, so that a prediction
  identical to the gold answer always scores 100.
* ``f1_with_invalid`` is T5's ``f1_score_with_invalid`` (MRPC, QQP, MultiRC F1a): binary F1
  of class 1, where a prediction that is neither 0 nor 1 counts as the wrong class.
* ``multirc`` gives SuperGLUE's MultiRC pair: F1a (``f1_with_invalid`` over every answer
  option) and EM (the fraction of questions whose answer options are ALL predicted right;
  T5's ``mean_group_metric(all_match)``).
* ReCoRD is ``squad`` over each query's answers (T5's ``deduplicate_metric(squad)``: one
  prediction per query, the max over its gold answers).
* ``gender_parity`` (AX-g): the fraction of minimal pairs (the same hypothesis, premises
  differing only in the pronoun's gender) whose two predictions agree.
* ``rouge`` is Google's ``rouge-score`` (the scorer T5 uses): the F-measure of each key,
  averaged over examples; ROUGE-Lsum over newline-separated sentences. T5 reports the
  bootstrap median of that mean, which differs from the plain mean only in the second decimal.
"""

from __future__ import annotations

import collections
import re
import string
import warnings
from collections.abc import Sequence

import numpy as np
from nltk.stem import porter
from rouge_score import rouge_scorer, tokenize
from scipy import stats
from sklearn import metrics as skm

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
    "normalize_trivia_qa",
    "trivia_qa",
    "f1_with_invalid",
    "multirc",
    "gender_parity",
    "rouge_tokenize",
    "rouge",
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


def _pair(y_true, y_pred, names=("y_true", "y_pred")) -> tuple[np.ndarray, np.ndarray]:
    t, p = _as_1d(y_true, names[0]), _as_1d(y_pred, names[1])
    _check_same_length(t, p)
    return t, p


# ---------------------------------------------------------------- classification
def accuracy(y_true, y_pred) -> float:
    """Fraction of exact matches (sklearn.metrics.accuracy_score)."""
    t, p = _pair(y_true, y_pred)
    return float(skm.accuracy_score(t, p))


def per_class_f1(y_true, y_pred, labels: Sequence) -> np.ndarray:
    """F1 of each class in ``labels``; 0 where a class has no true and no predicted examples
    (sklearn.metrics.f1_score, average=None)."""
    t, p = _pair(y_true, y_pred)
    return skm.f1_score(t, p, labels=list(labels), average=None, zero_division=0.0).astype(np.float64)


def macro_f1(y_true, y_pred, labels: Sequence | None = None) -> float:
    """Unweighted mean of per-class F1 (T5's ``mean_multiclass_f1``).

    ``labels`` fixes the classes (T5 uses ``range(num_classes)``; a class seen in neither
    truth nor prediction counts 0); by default the sorted union of the classes present.
    """
    if labels is None:
        labels = sorted(set(np.asarray(y_true).tolist()) | set(np.asarray(y_pred).tolist()))
    return float(np.mean(per_class_f1(y_true, y_pred, labels)))


def mcc(y_true, y_pred) -> float:
    """Matthews correlation coefficient (sklearn.metrics.matthews_corrcoef); 0.0 where undefined."""
    t, p = _pair(y_true, y_pred)
    return float(skm.matthews_corrcoef(t, p))


# ------------------------------------------------------------------ correlation
def _correlation(fn, x, y) -> float:
    a, b = _pair(x, y, names=("x", "y"))
    a, b = a.astype(np.float64), b.astype(np.float64)
    if np.ptp(a) == 0.0 or np.ptp(b) == 0.0:  # undefined; 0.0 keeps checkpoint selection defined
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        return float(np.clip(fn(a, b)[0], -1.0, 1.0))


def pearson(x, y) -> float:
    """Pearson's r (scipy.stats.pearsonr); 0.0 when either input is constant."""
    return _correlation(stats.pearsonr, x, y)


def spearman(x, y) -> float:
    """Spearman's rho (scipy.stats.spearmanr, average ranks for ties); 0.0 if a side is constant."""
    return _correlation(stats.spearmanr, x, y)


def rankdata(x) -> np.ndarray:
    """Ranks starting at 1, ties get their average rank (scipy.stats.rankdata)."""
    return stats.rankdata(_as_1d(x, "x"))


# ------------------------------------------------------------------------- SQuAD
_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalisation: lower, drop punctuation, drop a/an/the, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


_TRIVIA_PUNCT = set(string.punctuation + "\u2018\u2019\u00b4`_")


def normalize_trivia_qa(text: str) -> str:
    """The TriviaQA evaluation script's normalisation (T5's ``normalize_trivia_qa``):
    lower, punctuation (plus curly quotes, acute accent, backtick, underscore) replaced by a
    space, articles removed, whitespace collapsed."""
    text = text.lower()
    text = "".join(" " if ch in _TRIVIA_PUNCT else ch for ch in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


_NORMALIZERS = {"squad": normalize_answer, "trivia_qa": normalize_trivia_qa}


def _em_single(prediction: str, gold: str, normalize=normalize_answer) -> float:
    return float(normalize(prediction) == normalize(gold))


def _f1_single(prediction: str, gold: str, normalize=normalize_answer) -> float:
    pred_tokens = normalize(prediction).split()
    gold_tokens = normalize(gold).split()
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


def squad_em(prediction: str, answers: Sequence[str], normalizer: str = "squad") -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0."""
    norm = _NORMALIZERS[normalizer]
    return max(_em_single(prediction, g, norm) for g in _check_answers(answers))


def squad_f1(prediction: str, answers: Sequence[str], normalizer: str = "squad") -> float:
    """Best token-level F1 (bag of normalised tokens) over the gold answers."""
    norm = _NORMALIZERS[normalizer]
    return max(_f1_single(prediction, g, norm) for g in _check_answers(answers))


def squad(predictions: Sequence[str], answer_lists: Sequence[Sequence[str]], normalizer: str = "squad") -> dict[str, float]:
    """Mean EM and F1 over examples, as fractions: {"em": ..., "f1": ...}."""
    if len(predictions) != len(answer_lists):
        raise ValueError(
            f"length mismatch: {len(answer_lists)} gold answer lists vs {len(predictions)} predictions"
        )
    if len(predictions) == 0:
        raise ValueError("cannot score an empty set of examples")
    em = np.mean([squad_em(p, a, normalizer) for p, a in zip(predictions, answer_lists)])
    f1 = np.mean([squad_f1(p, a, normalizer) for p, a in zip(predictions, answer_lists)])
    return {"em": float(em), "f1": float(f1)}


def trivia_qa(predictions: Sequence[str], answer_lists: Sequence[Sequence[str]]) -> dict[str, float]:
    """``squad`` with the TriviaQA normalisation (T5's ``metrics.trivia_qa``)."""
    return squad(predictions, answer_lists, normalizer="trivia_qa")


# ------------------------------------------------------------ binary F1, MultiRC
def f1_with_invalid(y_true, y_pred) -> float:
    """Binary F1 of class 1; a prediction other than 0/1 is replaced by the wrong class.

    Equals T5's ``f1_score_with_invalid`` (``sklearn.metrics.f1_score`` after the
    replacement); 0.0 when there is no positive in truth or prediction.
    """
    t, p = _pair(y_true, y_pred)
    t, p = t.astype(np.int64), p.astype(np.int64).copy()
    if not np.isin(t, (0, 1)).all():
        raise ValueError(f"binary F1 needs gold labels in {{0, 1}}, got {sorted(set(t.tolist()))}")
    invalid = (p != 0) & (p != 1)
    p[invalid] = 1 - t[invalid]
    return float(skm.f1_score(t, p, zero_division=0.0))


def multirc(y_true, y_pred, groups) -> dict[str, float]:
    """MultiRC's {"f1a", "em"} as fractions; ``groups`` names each answer option's question."""
    t, p = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    _check_same_length(t, p)
    if len(groups) != len(t):
        raise ValueError(f"length mismatch: {len(groups)} groups vs {len(t)} answer options")
    by_question: dict = {}
    for g, ti, pi in zip(groups, t.tolist(), p.tolist()):
        ok = by_question.setdefault(g, True)
        by_question[g] = ok and ti == pi
    em = float(np.mean(list(by_question.values())))
    return {"f1a": f1_with_invalid(t, p), "em": em}


def gender_parity(y_pred, pair_ids) -> float:
    """Fraction of pairs (examples sharing a pair id) whose predictions are all equal."""
    p = _as_1d(y_pred, "y_pred")
    if len(pair_ids) != len(p):
        raise ValueError(f"length mismatch: {len(pair_ids)} pair ids vs {len(p)} predictions")
    pairs: dict = {}
    for g, v in zip(pair_ids, p.tolist()):
        pairs.setdefault(g, []).append(v)
    if not pairs:
        raise ValueError("cannot score an empty set of examples")
    return float(np.mean([len(set(v)) == 1 for v in pairs.values()]))


# ------------------------------------------------------------------------ ROUGE
_ROUGE_KEY = re.compile(r"rouge[1-9]|rougeL|rougeLsum")


def rouge_tokenize(text: str, use_stemmer: bool = False) -> list[str]:
    """rouge-score's default tokenizer: lower case, split on non-[a-z0-9], optional stemming."""
    return tokenize.tokenize(text, porter.PorterStemmer() if use_stemmer else None)


def rouge(
    predictions: Sequence[str],
    references: Sequence[str],
    keys: Sequence[str] = ("rouge1", "rouge2", "rougeL", "rougeLsum"),
    use_stemmer: bool = False,
    split_sentences_on_period: bool = False,
) -> dict[str, float]:
    """Mean ROUGE F-measures (fractions) over examples (rouge_score.rouge_scorer), for ``keys``
    in rouge1..rouge9, rougeL, rougeLsum.

    For rougeLsum, sentences are the lines of the text. ``split_sentences_on_period`` first turns
    " . " into " .\n" in both texts, as T5's ``metrics.rouge`` does before calling rouge-score.
    """
    if len(predictions) != len(references):
        raise ValueError(f"length mismatch: {len(references)} references vs {len(predictions)} predictions")
    if not predictions:
        raise ValueError("cannot score an empty set of examples")
    unknown = [k for k in keys if not _ROUGE_KEY.fullmatch(k)]
    if unknown:
        raise ValueError(f"unknown ROUGE key {unknown[0]!r}; valid: rouge1..rouge9, rougeL, rougeLsum")
    scorer = rouge_scorer.RougeScorer(list(keys), use_stemmer=use_stemmer)
    totals = collections.Counter()
    for pred, ref in zip(predictions, references):
        if split_sentences_on_period:
            pred, ref = pred.replace(" . ", " .\n"), ref.replace(" . ", " .\n")
        for k, score in scorer.score(ref, pred).items():
            totals[k] += score.fmeasure
    return {k: totals[k] / len(predictions) for k in keys}
