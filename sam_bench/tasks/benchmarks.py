"""Benchmark averages exactly as the papers compute them.

Checked against every printed average in ../shared/papers/tables (see
../shared/papers/TRANSCRIPTION_NOTES.md, "Transcription doubts" 3):

* SuperGLUE score (Bahri Tables 1, 6, 9): the mean of 8 task scores, BoolQ, CB, COPA,
  MultiRC, ReCoRD, RTE, WiC, WSC, where a task with two metrics counts as their mean
  (CB F1/accuracy, MultiRC F1a/EM, ReCoRD F1/EM). AX-b/AX-g are not part of it.
* GLUE score (Bahri Table 2): the mean of 9 entries, CoLA, SST-2, MRPC (F1/accuracy mean),
  STS-B (Pearson/Spearman mean), QQP (F1/accuracy mean), MNLI-m, MNLI-mm, QNLI, RTE: MNLI's
  matched and mismatched accuracies are SEPARATE entries. WNLI is not part of it.
* TyDiQA average (Bahri Tables 3, 8): F1 and EM each averaged over the 9 languages.
* FSAM "AVG." (Zhong et al. Tables 1, 2, 3, 9): the plain mean of every metric cell of the row
  (MRPC accuracy and F1 count as two cells); Table 4's is over CoLA, MRPC, STS-B and RTE.

``scores`` maps a task to its metrics, keyed by registry name or by the papers' task key
(the GLUE RTE task is ``glue_rte`` in the registry and ``rte`` in the papers' GLUE table).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["SUPERGLUE_TASKS", "GLUE_TASKS", "TYDIQA_LANGUAGES", "task_score", "benchmark_average",
           "superglue_score", "glue_score", "tydiqa_average", "fsam_average", "FSAM_AVG_CELLS"]

SUPERGLUE_TASKS = ("boolq", "cb", "copa", "multirc", "record", "rte", "wic", "wsc")
GLUE_TASKS = ("cola", "sst2", "mrpc", "stsb", "qqp", "mnli_m", "mnli_mm", "qnli", "rte")
TYDIQA_LANGUAGES = ("en", "ar", "bn", "fi", "id", "ko", "ru", "sw", "te")

#: the metrics that make up each task's score (one number per task, the mean of these)
TASK_SCORE_METRICS = {
    "boolq": ("accuracy",), "cb": ("f1", "accuracy"), "copa": ("accuracy",),
    "multirc": ("f1a", "em"), "record": ("f1", "em"), "rte": ("accuracy",), "wic": ("accuracy",),
    "wsc": ("accuracy",), "cola": ("mcc",), "sst2": ("accuracy",), "mrpc": ("f1", "accuracy"),
    "stsb": ("pearson", "spearman"), "qqp": ("f1", "accuracy"), "mnli_m": ("accuracy",),
    "mnli_mm": ("accuracy",), "qnli": ("accuracy",),
}


def _lookup(scores: Mapping[str, Mapping[str, float]], task: str, aliases=()) -> Mapping[str, float]:
    for key in (task, *aliases):
        if key in scores:
            return scores[key]
    raise KeyError(f"missing scores for task {task!r} (have {sorted(scores)})")


def task_score(task: str, metrics: Mapping[str, float]) -> float:
    """A task's single number: the mean of its metric pair (or its one metric)."""
    names = TASK_SCORE_METRICS[task]
    missing = [m for m in names if m not in metrics]
    if missing:
        raise KeyError(f"task {task!r}: missing metric(s) {missing} (have {sorted(metrics)})")
    return float(np.mean([metrics[m] for m in names]))


def superglue_score(scores: Mapping[str, Mapping[str, float]]) -> float:
    return float(np.mean([task_score(t, _lookup(scores, t)) for t in SUPERGLUE_TASKS]))


def glue_score(scores: Mapping[str, Mapping[str, float]]) -> float:
    entries = []
    for t in GLUE_TASKS:
        entries.append(task_score(t, _lookup(scores, t, aliases=("glue_rte",) if t == "rte" else ())))
    return float(np.mean(entries))


def tydiqa_average(scores: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    per_lang = [_lookup(scores, f"tydiqa_{lang}") for lang in TYDIQA_LANGUAGES]
    return {m: float(np.mean([s[m] for s in per_lang])) for m in ("f1", "em")}


#: FSAM's AVG cells per table layout: GLUE+SuperGLUE (Tables 1, 3), GLUE only (Tables 4, 9), BART (Table 2)
FSAM_AVG_CELLS = {
    "nlu": (("cola", "mcc"), ("mrpc", "accuracy"), ("mrpc", "f1"), ("stsb", "pearson"), ("stsb", "spearman"),
            ("rte", "accuracy"), ("cb", "accuracy"), ("boolq", "accuracy"), ("wsc", "accuracy"), ("wic", "accuracy")),
    "glue4": (("cola", "mcc"), ("mrpc", "accuracy"), ("mrpc", "f1"), ("stsb", "pearson"), ("stsb", "spearman"),
              ("rte", "accuracy")),
    "generation": (("xsum", "rouge1"), ("xsum", "rouge2"), ("xsum", "rougeL"), ("conll2014", "precision"),
                   ("conll2014", "recall"), ("conll2014", "f0.5")),
}


def fsam_average(scores: Mapping[str, Mapping[str, float]], layout: str = "nlu") -> float:
    """FSAM's AVG.: the plain mean of the layout's metric cells (see FSAM_AVG_CELLS)."""
    cells = FSAM_AVG_CELLS[layout]
    missing = [f"{t}/{m}" for t, m in cells if m not in scores.get(t, {})]
    if missing:
        raise KeyError(f"FSAM AVG ({layout}): missing {missing}")
    return float(np.mean([scores[t][m] for t, m in cells]))


def benchmark_average(benchmark: str, scores: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """{"score": ...} for superglue/glue, {"f1": ..., "em": ...} for tydiqa (papers' task keys
    superglue_avg, glue_avg, tydiqa_avg)."""
    if benchmark in ("superglue", "superglue_avg"):
        return {"score": superglue_score(scores)}
    if benchmark in ("glue", "glue_avg"):
        return {"score": glue_score(scores)}
    if benchmark in ("tydiqa", "tydiqa_avg"):
        return tydiqa_average(scores)
    if benchmark.startswith("fsam_"):
        return {"score": fsam_average(scores, benchmark[len("fsam_"):])}
    raise ValueError(f"no benchmark average for {benchmark!r}; valid: superglue, glue, tydiqa, "
                     f"{', '.join('fsam_' + k for k in FSAM_AVG_CELLS)}")
