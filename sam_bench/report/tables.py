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
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from sam_bench.tasks import get_task

from .checks import cost_table, pretraining_check  # noqa: F401  (re-exported: the old home)
from .formatting import display_frame, flat_frame, to_csv, to_markdown  # noqa: F401
from .labels import (BASELINE_METHODS, METRIC_LABELS, MODEL_ORDER, SCORE, TASK_LABELS, _filter_ours,  # noqa: F401
                     _init_is, _isnull, _model_key, _rep, _stats, _variants, benchmark_score,
                     canonical_task_metrics, column_label, method_label, model_label)
from .reference import paper_rows_for

__all__ = [
    "SCORE", "TASK_LABELS", "METRIC_LABELS", "BASELINE_METHODS", "MODEL_ORDER",
    "column_label", "method_label", "model_label", "canonical_task_metrics", "benchmark_score",
    "bahri_table1", "pretraining_check", "cost_table",
    "FSAM_COLUMNS", "FSAM_TASK_BENCHMARK", "FSAM_PAPER_TABLES", "FSAM_SEEDS",
    "is_encoder_model", "encoder_rows", "fsam_task", "fsam_average", "fsam_table1",
    "display_frame", "to_markdown", "to_csv", "flat_frame",
]

_STATS = ["mean", "std", "n"]


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
