"""Labels, column order and row preparation shared by every report table and figure.

Names as the papers print them (``column_label``, ``model_label``, ``method_label``), the papers'
column order (``canonical_task_metrics``), and the helpers that tag rows as baseline/variant and
replicate.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "SCORE", "TASK_LABELS", "METRIC_LABELS", "BASELINE_METHODS", "MODEL_ORDER",
    "column_label", "method_label", "model_label", "canonical_task_metrics", "benchmark_score",
]

SCORE = "Score"
TASK_LABELS = {
    "superglue_avg": "SGlue", "glue_avg": "Glue", "boolq": "BoolQ", "cb": "CB", "copa": "COPA",
    "multirc": "MultiRC", "record": "ReCoRD", "rte": "RTE", "wic": "WiC", "wsc": "WSC",
    "cola": "CoLA", "sst2": "SST-2", "mrpc": "MRPC", "stsb": "STS-B", "qqp": "QQP",
    "mnli_m": "MNLI-m", "mnli_mm": "MNLI-mm", "qnli": "QNLI",
    "natural_questions": "NQ", "web_questions": "WQ", "trivia_qa": "TQA", "tydiqa_avg": "TyDiQA",
    "xsum": "XSUM", "conll2014": "CoNLL14",
}
METRIC_LABELS = {
    "accuracy": "Acc", "f1": "F1", "f1a": "F1a", "em": "EM", "mcc": "MCC", "pearson": "Pearson",
    "spearman": "Spearman", "rouge1": "R-1", "rouge2": "R-2", "rougeL": "R-L", "precision": "P",
    "recall": "R", "f0.5": "F0.5", "score": "Score",
}
#: Methods that are plain base optimizers (the "baseline" rows; their rho is null).
BASELINE_METHODS = ("adafactor", "adamw", "adam", "sgd", "amsgrad", "adagrad")
MODEL_ORDER = ["t5.1.1-tiny", "t5.1.1-small", "t5.1.1-base", "t5.1.1-large", "t5.1.1-xl",
               "mt5-small", "mt5-base", "mt5-large", "mt5-xl",
               # the FSAM paper's models, in its order (Table 1, then Table 3)
               "bert-large", "electra-large", "albert-xxlarge-v2", "roberta-large", "bert-base", "roberta-base"]

# Canonical column order: the order of the columns in Bahri Tables 1, 2, 4 and 8.
_CANON = [
    ("boolq", "accuracy"), ("cb", "f1"), ("cb", "accuracy"), ("copa", "accuracy"), ("multirc", "f1a"),
    ("multirc", "em"), ("record", "f1"), ("record", "em"), ("rte", "accuracy"), ("wic", "accuracy"),
    ("wsc", "accuracy"), ("cola", "mcc"), ("sst2", "accuracy"), ("mrpc", "f1"), ("mrpc", "accuracy"),
    ("stsb", "pearson"), ("stsb", "spearman"), ("qqp", "f1"), ("qqp", "accuracy"), ("mnli_m", "accuracy"),
    ("mnli_mm", "accuracy"), ("qnli", "accuracy"), ("natural_questions", "f1"), ("natural_questions", "em"),
    ("web_questions", "f1"), ("web_questions", "em"), ("trivia_qa", "f1"), ("trivia_qa", "em"),
    ("tydiqa_avg", "f1"), ("tydiqa_avg", "em"),
]


# ------------------------------------------------------------------------------------ labels
def column_label(task: str, metric: str) -> str:
    """``("cb", "f1") -> "CB F1"``; ``("tydiqa_en", "em") -> "TyDiQA-en EM"``."""
    t = TASK_LABELS.get(task)
    if t is None:
        t = f"TyDiQA-{task.split('_', 1)[1]}" if task.startswith("tydiqa_") else task
    return f"{t} {METRIC_LABELS.get(metric, metric)}"


def model_label(model: str) -> str:
    """``"t5.1.1-small" -> "T5.1.1-Small"``."""
    fam, _, size = str(model).rpartition("-")
    if not fam:
        return str(model)
    fam = fam.upper() if fam.lower().startswith(("t5", "mt5")) else fam
    fam = fam.replace("MT5", "mT5")
    return f"{fam}-{size.upper() if size.lower() == 'xl' else size.capitalize()}"


def _fmt_num(x: float) -> str:
    return f"{x:g}"


def method_label(method: str, rho=None, base: str | None = None, show_base: bool = False) -> str:
    """``("adafactor", None) -> "adafactor"``; ``("sam", 0.15) -> "sam (ρ=0.15)"``;
    with ``show_base``: ``"sam+adamw (ρ=0.15)"``."""
    if rho is None or (isinstance(rho, float) and math.isnan(rho)) or pd.isna(rho):
        return str(method)
    m = f"{method}+{base}" if show_base and base else str(method)
    return f"{m} (ρ={_fmt_num(float(rho))})"


def canonical_task_metrics(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Order (task, metric) pairs as the paper's columns; unknown pairs follow, sorted."""
    pairs = list(dict.fromkeys((str(t), str(m)) for t, m in pairs))
    known = [p for p in _CANON if p in pairs]

    def later(p):
        t, m = p
        if t.startswith("tydiqa_"):
            return (0, t, ["f1", "em"].index(m) if m in ("f1", "em") else 9, m)
        return (1, t, 0, m)

    return known + sorted([p for p in pairs if p not in known], key=later)


def _model_key(m: str):
    return (MODEL_ORDER.index(m), m) if m in MODEL_ORDER else (len(MODEL_ORDER), str(m))


def _isnull(v) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v))


# ------------------------------------------------------------------------------------- score
def benchmark_score(wide: pd.DataFrame, task_metrics: Sequence[tuple[str, str]] | None = None) -> pd.Series:
    """Benchmark score per row of ``wide`` (columns = (task, metric) tuples): the mean over tasks of
    the per-task mean of its metrics (a task with two metrics counts once).  NaN where any of the
    columns is missing."""
    cols = list(task_metrics) if task_metrics is not None else [c for c in wide.columns if isinstance(c, tuple)]
    if not cols:
        return pd.Series(np.nan, index=wide.index, dtype="float64")
    tasks = list(dict.fromkeys(t for t, _ in cols))
    per_task = []
    for t in tasks:
        sub = wide[[c for c in cols if c[0] == t]].astype("float64")
        per_task.append(sub.mean(axis=1, skipna=False))
    return pd.concat(per_task, axis=1).mean(axis=1, skipna=False)


# ------------------------------------------------------------------------------- preparation
def _variants(df: pd.DataFrame, is_base: pd.Series | None = None) -> pd.DataFrame:
    """Add _base (the baseline method a row compares to), _is_base and _variant (label).
    A row is a baseline where ``is_base`` says so (default: where it has no ρ)."""
    df = df.copy()
    is_base = df["rho"].isna() if is_base is None else is_base.astype(bool)
    base_methods = sorted(set(df.loc[is_base, "method"].dropna().astype(str)))
    bo = df["base_optimizer"] if "base_optimizer" in df.columns else pd.Series(np.nan, index=df.index)
    fallback = base_methods[0] if len(base_methods) == 1 else "adafactor"
    base = [str(m) if b else (fallback if _isnull(o) else str(o)) for m, b, o in zip(df["method"], is_base, bo)]
    df["_base"] = base
    df["_is_base"] = is_base.to_numpy()
    sa_bases = {b for b, ib in zip(base, is_base) if not ib}
    show = len(sa_bases) > 1
    df["_variant"] = [method_label(m, r, b, show) for m, r, b in zip(df["method"], df["rho"], base)]
    return df


def _rep(df: pd.DataFrame) -> pd.Series:
    ss = df["subsample_seed"] if "subsample_seed" in df.columns else pd.Series(pd.NA, index=df.index)
    return pd.Series([f"seed={s}/sub={x}" for s, x in zip(df["seed"], ss)], index=df.index)


def _init_is(inits: pd.Series, init: str) -> pd.Series:
    """``init="pretrained"`` means fine-tuned from pretrained weights: the workflow's model or a public
    checkpoint (whose cells carry the checkpoint's name or path as ``init``); only "random" is not."""
    return inits != "random" if init == "pretrained" else inits == init


def _filter_ours(rows_df, subsample_rate, init, experiment):
    df = rows_df
    if subsample_rate is not None:
        df = df[np.isclose(df["subsample_rate"].astype("float64"), float(subsample_rate))]
    if init is not None and "init" in df.columns and df["init"].notna().any():
        df = df[_init_is(df["init"], init)]
    if experiment is not None and "experiment" in df.columns:
        df = df[df["experiment"].isin([experiment] if isinstance(experiment, str) else list(experiment))]
    if "hparam_name" in df.columns:
        df = df[df["hparam_name"].isna()]
    return df


def _stats(frame: pd.DataFrame) -> dict:
    """column -> (mean, std, n) over the rows of ``frame``."""
    out = {}
    for c in frame.columns:
        v = frame[c].astype("float64").dropna()
        out[c] = (float(v.mean()) if len(v) else np.nan, float(v.std(ddof=1)) if len(v) > 1 else np.nan, int(len(v)))
    return out

