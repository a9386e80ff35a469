"""One function per paper table layout, built from tidy result rows and the reference tables.

Conventions used everywhere in this module
------------------------------------------
* **Replicates.** A replicate is one cell, identified by ``(seed, subsample_seed)`` within a
  (model, method, ρ) group.  "mean ± std" is over replicates; ``std`` is the sample standard
  deviation (ddof = 1, NaN for one replicate); ``n`` counts the replicates that have the number.
* **Paired Δ.** "Δ SAM − baseline" is the mean (± std) over replicates of the per-replicate
  difference between a sharpness-aware cell and the baseline cell with the same model, init,
  subsample rate, subsample seed and seed, whose method is the SAM cell's ``base_optimizer``.
  Only replicates present in both are used (``n`` = matched pairs).
* **Benchmark score** (:func:`benchmark_score`): the mean over tasks of the per-task mean of its
  metrics, i.e. the SuperGLUE convention (CB F1 and CB accuracy count once, as their average).
  This reproduces Bahri et al.'s printed SuperGLUE score from their per-task numbers, and, with
  MNLI-m and MNLI-mm as two tasks, their GLUE score.  For our runs it is over **our tasks only**,
  so it is not comparable with a printed "SGlue"/"Glue" number; the paper rows in our tables
  therefore get a score computed the same way from the paper's numbers for the same task columns.
  Ours is computed per replicate, then averaged; a replicate missing a column gets no score.
  The FSAM layout (:func:`fsam_table1`) uses FSAM's "AVG." instead (:func:`fsam_average`, the plain
  mean of every metric cell), which reproduces FSAM's printed averages; the rest is the same.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from sam_bench.tasks import get_task

from .aggregate import atomic_write_text
from .reference import paper_rows_for

__all__ = [
    "SCORE", "TASK_LABELS", "METRIC_LABELS", "BASELINE_METHODS", "MODEL_ORDER",
    "column_label", "method_label", "model_label", "canonical_task_metrics", "benchmark_score",
    "bahri_table1", "pretraining_check", "cost_table",
    "FSAM_COLUMNS", "FSAM_TASK_BENCHMARK", "FSAM_PAPER_TABLES", "FSAM_SEEDS",
    "is_encoder_model", "encoder_rows", "fsam_task", "fsam_average", "fsam_table1",
    "display_frame", "to_markdown", "to_csv", "flat_frame",
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
_STATS = ["mean", "std", "n"]


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


# ------------------------------------------------------------------ comparison machinery
# Every paper layout (Bahri Table 1, FSAM Table 1) has the same shape: "ours" rows (mean ± std
# over replicates, then paired Δ rows) above "paper" rows (the printed numbers and their Δ).
# The layouts differ only in which rows and columns they take and in how the score is computed.

def _delta_label(variant: str, base: str) -> str:
    return f"Δ {variant} − {base}"


def _replicate_frame(ours: pd.DataFrame, tms: list[tuple[str, str]], label_of: dict, score) -> pd.DataFrame:
    """One row per (model, variant, replicate); columns: the score, then one per task-metric."""
    wide = ours.pivot_table(index=["model", "_variant", "_rep"], columns=["task", "metric"], values="value",
                            aggfunc="mean")
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples(tms, names=["task", "metric"]))
    wide.columns = [tuple(c) for c in wide.columns]
    wide.insert(0, SCORE, score(wide, tms))
    return wide.rename(columns=label_of)


def _our_records(ours: pd.DataFrame, tms: list[tuple[str, str]], label_of: dict, score) -> list[tuple[tuple, dict]]:
    """``("ours", model, variant)`` records: baselines, then sharpness-aware variants, then one
    paired Δ per variant whose baseline was run (replicates present in both only)."""
    ours = _variants(ours)
    ours["_rep"] = _rep(ours)
    wide = _replicate_frame(ours, tms, label_of, score)
    info = ours.drop_duplicates("_variant").set_index("_variant")
    records: list[tuple[tuple, dict]] = []
    for model in sorted(ours["model"].unique(), key=_model_key):
        present = set(ours.loc[ours["model"] == model, "_variant"])
        bases = sorted((v for v in present if info.at[v, "_is_base"]), key=str)
        sams = sorted((v for v in present if not info.at[v, "_is_base"]),
                      key=lambda v: (str(info.at[v, "_base"]), str(info.at[v, "method"]), float(info.at[v, "rho"])))
        for v in bases + sams:
            records.append((("ours", model, v), _stats(wide.loc[(model, v)])))
        for v in sams:
            b = info.at[v, "_base"]
            if b not in present:
                continue
            a, c = wide.loc[(model, v)], wide.loc[(model, b)]
            common = a.index.intersection(c.index)
            records.append((("ours", model, _delta_label(v, b)), _stats(a.loc[common] - c.loc[common])))
    return records


def _printed_row(rows: pd.DataFrame, tms: list[tuple[str, str]], labels: list[str], score) -> pd.Series:
    """One paper row's printed numbers in our column order, led by the score computed from them
    (not the paper's printed average: that one covers columns we may not have)."""
    printed = {(t, m): v for t, m, v in zip(rows["task"], rows["metric"], rows["value"])}
    row = pd.DataFrame([[printed.get(tm, np.nan) for tm in tms]], columns=tms)
    return pd.Series([float(score(row, tms).iloc[0])] + row.iloc[0].tolist(), index=labels, dtype="float64")


def _printed_stats(values: pd.Series, n_printed: int) -> dict:
    """A printed number has no std; ``n`` is the replicates behind it as the paper states them."""
    return {c: (v, np.nan, n_printed if pd.notna(v) else 0) for c, v in values.items()}


def _paper_records(paper: pd.DataFrame, tms: list[tuple[str, str]], label_of: dict, score,
                   n_printed: int) -> list[tuple[tuple, dict]]:
    """``("paper", model, variant)`` records from reference rows already passed through
    :func:`_variants`: the baseline first, then the sharpness-aware rows in the paper's order,
    then their differences from the baseline."""
    labels = [SCORE] + [label_of[tm] for tm in tms]
    records: list[tuple[tuple, dict]] = []
    for model in sorted(paper["model"].unique(), key=_model_key):
        pm = paper[paper["model"] == model]
        printed = {v: _printed_row(g, tms, labels, score) for v, g in pm.groupby("_variant", sort=False)}
        info = pm.drop_duplicates("_variant").set_index("_variant")
        # stable sort: variants without a printed ρ (FSAM) keep the paper's row order
        order = sorted(printed, key=lambda v: (not info.at[v, "_is_base"],
                                               0.0 if pd.isna(info.at[v, "rho"]) else float(info.at[v, "rho"])))
        for v in order:
            records.append((("paper", model, v), _printed_stats(printed[v], n_printed)))
        for v in order:
            b = info.at[v, "_base"]
            if info.at[v, "_is_base"] or b not in printed:
                continue
            records.append((("paper", model, _delta_label(v, b)), _printed_stats(printed[v] - printed[b], n_printed)))
    return records


def _comparison_frame(records: list[tuple[tuple, dict]], labels: list[str]) -> pd.DataFrame:
    """Records -> the table: index (source, model, method), columns (column, stat)."""
    cols = pd.MultiIndex.from_product([labels, _STATS], names=["column", "stat"])
    idx = pd.MultiIndex.from_tuples([k for k, _ in records], names=["source", "model", "method"]) if records else \
        pd.MultiIndex.from_tuples([], names=["source", "model", "method"])
    data = [[rec.get(c, (np.nan, np.nan, 0))[_STATS.index(s)] for c, s in cols] for _, rec in records]
    table = pd.DataFrame(data, index=idx, columns=cols)
    for c in labels:
        table[(c, "n")] = table[(c, "n")].fillna(0).astype("int64")
        table[(c, "mean")] = table[(c, "mean")].astype("float64")
        table[(c, "std")] = table[(c, "std")].astype("float64")
    return table


def _keep_columns(rows: pd.DataFrame, tms: Iterable[tuple[str, str]]) -> pd.DataFrame:
    keep = set(tms)
    return rows[np.array([(t, m) in keep for t, m in zip(rows["task"], rows["metric"])], dtype=bool)]


def _rate_label(subsample_rate) -> str:
    return f"{float(subsample_rate) * 100:g}%" if subsample_rate is not None else "all rates"


def _statistics_notes(subsample_rate) -> list[str]:
    """The notes on how our rows' numbers are made, shared by every comparison layout."""
    return [
        f"Training-data rate {_rate_label(subsample_rate)}. Ours: mean ± std (sample std, ddof=1) over replicates "
        "(seed, subsample seed); n = replicates.",
        "Δ rows: mean ± std of the per-replicate paired difference (same model, init, rate, subsample seed and "
        "seed); n = matched pairs.",
    ]


def _task_list(tms) -> str:
    return ", ".join(dict.fromkeys(TASK_LABELS.get(t, t) for t, _ in tms)) or "none"


# ------------------------------------------------------------------------------- Table 1
def bahri_table1(rows_df: pd.DataFrame, reference_df: pd.DataFrame | None = None, subsample_rate: float = 1.0, *,
                 init: str | None = "pretrained", experiment: str | Iterable[str] | None = None,
                 models: Sequence[str] | None = None, include_paper: bool = True) -> pd.DataFrame:
    """Our results beside the published ones, in the layout of Bahri et al. Table 1.

    Rows: a MultiIndex ``(source, model, method)``.  ``source="ours"``: for each of our models,
    one row per baseline and per sharpness-aware method/ρ (mean ± std over replicates), then one
    ``"Δ <method (ρ)> − <baseline>"`` row per ρ (paired per-replicate difference).
    ``source="paper"``: for each T5.1.1 size in the paper table(s) covering our tasks at this rate
    (Bahri Table 1/2/4 at 100%, Table 6/7 at 5%; see ``reference.BAHRI_TABLES_BY_RATE``), the
    AdaFactor row, the SAM row and their Δ; std is NaN and n = 1 (the paper ran each experiment
    once).  Columns: a MultiIndex ``(column, stat)`` with column = ``"Score"`` then one label per
    task-metric (``"CB F1"``, ``"CB Acc"``, …; our task-metric pairs only) and stat ∈
    {mean, std, n}.  ``table.xs("mean", axis=1, level="stat")`` gives the plain numbers.

    Only rows with ``init == init`` (None: all), no ``hparam_name`` (ablation rows excluded) and
    the given ``subsample_rate`` are used.  ``reference_df``: :func:`reference.load_reference`
    output (None: load it).  ``table.attrs`` holds ``notes``, ``title``, ``paper_tables`` (task →
    table), ``task_metrics`` and ``subsample_rate``.
    """
    if reference_df is None and include_paper:
        from .reference import load_reference
        reference_df = load_reference()
    ours = _filter_ours(rows_df, subsample_rate, init, experiment)
    if models is not None:
        ours = ours[ours["model"].isin(list(models))]
    tms = canonical_task_metrics(zip(ours["task"], ours["metric"]))
    label_of = {tm: column_label(*tm) for tm in tms}
    records = _our_records(ours, tms, label_of, benchmark_score) if len(ours) else []

    paper_tables: dict[str, str] = {}
    if include_paper and tms and subsample_rate is not None:
        pr = _keep_columns(paper_rows_for(reference_df, list(dict.fromkeys(t for t, _ in tms)), subsample_rate), tms)
        paper_tables = {t: tab for t, tab in zip(pr["task"], pr["table"])}
        if len(pr):
            # Bahri prints ρ for SAM rows and none for AdaFactor: rho alone tells baseline from SAM
            records += _paper_records(_variants(pr.assign(base_optimizer=np.nan)), tms, label_of, benchmark_score,
                                      n_printed=1)
    table = _comparison_frame(records, [SCORE] + list(label_of.values()))

    pct = _rate_label(subsample_rate)
    used = sorted(set(paper_tables.values()), key=lambda s: int(s.split()[-1]))
    notes = _statistics_notes(subsample_rate) + [
        f"{SCORE}: mean over tasks of the per-task mean of its metrics (SuperGLUE convention), over our task columns only "
        f"({_task_list(tms)}); the paper rows' {SCORE} is computed "
        "the same way from the paper's numbers for these columns, so it is not the paper's printed SGlue/Glue score.",
    ]
    if include_paper:
        if used:
            notes.append("Paper rows: Bahri et al. 2022 " + ", ".join(
                f"{tab} ({', '.join(TASK_LABELS.get(t, t) for t, tt in paper_tables.items() if tt == tab)})" for tab in used)
                + "; each experiment run once (n = 1). Splits may differ from ours (CBQA tables report test scores).")
        missing = [TASK_LABELS.get(t, t) for t in dict.fromkeys(t for t, _ in tms) if t not in paper_tables]
        if missing:
            notes.append(f"The paper prints no number at {pct} for: {', '.join(missing)}.")
    table.attrs.update({
        "kind": "comparison",
        "title": f"Bahri et al. Table 1 layout: ours vs paper, {pct} of the training data",
        "subsample_rate": subsample_rate,
        "task_metrics": tms,
        "paper_tables": paper_tables,
        "notes": notes,
    })
    return table


# -------------------------------------------------------------------------- FSAM Table 1
#: Zhong et al. 2022 (FSAM) Table 1's columns, in the printed order (CB: accuracy only).
FSAM_COLUMNS = [("cola", "mcc"), ("mrpc", "accuracy"), ("mrpc", "f1"), ("stsb", "pearson"), ("stsb", "spearman"),
                ("rte", "accuracy"), ("cb", "accuracy"), ("boolq", "accuracy"), ("wsc", "accuracy"),
                ("wic", "accuracy")]
#: The benchmark of each FSAM task (FSAM Table 7): its RTE is GLUE RTE, not SuperGLUE RTE.
FSAM_TASK_BENCHMARK = {"cola": "glue", "mrpc": "glue", "stsb": "glue", "rte": "glue",
                       "cb": "superglue", "boolq": "superglue", "wsc": "superglue", "wic": "superglue"}
#: Where FSAM prints Adam / Adam+SAM / Adam+FSAM at β1 = 0.9: Table 1 (large PLMs), Table 3 (base PLMs).
FSAM_PAPER_TABLES = ("Table 1", "Table 3")
#: FSAM §4.2: "We report the averaged results over 5 random seeds for NLU tasks".
FSAM_SEEDS = 5


@functools.lru_cache(maxsize=None)
def is_encoder_model(name: str) -> bool:
    """True for a BERT-family encoder of the model registry; False for T5/mT5 and for names the
    registry does not know (a checkpoint path, a model from elsewhere)."""
    from sam_bench.models import model_config, model_family  # imports JAX: only when a report asks

    try:
        return model_family(model_config(str(name))) == "bert"
    except ValueError:
        return False


def encoder_rows(rows_df: pd.DataFrame) -> pd.DataFrame:
    """The result rows of BERT-family encoder models."""
    return rows_df[np.array([isinstance(m, str) and is_encoder_model(m) for m in rows_df["model"]], dtype=bool)]


def _one_block_per_init(ours: pd.DataFrame) -> pd.DataFrame:
    """An encoder's init is its checkpoint (or "random"): a model fine-tuned from more than one
    init gets one row block per init, so that different starting points are never averaged."""
    if "init" not in ours.columns or not len(ours):
        return ours
    n_inits = ours.groupby("model")["init"].transform("nunique")
    return ours.assign(model=[f"{m} (init={i})" if n > 1 else m
                              for m, i, n in zip(ours["model"], ours["init"], n_inits)])


def fsam_task(task: str) -> str | None:
    """The FSAM column task our registry ``task`` reports under, or None.  Matched on benchmark
    and paper name, because both our ``glue_rte`` and our SuperGLUE ``rte`` are "rte" in the
    papers, and only GLUE RTE is FSAM's."""
    try:
        t = get_task(str(task))
    except ValueError:
        return None
    return t.paper_name if FSAM_TASK_BENCHMARK.get(t.paper_name) == t.benchmark else None


def fsam_average(wide: pd.DataFrame, task_metrics: Sequence[tuple[str, str]] | None = None) -> pd.Series:
    """FSAM's "AVG." per row of ``wide``: the plain mean of every metric cell (MRPC accuracy and
    F1 count as two cells, unlike :func:`benchmark_score`).  NaN where any column is missing."""
    cols = list(task_metrics) if task_metrics is not None else [c for c in wide.columns if isinstance(c, tuple)]
    if not cols:
        return pd.Series(np.nan, index=wide.index, dtype="float64")
    return wide[cols].astype("float64").mean(axis=1, skipna=False)


def _split_fsam_method(method: str) -> tuple[str, str]:
    """FSAM spells a row "<base>+<sam variant>" ("adam+fsam") or "<base>" ("adam"):
    returns (method, base optimizer) in our spelling: ("fsam", "adam"), ("adam", "adam")."""
    base, _, variant = str(method).partition("+")
    return (variant or base), base


def _fsam_paper_rows(reference_df: pd.DataFrame, tms, subsample_rate: float) -> pd.DataFrame:
    """FSAM Table 1 and 3 rows for our columns, with methods in our spelling (via :func:`_variants`)."""
    ref = reference_df[(reference_df["paper"] == "fsam2022") & reference_df["table"].isin(FSAM_PAPER_TABLES)
                       & reference_df["hparam_name"].isna()]
    ref = _keep_columns(ref[np.isclose(ref["subsample_rate"].astype(float), float(subsample_rate))], tms)
    split = [_split_fsam_method(m) for m in ref["method"]]
    ref = ref.assign(method=[m for m, _ in split], base_optimizer=[b for _, b in split])
    # FSAM prints no ρ, so rho cannot tell the baseline apart: the unprefixed method is the baseline
    return _variants(ref, is_base=ref["method"] == ref["base_optimizer"])


def _fsam_paper_notes(paper_tables: dict[str, str], paper: pd.DataFrame, tms) -> list[str]:
    """Which FSAM table each paper row comes from, and the columns a table does not print."""
    notes = []
    by_table = {tab: [m for m, t in paper_tables.items() if t == tab] for tab in FSAM_PAPER_TABLES}
    parts = [f"{tab} ({', '.join(ms)})" for tab, ms in by_table.items() if ms]
    notes.append("Paper rows: Zhong et al. 2022 (FSAM) " + " and ".join(parts) + f"; each printed number is a mean "
                 f"over {FSAM_SEEDS} seeds without std (n = {FSAM_SEEDS}). Their Adam, Adam+SAM and Adam+FSAM rows are "
                 "adam, sam and fsam over base adam (weight decay 0.01); their ρ was grid-searched over "
                 "{1e-2, 5e-3, 1e-3} and is not printed.")
    for tab in FSAM_PAPER_TABLES:
        printed = set(zip(*(paper.loc[paper["table"] == tab, c] for c in ("task", "metric"))))
        absent = [column_label(*tm) for tm in tms if tm not in printed]
        if by_table[tab] and absent:
            notes.append(f"FSAM {tab} prints no number for: {', '.join(absent)}.")
    return notes


def fsam_table1(rows_df: pd.DataFrame, reference_df: pd.DataFrame | None = None, subsample_rate: float = 1.0, *,
                init: str | None = None, experiment: str | Iterable[str] | None = None,
                models: Sequence[str] | None = None, include_paper: bool = True) -> pd.DataFrame:
    """Our BERT-family encoder results beside the published ones, in the layout of Zhong et al.
    2022 (FSAM) Table 1.

    The shape and statistics are those of :func:`bahri_table1` (rows ``(source, model, method)``,
    columns ``(column, stat)``, paired Δ rows for ours).  Differences: only rows of encoder models
    (:func:`is_encoder_model`); any ``init`` by default, since an encoder's init is its checkpoint
    (a model with several inits gets a block per init, ``"<model> (init=<init>)"``); only
    the task-metrics FSAM Table 1 prints (:data:`FSAM_COLUMNS`, matched by :func:`fsam_task`: our
    ``glue_rte`` is the "RTE" column; pairs outside the layout are named in the notes); the score
    is FSAM's AVG (:func:`fsam_average`) over our columns.  Paper rows: every model of FSAM
    Table 1 (large) and Table 3 (base) at this rate, with ``adam`` as the baseline and ``sam`` /
    ``fsam`` over it, their Δ, std NaN and n = 5 (the paper's seeds).  ``table.attrs``: ``title``,
    ``notes``, ``task_metrics`` (FSAM task keys), ``paper_tables`` (paper model → table),
    ``subsample_rate``.  An empty table when there are no encoder rows in the layout.
    """
    if reference_df is None and include_paper:
        from .reference import load_reference
        reference_df = load_reference()
    ours = _filter_ours(encoder_rows(rows_df), subsample_rate, init, experiment)
    if models is not None:
        ours = ours[ours["model"].isin(list(models))]
    ours = _one_block_per_init(ours)
    column_task = ours["task"].map(fsam_task)
    in_layout = np.array([t is not None and (t, m) in FSAM_COLUMNS for t, m in zip(column_task, ours["metric"])],
                         dtype=bool)
    left_out = list(dict.fromkeys(zip(ours.loc[~in_layout, "task"], ours.loc[~in_layout, "metric"])))
    ours = ours[in_layout].assign(task=column_task[in_layout])
    present = set(zip(ours["task"], ours["metric"]))
    tms = [tm for tm in FSAM_COLUMNS if tm in present]
    label_of = {tm: column_label(*tm) for tm in tms}
    records = _our_records(ours, tms, label_of, fsam_average) if len(ours) else []

    paper_tables: dict[str, str] = {}
    paper = pd.DataFrame()
    if include_paper and tms and subsample_rate is not None:
        paper = _fsam_paper_rows(reference_df, tms, subsample_rate)
        paper_tables = dict(zip(paper["model"], paper["table"]))
        if len(paper):
            records += _paper_records(paper, tms, label_of, fsam_average, n_printed=FSAM_SEEDS)
    table = _comparison_frame(records, [SCORE] + list(label_of.values()))

    pct = _rate_label(subsample_rate)
    notes = _statistics_notes(subsample_rate) + [
        f"{SCORE}: FSAM's AVG convention, the plain mean of every metric cell (MRPC Acc and F1, STS-B Pearson and "
        f"Spearman count twice), over our columns only ({_task_list(tms)}); the paper rows' {SCORE} is computed the "
        "same way from the paper's numbers for these columns, so it equals the printed AVG only when all ten columns "
        "are shown.",
        "Ours: BERT-family encoder models only. RTE is GLUE RTE (our glue_rte), as in FSAM's Table 7.",
    ]
    if left_out:
        superglue_rte = " (our rte is SuperGLUE RTE)" if any(t == "rte" for t, _ in left_out) else ""
        notes.append(f"Not in the FSAM layout, left out{superglue_rte}: "
                     + ", ".join(f"{t} {m}" for t, m in left_out) + ".")
    if include_paper and tms:
        notes += _fsam_paper_notes(paper_tables, paper, tms) if paper_tables else \
            [f"The paper prints no number at {pct}."]
    table.attrs.update({
        "kind": "comparison",
        "title": f"Zhong et al. (FSAM) Table 1 layout: encoders, ours vs paper, {pct} of the training data",
        "subsample_rate": subsample_rate,
        "task_metrics": tms,
        "paper_tables": paper_tables,
        "notes": notes,
    })
    return table


# ------------------------------------------------------------------------------- pretraining
_MATCH_COLS = ["model", "method", "rho", "base_optimizer", "hparam_name", "hparam_value", "subsample_rate",
               "subsample_seed", "seed", "task", "metric"]


def pretraining_check(rows_df: pd.DataFrame, pretrained: str = "pretrained", random: str = "random") -> pd.DataFrame:
    """Pretrained vs random initialisation for cells that differ only in ``init``.

    Pairs rows on (model, method, rho, base_optimizer, hparam_name, hparam_value, subsample_rate,
    subsample_seed, seed, task, metric); labels such as ``experiment`` and ``cell_id`` may differ.
    One output row per (model, method/ρ, subsample_rate, task, metric), natural_questions first:
    ``pretrained`` and ``random`` (means over the matched replicates), ``difference`` (mean of
    the paired pretrained − random), ``difference_std`` and ``n_pairs``.
    """
    cols = ["model", "method", "subsample_rate", "task", "metric", "pretrained", "random", "difference",
            "difference_std", "n_pairs"]
    if "init" not in rows_df.columns:
        return _empty(cols, "pretraining")
    key = [c for c in _MATCH_COLS if c in rows_df.columns]
    pre = rows_df[rows_df["init"] == pretrained]
    rnd = rows_df[rows_df["init"] == random]
    pre = pre.groupby(key, dropna=False, sort=False)["value"].mean().reset_index()
    rnd = rnd.groupby(key, dropna=False, sort=False)["value"].mean().reset_index()
    m = pre.merge(rnd, on=key, suffixes=("_pre", "_rnd"))
    if m.empty:
        return _empty(cols, "pretraining")
    m = _variants(m)
    m["diff"] = m["value_pre"] - m["value_rnd"]
    out = (m.groupby(["model", "_variant", "subsample_rate", "task", "metric"], dropna=False, sort=False)
             .agg(pretrained=("value_pre", "mean"), random=("value_rnd", "mean"), difference=("diff", "mean"),
                  difference_std=("diff", lambda s: float(s.std(ddof=1)) if len(s) > 1 else np.nan),
                  n_pairs=("diff", "size"), _is_base=("_is_base", "first"), _rho=("rho", "first"))
             .reset_index().rename(columns={"_variant": "method"}))
    order = canonical_task_metrics(zip(out["task"], out["metric"]))
    order = [p for p in order if p[0] == "natural_questions"] + [p for p in order if p[0] != "natural_questions"]
    out["_tm"] = [order.index((t, mm)) for t, mm in zip(out["task"], out["metric"])]
    out["_mk"] = [_model_key(x) for x in out["model"]]
    out["_r"] = out["_rho"].fillna(-1.0)
    out = out.sort_values(["_mk", "_tm", "subsample_rate", "_is_base", "_r"], ascending=[True, True, False, False, True])
    out = out[cols].reset_index(drop=True)
    out["n_pairs"] = out["n_pairs"].astype("Int64")
    out.attrs.update({
        "kind": "pretraining",
        "title": f"Pretraining check: init={pretrained} vs init={random}",
        "notes": [f"Cells that differ only in init are paired on {', '.join(key)}; difference = {pretrained} − {random} "
                  "(mean of paired differences, std with ddof=1)."],
        "formats": {"subsample_rate": "pct", "n_pairs": "int"},
    })
    return out


def _empty(cols, kind):
    df = pd.DataFrame(columns=cols)
    df.attrs.update({"kind": kind, "title": kind, "notes": ["no matching cells"]})
    return df


# ------------------------------------------------------------------------------------- cost
def cost_table(cells_df: pd.DataFrame) -> pd.DataFrame:
    """Seconds per step by model/task/method/ρ and the ratio to the matched baseline.

    A sharpness-aware cell is matched with the baseline cells (method = its ``base_optimizer``,
    rho null) of the same model, task, subsample_rate and seed (and init and subsample_seed when
    those columns exist); its ratio is its seconds_per_step over the median of theirs.  Per group:
    ``n_cells``, median ``seconds_per_step``, median ``ratio_to_baseline`` over the matched cells,
    ``n_matched``, ``wall_seconds`` (sum) and ``compile_seconds`` (median, if recorded).
    Baseline rows have ratio 1.
    """
    cols = ["model", "task", "method", "base_optimizer", "rho", "n_cells", "seconds_per_step",
            "ratio_to_baseline", "n_matched", "wall_seconds", "compile_seconds"]
    if cells_df is None or len(cells_df) == 0 or "seconds_per_step" not in cells_df.columns:
        return _empty(cols, "cost")
    c = cells_df.copy()
    for k in ("task", "base_optimizer", "subsample_rate", "seed", "compile_seconds", "wall_seconds"):
        if k not in c.columns:
            c[k] = np.nan
    c = _variants(c)
    key = ["model", "task", "subsample_rate", "seed"] + [k for k in ("init", "subsample_seed") if k in c.columns]
    base = (c[c["_is_base"]].groupby(key + ["_base"], dropna=False)["seconds_per_step"].median()
            .rename("_base_sps").reset_index())
    c = c.merge(base, on=key + ["_base"], how="left")
    c["_ratio"] = c["seconds_per_step"] / c["_base_sps"]
    g = c.groupby(["model", "task", "_variant"], dropna=False, sort=False)
    out = g.agg(method=("method", "first"), base_optimizer=("_base", "first"), rho=("rho", "first"),
                n_cells=("seconds_per_step", "size"), seconds_per_step=("seconds_per_step", "median"),
                ratio_to_baseline=("_ratio", "median"), n_matched=("_ratio", "count"),
                wall_seconds=("wall_seconds", lambda s: float(s.sum(min_count=1)) if s.notna().any() else np.nan),
                compile_seconds=("compile_seconds", "median"), _is_base=("_is_base", "first")).reset_index()
    out["method"] = out["_variant"]
    out["_mk"] = [_model_key(x) for x in out["model"]]
    out["_r"] = out["rho"].fillna(-1.0)
    out = out.sort_values(["_mk", "task", "base_optimizer", "_is_base", "_r"], ascending=[True, True, True, False, True])
    out = out[cols].reset_index(drop=True)
    for k in ("n_cells", "n_matched"):
        out[k] = out[k].astype("Int64")
    out.attrs.update({
        "kind": "cost",
        "title": "Cost: seconds per training step and ratio to the matched baseline",
        "notes": ["Ratio: per sharpness-aware cell, its seconds/step over the median of the baseline cells with the same "
                  f"{', '.join(key)} and base optimizer; the table shows the median over matched cells (n_matched).",
                  "seconds_per_step is the median over cells; wall_seconds is the total over cells."],
        "formats": {"rho": "g", "seconds_per_step": ".4f", "ratio_to_baseline": ".2f", "wall_seconds": ".0f",
                    "compile_seconds": ".1f", "n_cells": "int", "n_matched": "int"},
    })
    return out


# ------------------------------------------------------------------------------- rendering
def _fmt(x, digits: int, signed: bool = False) -> str:
    if _isnull(x):
        return ""
    s = f"{float(x):+.{digits}f}" if signed else f"{float(x):.{digits}f}"
    return s.replace("-", "−")


def display_frame(table: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """A frame of strings ready to print (used by :func:`to_markdown` and the PDF)."""
    kind = table.attrs.get("kind")
    if kind == "comparison":
        labels = list(dict.fromkeys(table.columns.get_level_values(0)))
        recs = []
        for (src, model, method), row in table.iterrows():
            delta = str(method).startswith("Δ")
            ns = [row[(c, "n")] for c in labels if not _isnull(row[(c, "n")]) and row[(c, "n")] > 0]
            n_row = int(max(ns)) if ns else 0
            rec = {"source": src, "model": model, "method": method, "n": str(n_row) if n_row else ""}
            for c in labels:
                mu, sd, n = row[(c, "mean")], row[(c, "std")], row[(c, "n")]
                if _isnull(mu):
                    rec[c] = "–"
                    continue
                s = _fmt(mu, digits, signed=delta)
                if not _isnull(sd):
                    s += f" ± {_fmt(sd, digits)}"
                if not _isnull(n) and int(n) != n_row:
                    s += f" (n={int(n)})"
                rec[c] = s
            recs.append(rec)
        return pd.DataFrame(recs, columns=["source", "model", "method", "n"] + labels)
    fmts = table.attrs.get("formats", {})
    out = pd.DataFrame(index=range(len(table)))
    for c in table.columns:
        f = fmts.get(c)
        vals = []
        for v in table[c]:
            if _isnull(v):
                vals.append("")
            elif f == "pct":
                vals.append(f"{float(v) * 100:g}%")
            elif f == "int":
                vals.append(str(int(v)))
            elif f == "g":
                vals.append(f"{float(v):g}")
            elif f is not None:
                vals.append(format(float(v), f))
            elif isinstance(v, (float, np.floating)):
                vals.append(_fmt(v, digits, signed=c in ("difference",)))
            else:
                vals.append(str(v))
        out[c] = vals
    return out


def to_markdown(table: pd.DataFrame, digits: int = 1, caption: bool = True) -> str:
    """Markdown rendering: a title line, the table, and the notes."""
    disp = display_frame(table, digits)
    parts = []
    if caption and table.attrs.get("title"):
        parts.append(f"**{table.attrs['title']}**\n")
    parts.append(disp.to_markdown(index=False, disable_numparse=True) if len(disp) else "_(no rows)_")
    if caption and table.attrs.get("notes"):
        parts.append("")
        parts.extend(f"* {n}" for n in table.attrs["notes"])
    return "\n".join(parts) + "\n"


def flat_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Numeric frame with flat columns (comparison tables: ``"CB F1 mean"``, ``"CB F1 std"``, ...)."""
    if table.attrs.get("kind") == "comparison":
        flat = table.copy()
        flat.columns = [f"{c} {s}" for c, s in table.columns]
        return flat.reset_index()
    return table.reset_index(drop=True)


def to_csv(table: pd.DataFrame, path: str | Path | None = None) -> str:
    """CSV of :func:`flat_frame` (full precision); written atomically to ``path`` if given."""
    text = flat_frame(table).to_csv(index=False)
    if path is not None:
        atomic_write_text(path, text)
    return text
