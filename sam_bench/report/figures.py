"""Figures in the layout of the papers' figures (matplotlib only; no pyplot state is used).

:func:`bahri_figure1`: Bahri et al. Figure 1 (score against training-data rate, AdaFactor vs SAM),
with our runs as lines (mean over replicates, a min–max or ±std band) and the paper's published
numbers, where a table prints them (5%: Tables 6/7; 100%: Tables 1/2/4), as hollow markers.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

from .reference import BAHRI_TABLES_BY_RATE, paper_rows_for
from .tables import (METRIC_LABELS, SCORE, TASK_LABELS, _filter_ours, _init_is, _model_key, _rep, _variants,
                     benchmark_score, canonical_task_metrics, column_label, model_label)

__all__ = ["bahri_figure1", "training_curves", "pct_label"]

_BASE_COLOR = "0.15"
_SAM_COLORS = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:pink", "tab:olive"]


def pct_label(rate: float) -> str:
    """0.05 -> "5%", 1.0 -> "100%", 0.005 -> "0.5%"."""
    return f"{float(rate) * 100:g}%"


def _colors(variants: Sequence[str], is_base: dict) -> dict:
    out, k = {}, 0
    for v in variants:
        if is_base.get(v, False):
            out[v] = _BASE_COLOR
        else:
            out[v] = _SAM_COLORS[k % len(_SAM_COLORS)]
            k += 1
    return out


def _panels(tms, per):
    """[(title, columns)] : one per task (or task-metric), then the benchmark score."""
    panels = []
    if per == "metric":
        panels = [(column_label(t, m), [(t, m)]) for t, m in tms]
    else:
        for t in dict.fromkeys(t for t, _ in tms):
            cols = [(tt, m) for tt, m in tms if tt == t]
            name = TASK_LABELS.get(t, t)
            mets = "/".join(METRIC_LABELS.get(m, m) for _, m in cols)
            panels.append((f"{name} ({'mean of ' if len(cols) > 1 else ''}{mets})", cols))
    panels.append((f"{SCORE} (mean over our tasks)", None))
    return panels


def _panel_values(wide: pd.DataFrame, cols, tms) -> pd.Series:
    if cols is None:
        return benchmark_score(wide, tms)
    return wide[cols].astype("float64").mean(axis=1, skipna=False)


def _grid_figure(nrows: int, ncols: int, panel_size: tuple[float, float], legend_height: float) -> Figure:
    """A figure sized for an nrows x ncols grid of panels, with ``legend_height`` inches left for
    the title and the legend below."""
    return Figure(figsize=(panel_size[0] * ncols + 0.4, panel_size[1] * nrows + legend_height),
                  layout="constrained")


def _show_no_data(fig: Figure, message: str) -> Figure:
    """Fill an otherwise empty figure with ``message``, so that a report still has a figure to show."""
    ax = fig.add_subplot(1, 1, 1)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def _shared_legend(fig: Figure, fontsize: float) -> None:
    """One legend below all panels, each label once (the panels repeat the same lines)."""
    handles, labels = {}, []
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    if labels:
        fig.legend([handles[lab] for lab in labels], labels, loc="outside lower center", ncols=min(4, len(labels)),
                   fontsize=fontsize, frameon=False)


def bahri_figure1(rows_df: pd.DataFrame, reference_df: pd.DataFrame | None = None, *, per: str = "task",
                  band: str = "minmax", init: str | None = "pretrained", models: Sequence[str] | None = None,
                  paper_model: str = "t5.1.1-small", panel_size: tuple[float, float] = (3.3, 2.7)) -> Figure:
    """Score against training-data rate, baseline vs each sharpness-aware method/ρ.

    One row of axes per model of ours; one axes per task (``per="task"``: y = the task's mean
    over its metrics; ``per="metric"``: one axes per task-metric pair) and a last axes for the
    benchmark score (:func:`tables.benchmark_score`, over our tasks).  Lines: mean over
    replicates (gid ``"ours"``) with a band (``band="minmax"`` or ``"std"``; ``None`` for none).
    Hollow markers (gid ``"paper"``, legend ``"paper T5.1.1-Small: <method>"``): the published
    ``paper_model`` numbers at the rates a Bahri table prints them, computed for the same panel.
    x is log-scaled with ticks at every plotted rate, labelled as percentages.
    """
    if reference_df is None:
        from .reference import load_reference
        reference_df = load_reference()
    ours = _filter_ours(rows_df, None, init, None)
    if models is not None:
        ours = ours[ours["model"].isin(list(models))]
    model_list = sorted(ours["model"].unique(), key=_model_key) if len(ours) else []
    tms = canonical_task_metrics(zip(ours["task"], ours["metric"]))
    panels = _panels(tms, per)
    nrows, ncols = max(1, len(model_list)), len(panels)
    fig = _grid_figure(nrows, ncols, panel_size, legend_height=1.3)
    if not len(ours):
        return _show_no_data(fig, "no results")
    ours = _variants(ours)
    ours["_rep"] = _rep(ours)
    info = ours.drop_duplicates("_variant").set_index("_variant")
    variants = sorted(info.index, key=lambda v: (not info.at[v, "_is_base"], str(info.at[v, "_base"]),
                                                 float(info.at[v, "rho"]) if not info.at[v, "_is_base"] else 0.0))
    color = _colors(variants, {v: bool(info.at[v, "_is_base"]) for v in variants})
    wide = ours.pivot_table(index=["model", "_variant", "subsample_rate", "_rep"], columns=["task", "metric"],
                            values="value", aggfunc="mean")
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples(tms))
    wide.columns = [tuple(c) for c in wide.columns]

    # the paper's points: {rate: {variant: wide-row}}
    paper_pts: dict[float, pd.DataFrame] = {}
    paper_tables: set[str] = set()
    for rate in sorted(BAHRI_TABLES_BY_RATE):
        pr = paper_rows_for(reference_df, list(dict.fromkeys(t for t, _ in tms)), rate)
        pr = pr[pr["model"] == paper_model]
        pr = pr[np.array([(t, m) in set(tms) for t, m in zip(pr["task"], pr["metric"])], dtype=bool)]
        if not len(pr):
            continue
        paper_tables |= set(pr["table"])
        pr = _variants(pr.assign(base_optimizer=np.nan))
        pw = pr.pivot_table(index="_variant", columns=["task", "metric"], values="value", aggfunc="first")
        pw = pw.reindex(columns=pd.MultiIndex.from_tuples(tms))
        pw.columns = [tuple(c) for c in pw.columns]
        pw["_is_base"] = pr.drop_duplicates("_variant").set_index("_variant")["_is_base"].reindex(pw.index)
        paper_pts[rate] = pw
    paper_variants = sorted({v for pw in paper_pts.values() for v in pw.index},
                            key=lambda v: (v != "adafactor", v))

    rates = sorted(set(float(r) for r in ours["subsample_rate"].unique()) | set(paper_pts))
    plabel = f"paper {model_label(paper_model)}"
    first_ax = None
    for i, model in enumerate(model_list):
        for j, (title, cols) in enumerate(panels):
            ax = fig.add_subplot(nrows, ncols, i * ncols + j + 1)
            first_ax = first_ax or ax
            for v in variants:
                try:
                    sub = wide.loc[(model, v)]
                except KeyError:
                    continue
                y = _panel_values(sub, cols, tms).dropna()
                if not len(y):
                    continue
                g = y.groupby(level="subsample_rate")
                stats = pd.DataFrame({"mean": g.mean(), "min": g.min(), "max": g.max(),
                                      "std": g.std(ddof=1).fillna(0.0)}).sort_index()
                x = stats.index.to_numpy(dtype=float)
                ax.plot(x, stats["mean"], "-", marker=".", color=color[v], label=f"ours: {v}", gid="ours", lw=1.6)
                if band == "minmax":
                    ax.fill_between(x, stats["min"], stats["max"], color=color[v], alpha=0.15, lw=0)
                elif band == "std":
                    ax.fill_between(x, stats["mean"] - stats["std"], stats["mean"] + stats["std"], color=color[v],
                                    alpha=0.15, lw=0)
            for v in paper_variants:
                xs, ys, is_base = [], [], True
                for rate, pw in paper_pts.items():
                    if v not in pw.index:
                        continue
                    is_base = bool(pw.at[v, "_is_base"])
                    val = _panel_values(pw.loc[[v]], cols, tms).iloc[0]
                    if pd.notna(val):
                        xs.append(rate)
                        ys.append(float(val))
                if xs:
                    c = _BASE_COLOR if is_base else color.get(v, "tab:gray")
                    ax.plot(xs, ys, linestyle="none", marker="o" if is_base else "s", markersize=8,
                            markerfacecolor="none", markeredgecolor=c, markeredgewidth=1.6,
                            label=f"{plabel}: {v}", gid="paper")
            ax.set_xscale("log")
            ax.margins(x=0.08)
            ax.xaxis.set_major_locator(FixedLocator(rates))
            ax.set_xticks(rates, [pct_label(r) for r in rates])
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.tick_params(axis="x", labelsize=7, labelrotation=45 if len(rates) > 5 else 0)
            ax.set_title(f"{model_label(model)}: {title}", fontsize=9)
            ax.grid(True, alpha=0.3)
            if i == nrows - 1:
                ax.set_xlabel("training-data rate", fontsize=8)
            if j == 0:
                ax.set_ylabel("score (0–100)", fontsize=8)
    bandtxt = {"minmax": "band = min–max over replicates", "std": "band = ±1 std over replicates"}.get(band, "no band")
    _shared_legend(fig, fontsize=8)
    src = ", ".join(sorted(paper_tables, key=lambda s: int(s.split()[-1])))
    fig.suptitle("Bahri et al. Figure 1 layout: score vs training-data rate. Lines: ours, mean over replicates; "
                 f"{bandtxt}.\nHollow markers: published {model_label(paper_model)} numbers"
                 f"{' (' + src + ')' if src else ' (none printed for these tasks)'}, computed per panel as for ours.",
                 fontsize=9)
    fig._sam_bench_meta = {"rates": rates, "panels": [p[0] for p in panels], "models": model_list,
                           "paper_tables": sorted(paper_tables)}
    return fig


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
    fig = _grid_figure(nrows, ncols, panel_size, legend_height=1.0)
    if not len(df):
        return _show_no_data(fig, "no curves")
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
    _shared_legend(fig, fontsize=7)
    fig.suptitle("Evaluation curves (mean over seeds; line style = training-data rate)", fontsize=9)
    return fig
