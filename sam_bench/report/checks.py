"""Diagnostics beside the paper targets: pretrained vs random initialisation, and cost per step."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .labels import _model_key, _variants, canonical_task_metrics

__all__ = ["pretraining_check", "cost_table"]


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
