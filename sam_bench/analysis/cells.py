"""A finished cell, read back for diagnostics: its initial weights θ₀, its final weights θ₁
(the last checkpoint), the weights of its best evaluation when it kept them, and its training
loss on a fixed sample (the first ``sample`` training examples in file order, dropout off), so
curvature and landscapes never slow the cell itself.

Then ``hessian_rows`` and ``landscape_rows`` measure that loss and return tidy rows carrying
the cell's axes (model, method, ρ, task, seed, ...).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import jax
import numpy as np

from sam_bench.analysis import landscape
from sam_bench.curvature import curvature
from sam_bench.cell import as_cell
from sam_bench.errors import ConfigError
from sam_bench.io import read_json
from sam_bench.models import model_family
from sam_bench.optim import parse_recipe
from sam_bench.train import encoder, language_model, text_to_text
from sam_bench.train.checkpoint import TrainStateCheckpoints
from sam_bench.train.finetune import BEST_WEIGHTS, load_model

__all__ = ["FinishedCell", "load_finished_cell", "hessian_rows", "landscape_rows"]


@dataclass
class FinishedCell:
    cell: dict
    initial: Any                       # θ₀: the weights the cell started from
    final: Any                         # θ₁: the weights of its last checkpoint
    step: int
    loss_fn: Callable[[Any], Any]      # params -> training loss on the fixed sample
    sample: int                        # examples in the fixed sample
    best: Any = None                   # the weights of its best evaluation (finetune.BEST_WEIGHTS), if kept
    best_step: int | None = None
    best_of: str | None = None         # "task/metric" the best weights are best on

    def weights(self) -> dict[str, tuple[int, Any]]:
        """{"final": (step, θ₁)} and, when the cell kept them, {"best": (step, weights)}."""
        out = {"final": (self.step, self.final)}
        if self.best is not None:
            out["best"] = (self.best_step, self.best)
        return out

    def row_base(self) -> dict:
        c = self.cell
        return {"paper": "sam-bench", "table": c["experiment"], "model": c["model"], "method": c["method"],
                "rho": c["rho"], "task": c["task"], "split": "train", "seed": c["seed"], "step": self.step,
                "cell_id": c["cell_id"], "base_optimizer": c["base_optimizer"], "init": c["init"],
                "subsample_rate": c["subsample_rate"], "subsample_seed": c["subsample_seed"], "grid": c.get("grid")}


def load_finished_cell(cell_dir: str | Path, sample: int = 64) -> FinishedCell:
    """Rebuild a finished cell's objective and weights from ``cell_dir`` (cell.json, checkpoint/)."""
    cell_dir = Path(cell_dir)
    if not isinstance(sample, int) or sample < 1:
        raise ConfigError(f"sample must be an integer >= 1 (training examples), got {sample!r}")
    if not (cell_dir / "result.json").exists():
        raise ConfigError(f"{cell_dir} is not a finished cell (no result.json); run it first")
    cell = read_json(cell_dir / "cell.json")
    ft = cell["finetune"]
    optimizer, _ = parse_recipe(cell["optimizer"]).build(ft["batch_size"], ft["accumulation_steps"])
    if language_model.is_lm_cell(cell):
        lm = language_model.prepare(cell)
        initial, objective, train = lm.initial_params, lm.objective, lm.train
    else:
        graphdef, initial, tokenizer, config = load_model(cell)
        family = encoder if model_family(config) == "bert" else text_to_text
        training = family.prepare(as_cell(cell), graphdef, tokenizer)
        objective, train = training.objective, training.train
    restored = TrainStateCheckpoints(cell_dir / "checkpoint").restore((initial, optimizer.init(initial)))
    if restored is None:
        raise ConfigError(f"{cell_dir}/checkpoint holds no checkpoint to measure")
    step, (final, _), _ = restored
    best, best_step, best_of = None, None, None
    if (cell_dir / BEST_WEIGHTS).is_dir():  # fine-tuning cells keep them; LM cells measure in the loop
        kept = TrainStateCheckpoints(cell_dir / BEST_WEIGHTS, keep=1).restore(initial)
        if kept is not None:
            best_step, best, meta = kept
            best_of = f"{meta['task']}/{meta['metric']}"
    loss_fn = language_model.sample_loss_fn(objective, train, sample)
    return FinishedCell(cell, initial, final, int(step), loss_fn, min(sample, len(train)), best,
                        None if best_step is None else int(best_step), best_of)


def hessian_rows(fc: FinishedCell, steps: int = 20, probes: int = 10) -> list[dict]:
    """``hessian_top_eigenvalue`` (Lanczos) and ``hessian_trace`` (Hutchinson) at the final
    weights θ₁ and, when the cell kept them, at its best evaluation's weights (rows say which
    in ``weights``; measured once when both are the same step)."""
    rows, measured = [], {}
    for which, (step, params) in fc.weights().items():
        if step not in measured:
            measured[step] = curvature(fc.loss_fn, params, steps=steps, probes=probes, seed=fc.cell["seed"])
        spectrum, trace, stderr = measured[step]
        base = {**fc.row_base(), "step": step, "weights": which, "hparam_name": "sample", "hparam_value": fc.sample,
                **({"best_of": fc.best_of} if which == "best" else {})}
        rows += [{**base, "metric": "hessian_top_eigenvalue", "value": spectrum.top_eigenvalue,
                  "residual": spectrum.residual, "lanczos_steps": spectrum.steps},
                 {**base, "metric": "hessian_trace", "value": trace, "stderr": stderr, "probes": probes}]
    return rows


def landscape_rows(fc: FinishedCell, points_1d: int = 21, points_2d: int = 25, seed: int = 0) -> list[dict]:
    """The 1-D interpolation θ₁ + α(θ₁ − θ₀) and the 2-D filter-normalised surface around θ₁."""
    base = {**fc.row_base(), "hparam_name": "sample", "hparam_value": fc.sample}
    rows = []
    if points_1d:
        alphas = landscape.axis_points(points_1d)
        rows += landscape.landscape_rows(base, alphas_1d=alphas,
                                         values_1d=landscape.interpolation_1d(fc.loss_fn, fc.initial, fc.final, alphas))
    if points_2d:
        k1, k2 = jax.random.split(jax.random.key(seed))
        d1 = landscape.filter_normalized_direction(fc.final, k1)
        d2 = landscape.filter_normalized_direction(fc.final, k2)
        axis = landscape.axis_points(points_2d)
        rows += landscape.landscape_rows(base, alphas_2d=axis, betas_2d=axis,
                                         values_2d=landscape.surface_2d(fc.loss_fn, fc.final, d1, d2, axis, axis))
    return rows


def finite(rows: list[dict]) -> list[dict]:
    """Rows as JSON-safe values (a diverged point of a landscape is recorded as null, not NaN)."""
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()} for r in rows]
