"""What a paper target is: the cells that feed it (by experiment identity), its layout, its score.

A target names the grids whose cells feed it (:class:`Select`: grid name, optional filters on
identity fields, optional ablation axis); rows are matched on the identity every result row
carries (``grid``, ``training``, ``base_optimizer``, ``a``, ``m``, ``s``, ``fi``, ``beta1``,
``rho``; see ``config.cell_identity``), never on the method string. The paper's vocabulary
(model and method names) is mapped here, in one place, both ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from sam_bench.config import HPARAM_NAMES

__all__ = ["HPARAM_NAMES", "Select", "Target", "paper_model", "paper_method", "our_model", "our_method", "SCORE_COLUMNS"]

#: derived columns each benchmark score adds (tasks/benchmarks.benchmark_average computes them)
SCORE_COLUMNS = {
    "superglue": (("superglue_avg", "score"),), "glue": (("glue_avg", "score"),),
    "tydiqa": (("tydiqa_avg", "f1"), ("tydiqa_avg", "em")),
    "fsam_nlu": (("avg", "score"),), "fsam_glue4": (("avg", "score"),), "fsam_generation": (("avg", "score"),),
}

# ours -> the FSAM paper's model names (its tables say "BERT-large", "ELECTRA-large", ...)
_FSAM_MODELS = {"bert-large-cased": "bert-large", "bert-base-uncased": "bert-base",
                "electra-large-discriminator": "electra-large"}
_FSAM_BASES = {"adamw": "adam", "adam": "adam", "amsgrad": "amsgrad", "adagrad": "adagrad"}
_FSAM_PLAIN = ("esam", "gsam", "f_esam", "f_gsam")  # FSAM Table 6 names these rows without the base


def paper_model(paper: str, model: str) -> str:
    return _FSAM_MODELS.get(model, model) if paper == "fsam2022" else model


def our_model(paper: str, model: str) -> str:
    inverse = {v: k for k, v in _FSAM_MODELS.items()}
    return inverse.get(model, model) if paper == "fsam2022" else model


def paper_method(paper: str, method: str, base: str | None, rho=None) -> tuple[str, str]:
    """(the paper's row name, the name of its baseline row) for one of our (method, base)."""
    if paper == "fsam2022":
        b = _FSAM_BASES.get(str(base), str(base))
        if method == base or method in _FSAM_BASES:
            return b, b
        return (method if method in _FSAM_PLAIN else f"{b}+{method}"), b
    if paper == "sam-bench" and method != base and rho is not None and not pd.isna(rho):
        return f"{method} (ρ={float(rho):g})", str(base)
    return str(method), str(base if base is not None else method)


def our_method(paper: str, method: str) -> dict:
    """The inverse: {"method", "base_optimizer"} of ours for a paper row name."""
    if paper == "fsam2022":
        inverse = {"adam": "adamw", "amsgrad": "amsgrad", "adagrad": "adagrad"}
        if method in _FSAM_PLAIN:
            return {"method": method, "base_optimizer": "adamw"}
        base, _, variant = method.partition("+")
        return {"method": variant or inverse[base], "base_optimizer": inverse[base]}
    base = {"bahri2022": "adafactor"}.get(paper, "adamw")
    return {"method": method, "base_optimizer": base}


def _isin(col: pd.Series, allowed) -> pd.Series:
    allowed = list(allowed)
    if allowed and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in allowed):
        vals = pd.to_numeric(col, errors="coerce").astype("float64").to_numpy()
        return pd.Series(np.isclose(vals[:, None], np.array(allowed, dtype="float64")[None, :]).any(axis=1),
                         index=col.index)
    return col.astype(object).isin(allowed)


@dataclass(frozen=True)
class Select:
    """The cells of one grid that feed a target: ``where`` filters identity fields (a tuple of
    allowed values each); ``hparam`` names the identity field that is the row axis (ablations);
    ``label`` names the rows of this select's cells as their own method (a baseline run at another
    budget, say) while their baseline stays the base optimizer."""
    grid: str
    where: Mapping[str, tuple] = field(default_factory=dict)
    hparam: str | None = None
    label: str | None = None

    def mask(self, rows: pd.DataFrame) -> pd.Series:
        """Which rows (result rows, or cells with their identity flattened) this selects."""
        if "grid" not in rows.columns:
            return pd.Series(False, index=rows.index)
        col = rows["grid"].astype(object)
        member = {g: isinstance(g, str) and self.grid in g.split(",") for g in pd.unique(col)}  # few distinct
        m = col.map(member).astype(bool)
        analysis = rows["analysis"] if "analysis" in rows.columns else pd.Series(None, index=rows.index, dtype=object)
        if "analysis" not in self.where:  # analysis rows (transfer, landscapes) only where asked for
            m &= analysis.isna()
        for k, allowed in self.where.items():
            m &= _isin(rows[k], allowed) if k in rows.columns else False
        return m


@dataclass(frozen=True)
class Target:
    """One published table or figure. See docs/targets.md."""
    key: str
    paper: str                      # bahri2022 | fsam2022 | functional_sam2025 | sam-bench
    number: str                     # "Table 1", "Figure 2"
    title: str
    select: tuple[Select, ...]
    kind: str = "table"             # table | figure
    columns: tuple = ()             # displayed (paper task, metric) in print order; () = as in the data
    rows: tuple[str, ...] = ("model", "method")
    x: str | None = None            # figures: the x-axis field (subsample_rate, hparam_value, alpha, step, ...)
    score: str | None = None        # a tasks/benchmarks average: superglue | glue | tydiqa | fsam_nlu | ...
    reference: tuple = ()           # ((reference table id, {column: value}), ...)
    best_rho: bool = False          # FSAM: the best ρ of the grid, chosen on dev per (model, task, method)
    lower_is_better: bool = False
    expect: tuple = ()              # row keys expected where no reference prints them
    needs: str = ""                 # the analysis that produces the data, when not a fine-tuning cell
    notes: tuple[str, ...] = ()
    curves: bool = False            # reads the evaluation curves (x = step) instead of the best checkpoints
    task_as: str | None = None      # report every task under this name (one model/task per grid)
    baseline: str | None = None     # the method every row is paired with (default: its base optimizer)

    @property
    def label(self) -> str:
        names = {"bahri2022": "Bahri et al. 2022", "fsam2022": "Zhong et al. 2022 (FSAM)",
                 "functional_sam2025": "Functional-SAM 2025", "sam-bench": "sam-bench"}
        return f"{names.get(self.paper, self.paper)} {self.number}"

    @property
    def grids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.grid for s in self.select))

    def admits(self, identity: Mapping[str, Any]) -> bool:
        """Whether a cell with this identity (grid, model, method, subsample_rate, a, m, ...) feeds the target."""
        frame = pd.DataFrame([dict(identity)])
        return any(bool(s.mask(frame).iloc[0]) for s in self.select)
