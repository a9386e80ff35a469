"""Loss-landscape figures (FSAM Figures 4 and 5) and the diagnostics table, from the tidy rows
that ``sam-bench landscape`` / ``sam-bench hessian`` write per finished cell.

* :func:`landscape_1d_figure`: training loss against α on θ₁ + α(θ₁ − θ₀), one line per
  method (mean over seeds, min–max band), one panel per (model, task).
* :func:`landscape_2d_figure`: contour maps of the loss on the filter-normalised plane, one
  panel per method (the first seed of each), on a shared colour scale.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sam_bench.io import atomic_write


__all__ = ["read_diagnostics", "landscape_1d_figure", "landscape_2d_figure", "write_diagnostics"]


def read_diagnostics(paths: Iterable[str | Path]) -> pd.DataFrame:
    rows = []
    for path in paths:
        doc = json.loads(Path(path).read_text())
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise ValueError(f"{path}: not a diagnostics file (expected an object with a list 'rows')")
        rows += doc["rows"]
    df = pd.DataFrame(rows)
    for axis in ("alpha", "beta"):  # grid coordinates join across cells
        if axis in df:
            df[axis] = pd.to_numeric(df[axis]).round(10)
    return df


def _methods(df: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(df.sort_values(["base_optimizer", "method"])["method"]))


def landscape_1d_figure(df: pd.DataFrame) -> Figure:
    d = df[df["metric"] == "landscape_1d"]
    if d.empty:
        raise ValueError("no landscape_1d rows to draw")
    panels = list(d.groupby(["model", "task"], sort=True))
    fig = Figure(figsize=(4.2 * len(panels), 3.2), layout="constrained")
    for ax, ((model, task), part) in zip(np.atleast_1d(fig.subplots(1, len(panels))), panels):
        for method in _methods(part):
            stats = part[part["method"] == method].groupby("alpha")["value"].agg(["mean", "min", "max"])
            line, = ax.plot(stats.index, stats["mean"], label=method)
            ax.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(), alpha=0.15, lw=0)
        ax.axvline(0.0, color="0.6", lw=0.6, ls=":")
        ax.set(title=f"{model} on {task}", xlabel=r"$\alpha$ in $\theta_1 + \alpha(\theta_1 - \theta_0)$",
               ylabel="training loss")
        ax.legend(fontsize=7)
    return fig


def landscape_2d_figure(df: pd.DataFrame) -> Figure:
    d = df[df["metric"] == "landscape_2d"]
    if d.empty:
        raise ValueError("no landscape_2d rows to draw")
    d = d[d["seed"] == d.groupby("method")["seed"].transform("min")]
    methods = _methods(d)
    vmin, vmax = float(d["value"].min()), float(np.nanpercentile(d["value"], 95))
    fig = Figure(figsize=(3.4 * len(methods), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(methods), sharey=True))
    for ax, method in zip(axes, methods):
        grid = d[d["method"] == method].pivot_table(index="beta", columns="alpha", values="value")
        levels = np.linspace(vmin, vmax, 15)
        cs = ax.contourf(grid.columns, grid.index, grid.values.clip(vmin, vmax), levels=levels, cmap="viridis")
        ax.set(title=method, xlabel=r"$\alpha$ ($d_1$)")
    axes[0].set_ylabel(r"$\beta$ ($d_2$)")
    fig.colorbar(cs, ax=list(axes), label="training loss")
    return fig


def write_diagnostics(inputs: Iterable[str | Path], out_csv: str | Path, figures: str | Path) -> list[Path]:
    """The rows of every input as one CSV, and the landscape figures that the rows allow."""
    df = read_diagnostics(inputs)
    out_csv, figures = Path(out_csv), Path(figures)
    atomic_write(out_csv, df.to_csv(index=False))
    written = [out_csv]
    for name, draw, metric in (("landscape_1d", landscape_1d_figure, "landscape_1d"),
                               ("landscape_2d", landscape_2d_figure, "landscape_2d")):
        if (df.get("metric") == metric).any():
            fig = draw(df)
            for ext in ("pdf", "png"):
                path = figures / f"{name}.{ext}"
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, lambda t, e=ext: fig.savefig(t, format=e, dpi=150))
                written.append(path)
    return written
