"""Write every target: ``tables/<key>.{csv,md,tex}`` (and ``figures/<key>.{pdf,png}`` for figures),
its report pages, and its manifest entry (filled / expected cells, what is missing)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd
from matplotlib.figure import Figure

import sam_bench.report.plots as plots
import sam_bench.report.render as render
from .aggregate import atomic_write_text, atomic_write_via
from .targets import TARGETS, Target, compute

__all__ = ["publish_targets", "curve_rows"]


def curve_rows(rows: pd.DataFrame, curves: pd.DataFrame | None) -> pd.DataFrame:
    """The evaluation curves with each cell's identity (from its result rows) joined on."""
    if curves is None or not len(curves) or not len(rows):
        return pd.DataFrame(columns=list(rows.columns) + ["step"])
    ident = rows.drop(columns=[c for c in ("task", "metric", "value", "step") if c in rows.columns])
    ident = ident.drop_duplicates("cell_id")
    return curves[["cell_id", "step", "task", "metric", "value"]].merge(ident, on="cell_id", how="inner")


def _save_fig(fig: Figure, base: Path) -> list[Path]:
    out = []
    for ext, kw in (("pdf", {}), ("png", {"dpi": 130})):
        p = base.with_suffix(f".{ext}")
        atomic_write_via(p, lambda t, e=ext, k=kw: fig.savefig(t, format=e, **k))
        out.append(p)
    return out


def publish_targets(rows: pd.DataFrame, curves: pd.DataFrame | None, reference: pd.DataFrame, out: Path,
                    table_pages, *, targets: Sequence[Target] = TARGETS, digits: int = 1,
                    figures: bool = True) -> tuple[list, list[dict], list[Path]]:
    """(report sections [(title, pages)], manifest entries, files). ``table_pages(disp, title, notes, fixed)``
    lays a table out on pages (pdf.table_pages). ``figures=False`` skips drawing (fast checks)."""
    sections, entries, files = [], [], []
    with_curves = curve_rows(rows, curves) if any(t.curves for t in targets) else None
    for t in targets:
        slots, info = compute(t, with_curves if t.curves else rows, reference)
        excl = slots[slots["n_excluded"].fillna(0) > 0] if len(slots) else slots
        if len(excl) and "method" in excl.columns:
            info["excluded_by_method"] = ", ".join(f"{m}: {int(n)}" for m, n in
                                                   excl.groupby("method")["n_excluded"].max().items())
        notes = render.notes(t, slots, info)
        disp = render.display(t, slots, info, digits)
        stem = out / "tables" / t.key
        atomic_write_text(stem.with_suffix(".csv"), slots.to_csv(index=False))
        atomic_write_text(stem.with_suffix(".md"), render.to_markdown(t, disp, notes))
        atomic_write_text(stem.with_suffix(".tex"), render.to_latex(t, disp, notes))
        files += [stem.with_suffix(e) for e in (".csv", ".md", ".tex")]
        pages: list[Figure] = []
        if figures and t.kind == "figure":
            fig = plots.draw(t, slots, info)
            files += _save_fig(fig, out / "figures" / t.key)
            pages.append(fig)
        if figures and not info["filled"]:  # nothing of ours yet: one page saying what is missing (the
            if t.kind == "table":           # paper's numbers are in the table files)
                pages.append(plots.missing_page(t, info))
        elif figures:
            pages += table_pages(disp, render.title(t), notes, fixed=len(info["keys"]) + 2)
        sections.append((render.title(t), pages))
        entries.append({"key": t.key, "paper": t.paper, "number": t.number, "title": t.title, "kind": t.kind,
                        "grids": list(t.grids), "filled": info["filled"], "expected": info["expected"],
                        "status": render.status_line(info),
                        "missing": [["/".join(str(v) for v in rk), f"{c[0]} {c[1]}"] for rk, c in info["missing"]],
                        "experiment_cells": len(info["cells"]), "n_excluded_rows": info["n_excluded"],
                        "needs": t.needs or None,
                        "files": [str(p.relative_to(out)) for p in files if p.stem == t.key]})
    return sections, entries, files
