"""Evaluation curves of the cells (matplotlib only; no pyplot state is used). The papers'
figures are targets (``targets/``), drawn by ``plots``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .labels import _init_is, _variants, canonical_task_metrics, column_label
from .plots import fitted_title, shared_legend

__all__ = ["training_curves", "pct_label"]

_BASE_COLOR = "0.15"
_SAM_COLORS = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:pink", "tab:olive"]


def pct_label(rate: float) -> str:
    """0.05 -> "5%", 1.0 -> "100%", 0.005 -> "0.5%"."""
    return f"{float(rate) * 100:g}%"


def _colors(variants, is_base: dict) -> dict:
    out, k = {}, 0
    for v in variants:
        if is_base.get(v, False):
            out[v] = _BASE_COLOR
        else:
            out[v] = _SAM_COLORS[k % len(_SAM_COLORS)]
            k += 1
    return out


def training_curves(curves_df: pd.DataFrame, *, init: str | None = "pretrained", model: str | None = None,
                    panel_size: tuple[float, float] = (3.3, 2.5)) -> Figure:
    """Evaluation curves: one axes per task-metric, one line per method/ρ (mean over seeds),
    line style by training-data rate.  ``curves_df`` as from :func:`aggregate.collect_curves`."""
    df = curves_df
    if init is not None and "init" in df.columns and df["init"].notna().any():
        df = df[_init_is(df["init"], init)]
    if model is not None:
        df = df[df["model"] == model]
    tms = canonical_task_metrics(zip(df["task"], df["metric"]))
    ncols = min(4, max(1, len(tms)))
    nrows = max(1, int(np.ceil(len(tms) / ncols)))
    # room for the title and the legend below the grid
    fig = Figure(figsize=(panel_size[0] * ncols + 0.4, panel_size[1] * nrows + 1.0), layout="constrained")
    if not len(df):
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no curves", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    df = _variants(df)
    info = df.drop_duplicates("_variant").set_index("_variant")
    variants = sorted(info.index, key=lambda v: (not info.at[v, "_is_base"], v))
    color = _colors(variants, {v: bool(info.at[v, "_is_base"]) for v in variants})
    rates = sorted(df["subsample_rate"].dropna().unique(), reverse=True)
    styles = ["-", "--", ":", "-."]
    for k, (t, m) in enumerate(tms):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        sub = df[(df["task"] == t) & (df["metric"] == m)]
        for v in variants:
            for ri, r in enumerate(rates):
                s = sub[(sub["_variant"] == v) & np.isclose(sub["subsample_rate"].astype(float), r)]
                if not len(s):
                    continue
                g = s.groupby("step")["value"].mean().sort_index()
                ax.plot(g.index.to_numpy(dtype=float), g.to_numpy(dtype=float), styles[ri % len(styles)], color=color[v],
                        label=f"{v}, {pct_label(r)}", lw=1.3)
        ax.set_title(column_label(t, m), fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.grid(True, alpha=0.3)
    shared_legend(fig, fontsize=7)
    fitted_title(fig, "Evaluation curves (mean over seeds; line style = training-data rate)", fontsize=9)
    return fig
