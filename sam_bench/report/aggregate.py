"""Collect finished cells (``results/cells/<cell_id>/result.json``) into tidy frames.

* ``rows_df``: one row per (cell, task, metric); the paper columns first (``paper, table, model,
  method, rho, hparam_name, hparam_value, subsample_rate, task, metric, value, split``), then
  ``seed, step, cell_id``, then the cell axes (``base_optimizer, init, subsample_seed, paper_task,
  experiment, source``), then any other row keys in sorted order.
* ``cells_df``: one row per cell: ``cell_id``, its axes, its timing, ``n_rows``, ``source`` (the
  data sources of its rows) and ``result_path``.
* ``curves_df`` (:func:`collect_curves`): the evaluation curves, with the cell axes joined on.

Every problem names the file it comes from.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from sam_bench.io import atomic_write

__all__ = [
    "PAPER_COLUMNS", "RUN_COLUMNS", "AXIS_COLUMNS", "ROW_COLUMNS",
    "REQUIRED_TOP_KEYS", "REQUIRED_CELL_KEYS", "REQUIRED_ROW_KEYS", "REQUIRED_TIMING_KEYS",
    "ResultFileError", "find_result_files", "load_result", "collect_results", "collect_curves",
    "normalize_rows", "normalize_cells", "write_summary", "read_summary",
]

PAPER_COLUMNS = ["paper", "table", "model", "method", "rho", "hparam_name", "hparam_value",
                 "subsample_rate", "task", "metric", "value", "split"]
RUN_COLUMNS = ["seed", "step", "cell_id"]
AXIS_COLUMNS = ["base_optimizer", "init", "subsample_seed", "paper_task", "experiment", "source"]
ROW_COLUMNS = PAPER_COLUMNS + RUN_COLUMNS + AXIS_COLUMNS

REQUIRED_TOP_KEYS = ("cell", "rows", "timing")
REQUIRED_CELL_KEYS = ("cell_id", "model", "method", "rho", "subsample_rate", "seed")
REQUIRED_ROW_KEYS = tuple(PAPER_COLUMNS + RUN_COLUMNS)
REQUIRED_TIMING_KEYS = ("seconds_per_step", "wall_seconds")

_FLOAT_COLS = {"rho", "subsample_rate", "value"}
_INT_COLS = {"seed", "step", "subsample_seed"}
_STR = "str" if int(pd.__version__.split(".")[0]) >= 3 else object
_CELL_FIRST = ["cell_id", "experiment", "model", "init", "task", "subsample_rate", "subsample_seed",
               "method", "base_optimizer", "rho", "seed"]
_TIMING_FIRST = ["steps", "seconds_per_step", "wall_seconds", "compile_seconds"]


class ResultFileError(ValueError):
    """A result file that cannot be aggregated (the message names the file)."""


# --------------------------------------------------------------------------------------- reading
def find_result_files(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Expand ``paths`` (files, or folders searched recursively for ``result.json``), sorted."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(p.rglob("result.json")))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"no such result file or folder: {p}")
    return sorted(dict.fromkeys(out))


def _hparam_str(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    return str(v)


def load_result(path: str | os.PathLike) -> dict:
    """Read and validate one result.json; raises :class:`ResultFileError` naming the file."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ResultFileError(f"{path}: cannot read result JSON: {e}") from e
    if not isinstance(doc, dict):
        raise ResultFileError(f"{path}: top level is not a JSON object")
    missing = [k for k in REQUIRED_TOP_KEYS if k not in doc]
    if missing:
        raise ResultFileError(f"{path}: missing top-level key(s) {missing}")
    cell, rows, timing = doc["cell"], doc["rows"], doc["timing"]
    if not isinstance(cell, dict):
        raise ResultFileError(f"{path}: 'cell' is not an object")
    missing = [k for k in REQUIRED_CELL_KEYS if k not in cell]
    if missing:
        raise ResultFileError(f"{path}: cell is missing key(s) {missing}")
    if not isinstance(timing, dict):
        raise ResultFileError(f"{path}: 'timing' is not an object")
    missing = [k for k in REQUIRED_TIMING_KEYS if k not in timing]
    if missing:
        raise ResultFileError(f"{path}: timing is missing key(s) {missing}")
    if not isinstance(rows, list):
        raise ResultFileError(f"{path}: 'rows' is not a list")
    seen: dict[tuple, int] = {}
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise ResultFileError(f"{path}: rows[{i}] is not an object")
        missing = [k for k in REQUIRED_ROW_KEYS if k not in r]
        if missing:
            raise ResultFileError(f"{path}: rows[{i}] ({r.get('task')}/{r.get('metric')}) is missing key(s) {missing}")
        if r["cell_id"] != cell["cell_id"]:
            raise ResultFileError(f"{path}: rows[{i}] has cell_id {r['cell_id']!r}, the cell is {cell['cell_id']!r}")
        key = (r["cell_id"], r["task"], r["metric"])
        if key in seen:
            raise ResultFileError(f"{path}: duplicate row (cell_id, task, metric) = {key} at rows[{seen[key]}] and rows[{i}]")
        seen[key] = i
        if r["value"] is None or not isinstance(r["value"], (int, float)) or isinstance(r["value"], bool):
            raise ResultFileError(f"{path}: rows[{i}] ({r['task']}/{r['metric']}) value {r['value']!r} is not a number")
    curve = doc.get("curve", [])
    if not isinstance(curve, list):
        raise ResultFileError(f"{path}: 'curve' is not a list")
    return doc


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, name + "."))
        elif isinstance(v, (list, tuple)):
            out[name] = json.dumps(v, sort_keys=True)
        else:
            out[name] = v
    return out


# -------------------------------------------------------------------------------- normalising
def normalize_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Fix column order and dtypes of a rows frame (missing standard columns are added empty)."""
    df = df.copy()
    for c in ROW_COLUMNS:
        if c not in df.columns:
            df[c] = np.nan
    extra = sorted(c for c in df.columns if c not in ROW_COLUMNS)
    df = df[ROW_COLUMNS + extra]
    for c in df.columns:
        if c in _FLOAT_COLS:
            df[c] = pd.to_numeric(df[c], errors="raise").astype("float64")
        elif c in _INT_COLS:
            df[c] = pd.to_numeric(df[c], errors="raise").astype("Int64")
        elif c == "hparam_value":
            df[c] = pd.Series([_hparam_str(v) for v in df[c]], index=df.index, dtype=object).astype(_STR)
        elif c in ROW_COLUMNS:
            df[c] = df[c].map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).astype(_STR)
        else:
            df[c] = _infer(df[c])
    return df.reset_index(drop=True)


def _infer(s: pd.Series) -> pd.Series:
    vals = [v for v in s if not (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))]
    if vals and all(isinstance(v, bool) or isinstance(v, np.bool_) for v in vals):
        return s.astype("boolean")
    if vals and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals):
        return pd.to_numeric(s).astype("Int64")
    if vals and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in vals):
        return pd.to_numeric(s).astype("float64")
    if not vals:
        return s.astype("float64") if s.dtype != object else s.astype(_STR)
    return s.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).astype(_STR)


def normalize_cells(df: pd.DataFrame) -> pd.DataFrame:
    """Fix column order and dtypes of a cells frame."""
    df = df.copy()
    first = [c for c in _CELL_FIRST if c in df.columns]
    timing = [c for c in _TIMING_FIRST if c in df.columns]
    tail = [c for c in ("n_rows", "source", "result_path") if c in df.columns]
    rest = sorted(c for c in df.columns if c not in first + timing + tail)
    df = df[first + rest + timing + tail]
    for c in df.columns:
        if c in ("rho", "subsample_rate") or c in _TIMING_FIRST[1:]:
            df[c] = pd.to_numeric(df[c]).astype("float64")
        elif c in ("seed", "subsample_seed", "n_rows", "steps"):
            df[c] = pd.to_numeric(df[c]).astype("Int64")
        elif c in ("cell_id", "experiment", "model", "init", "task", "method", "base_optimizer", "source", "result_path"):
            df[c] = df[c].map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).astype(_STR)
        else:
            df[c] = _infer(df[c].astype(object) if df[c].dtype != object else df[c])
    return df.reset_index(drop=True)


# ------------------------------------------------------------------------------- collecting
def collect_results(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read result files (or folders of them) into ``(rows_df, cells_df)``.

    Every row and cell carries the run's health: ``status`` ("ok" | "diverged"),
    ``status_reason`` and (rows) ``degenerate``; a diverged cell may have no rows at all.

    Raises :class:`ResultFileError` naming the file for a malformed file, a missing key, a
    duplicate (cell_id, task, metric) row (within one file or across files), or one cell_id in two
    files.  Timing keys that collide with a cell key are stored as ``timing_<key>``.
    """
    files = find_result_files(paths)
    rows, cells = [], []
    owner: dict[str, Path] = {}
    row_owner: dict[tuple, Path] = {}
    for f in files:
        doc = load_result(f)
        cell = doc["cell"]
        cid = cell["cell_id"]
        if cid in owner:
            raise ResultFileError(f"{f}: cell_id {cid!r} is also in {owner[cid]}")
        owner[cid] = f
        status = doc.get("status", "ok")  # results written before run health was recorded finished
        for r in doc["rows"]:
            key = (r["cell_id"], r["task"], r["metric"])
            if key in row_owner:
                raise ResultFileError(f"{f}: duplicate row (cell_id, task, metric) = {key}, also in {row_owner[key]}")
            row_owner[key] = f
            rows.append({"status": status, "status_reason": doc.get("status_reason"), "degenerate": False, **r})
        flat = _flatten(cell)
        flat["status"], flat["status_reason"] = status, doc.get("status_reason")
        flat["degenerate_tasks"] = ",".join(doc.get("degenerate_tasks", [])) or None
        divergence = doc.get("divergence") or {}
        flat["diverged_step"], flat["last_finite_loss"] = divergence.get("step"), divergence.get("last_finite_loss")
        for k, v in doc["timing"].items():
            flat[f"timing_{k}" if k in flat else k] = v
        srcs = sorted({str(r["source"]) for r in doc["rows"] if r.get("source") is not None})
        flat["n_rows"] = len(doc["rows"])
        flat["source"] = ",".join(srcs) if srcs else None
        flat["result_path"] = str(f)
        cells.append(flat)
    rows_df = normalize_rows(pd.DataFrame(rows)) if rows else normalize_rows(pd.DataFrame(columns=ROW_COLUMNS))
    cells_df = normalize_cells(pd.DataFrame(cells)) if cells else pd.DataFrame(columns=_CELL_FIRST + _TIMING_FIRST)
    return rows_df, cells_df


def collect_curves(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """The ``curve`` entries of all result files, one row per (cell, step, task, metric), with the
    cell axes ``model, init, method, base_optimizer, rho, subsample_rate, seed, experiment``."""
    recs = []
    axes = ["model", "init", "method", "base_optimizer", "rho", "subsample_rate", "subsample_seed", "seed", "experiment"]
    for f in find_result_files(paths):
        doc = load_result(f)
        cell = doc["cell"]
        for i, p in enumerate(doc.get("curve", [])):
            missing = [k for k in ("step", "task", "metric", "value") if k not in p]
            if missing:
                raise ResultFileError(f"{f}: curve[{i}] is missing key(s) {missing}")
            recs.append({"cell_id": cell["cell_id"], **{a: cell.get(a) for a in axes}, **{k: p[k] for k in ("step", "task", "metric", "value")}})
    cols = ["cell_id"] + axes + ["step", "task", "metric", "value"]
    df = pd.DataFrame(recs, columns=cols)
    for c in ("rho", "subsample_rate", "value"):
        df[c] = pd.to_numeric(df[c]).astype("float64")
    for c in ("seed", "subsample_seed", "step"):
        df[c] = pd.to_numeric(df[c]).astype("Int64")
    for c in ("cell_id", "model", "init", "method", "base_optimizer", "experiment", "task", "metric"):
        df[c] = df[c].map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).astype(_STR)
    return df


# -------------------------------------------------------------------------------- writing
def write_summary(rows_df: pd.DataFrame, cells_df: pd.DataFrame, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``summary.parquet``, ``summary.csv`` (rows) and ``cells.csv`` into ``out_dir``, each
    atomically (:func:`sam_bench.io.atomic_write`).  Returns {name: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows_df = normalize_rows(rows_df)
    return {
        "summary.parquet": atomic_write(out / "summary.parquet", lambda t: rows_df.to_parquet(t, index=False)),
        "summary.csv": atomic_write(out / "summary.csv", lambda t: rows_df.to_csv(t, index=False)),
        "cells.csv": atomic_write(out / "cells.csv", lambda t: cells_df.to_csv(t, index=False)),
    }


def read_summary(summary_dir: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read what :func:`write_summary` wrote: ``(rows_df, cells_df)`` with the dtypes fixed."""
    d = Path(summary_dir)
    if (d / "summary.parquet").exists():
        rows = pd.read_parquet(d / "summary.parquet")
    else:
        rows = pd.read_csv(d / "summary.csv")
    cells = pd.read_csv(d / "cells.csv") if (d / "cells.csv").exists() else pd.DataFrame(columns=["cell_id"])
    rows = normalize_rows(rows.astype(object).where(rows.notna(), None))
    cells = normalize_cells(cells.astype(object).where(cells.notna(), None)) if len(cells) else cells
    return rows, cells
