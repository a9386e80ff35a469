"""Like for like: methods compared in one target should differ only in the method.

``like_for_like(cells, targets)`` returns one warning per target and (model, task, base optimizer)
where the sharpness-aware methods differ in the ascent micro-batch a or the sharpness m (the
target's own ablation axes excepted), and per (model, task) where methods sit on different base
optimizers without each base having its own baseline row.
"""

from __future__ import annotations

import warnings
from typing import Iterable, Sequence

import pandas as pd

from .base import Target

__all__ = ["flat_identity", "cells_frame", "like_for_like", "warn_unlike"]


def flat_identity(cell: dict) -> dict:
    """A cell (config.expand_cells) as the identity fields its result rows carry."""
    ident = dict(cell.get("identity", {}))
    return {**ident, "cell_id": cell["cell_id"], "model": cell["model"], "method": cell["method"],
            "base_optimizer": cell["base_optimizer"], "rho": cell["rho"], "subsample_rate": cell["subsample_rate"],
            "mixture": cell["task"], "task": cell["task"], "init": cell["init"], "seed": cell["seed"]}


def cells_frame(cells: Iterable[dict]) -> pd.DataFrame:
    return pd.DataFrame([flat_identity(c) for c in cells])


def like_for_like(cells: Iterable[dict], targets: Sequence[Target]) -> list[str]:
    frame = cells_frame(cells)
    warnings: list[str] = []
    if not len(frame):
        return warnings
    for t in targets:
        parts = [frame[s.mask(frame)].assign(_axis=s.hparam) for s in t.select]
        sub = pd.concat(parts) if parts else frame.iloc[0:0]
        if not len(sub):
            continue
        axes = set(sub["_axis"].dropna())
        variants = sub[sub["method"] != sub["base_optimizer"]]
        for (model, task, base), g in variants.groupby(["model", "task", "base_optimizer"]):
            for field in ("a", "m"):
                vals = sorted({int(v) for v in g[field].dropna()})
                if field not in axes and len(vals) > 1:
                    warnings.append(f"{t.label}: {model} {task} on {base}: methods differ in {field} {vals} "
                                    f"({', '.join(sorted(set(g['method'])))})")
        for (model, task), g in sub.groupby(["model", "task"]):
            bases = set(g["base_optimizer"])
            baselines = set(g.loc[g["method"] == g["base_optimizer"], "base_optimizer"])
            if len(bases) > 1 and not bases <= baselines:
                warnings.append(f"{t.label}: {model} {task}: methods on different base optimizers {sorted(bases)} "
                                f"without a baseline row for each")
    return warnings


def warn_unlike(name: str, cells: Iterable[dict], targets: Sequence[Target]) -> list[str]:
    """Emit (and return) the like-for-like warnings of a config's cells (``sam-bench validate``, the workflow)."""
    found = like_for_like(cells, targets)
    for w in found:
        warnings.warn(f"{name}: not like for like: {w}", stacklevel=2)
    return found
