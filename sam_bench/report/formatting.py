"""Rendering of report tables: strings for print, Markdown, CSV and LaTeX (booktabs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sam_bench.io import atomic_write

from .labels import _isnull

__all__ = ["display_frame", "to_markdown", "to_csv", "flat_frame"]


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
        atomic_write(path, text)
    return text
