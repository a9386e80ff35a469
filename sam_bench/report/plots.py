"""Draw any figure target from its slots (targets.compute): one generic renderer.

* numeric x (data rate, ρ/a/m/s, α, step): one panel per (panel key × column); a line per method
  (mean over seeds) with its 95% bootstrap band; the paper's printed points as hollow markers;
  rows without an x (the no-SAM or Adam run of an ablation) as horizontal reference lines;
* no x (task transfer): the columns on the x axis, a point per method with its interval;
* x = α with a β row key (loss surfaces): one filled contour panel per method.
A target without data still gets its page: what is missing and where the data comes from.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sam_bench.io import atomic_write

from .render import _label, status_line, title
from .targets import NONE, Target

__all__ = ["draw", "missing_page"]

_COLORS = ["0.15", "tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:pink"]


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return np.nan


def missing_page(target: Target, info: dict) -> Figure:
    fig = Figure(figsize=(11.69, 8.27))
    text = status_line(info, limit=12)
    if target.needs:
        text += f"\nData from: {target.needs}."
    fig.text(0.5, 0.95, title(target), ha="center", va="top", fontsize=12, weight="bold")
    fig.text(0.06, 0.85, "\n".join(textwrap.fill(t, 150) for t in text.split("\n")), ha="left", va="top", fontsize=9)
    return fig


def draw(target: Target, slots: pd.DataFrame, info: dict) -> Figure:
    keys = info["keys"]
    have = slots[slots["n"].fillna(0) > 0] if len(slots) else slots
    if not len(have):
        return missing_page(target, info)
    if target.x is None:
        return _categorical(target, slots, info)
    if "beta" in keys:
        return _surface(target, have, info)
    return _lines(target, slots, info)


def _panels(target: Target, keys) -> list[str]:
    """Row keys that make separate panels: model (when it is not a series), the ablation axis name."""
    return [k for k in ("model", "hparam_name") if k in keys and k != target.x]


def _lines(target: Target, slots: pd.DataFrame, info: dict) -> Figure:
    keys, cols = info["keys"], [tuple(c) for c in info["columns"]]
    pk = _panels(target, keys)
    series_keys = [k for k in keys if k not in pk and k != target.x and k != "hparam_value"]
    pvals = list(dict.fromkeys(tuple(r) for r in slots[pk].itertuples(index=False))) if pk else [()]
    xs_present = slots[target.x] != NONE
    lines_only = [p for p in pvals if not pk or (slots.loc[xs_present, pk].apply(tuple, axis=1) == p).any()] or pvals
    nrow, ncol = len(lines_only), len(cols)
    transpose = ncol == 1  # one column (a score): the panels side by side
    if transpose:
        nrow, ncol = 1, nrow
    fig = Figure(figsize=(min(3.6 * ncol + 0.5, 22), 2.9 * nrow + 1.5), layout="constrained")
    methods = list(dict.fromkeys(slots["method"])) if "method" in slots.columns else [""]
    color = {m: _COLORS[i % len(_COLORS)] for i, m in enumerate(methods)}
    log = target.x == "subsample_rate"
    for i, p in enumerate(lines_only):
        in_panel = slots if not pk else slots[slots[pk].apply(tuple, axis=1) == p]
        for j, c in enumerate(cols):
            ax = fig.add_subplot(nrow, ncol, i + 1 if transpose else i * ncol + j + 1)
            sub = in_panel[(in_panel["task"] == c[0]) & (in_panel["metric"] == c[1])]
            # reference lines: rows of the panel's model without an x (and all no-x rows of other panels' axis)
            flat = slots[(slots[target.x] == NONE) & (slots["task"] == c[0]) & (slots["metric"] == c[1])]
            if "model" in pk and len(flat):
                flat = flat[flat["model"] == p[pk.index("model")]]
            for sk, g in sub[sub[target.x] != NONE].groupby(series_keys, sort=False, dropna=False):
                sk = sk if isinstance(sk, tuple) else (sk,)
                name = " ".join(str(v) for v in sk if v != NONE)
                col = color.get(g["method"].iloc[0] if "method" in g else "", "tab:gray")
                g = g.assign(_x=[_num(v) for v in g[target.x]]).sort_values("_x")
                ok = g[g["n"].fillna(0) > 0]
                if len(ok):
                    ax.plot(ok["_x"], ok["mean"], "-", marker=".", color=col, label=f"ours: {name}", lw=1.5)
                    band = ok.dropna(subset=["lo"])
                    if len(band):
                        ax.fill_between(band["_x"], band["lo"], band["hi"], color=col, alpha=0.15, lw=0)
                pp = g[g["paper"].notna()]
                if len(pp):
                    ax.plot(pp["_x"], pp["paper"], "none", marker="o", markersize=7, markerfacecolor="none",
                            markeredgecolor=col, markeredgewidth=1.4, label=f"paper: {name}")
            for _, r in flat.iterrows():
                col = color.get(r.get("method", ""), "0.3")
                if pd.notna(r.get("mean")) and r.get("n", 0):
                    ax.axhline(r["mean"], color=col, ls="--", lw=1.2, label=f"ours: {r.get('method', '')} (line)")
                if pd.notna(r.get("paper")):
                    ax.axhline(r["paper"], color=col, ls=":", lw=1.2, label=f"paper: {r.get('method', '')} (line)")
            chance = sub["chance"].dropna() if "chance" in sub.columns else ()
            if len(chance):  # what one constant prediction scores: a line under which nothing was learned
                ax.axhline(float(chance.iloc[0]), color="0.45", ls="-.", lw=1.0, label="chance (constant prediction)")
            ticks = sorted({x for x in (_num(v) for v in sub[target.x]) if not np.isnan(x)})
            if log:
                ax.set_xscale("log")
                ax.minorticks_off()
            if ticks and len(ticks) <= 12:
                ax.set_xticks(ticks, [f"{t * 100:g}%" if log else f"{t:g}" for t in ticks])
            ax.set_title(": ".join([" ".join(str(v) for v in p if v != NONE), _label(c)]).strip(": "), fontsize=8)
            ax.set_xlabel({"subsample_rate": "training-data rate", "hparam_value": p[-1] if "hparam_name" in pk
                           else "value"}.get(target.x, target.x), fontsize=7)
            ax.tick_params(labelsize=7)
            ax.grid(True, alpha=0.3)
    shared_legend(fig)
    fitted_title(fig, f"{title(target)}\n{status_line(info)}. Lines: ours, mean over seeds, band = 95% bootstrap "
                 "interval; hollow markers: published numbers; dash-dot: chance.", fontsize=8)
    return fig


def _categorical(target: Target, slots: pd.DataFrame, info: dict) -> Figure:
    cols = [tuple(c) for c in info["columns"]]
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    methods = list(dict.fromkeys(slots["method"]))
    w = 0.8 / max(1, len(methods))
    for i, m in enumerate(methods):
        g = slots[slots["method"] == m].set_index(["task", "metric"])
        g = g[~g.index.duplicated()]
        xs = np.arange(len(cols)) + (i - (len(methods) - 1) / 2) * w
        mu = np.array([g["mean"].get(c, np.nan) for c in cols], dtype=float)
        lo = np.array([g["lo"].get(c, np.nan) for c in cols], dtype=float)
        hi = np.array([g["hi"].get(c, np.nan) for c in cols], dtype=float)
        err = np.vstack([np.nan_to_num(mu - lo), np.nan_to_num(hi - mu)])
        ax.errorbar(xs, mu, yerr=err, fmt="o", color=_COLORS[i % len(_COLORS)], label=m, capsize=3)
    ax.set_xticks(range(len(cols)), [_label(c) for c in cols], fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fitted_title(fig, f"{title(target)}\n{status_line(info)}", fontsize=9)
    return fig


def _surface(target: Target, have: pd.DataFrame, info: dict) -> Figure:
    methods = list(dict.fromkeys(have["method"]))
    fig = Figure(figsize=(4 * len(methods) + 1, 4), layout="constrained")
    for i, m in enumerate(methods):
        g = have[have["method"] == m]
        ax = fig.add_subplot(1, len(methods), i + 1)
        cs = ax.tricontourf(g["alpha"].map(_num), g["beta"].map(_num), g["mean"], levels=20, cmap="viridis")
        fig.colorbar(cs, ax=ax)
        ax.set_title(str(m), fontsize=9)
        ax.set_xlabel("α")
        ax.set_ylabel("β")
    fitted_title(fig, f"{title(target)}\n{status_line(info)}", fontsize=9)
    return fig


def shared_legend(fig: Figure, fontsize: float = 7) -> None:
    """One legend below all panels, each label once (the panels repeat the same lines), in as
    many columns as the figure's width holds."""
    handles, labels = {}, []
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    if labels:
        widest = max(len(lab) for lab in labels) * _GLYPH_EM * fontsize / 72 + 0.5  # inches, with the marker
        ncols = max(1, min(4, len(labels), int(fig.get_figwidth() // widest)))
        fig.legend([handles[lab] for lab in labels], labels, loc="outside lower center", ncols=ncols,
                   fontsize=fontsize, frameon=False)


_GLYPH_EM = 0.55  # a proportional font's mean glyph width, in ems


def fitted_title(fig: Figure, text: str, fontsize: float = 9) -> None:
    """``fig.suptitle`` with each line wrapped to the figure's width (a long title is not cut)."""
    chars = max(20, int(fig.get_figwidth() * 72 / (_GLYPH_EM * fontsize)) - 2)
    fig.suptitle("\n".join(textwrap.fill(line, chars) for line in text.split("\n")), fontsize=fontsize)


def save_figure(fig: Figure, base: Path, dpi: int) -> list[Path]:
    """``fig`` as ``<base>.pdf`` and ``<base>.png`` (at ``dpi``), each written atomically."""
    out = []
    for ext, kw in (("pdf", {}), ("png", {"dpi": dpi})):
        path = base.with_suffix(f".{ext}")
        atomic_write(path, lambda tmp, e=ext, k=kw: fig.savefig(tmp, format=e, **k))
        out.append(path)
    return out
