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
* ``f1_with_invalid`` is T5's ``f1_score_with_invalid`` (MRPC, QQP, MultiRC F1a): binary F1
  of class 1, where a prediction that is neither 0 nor 1 counts as the wrong class.
* ``multirc`` gives SuperGLUE's MultiRC pair: F1a (``f1_with_invalid`` over every answer
  option) and EM (the fraction of questions whose answer options are ALL predicted right;
  T5's ``mean_group_metric(all_match)``).
* ReCoRD is ``squad`` over each query's answers (T5's ``deduplicate_metric(squad)``: one
  prediction per query, the max over its gold answers).
* ``gender_parity`` (AX-g): the fraction of minimal pairs (the same hypothesis, premises
  differing only in the pronoun's gender) whose two predictions agree.
* ``rouge`` follows Google's ``rouge-score`` package (the scorer T5 uses): lower-cased
  ``[a-z0-9]+`` tokens, optional Porter stemming of tokens longer than 3 characters (needs
  nltk), ROUGE-N on n-gram counts, ROUGE-L on the longest common subsequence and
  ROUGE-Lsum on the union LCS over newline-separated sentences; each the F-measure,
  averaged over examples. T5 reports the bootstrap median of that mean, which differs
  from the plain mean only in the second decimal.
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
    "normalize_trivia_qa",
    "trivia_qa",
    "f1_with_invalid",
    "multirc",
    "gender_parity",
    "rouge_tokenize",
    "rouge_n",
    "rouge_l",
    "rouge_lsum",
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
    t = _as_1d(y_true, "y_true").astype(np.int64)
    p = _as_1d(y_pred, "y_pred").astype(np.int64).copy()
    _check_same_length(t, p)
    if not np.isin(t, (0, 1)).all():
        raise ValueError(f"binary F1 needs gold labels in {{0, 1}}, got {sorted(set(t.tolist()))}")
    invalid = (p != 0) & (p != 1)
    p[invalid] = 1 - t[invalid]
    tp = np.sum((t == 1) & (p == 1))
    fp = np.sum((t == 0) & (p == 1))
    fn = np.sum((t == 1) & (p == 0))
    denom = 2 * tp + fp + fn
    return 0.0 if denom == 0 else float(2.0 * tp / denom)


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
_ROUGE_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ROUGE_VALID = re.compile(r"^[a-z0-9]+$")
_STEMMER = None


def _porter_stem(token: str) -> str:
    global _STEMMER
    if _STEMMER is None:
        try:
            from nltk.stem import porter
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "ROUGE with use_stemmer=True needs nltk's Porter stemmer: pip install nltk"
            ) from e
        _STEMMER = porter.PorterStemmer()
    return _STEMMER.stem(token)


def rouge_tokenize(text: str, use_stemmer: bool = False) -> list[str]:
    """rouge-score's default tokenizer: lower case, split on non-[a-z0-9], optional stemming."""
    text = _ROUGE_NON_ALNUM.sub(" ", text.lower())
    tokens = text.split()
    if use_stemmer:
        tokens = [_porter_stem(t) if len(t) > 3 else t for t in tokens]
    return [t for t in tokens if _ROUGE_VALID.match(t)]


def _prf(hits: int, n_pred: int, n_ref: int) -> tuple[float, float, float]:
    precision = hits / n_pred if n_pred > 0 else 0.0
    recall = hits / n_ref if n_ref > 0 else 0.0
    f = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f


def rouge_n(prediction: list[str], reference: list[str], n: int) -> float:
    """ROUGE-N F-measure of two token lists (n-gram multiset overlap)."""
    def grams(tokens):
        return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))

    p, r = grams(prediction), grams(reference)
    hits = sum(min(c, r[g]) for g, c in p.items())
    return _prf(hits, sum(p.values()), sum(r.values()))[2]


def _lcs_table(ref: list[str], can: list[str]) -> list[list[int]]:
    rows, cols = len(ref), len(can)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        ri = ref[i - 1]
        prev, cur = table[i - 1], table[i]
        for j in range(1, cols + 1):
            if ri == can[j - 1]:
                cur[j] = prev[j - 1] + 1
            else:
                cur[j] = prev[j] if prev[j] >= cur[j - 1] else cur[j - 1]
    return table


def rouge_l(prediction: list[str], reference: list[str]) -> float:
    """ROUGE-L F-measure: longest common subsequence of the two token lists."""
    if not prediction or not reference:
        return 0.0
    lcs = _lcs_table(reference, prediction)[-1][-1]
    return _prf(lcs, len(prediction), len(reference))[2]


def _lcs_indices(ref: list[str], can: list[str]) -> list[int]:
    """Indices into ``ref`` of one LCS, backtracking as rouge-score does."""
    t = _lcs_table(ref, can)
    i, j = len(ref), len(can)
    out: list[int] = []
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            out.append(i - 1)
            i -= 1
            j -= 1
        elif t[i][j - 1] > t[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return out[::-1]


def rouge_lsum(prediction_sents: list[list[str]], reference_sents: list[list[str]]) -> float:
    """Summary-level ROUGE-L (rouge-score's ``rougeLsum``): union LCS per reference sentence."""
    m = sum(len(s) for s in reference_sents)
    n = sum(len(s) for s in prediction_sents)
    if not m or not n:
        return 0.0
    ref_counts: collections.Counter = collections.Counter()
    can_counts: collections.Counter = collections.Counter()
    for s in reference_sents:
        ref_counts.update(s)
    for s in prediction_sents:
        can_counts.update(s)
    hits = 0
    for ref in reference_sents:
        union = sorted(set().union(*[_lcs_indices(ref, c) for c in prediction_sents]))
        for token in (ref[i] for i in union):
            if can_counts[token] > 0 and ref_counts[token] > 0:
                hits += 1
                can_counts[token] -= 1
                ref_counts[token] -= 1
    return _prf(hits, n, m)[2]


def rouge(
    predictions: Sequence[str],
    references: Sequence[str],
    keys: Sequence[str] = ("rouge1", "rouge2", "rougeL", "rougeLsum"),
    use_stemmer: bool = False,
    split_sentences_on_period: bool = False,
) -> dict[str, float]:
    """Mean ROUGE F-measures (fractions) over examples, for ``keys`` in rouge1..rouge9, rougeL, rougeLsum.

    For rougeLsum, sentences are the lines of the text. ``split_sentences_on_period`` first turns
    " . " into " .\n" in both texts, as T5's ``metrics.rouge`` does before calling rouge-score.
    """
    if len(predictions) != len(references):
        raise ValueError(f"length mismatch: {len(references)} references vs {len(predictions)} predictions")
    if not predictions:
        raise ValueError("cannot score an empty set of examples")
    totals = {k: 0.0 for k in keys}
    for pred, ref in zip(predictions, references):
        pt, rt = rouge_tokenize(pred, use_stemmer), rouge_tokenize(ref, use_stemmer)
        for k in keys:
            if k == "rougeL":
                totals[k] += rouge_l(pt, rt)
            elif k == "rougeLsum":
                p_text, r_text = pred, ref
                if split_sentences_on_period:
                    p_text, r_text = pred.replace(" . ", " .\n"), ref.replace(" . ", " .\n")
                ps = [rouge_tokenize(s, use_stemmer) for s in p_text.split("\n")]
                rs = [rouge_tokenize(s, use_stemmer) for s in r_text.split("\n")]
                totals[k] += rouge_lsum([s for s in ps if s], [s for s in rs if s])
            elif re.fullmatch(r"rouge[1-9]", k):
                totals[k] += rouge_n(pt, rt, int(k[5:]))
            else:
                raise ValueError(f"unknown ROUGE key {k!r}; valid: rouge1..rouge9, rougeL, rougeLsum")
    return {k: v / len(predictions) for k, v in totals.items()}
