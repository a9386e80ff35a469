"""Render any target's slots (targets.compute) as a table: strings, Markdown, CSV, LaTeX (booktabs).

Layout: one block of lines per row key: ``ours`` (mean over seeds, 95% interval, n), ``paper``
(the printed number), ``ours − paper``, ``Δ vs <baseline>`` (paired by seed, interval, P(↑)),
and a ``chance`` line above all when the rows carry the score of the best constant prediction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import sam_bench.report.stats as stats
from .labels import column_label
from .targets import NONE, Target

__all__ = ["status_line", "display", "to_markdown", "to_latex", "notes", "title"]


def _label(c) -> str:
    t, m = c
    if t == "lm":
        return m
    return column_label(t, m)


def _f(x, digits, signed=False) -> str:
    if x is None or pd.isna(x):
        return ""
    return (f"{float(x):+.{digits}f}" if signed else f"{float(x):.{digits}f}").replace("-", "−")


def title(target: Target) -> str:
    return f"{target.label}: {target.title}"


def status_line(info: dict, limit: int = 8) -> str:
    k, n = info["filled"], info["expected"]
    if not n:
        return f"{k} cells filled (the layout follows the data)"
    if k == n:
        return f"{k} of {n} cells"
    miss = ["/".join(str(v) for v in rk if v != NONE) + f" {_label(c)}" for rk, c in info["missing"][:limit]]
    more = f", … ({len(info['missing'])} in all)" if len(info["missing"]) > limit else ""
    return f"{k} of {n} cells, missing: {'; '.join(miss)}{more}"


def column_digits(slots: pd.DataFrame, cols, digits: int) -> dict:
    """Decimal places per column: ``digits`` for scores on a 0-100 scale, two more for a column
    whose values are all below 10 in magnitude (losses in nats), so their differences show."""
    out = {c: digits for c in cols}
    for c in cols if len(slots) else ():
        means = pd.to_numeric(slots.loc[(slots["task"] == c[0]) & (slots["metric"] == c[1]), "mean"],
                              errors="coerce").abs().dropna()
        if len(means) and means.max() < 10:
            out[c] = digits + 2
    return out


def display(target: Target, slots: pd.DataFrame, info: dict, digits: int = 1) -> pd.DataFrame:
    """A frame of strings: row keys, ``line``, ``n``, one column per shown column."""
    keys, cols = info["keys"], [tuple(c) for c in info["columns"]]
    labels = [_label(c) for c in cols]
    places = column_digits(slots, cols, digits)
    out = []
    if "chance" in slots.columns and slots["chance"].notna().any():
        ch = slots.groupby(["task", "metric"])["chance"].first()
        out.append({**{k: "" for k in keys}, "line": "chance", "n": "",
                    **{lab: _f(ch.get(c), places[c]) for lab, c in zip(labels, cols)}})
    if not len(slots):
        return pd.DataFrame(out, columns=keys + ["line", "n"] + labels)
    by = {k: g for k, g in slots.groupby(keys, sort=False, dropna=False)}
    for rk, g in by.items():
        rk = rk if isinstance(rk, tuple) else (rk,)
        cell = {(t, m): r for t, m, r in zip(g["task"], g["metric"], g.to_dict("records"))}
        head = {k: ("" if v == NONE else str(v)) for k, v in zip(keys, rk)}
        ns = [int(r["n"]) for r in cell.values() if pd.notna(r.get("n")) and r.get("n")]
        n_row = max(ns) if ns else 0
        lines = {"ours": [], "paper": [], "ours − paper": [], "Δ": []}
        for c in cols:
            r, digits = cell.get(c, {}), places[c]
            n = int(r["n"]) if pd.notna(r.get("n")) and r.get("n") else 0
            s = _f(r.get("mean"), digits) if n else "—"
            if n >= 2 and pd.notna(r.get("lo")):
                s += f" [{_f(r['lo'], digits)}, {_f(r['hi'], digits)}]"
            if n and n != n_row:
                s += f" (n={n})"
            if pd.notna(r.get("n_excluded")) and r.get("n_excluded"):
                s += f" ({int(r['n_excluded'])} excl.)"
            lines["ours"].append(s)
            lines["paper"].append(_f(r.get("paper"), digits))
            lines["ours − paper"].append(_f(r.get("ours_minus_paper"), digits, signed=True))
            d = ""
            if pd.notna(r.get("delta")):
                d = _f(r["delta"], digits, signed=True)
                if r.get("n_pairs", 0) >= 2 and pd.notna(r.get("delta_lo")):
                    d += f" [{_f(r['delta_lo'], digits, True)}, {_f(r['delta_hi'], digits, True)}]"
                d += f" P(↑)={r['p_improve']:.2f}"
            lines["Δ"].append(d)
        base = g["base"].iloc[0] if "base" in g.columns else ""
        for name, vals in lines.items():
            if name != "ours" and not any(vals):
                continue
            line = f"Δ vs {base}" if name == "Δ" and base else name
            out.append({**head, "line": line, "n": str(n_row) if name == "ours" and n_row else "",
                        **dict(zip(labels, vals))})
    return pd.DataFrame(out, columns=keys + ["line", "n"] + labels)


def notes(target: Target, slots: pd.DataFrame, info: dict, rows_excluded: pd.DataFrame | None = None) -> list[str]:
    out = [status_line(info)]
    if target.needs:
        out.append(f"Data from: {target.needs}.")
    out.append(stats.describe())
    if target.score:
        out.append(f"Score columns: tasks/benchmarks.benchmark_average('{target.score}'), computed per seed from "
                   "the best-checkpoint task metrics, then averaged.")
    if target.best_rho and "rho_selected" in slots.columns and slots["rho_selected"].notna().any():
        picked = slots.dropna(subset=["rho_selected"]).groupby(["task"])["rho_selected"].agg(
            lambda s: ", ".join(f"{v:g}" for v in sorted(set(s))))
        out.append("ρ selected on dev per (model, task, method): "
                   + "; ".join(f"{t}: {v}" for t, v in picked.items()) + ".")
    if info.get("n_excluded"):
        out.append(f"Left out of the means: {info['n_excluded']} rows of diverged (status ≠ ok) or degenerate "
                   f"cells ({info.get('excluded_by_method', '')}).")
    flags = chance_flags(slots, info)
    if flags:
        out.append("Does not clear chance at the largest data rate (baseline): " + "; ".join(flags) + ".")
    out += list(target.notes)
    return out


def chance_flags(slots: pd.DataFrame, info: dict) -> list[str]:
    """Tasks whose baseline row, at the largest data rate, has a mean not above the chance score."""
    if "chance" not in slots.columns or not slots["chance"].notna().any() or "method" not in slots.columns:
        return []
    s = slots[slots["chance"].notna() & slots["mean"].notna()]
    if "base" in s.columns:
        s = s[s["method"] == s["base"]]
    if "subsample_rate" in s.columns and s["subsample_rate"].ne(NONE).any():
        rates = pd.to_numeric(s["subsample_rate"], errors="coerce")
        s = s[np.isclose(rates, rates.max())]
    bad = s[s["mean"] <= s["chance"]]
    return [f"{_label((t, m))} ({mu:.1f} ≤ {c:.1f})" for t, m, mu, c in
            zip(bad["task"], bad["metric"], bad["mean"], bad["chance"])]


def to_markdown(target: Target, disp: pd.DataFrame, note_lines: list[str]) -> str:
    parts = [f"**{title(target)}**\n",
             disp.to_markdown(index=False, disable_numparse=True) if len(disp) else "_(no rows)_", ""]
    parts += [f"* {n}" for n in note_lines]
    return "\n".join(parts) + "\n"


_TEX = {"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\~{}",
        "^": r"\^{}", "\\": r"\textbackslash{}", "−": "$-$", "ρ": r"$\rho$", "Δ": r"$\Delta$", "↑": r"$\uparrow$",
        "—": "--", "–": "--", "…": r"\dots{}", "≤": r"$\le$", "≠": r"$\ne$", "½": r"$\frac12$", "β": r"$\beta$",
        "α": r"$\alpha$", "θ": r"$\theta$", "²": r"$^2$", "×": r"$\times$", "₁": r"$_1$"}


def _tex(s) -> str:
    return "".join(_TEX.get(ch, ch) for ch in str(s))


def to_latex(target: Target, disp: pd.DataFrame, note_lines: list[str]) -> str:
    """A booktabs table (needs \\usepackage{booktabs}): caption = title, notes as a footnote block."""
    cols = list(disp.columns)
    lines = [r"\begin{table}[t]", r"\centering", r"\scriptsize",
             rf"\caption{{{_tex(title(target))}}}", rf"\label{{tab:{target.key}}}",
             r"\begin{tabular}{" + "l" * len(cols) + "}",
             r"\toprule", " & ".join(_tex(c) for c in cols) + r" \\", r"\midrule"]
    prev = None
    for _, r in disp.iterrows():
        head = tuple(r[c] for c in cols[:cols.index("line")])
        if prev is not None and head != prev and any(head):
            lines.append(r"\addlinespace")
        prev = head
        lines.append(" & ".join(_tex(v) for v in r.tolist()) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\par\smallskip\raggedright"]
    lines += [r"\textit{" + _tex(n) + r"}\\" for n in note_lines]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
