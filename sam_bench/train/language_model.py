"""A language-model cell (the Functional-SAM experiments): a decoder-only Transformer trained
from scratch on next-token loss of a byte-level corpus, with any optimizer recipe.

A cell's ``model`` names a decoder LM (``sam_bench.models.decoder_lm``), its ``task`` a corpus
(``sam_bench.data.corpus``), ``init`` is ``random``; ``finetune.model_overrides`` changes the
architecture (width, depth, context ``max_length``, positions, tied embeddings). Steps, batch
size, dropout and evaluation interval come from the ``finetune`` section as for every cell; the
learning-rate schedule is the base optimizer's (e.g. ``adamw(..., schedule='cosine',
warmup_steps=..., decay_steps=...)``).

The cell reports, at its final step (the methods compare at equal steps, as in the paper):
``val_loss`` (mean next-token cross-entropy on the validation windows, nats per byte),
``val_perplexity`` = exp(val_loss), ``hessian_top_eigenvalue`` (Lanczos, 20 HVPs) and
``hessian_trace`` (Hutchinson, 10 probes) of the training loss on the first
``HESSIAN_SAMPLE`` training windows, and the corpus baselines ``unigram_entropy`` and
``val_unigram_loss``. Lower is better for all of them. Data order, dropout and resume work as
in ``sam_bench.train.finetune``.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from sam_bench.curvature import curvature
from sam_bench.cell import Cell, as_cell
from sam_bench.data.batching import batch_at_step, eval_batches
from sam_bench.data.corpus import CORPORA, WindowSplit, byte_windows, corpus_problems, unigram_entropy
from sam_bench.errors import ConfigError
from sam_bench.io import read_json, write_json_atomic
from sam_bench.models.decoder_lm import DECODER_LM_CONFIGS, decoder_lm_apply, decoder_lm_config, init_decoder_lm
from sam_bench.models.losses import per_example_cross_entropy, token_cross_entropy
from sam_bench.optim import parse_recipe
from sam_bench.optim.objective import Objective
from sam_bench.train.checkpoint import TrainStateCheckpoints
from sam_bench.train.step import make_train_step

ROW_PAPER = "sam-bench"
HESSIAN_SAMPLE, LANCZOS_STEPS, HUTCHINSON_PROBES = 32, 20, 10


def is_lm_cell(cell: Cell | dict) -> bool:
    return as_cell(cell).model in DECODER_LM_CONFIGS


def lm_grid_problems(grid: dict, finetune: dict, source: str, root: str | None) -> list[str]:
    """A decoder-LM grid's problems, before compute: every model a decoder LM, every task a
    corpus readable from the data source, init random, valid architecture overrides."""
    problems = []
    others = [m for m in grid["model"] if m not in DECODER_LM_CONFIGS]
    if others:
        problems.append(f"model: a grid of decoder LMs cannot also hold {others}; decoder LMs: "
                        f"{sorted(DECODER_LM_CONFIGS)}")
    if grid["init"] != ["random"]:
        problems.append(f"init: decoder LMs train from scratch: init must be ['random'], got {grid['init']}")
    for i, task in enumerate(grid["task"]):
        problems += [f"task[{i}]: {p}" for p in corpus_problems(task, source, root, check_files=source == "local")]
    for model in grid["model"]:
        if model in DECODER_LM_CONFIGS:
            try:
                decoder_lm_config(model, **finetune.get("model_overrides", {}))
            except (ValueError, TypeError) as err:
                problems.append(f"finetune.model_overrides: {err}")
    return problems


def lm_config(cell: Cell):
    ft = cell.finetune
    return decoder_lm_config(cell.model, **{"dropout_rate": ft.dropout_rate, "dtype": ft.dtype,
                                            **dict(ft.model_overrides or {})})


def lm_objective(graphdef) -> Objective:
    """Next-token cross-entropy over every position of ``batch["tokens"] [B, L + 1]``."""

    def logits_fn(params, batch, dropout_key):
        return decoder_lm_apply(graphdef, params, batch["tokens"][:, :-1], dropout_key)

    def loss_from_logits(logits, batch):
        targets = batch["tokens"][:, 1:]
        return token_cross_entropy(logits, targets, jnp.ones_like(targets))

    def per_example_from_logits(logits, batch):
        targets = batch["tokens"][:, 1:]
        return per_example_cross_entropy(logits, targets, jnp.ones_like(targets))

    return Objective(logits_fn, loss_from_logits, per_example_from_logits)


@dataclass
class LMTraining:
    graphdef: Any
    initial_params: Any
    objective: Objective
    train: WindowSplit
    validation: WindowSplit
    baselines: dict


def prepare(cell: Cell | dict) -> LMTraining:
    """Model at initialisation, objective, training and validation windows, corpus baselines."""
    cell = as_cell(cell)
    config = lm_config(cell)
    texts = CORPORA[cell.task].texts(cell.data_root)
    graphdef, params = init_decoder_lm(config, seed=cell.seed)
    return LMTraining(graphdef, params, lm_objective(graphdef), byte_windows(texts["train"], config.max_length),
                      byte_windows(texts["validation"], config.max_length),
                      unigram_entropy(texts["train"], texts["validation"]))


def validation_loss(per_example, params, split: WindowSplit, batch_size: int) -> float:
    total, n = 0.0, 0
    for batch, n_real in eval_batches(split, batch_size):
        total += float(np.sum(np.asarray(per_example(params, batch))[:n_real]))
        n += n_real
    return total / n


def sample_loss_fn(objective: Objective, split, size: int):
    """The training loss on the first ``size`` examples, dropout off: the function whose
    curvature and landscape are measured."""
    sample = split.take(np.arange(min(size, len(split)))).as_batch()
    return lambda params: objective(params, sample, None)


def result_rows(cell: Cell, values: dict, step: int) -> list[dict]:
    base = {"paper": ROW_PAPER, "table": cell.experiment, "model": cell.model, "method": cell.method,
            "rho": cell.rho, "hparam_name": None, "hparam_value": None, "subsample_rate": cell.subsample_rate,
            "task": cell.task, "seed": cell.seed, "step": step, "cell_id": cell.cell_id,
            "base_optimizer": cell.base_optimizer, "init": cell.init, "subsample_seed": cell.subsample_seed,
            "source": cell.source, "mixture": cell.task, "grid": cell.grid}
    train_side = ("hessian_top_eigenvalue", "hessian_trace", "unigram_entropy")
    return [{**base, "metric": m, "value": float(v), "split": "train" if m in train_side else "validation"}
            for m, v in sorted(values.items())]


def run_lm_cell(cell: Cell | dict, out_dir: str | Path, *, progress: bool = True, stop_after: int | None = None):
    """Train one LM cell; the result, or None when stopped early by ``stop_after``."""
    cell, out_dir = as_cell(cell), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / "cell.json").exists() and read_json(out_dir / "cell.json") != cell.to_dict():
        raise ConfigError(f"{out_dir / 'cell.json'} describes a different cell than {cell.cell_id}; "
                          f"refusing to overwrite it")
    write_json_atomic(out_dir / "cell.json", cell.to_dict())
    ft = cell.finetune
    optimizer, gradient = parse_recipe(cell.optimizer).build(ft.batch_size, ft.accumulation_steps)
    lm = prepare(cell)
    params, opt_state = lm.initial_params, optimizer.init(lm.initial_params)
    train_step = make_train_step(lm.objective, optimizer, gradient, accumulation_steps=ft.accumulation_steps,
                                 donate=True)
    per_example = jax.jit(lambda p, b: lm.objective.per_example_loss(p, b, None))

    checkpoints = TrainStateCheckpoints(out_dir / "checkpoint")
    start, curve, step_seconds, losses = 0, [], [], []
    restored = checkpoints.restore((params, opt_state))
    if restored is not None:
        start, (params, opt_state), meta = restored
        curve, step_seconds, losses = meta["curve"], meta["step_seconds"], meta["losses"]
    key, wall_start = jax.random.key(cell.seed), time.perf_counter()
    bar = tqdm(total=ft.steps, initial=start, desc=cell.cell_id[:48], disable=not progress, mininterval=2.0)
    for step in range(start, ft.steps):
        t0 = time.perf_counter()
        params, opt_state, loss = train_step(params, opt_state, batch_at_step(lm.train, ft.batch_size, cell.seed,
                                                                              step), jax.random.fold_in(key, step))
        losses.append(float(loss))
        step_seconds.append(time.perf_counter() - t0)
        if not np.isfinite(losses[-1]):
            raise FloatingPointError(f"cell {cell.cell_id}: loss is {losses[-1]} at step {step}")
        bar.update(1)
        done = step + 1
        if done % ft.eval_every == 0 or done == ft.steps:
            val = validation_loss(per_example, params, lm.validation, ft.eval_batch_size)
            curve.append({"step": done, "task": cell.task, "metric": "val_loss", "value": val,
                          "train_loss": float(np.mean(losses[-ft.eval_every:]))})
            with open(out_dir / "log.jsonl", "a") as log:
                log.write(json.dumps(curve[-1]) + "\n")
            checkpoints.save(done, (params, opt_state), {"curve": curve, "step_seconds": step_seconds,
                                                         "losses": losses})
            if stop_after is not None and stop_after <= done < ft.steps:
                bar.close()
                return None
    bar.close()

    loss_fn = sample_loss_fn(lm.objective, lm.train, HESSIAN_SAMPLE)
    spectrum, trace, trace_se = curvature(loss_fn, params, steps=LANCZOS_STEPS, probes=HUTCHINSON_PROBES,
                                          seed=cell.seed)
    val_loss = curve[-1]["value"]
    values = {"val_loss": val_loss, "val_perplexity": float(np.exp(val_loss)),
              "hessian_top_eigenvalue": spectrum.top_eigenvalue, "hessian_trace": trace, **lm.baselines}
    timed = step_seconds[1:] or step_seconds
    result = {
        "cell": cell.to_dict(),
        "data": {"corpus": cell.task, "train_windows": len(lm.train), "validation_windows": len(lm.validation),
                 "tokens_per_window": int(lm.train.tokens.shape[1] - 1), **lm.baselines},
        "rows": result_rows(cell, values, ft.steps),
        "curve": curve,
        "hessian": {"sample_windows": min(HESSIAN_SAMPLE, len(lm.train)), "lanczos_steps": spectrum.steps,
                    "residual": spectrum.residual, "ritz_values": list(spectrum.ritz_values),
                    "trace_stderr": trace_se, "trace_probes": HUTCHINSON_PROBES},
        "timing": {"steps": ft.steps, "seconds_per_step": float(np.median(timed)),
                   "compile_seconds": float(step_seconds[0] - np.median(timed)),
                   "wall_seconds": time.perf_counter() - wall_start,
                   "final_train_loss": float(np.mean(losses[-ft.eval_every:]))},
    }
    write_json_atomic(out_dir / "result.json", result)
    return result
