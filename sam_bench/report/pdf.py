"""The report: tables (CSV + Markdown), figures (PDF + PNG) and one ``report.pdf``.

Every number printed comes from the frames passed in (and ``meta``): nothing is hard-coded.
Every file is written atomically (temporary file beside it, then ``os.replace``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import textwrap
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sam_bench.io import atomic_write

from .aggregate import read_summary
from .checks import cost_table, pretraining_check
from .figures import pct_label, training_curves
from .formatting import display_frame, to_csv, to_markdown
from .publish import publish_targets
from .tables import encoder_rows
from .health import split_by_health
from .plots import save_figure

__all__ = ["build_report", "table_pages", "rate_slug", "PAGE_SIZE"]

#: A4 landscape, inches.
PAGE_SIZE = (11.69, 8.27)
_MARGIN = 0.4
_FONT = 8.0
_CHAR_W = 0.60  # average glyph width / font size (DejaVu Sans, with room for digits and ±)


def rate_slug(rate: float) -> str:
    """1.0 -> "100", 0.05 -> "5", 0.005 -> "0p5" (for file names)."""
    return f"{float(rate) * 100:g}".replace(".", "p")


# ------------------------------------------------------------------------------ table pages
def _col_width(col: pd.Series, name: str, fs: float) -> float:
    n = max([len(str(name)) * 1.15] + [len(str(v)) for v in col])  # headers are bold
    return (n + 2) * _CHAR_W * fs / 72.0


_TITLE_FONT, _BOLD_EM = 11, 0.62  # page titles: points, and a bold glyph's mean width in ems


def table_pages(disp: pd.DataFrame, title: str, notes: list[str] | None = None, *, fixed: int = 0,
                fontsize: float = _FONT, page_size: tuple[float, float] = PAGE_SIZE, max_rows: int | None = None,
                row_style=None) -> list[Figure]:
    """Render a frame of strings as one or more pages (Figures).

    The first ``fixed`` columns (row labels) repeat on every page; the other columns are packed
    greedily into the page width, and rows are split so that each page fits its height.  Page
    titles say which part of the table a page shows.  ``row_style(i) -> (facecolor, italic)``.
    """
    W, H = page_size
    avail_w = W - 2 * _MARGIN
    notes = list(notes or [])
    note_lines = sum(len(textwrap.wrap(n, width=int(avail_w * 72 / (0.55 * 7)))) or 1 for n in notes)
    row_h = fontsize * 2.0 / 72.0
    # a long title wraps to the page width; the table starts below its last line
    title_chars = int(avail_w * 72 / (_BOLD_EM * _TITLE_FONT))
    longest_part = "  [columns 99/99, rows 9999–9999 of 9999]"
    title_h = (len(textwrap.wrap(title + longest_part, title_chars)) - 1) * _TITLE_FONT * 1.3 / 72.0
    avail_h = H - 2 * _MARGIN - 0.45 - title_h - note_lines * 7 * 1.35 / 72.0
    rows_per_page = max(1, int(avail_h / row_h) - 1)
    if max_rows:
        rows_per_page = min(rows_per_page, max_rows)
    widths = [_col_width(disp[c], c, fontsize) for c in disp.columns]
    fixed_w = sum(widths[:fixed])
    groups, cur, cur_w = [], [], fixed_w
    for k in range(fixed, len(disp.columns)):
        w = min(widths[k], avail_w - fixed_w)
        if cur and cur_w + w > avail_w:
            groups.append(cur)
            cur, cur_w = [], fixed_w
        cur.append(k)
        cur_w += w
    groups.append(cur)
    row_chunks = [list(range(i, min(i + rows_per_page, len(disp)))) for i in range(0, max(1, len(disp)), rows_per_page)]
    pages = []
    n_pages = len(groups) * len(row_chunks)
    for gi, grp in enumerate(groups):
        for chunk in row_chunks:
            cols = list(range(fixed)) + grp
            fig = Figure(figsize=page_size)
            part = ""
            if n_pages > 1:
                bits = []
                if len(groups) > 1:
                    bits.append(f"columns {gi + 1}/{len(groups)}")
                if len(row_chunks) > 1:
                    bits.append(f"rows {chunk[0] + 1}–{chunk[-1] + 1} of {len(disp)}")
                part = f"  [{', '.join(bits)}]"
            fig.text(0.5, 1 - _MARGIN / H, textwrap.fill(title + part, title_chars), ha="center", va="top",
                     fontsize=_TITLE_FONT, weight="bold")
            ax = fig.add_axes((0, 0, 1, 1))
            ax.set_axis_off()
            if len(disp) and chunk:
                cw = [min(widths[k], avail_w) for k in cols]
                tot = sum(cw)
                scale = min(1.0, avail_w / tot)
                cw = [w * scale for w in cw]
                tot = sum(cw)
                nrow = len(chunk) + 1
                top = 1 - (_MARGIN + 0.45 + title_h) / H
                height = nrow * row_h / H
                tab = ax.table(cellText=[[disp.iat[i, k] for k in cols] for i in chunk],
                               colLabels=[disp.columns[k] for k in cols],
                               colWidths=[w / W for w in cw], cellLoc="center",
                               bbox=((1 - tot / W) / 2, top - height, tot / W, height))
                tab.auto_set_font_size(False)
                tab.set_fontsize(fontsize)
                for (r, c), cell in tab.get_celld().items():
                    cell.set_linewidth(0.3)
                    if r == 0:
                        cell.set_facecolor("0.85")
                        cell.get_text().set_weight("bold")
                    elif row_style is not None:
                        face, italic = row_style(chunk[r - 1])
                        if face:
                            cell.set_facecolor(face)
                        if italic:
                            cell.get_text().set_style("italic")
                    if c < fixed:
                        cell.get_text().set_ha("left")
                        cell.PAD = 0.03
                y_notes = top - height - 0.15 / H
            else:
                ax.text(0.5, 0.6, "(no rows)", ha="center", va="center", fontsize=12)
                y_notes = 0.5
            if notes:
                wrapped = "\n".join("• " + "\n   ".join(textwrap.wrap(n, width=int(avail_w * 72 / (0.55 * 7)))) for n in notes)
                fig.text(_MARGIN / W, y_notes, wrapped, ha="left", va="top", fontsize=7)
            pages.append(fig)
    return pages


def _comparison_style(disp: pd.DataFrame):
    def style(i):
        src, method = disp.at[i, "source"], str(disp.at[i, "method"])
        face = "#eef3fb" if src == "ours" else "#f7f2ea"
        if method.startswith("Δ"):
            face = "#dde7f7" if src == "ours" else "#efe4d2"
        return face, method.startswith("Δ")
    return style


# ------------------------------------------------------------------------------- title page
def _fmt_list(vals, fmt=str, limit=12) -> str:
    vals = list(vals)
    s = ", ".join(fmt(v) for v in vals[:limit])
    return s + (f", … ({len(vals)} in all)" if len(vals) > limit else "")


def _title_page(title: str, meta: Mapping[str, Any], rows: pd.DataFrame, cells: pd.DataFrame,
                contents: list[str], papers: str = "Bahri et al. 2022 tables") -> Figure:
    W, H = PAGE_SIZE
    fig = Figure(figsize=PAGE_SIZE)
    fig.text(0.5, 1 - 0.6 / H, title, ha="center", va="top", fontsize=18, weight="bold")
    meta = dict(meta or {})
    used = {"experiment", "date", "git_commit", "commit"}
    exps = meta.get("experiment")
    if exps is None and "experiment" in cells.columns:
        exps = _fmt_list(sorted(cells["experiment"].dropna().astype(str).unique()))
    date = meta.get("date") or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = meta.get("git_commit") or meta.get("commit") or "not given"
    lines = [("Experiment", exps or "not given"), ("Date", date), ("Git commit", commit)]
    n_cells = len(cells) if len(cells) else (rows["cell_id"].nunique() if len(rows) else 0)
    lines.append(("Cells", f"{n_cells} cells, {len(rows)} result rows (cell × task × metric)"))
    if len(rows):
        lines.append(("Models", _fmt_list(sorted(rows["model"].dropna().unique()))))
        lines.append(("Tasks / metrics", _fmt_list(sorted({f"{t}/{m}" for t, m in zip(rows["task"], rows["metric"])}))))
        meth = sorted({(str(m), -1.0 if pd.isna(r) else float(r)) for m, r in zip(rows["method"], rows["rho"])},
                      key=lambda x: (x[1] >= 0, x[0], x[1]))
        lines.append(("Methods (ρ)", _fmt_list(meth, lambda x: x[0] if x[1] < 0 else f"{x[0]} (ρ={x[1]:g})")))
        lines.append(("Training-data rates", _fmt_list(sorted(rows["subsample_rate"].dropna().unique()), pct_label)))
        lines.append(("Seeds", _fmt_list(sorted(rows["seed"].dropna().unique()))))
        if "init" in rows.columns and rows["init"].notna().any():
            lines.append(("Initialisations", _fmt_list(sorted(rows["init"].dropna().unique()))))
    if len(cells):
        comp = []
        if "wall_seconds" in cells.columns and cells["wall_seconds"].notna().any():
            comp.append(f"{cells['wall_seconds'].sum() / 3600:.2f} h wall-clock ({cells['wall_seconds'].sum():.0f} s)")
        if "steps" in cells.columns and cells["steps"].notna().any():
            comp.append(f"{int(cells['steps'].sum())} training steps")
        if "compile_seconds" in cells.columns and cells["compile_seconds"].notna().any():
            comp.append(f"{cells['compile_seconds'].sum():.0f} s compiling")
        lines.append(("Total compute", "; ".join(comp) if comp else "not recorded"))
    # synthetic vs real
    if len(rows) and "source" in rows.columns and rows["source"].notna().any():
        src_lines = []
        for s, g in rows.groupby(rows["source"].fillna("unknown")):
            src_lines.append(f"{s}: {g['cell_id'].nunique()} cells, tasks {_fmt_list(sorted(g['task'].unique()))}")
        lines.append(("Data sources", " | ".join(src_lines)))
        if rows["source"].isna().any():
            lines.append(("", f"{rows['source'].isna().sum()} rows carry no source"))
    else:
        lines.append(("Data sources", "not recorded in the result rows"))
    lines.append(("Paper numbers", f"{papers} as transcribed in reports/reference/ (published numbers, not ours)"))
    for k, v in meta.items():
        if k not in used:
            lines.append((str(k), str(v)))
    y = 1 - 1.3 / H
    for k, v in lines:
        wrapped = textwrap.wrap(str(v), width=110) or [""]
        fig.text(0.6 / W, y, k, ha="left", va="top", fontsize=10, weight="bold")
        fig.text(2.6 / W, y, "\n".join(wrapped), ha="left", va="top", fontsize=10)
        y -= (0.26 * len(wrapped) + 0.06) / H
    y -= 0.2 / H
    fig.text(0.6 / W, y, "Contents", ha="left", va="top", fontsize=10, weight="bold")
    fig.text(2.6 / W, y, "\n".join(f"p. {c}" for c in contents), ha="left", va="top", fontsize=9)
    return fig


# ---------------------------------------------------------------------------------- builder
def _frames(src) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    if isinstance(src, (str, os.PathLike)):
        rows, cells = read_summary(src)
        return rows, cells, None
    if isinstance(src, Mapping):
        return src["rows"], src.get("cells", pd.DataFrame()), src.get("curves")
    if isinstance(src, (tuple, list)):
        return src[0], src[1] if len(src) > 1 else pd.DataFrame(), src[2] if len(src) > 2 else None
    raise TypeError(f"build_report: expected a summary folder, (rows, cells[, curves]) or a dict, got {type(src)}")


def _write_table(table: pd.DataFrame, stem: Path, digits: int, files: list[Path]) -> tuple[str, list[Figure]]:
    """Write ``table`` as ``<stem>.csv`` and ``<stem>.md`` (appended to ``files``); return its
    report section: (title, pages)."""
    to_csv(table, stem.with_suffix(".csv"))
    files.append(stem.with_suffix(".csv"))
    files.append(atomic_write(stem.with_suffix(".md"), to_markdown(table, digits)))
    disp = display_frame(table, digits)
    title, notes = table.attrs["title"], table.attrs.get("notes")
    if table.attrs.get("kind") == "comparison":  # row labels: source, model, method, n
        return title, table_pages(disp, title, notes, fixed=4, row_style=_comparison_style(disp))
    return title, table_pages(disp, title, notes, fixed=min(3, disp.shape[1]))


def build_report(summary_dir_or_frames, out_dir: str | os.PathLike, title: str, meta: Mapping[str, Any] | None = None, *,
                 reference_df: pd.DataFrame | None = None, rates: list[float] | None = None,
                 digits: int = 1, pdf: bool = True) -> Path:
    """Write the full report into ``out_dir`` and return the path of ``report.pdf``.

    ``summary_dir_or_frames``: a folder written by :func:`aggregate.write_summary`, a tuple
    ``(rows_df, cells_df[, curves_df])`` or a dict with keys ``rows``, ``cells`` (and ``curves``).
    ``meta``: free-form strings for the title page; ``experiment``, ``date`` and ``git_commit`` are
    recognised, everything else is listed as is.  ``rates`` is kept for callers; the layouts come
    from the targets.

    Writes, for every target of ``targets.TARGETS`` (the 25 published tables and figures in paper
    order, and sam-bench's own): ``tables/<key>.{csv,md,tex}`` (CSV: one row per slot, full
    precision), ``figures/<key>.{pdf,png}`` for figures; ``tables/pretraining_check.*``,
    ``tables/cost_table.*``, ``figures/training_curves.*`` (when curves are given); ``manifest.json``
    (files, page titles, and per target its filled / expected cells and what is missing) and
    ``report.pdf``. ``pdf=False``: tables and manifest only (no drawing), returns the manifest path.
    """
    rows, cells, curves = _frames(summary_dir_or_frames)
    meta = dict(meta or {})
    out = Path(out_dir)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    if reference_df is None:
        from .reference import load_reference
        reference_df = load_reference()
    if rates is None:
        rates = sorted({float(r) for r in rows["subsample_rate"].dropna().unique()}, reverse=True) if len(rows) else []

    files: list[Path] = []
    sections: list[tuple[str, list[Figure]]] = []
    # diverged and plateaued runs are counted per method on their own page; the targets leave
    # them out of every mean themselves (and count them per method beside it)
    healthy, health = split_by_health(rows, cells)
    sections.append(_write_table(health, out / "tables" / "run_health", digits, files))

    # every published table and figure (targets/), in paper order; our own CPU runs' targets first when present
    target_sections, entries, target_files = publish_targets(rows, curves, reference_df, out, table_pages,
                                                             digits=digits, figures=pdf)
    files += target_files
    own = [i for i, e in enumerate(entries) if e["paper"] == "sam-bench"]
    order = [i for i in own if entries[i]["filled"]] + [i for i, e in enumerate(entries) if e["paper"] != "sam-bench"]
    sections += [target_sections[i] for i in order]
    t5 = healthy.drop(encoder_rows(healthy).index) if len(healthy) else healthy
    for name, tab in (("pretraining_check", pretraining_check(t5)), ("cost_table", cost_table(cells))):
        sections.append(_write_table(tab, out / "tables" / name, digits, files))
    init = "random" if len(t5) and "init" in t5.columns and t5["init"].eq("random").all() else "pretrained"
    if pdf and curves is not None and len(curves):
        figc = training_curves(curves, init=init)
        files += save_figure(figc, out / "figures" / "training_curves", dpi=150)
        sections.append(("Evaluation curves", [figc]))
    manifest_targets = {"targets": entries, "n_targets": len(entries),
                        "n_paper_targets": sum(e["paper"] != "sam-bench" for e in entries)}
    if not pdf:
        atomic_write(out / "manifest.json", json.dumps(
            {"title": title, "n_cells": int(len(cells)), "n_rows": int(len(rows)), **manifest_targets,
             "files": sorted(str(p.relative_to(out)) for p in files)}, indent=2, ensure_ascii=False) + "\n")
        return out / "manifest.json"

    # page numbers for the contents list (title page = 1)
    contents, page = [], 2
    for name, figs in sections:
        contents.append(f"{page}{'–' + str(page + len(figs) - 1) if len(figs) > 1 else ''}: {name}")
        page += len(figs)
    papers = "Bahri et al. 2022, Zhong et al. 2022 (FSAM) and the Functional-SAM comparison"
    title_fig = _title_page(title, meta, rows, cells, contents, papers)
    page_titles = ["Title page"] + [name for name, figs in sections for _ in figs]

    def write_pdf(tmp):
        with PdfPages(tmp, metadata={"Title": title, "Creator": "sam-bench report"}) as pdf:
            pdf.savefig(title_fig)
            for _, figs in sections:
                for f in figs:
                    pdf.savefig(f)
            n = pdf.get_pagecount()
        if n != len(page_titles):  # pragma: no cover - internal consistency
            raise RuntimeError(f"report.pdf has {n} pages, expected {len(page_titles)}")

    pdf_path = atomic_write(out / "report.pdf", write_pdf)
    manifest = {"title": title, "meta": {k: str(v) for k, v in meta.items()}, "n_pages": len(page_titles),
                "pages": page_titles, "files": sorted(str(p.relative_to(out)) for p in files + [pdf_path]),
                "rates": rates, "n_cells": int(len(cells)), "n_rows": int(len(rows)), **manifest_targets}
    atomic_write(out / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return pdf_path
