"""A target's numbers: select its rows, aggregate over seeds, compare with the paper.

Aggregation: each row is already the best checkpoint of its cell for that task-metric pair (the
papers' protocol); a benchmark score (tasks/benchmarks.py, the one implementation) is computed per
seed from those; then every table slot (row key × column) gets the mean over seeds with its
bootstrap interval, the paired difference to its baseline row, the paper's number and
ours − paper (stats.py). Diverged (``status`` != "ok") and degenerate rows are left out and counted.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from sam_bench.tasks import get_task
from sam_bench.tasks.benchmarks import benchmark_average

import sam_bench.report.stats as stats
from ..labels import canonical_task_metrics
from .base import HPARAM_NAMES, SCORE_COLUMNS, Target, paper_method, paper_model

__all__ = ["keyed_rows", "keyed_reference", "compute", "SLOT_COLUMNS", "NONE"]

_REP = ["seed", "subsample_seed"]
SLOT_COLUMNS = ["base", "task", "metric", "mean", "lo", "hi", "n", "n_excluded", "paper", "ours_minus_paper", "delta",
                "delta_lo", "delta_hi", "p_improve", "n_pairs", "rho_selected", "chance"]


@functools.lru_cache(maxsize=None)
def _paper_task(task: str) -> str:
    try:
        return get_task(task).paper_name
    except ValueError:
        return task


def _excluded(rows: pd.DataFrame) -> pd.Series:
    bad = pd.Series(False, index=rows.index)
    if "status" in rows.columns:
        bad |= rows["status"].notna() & (rows["status"].astype(object) != "ok")
    if "degenerate" in rows.columns:
        # True, numpy True, 1 or "True" (a CSV round trip); missing (NA, None) is not degenerate
        bad |= rows["degenerate"].astype(object).map(lambda v: str(v).lower() in ("true", "1", "1.0")).astype(bool)
    return bad


def keyed_rows(target: Target, rows: pd.DataFrame) -> pd.DataFrame:
    """The target's rows in the paper's vocabulary: model, method, base (its baseline row),
    hparam_name/hparam_value (the select's axis), paper task; one copy per select that takes a row."""
    parts = []
    for sel in target.select:
        part = rows[sel.mask(rows)].copy()
        if not len(part):
            continue
        part["hparam_name"] = HPARAM_NAMES[sel.hparam] if sel.hparam else None
        part["hparam_value"] = part[sel.hparam].map(lambda v: None if pd.isna(v) else f"{float(v):g}") \
            if sel.hparam else None
        part["_label"] = sel.label
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=list(rows.columns) + ["base", "excluded"])
    df = pd.concat(parts, ignore_index=True)
    # a best-ρ target picks ρ per method, so its method names must not carry ρ
    rhos = [None] * len(df) if target.best_rho else df["rho"]
    names = [paper_method(target.paper, m, b, r) for m, b, r in zip(df["method"], df["base_optimizer"], rhos)]
    df["model"] = [paper_model(target.paper, m) for m in df["model"]]
    df["method"] = [lab if isinstance(lab, str) else n for (n, _), lab in zip(names, df.pop("_label"))]
    df["base"] = [target.baseline or b for _, b in names]
    df["task"] = [target.task_as or _paper_task(str(t)) for t in df["task"]]
    for c in _REP:
        df[c] = df[c] if c in df.columns else 0
    df["excluded"] = _excluded(df)
    return df


def keyed_reference(target: Target, reference: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for table_id, where in target.reference:
        ref = reference[reference["table_id"] == table_id]
        for k, v in where.items():
            ref = ref[ref[k].astype(object).isin(v if isinstance(v, tuple) else (v,))]
        parts.append(ref)
    if not parts:
        return pd.DataFrame(columns=list(reference.columns))
    ref = pd.concat(parts, ignore_index=True)
    ref = ref.assign(hparam_value=ref["hparam_value"].map(lambda v: None if pd.isna(v) else f"{float(v):g}"))
    return ref


NONE = "–"  # a row key the cell does not have (the baseline's ρ axis, a no-SAM line); groupby keeps it


def _fill_keys(df: pd.DataFrame, keys) -> pd.DataFrame:
    df = df.copy()
    for k in dict.fromkeys(keys):
        col = df[k] if k in df.columns else pd.Series(None, index=df.index, dtype=object)
        df[k] = [NONE if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in col.astype(object)]
    return df


def _best_rho(df: pd.DataFrame, lower_is_better: bool) -> pd.DataFrame:
    """Keep, per (model, method, task), the ρ whose mean over seeds of the task's mean metric is best."""
    if df["rho"].isna().all():
        return df.assign(rho_selected=np.nan)
    key = ["model", "method", "task"] + [k for k in ("hparam_value", "subsample_rate") if k in df.columns]
    ok = df[~df["excluded"]]
    per = ok.groupby(key + ["rho"], dropna=False)["value"].mean().reset_index()
    pick = per.sort_values("value", ascending=lower_is_better).drop_duplicates(key)
    pick = pick.rename(columns={"rho": "rho_selected"})[key + ["rho_selected"]]
    out = df.merge(pick, on=key, how="left")
    keep = out["rho"].isna() | np.isclose(out["rho"].astype("float64"), out["rho_selected"].astype("float64"))
    return out[keep]


def _with_scores(wide: pd.DataFrame, score: str | None) -> pd.DataFrame:
    if not score:
        return wide
    derived = []
    for _, r in wide.iterrows():
        scores: dict = {}
        for (t, m), v in r.items():
            if pd.notna(v):
                scores.setdefault(t, {})[m] = float(v)
        try:
            avg = benchmark_average(score, scores)
        except KeyError:
            avg = {}
        derived.append({c: avg.get(c[1] if score == "tydiqa" else "score", np.nan) for c in SCORE_COLUMNS[score]})
    return pd.concat([wide, pd.DataFrame(derived, index=wide.index, columns=list(SCORE_COLUMNS[score]))], axis=1)


def _row_keys(target: Target) -> list[str]:
    return list(target.rows) + ([target.x] if target.x and target.x not in target.rows else [])


def compute(target: Target, rows: pd.DataFrame, reference: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """One record per table slot (row key × column): ``SLOT_COLUMNS`` after the row keys; and info:
    expected/filled slot counts, the missing slots, the cells used, the excluded rows."""
    keys = _row_keys(target)
    ours = _fill_keys(keyed_rows(target, rows), keys + ["hparam_value"])
    ref = _fill_keys(keyed_reference(target, reference), keys + ["hparam_value"])
    fed = sorted(set(ours["cell_id"].dropna())) if "cell_id" in ours else []
    if target.best_rho and len(ours):
        ours = _best_rho(ours, target.lower_is_better)
    score_cols = list(SCORE_COLUMNS.get(target.score, ())) if target.score else []
    shown = list(target.columns) or list(dict.fromkeys(zip(ref["task"], ref["metric"]))) or \
        canonical_task_metrics(zip(ours["task"], ours["metric"])) + score_cols

    good = ours[~ours["excluded"]] if len(ours) else ours
    records: dict[tuple, dict] = {}
    if len(good):
        wide = good.pivot_table(index=keys + _REP, columns=["task", "metric"], values="value", aggfunc="mean",
                                dropna=False)
        wide.columns = [tuple(c) for c in wide.columns]
        wide = _with_scores(wide, target.score)
        wide = wide.reindex(columns=shown)
        groups, slots = [], []
        for rk, sub in wide.groupby(level=list(range(len(keys))), dropna=False, sort=False):
            rk = rk if isinstance(rk, tuple) else (rk,)
            for c in shown:
                slots.append((rk, c))
                groups.append(sub[c].to_numpy(dtype="float64"))
        agg = stats.mean_ci(groups)
        for i, (rk, c) in enumerate(slots):
            if agg["n"][i]:
                records[(rk, c)] = {"mean": agg["mean"][i], "lo": agg["lo"][i], "hi": agg["hi"][i], "n": agg["n"][i]}
        _paired(target, wide, keys, good, records)
    _excluded_counts(ours, keys, records)
    _paper(target, ref, keys, shown, records)
    _chance(ours, keys, records)
    if "rho_selected" in ours.columns:
        picked = ours.groupby(keys + ["task"], dropna=False)["rho_selected"].first()
        for (rk, c), rec in records.items():
            rec["rho_selected"] = picked.get(rk + (c[0],), np.nan) if isinstance(picked.index, pd.MultiIndex) else np.nan
    if len(ours):
        base_of = {tuple(k): b for k, b in zip(ours[keys].itertuples(index=False), ours["base"])}
        for (rk, c), rec in records.items():
            rec["base"] = base_of.get(rk)
    expected = _expected(target, ref, keys, shown)
    rank = {rk: i for i, rk in enumerate(dict.fromkeys(rk for rk, _ in expected))}  # the paper's row order
    ordered = sorted(records.items(), key=lambda kv: (rank.get(kv[0][0], len(rank)), str(kv[0][0])))
    out = pd.DataFrame([{**dict(zip(keys, rk)), "task": c[0], "metric": c[1], **rec}
                        for (rk, c), rec in ordered], columns=keys + SLOT_COLUMNS)
    filled = {s for s, r in records.items() if r.get("n", 0)}
    if target.expect:  # declared rows name the leading keys only: any x (α, step, ...) fills them
        filled = {(rk[:len(target.expect[0])], c) for rk, c in filled}
    missing = [s for s in expected if s not in filled]  # in the paper's order
    info = {"expected": len(expected), "filled": len(set(expected) & filled) if expected else len(filled),
            "missing": missing, "cells": fed,
            "cells_used": sorted(set(ours["cell_id"].dropna())) if "cell_id" in ours else [],
            "n_excluded": int(ours["excluded"].sum()) if len(ours) else 0, "columns": shown, "keys": keys}
    return out, info


def _paired(target, wide, keys, good, records):
    if "method" not in keys:
        return
    base_of = dict(zip(good["method"], good["base"]))
    mi = keys.index("method")
    index = set(wide.index.droplevel(_REP) if len(keys) > 1 else wide.index.get_level_values(0))
    diffs, slots = [], []
    for rk in index:
        rk = rk if isinstance(rk, tuple) else (rk,)
        b = base_of.get(rk[mi])
        brk = rk[:mi] + (b,) + rk[mi + 1:]
        if b is None or b == rk[mi] or brk not in index:
            continue
        a, c = wide.xs(rk, level=list(range(len(keys)))), wide.xs(brk, level=list(range(len(keys))))
        common = a.index.intersection(c.index)
        d = a.loc[common].to_numpy(dtype="float64") - c.loc[common].to_numpy(dtype="float64")
        for j, col in enumerate(wide.columns):
            slots.append((rk, tuple(col)))
            diffs.append(d[:, j])
    if not slots:
        return
    res = stats.paired(diffs, target.lower_is_better)
    for i, s in enumerate(slots):
        if s in records and res["n"][i]:
            records[s].update(delta=res["mean"][i], delta_lo=res["lo"][i], delta_hi=res["hi"][i],
                              p_improve=res["p_improve"][i], n_pairs=res["n"][i])


def _excluded_counts(ours, keys, records):
    if not len(ours) or not ours["excluded"].any():
        return
    bad = ours[ours["excluded"]]
    for (rk_t), g in bad.groupby(keys + ["task", "metric"], dropna=False):
        rk, c = tuple(rk_t[:len(keys)]), tuple(rk_t[len(keys):])
        records.setdefault((rk, c), {"n": 0})["n_excluded"] = int(g["cell_id"].nunique())


def _ref_key(ref: pd.DataFrame, keys) -> list[tuple]:
    return [tuple(r) for r in ref[keys].itertuples(index=False)]


def _paper(target, ref, keys, shown, records):
    if not len(ref):
        return
    for rk, t, m, v in zip(_ref_key(ref, keys), ref["task"], ref["metric"], ref["value"]):
        if (t, m) in shown and pd.notna(v):
            rec = records.setdefault((rk, (t, m)), {"n": 0})
            rec["paper"] = float(v)
            if rec.get("n"):
                rec["ours_minus_paper"] = rec["mean"] - float(v)


def _chance(ours, keys, records):
    if "chance" not in ours.columns or not ours["chance"].notna().any():
        return
    ch = ours.groupby(["task", "metric"])["chance"].mean()
    for (rk, c), rec in records.items():
        if c in ch.index:
            rec["chance"] = float(ch[c])


def _expected(target, ref, keys, shown) -> list:
    """The slots the layout has, in the paper's order: the printed ones, or the declared rows × columns."""
    if target.expect:
        return list(dict.fromkeys((tuple(NONE if v is None else v for v in rk), c) for rk in target.expect
                                  for c in shown))
    if not len(ref):
        return []
    return list(dict.fromkeys((rk, (t, m)) for rk, t, m, v in zip(_ref_key(ref, keys), ref["task"], ref["metric"],
                                                                  ref["value"]) if (t, m) in shown and pd.notna(v)))
