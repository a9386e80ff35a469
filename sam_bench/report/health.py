"""Run health in the report: how many cells of each method diverged or never left their
plateau, and which; their rows are kept out of every averaged table.

A diverged cell (``status`` "diverged": a non-finite or collapsed loss) and a degenerate task
of a cell (its curve never rose above a constant prediction's score) are results of the
optimizer comparison, so they are counted here per method instead of being averaged in.
"""
from __future__ import annotations

import pandas as pd

__all__ = ["health_table", "healthy_rows", "split_by_health"]


def _flag(frame: pd.DataFrame, column: str, default) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(default, index=frame.index)
    return frame[column].astype(object).where(frame[column].notna(), default)


def _degenerate(frame: pd.DataFrame) -> pd.Series:
    # True, numpy True or "True" (a CSV round trip); missing (rows from before the flag) is False
    return _flag(frame, "degenerate", False).map(lambda v: str(v).lower() == "true")


def healthy_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of cells that finished ("ok") on tasks that left their plateau."""
    keep = (_flag(rows, "status", "ok") == "ok") & ~_degenerate(rows)
    return rows[keep.to_numpy(dtype=bool)]


def health_table(rows: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """One row per method: cells, how many diverged, how many have a degenerate task, and where
    (the cell ids with the reason or the tasks)."""
    records = []
    methods = sorted(set(cells["method"].dropna()) if "method" in cells.columns and len(cells) else
                     set(rows["method"].dropna()) if len(rows) else set())
    for method in methods:
        mc = cells[cells["method"] == method] if "method" in cells.columns and len(cells) else cells.iloc[0:0]
        mr = rows[rows["method"] == method] if len(rows) else rows
        diverged = mc[_flag(mc, "status", "ok") == "diverged"] if len(mc) else mc
        # a diverged cell is counted as diverged only, whatever its curve did before
        degenerate = mr[(_degenerate(mr) & (_flag(mr, "status", "ok") == "ok")).to_numpy(dtype=bool)] \
            if len(mr) else mr
        tasks = degenerate.groupby("cell_id")["task"].agg(lambda t: ",".join(sorted(set(t)))) if len(degenerate) else {}
        where = [f"{c} ({r})" for c, r in zip(diverged.get("cell_id", []), diverged.get("status_reason", []))]
        where += [f"{c}: {t} at plateau" for c, t in dict(tasks).items()]
        records.append({"method": method, "cells": int(len(mc)) if len(mc) else int(mr["cell_id"].nunique()),
                        "diverged": int(len(diverged)), "degenerate": int(len(tasks)), "where": "; ".join(where)})
    table = pd.DataFrame(records, columns=["method", "cells", "diverged", "degenerate", "where"])
    table.attrs["title"] = "Run health: diverged and degenerate cells per method"
    table.attrs["notes"] = [
        "diverged: the training loss became non-finite, or sat at the uniform-output value ln K (collapse); "
        "degenerate: a task whose every evaluation stayed at what one constant prediction scores.",
        "Their rows are left out of every table and figure that averages over cells.",
    ]
    return table


def split_by_health(rows: pd.DataFrame, cells: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the rows the averaged tables may use, the health table)."""
    return healthy_rows(rows), health_table(rows, cells)
