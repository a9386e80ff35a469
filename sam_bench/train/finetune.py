"""One fine-tuning cell: data, model, optimizer recipe, the jitted step, evaluation,
best value per task-metric pair, checkpoints and resume.

Everything random comes from explicit seeds: the batch at step t is a function of
(seed, t) and the dropout key of step t is fold_in(seed, t), so a cell resumed from its
last checkpoint computes exactly what an uninterrupted run computes.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import jax
import numpy as np
from tqdm.auto import tqdm

from sam_bench import parallel
from sam_bench.cell import Cell, as_cell
from sam_bench.data.batching import batch_at_step, row_lengths, trim_padding
from sam_bench.errors import ConfigError
from sam_bench.io import read_json, write_json_atomic
from sam_bench.models import T5Config, model_config, model_family
from sam_bench.models.checkpoints import load_initial_params
from sam_bench.models.tokenizers import load_tokenizer
from sam_bench.optim import parse_recipe
from sam_bench.tasks import get_task
from sam_bench.train import encoder, health, text_to_text, transfer
from sam_bench.train.checkpoint import TrainStateCheckpoints
from sam_bench.train.lock import CellLock
from sam_bench.train.step import make_train_step

ROW_PAPER = "sam-bench"


def pretrain_dir(cell: Cell | dict) -> Path:
    cell = as_cell(cell)
    return Path(cell.results_dir) / "pretrain" / cell.pretrain_id


def load_model(cell: Cell | dict):
    """(graphdef, params, tokenizer, config) for a cell's `init`.

    `pretrained` and `random` with the workflow's model use the pretraining output (its
    architecture, and its vocabulary either way); any other model or init (a named public
    checkpoint or a path) uses the registry's architecture and the tokenizer named by
    `finetune.vocab` or found in the checkpoint folder (T5: the SentencePiece model; BART and the
    BERT family: the folder's tokenizer files). `random` with `finetune.vocab` set uses that
    vocabulary (e.g. T5's on real data), a T5 embedding widened to fit it. An encoder's head
    is sized by the cell's task and initialised when the checkpoint has none.
    """
    cell = as_cell(cell)
    ft = cell.finetune
    source = pretrain_dir(cell)
    meta_path = source / "pretrain.json"
    workflow_model = meta_path.exists() and read_json(meta_path)["model"] == cell.model
    own_vocab = cell.init == "random" and bool(ft.vocab)  # else finetune.vocab was silently ignored
    if cell.init in ("pretrained", "random") and workflow_model and not own_vocab:
        meta = read_json(meta_path)
        config = T5Config(**{**meta["model_config"], "dropout_rate": ft.dropout_rate, "dtype": ft.dtype})
        vocab_path = source / meta["vocab_file"]
    elif cell.init == "pretrained":
        raise ConfigError(f"cell {cell.cell_id} needs the pretraining output {meta_path}; "
                          f"run `sam-bench pretrain` (the workflow does this first)")
    else:
        config = model_config(cell.model, dtype=ft.dtype)
        family = model_family(config)
        if family == "t5":
            config = config.replace(dropout_rate=ft.dropout_rate)
        elif family == "bart":  # the cell's dropout; attention/activation dropout as the checkpoint publishes
            config = config.replace(dropout=ft.dropout_rate)
        else:  # encoders keep their checkpoint's dropout, as the FSAM fine-tuning does
            config = config.replace(num_labels=encoder.head_size(get_task(cell.task)))
        vocab_path = ft.vocab or _checkpoint_vocab(cell, family)
        if own_vocab and family == "t5":  # random weights need no checkpoint's shape: fit the embedding
            from sam_bench.models.tokenizers import t5_vocabulary
            from sam_bench.train.pretrain import padded_vocab_size

            size = padded_vocab_size(t5_vocabulary(vocab_path).vocab_size)  # T5: 32,100 -> 32,128 rows
            config = config.replace(vocab_size=max(config.vocab_size, size))
    graphdef, params = load_initial_params(cell.init, config, seed=cell.seed, pretrained_dir=source,
                                           root=cell.checkpoint_root)
    return graphdef, params, load_tokenizer(config, vocab_path), config


def _checkpoint_vocab(cell: Cell, family: str) -> Path:
    from sam_bench.models.checkpoints import resolve_named_checkpoint

    init = cell.init.split(":", 1)[-1]
    if init == "random":
        raise ConfigError(f"cell {cell.cell_id}: a randomly initialised {cell.model} needs a tokenizer: set "
                          f"finetune.vocab (T5: a SentencePiece model; BART, BERT family: a tokenizer folder)")
    folder = Path(init) if Path(init).exists() else resolve_named_checkpoint(init, cell.checkpoint_root)
    folder = folder if folder.is_dir() else folder.parent
    if family in ("bert", "bart"):  # the tokenizer files sit beside the weights
        return folder
    for name in ("spiece.model", "sentencepiece.model", "vocab/spiece.model"):
        if (folder / name).exists():
            return folder / name
    raise ConfigError(f"cell {cell.cell_id}: no SentencePiece vocabulary in {folder}; "
                      f"set finetune.vocab to the model's spiece.model (T5.1.1: the 32k C4 vocabulary)")


#: The folder, beside ``checkpoint/``, holding the weights of the cell's best evaluation on its
#: selection metric (params only), for diagnostics at the best weights (curvature, landscapes).
BEST_WEIGHTS = "best"
#: Beside them: every validation example's output at that evaluation (decoded text, class or
#: score, in file order), {"step", "selection", "outputs": {task: [...]}}.
BEST_OUTPUTS = "best_outputs.json"


def selection_metric(training) -> tuple[str, str]:
    """The (task, metric) whose best evaluation's weights a cell keeps: the first validation
    task's first metric, the one its paper table leads with."""
    first = training.validation[0]
    return first.name, first.task.metric_names[0]


def best_per_metric(history: list[dict]) -> dict:
    """The paper's protocol: the best checkpoint for each task-metric pair individually."""
    best = {}
    for entry in history:
        key = (entry["task"], entry["metric"])
        if key not in best or entry["value"] > best[key]["value"]:
            best[key] = entry
    return best


def result_rows(cell: Cell | dict, best: dict, chance: dict | None = None, *, status: str = "ok",
                status_reason: str | None = None, degenerate: tuple = ()) -> list[dict]:
    cell, chance = as_cell(cell), chance or {}
    rows = []
    for (task, metric), entry in sorted(best.items()):
        rows.append({
            "paper": ROW_PAPER, "table": cell.experiment, "model": cell.model, "method": cell.method,
            "rho": cell.rho, "hparam_name": None, "hparam_value": None,
            "subsample_rate": cell.subsample_rate, "task": task, "metric": metric, "value": entry["value"],
            "split": get_task(task).paper_split, "seed": cell.seed, "step": entry["step"], "cell_id": cell.cell_id,
            "base_optimizer": cell.base_optimizer, "init": cell.init,
            "subsample_seed": cell.subsample_seed, "source": cell.source, "mixture": cell.task,
            "chance": chance.get((task, metric)),
            # the experiment identity reports select by (grid, a, m, s, fi, ...; see config.cell_identity)
            **{k: v for k, v in (cell.identity or {}).items() if k not in ("base_optimizer", "rho")},
            # a diverged run's best values and a task stuck at its constant-prediction plateau are
            # results to report, not numbers to average with healthy runs
            "status": status, "status_reason": status_reason, "degenerate": task in degenerate,
        })
    return rows


def _transfer(cell: Cell, graphdef, params, tokenizer) -> list[dict]:
    """FSAM Fig. 3: the final weights scored on the grid's ``eval_tasks`` (see train/transfer.py)."""
    if not cell.eval_tasks:
        return []
    scores = transfer.transfer_scores(cell, graphdef, params, tokenizer)
    return transfer.transfer_rows(cell, result_rows(cell, {k: {"value": v, "step": cell.finetune.steps}
                                                           for k, v in scores.items()}))


def _check_cell_file(out_dir: Path, cell: Cell) -> None:
    path = out_dir / "cell.json"
    same = lambda c: {k: v for k, v in c.items() if k != "identity"}  # noqa: E731 (identity is derived, not computed on)
    if path.exists() and same(read_json(path)) != same(cell.to_dict()):
        raise ConfigError(f"{path} describes a different cell than {cell.cell_id}; refusing to overwrite it")
    write_json_atomic(path, cell.to_dict())


def cell_mesh(cell: Cell, mesh=None, gradient=None):
    """The cell's mesh (sam_bench.parallel): `mesh` ("data=2,fsdp=4" or a mapping), else every
    device on `data`; None on a single device. The batch must split evenly over it."""
    shape = parallel.parse_mesh(mesh)
    if shape is None and jax.device_count() == 1:
        return None
    built = parallel.make_mesh(shape)
    ft = cell.finetune
    problems = parallel.check_batch(parallel.MeshShape(**built.shape), ft.batch_size,
                                    getattr(gradient, "ascent_size", None), ft.accumulation_steps)
    if problems:
        raise ConfigError(f"cell {cell.cell_id}: " + "; ".join(problems))
    return built


def uniform_loss(config, cell: Cell) -> float | None:
    """ln K, the loss of a flat output over K choices (None where there is no such value)."""
    if model_family(config) in ("t5", "bart"):
        return math.log(config.vocab_size)
    task = get_task(cell.task)
    return math.log(config.num_labels) if task.encoder.kind == "classification" and config.num_labels > 1 else None


def run_cell(cell: Cell | dict, out_dir: str | Path, *, progress: bool = True, stop_after: int | None = None,
             wait_for_lock: bool = True, mesh=None) -> dict | None:
    """Fine-tune one cell; returns the result, or None when stopped early by `stop_after`.

    One run at a time per cell (a lock in its folder); a cell another run finished meanwhile
    is returned as it is. A loss that turns non-finite or collapses ends the cell with a
    result whose status is "diverged". `mesh` spreads it over devices (see cell_mesh); the
    numbers do not depend on it. A mapping is checked and made a Cell first."""
    cell, out_dir = as_cell(cell), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with CellLock(out_dir, wait=wait_for_lock, say=_say):
        _check_cell_file(out_dir, cell)
        if (out_dir / "result.json").exists():  # finished by the run we waited for
            _say(f"{cell.cell_id}: already finished ({out_dir / 'result.json'})")
            return read_json(out_dir / "result.json")
        return _train(cell, out_dir, progress=progress, stop_after=stop_after, mesh=mesh)


def _say(message: str) -> None:
    print(f"sam-bench: {message}", file=sys.stderr, flush=True)


def _log(out_dir: Path, entry: dict) -> None:
    # multi-host: one process writes logs and results
    with open(out_dir / "log.jsonl" if jax.process_index() == 0 else os.devnull, "a") as log:
        log.write(json.dumps(entry) + "\n")


def _train(cell: Cell, out_dir: Path, *, progress: bool, stop_after: int | None, mesh=None) -> dict | None:
    setup_start = time.perf_counter()
    ft = cell.finetune
    recipe = parse_recipe(cell.optimizer)
    optimizer, gradient = recipe.build(ft.batch_size, ft.accumulation_steps)
    mesh = cell_mesh(cell, mesh, gradient)
    writer = jax.process_index() == 0  # multi-host: one process writes logs and results

    graphdef, params, tokenizer, config = load_model(cell)
    family = encoder if model_family(config) == "bert" else text_to_text
    training = family.prepare(cell, graphdef, tokenizer)
    train, mixture = training.train, training.mixture
    opt_state = optimizer.init(params)
    train_step = make_train_step(training.objective, optimizer, gradient, accumulation_steps=ft.accumulation_steps,
                                 mesh=mesh, donate=True)
    uniform = uniform_loss(config, cell)

    def note(message: str) -> None:  # said on stderr and kept in the cell's log
        _say(message)
        _log(out_dir, {"event": "checkpoint", "message": message})

    checkpoints = TrainStateCheckpoints(out_dir / "checkpoint", say=note)
    best_weights = TrainStateCheckpoints(out_dir / BEST_WEIGHTS, say=note, keep=1)
    selection = selection_metric(training)
    start, history, step_seconds, losses = 0, [], [], []
    restored = checkpoints.restore((params, opt_state), mesh=mesh)  # onto this mesh, whichever wrote it
    if restored is not None:
        start, (params, opt_state), meta = restored
        history, step_seconds, losses = meta["history"], meta["step_seconds"], meta["losses"]
    elif mesh is not None:
        params, opt_state = parallel.place((params, opt_state), mesh)
    best_so_far = best_per_metric(history).get(selection, {}).get("value")

    base_key = jax.random.key(cell.seed)
    wall_start = time.perf_counter()
    # where a cell's time goes besides its steps: what to cut when a study runs over budget
    phase_seconds = {"setup": wall_start - setup_start, "evaluation": 0.0, "checkpointing": 0.0}
    divergence = None
    bar = tqdm(total=ft.steps, initial=start, desc=cell.cell_id[:48], disable=not progress,
               mininterval=2.0, dynamic_ncols=True)
    lengths = row_lengths(train, training.pad_id) if ft.group_by_length else None
    for step in range(start, ft.steps):
        batch = batch_at_step(train, ft.batch_size, cell.seed, step, lengths)
        if ft.dynamic_padding:
            batch = trim_padding(batch, training.pad_id)
        if mesh is not None:
            batch = parallel.shard_batch(batch, mesh)
        t0 = time.perf_counter()
        params, opt_state, loss = train_step(params, opt_state, batch, jax.random.fold_in(base_key, step))
        loss = float(loss)  # waits for the step to finish, so the timing is real
        step_seconds.append(time.perf_counter() - t0)
        losses.append(loss)
        divergence = health.nonfinite(losses)
        if divergence is not None:  # the state is no longer a model: keep the last checkpoint as it was
            break
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        done = step + 1
        if done % ft.eval_every == 0 or done == ft.steps:
            t_eval = time.perf_counter()
            scores = training.evaluate(params)
            t_saves = time.perf_counter()
            phase_seconds["evaluation"] += t_saves - t_eval
            history += [{"step": done, "task": t, "metric": m, "value": v} for (t, m), v in sorted(scores.items())]
            _log(out_dir, {"step": done, "train_loss": float(np.mean(losses[-ft.eval_every:])),
                           "scores": {f"{t}/{m}": v for (t, m), v in scores.items()}})
            value = scores.get(selection)
            if value is not None and (best_so_far is None or value > best_so_far):
                best_so_far = value  # every process saves (orbax writes shards); before the training
                # state, so a resume from the step before re-evaluates and re-saves this one
                best_weights.save(done, params, {"task": selection[0], "metric": selection[1], "value": value})
                if writer and training.outputs:  # what the best weights predicted: for paired significance tests
                    write_json_atomic(out_dir / BEST_OUTPUTS, {"step": done, "selection": "/".join(selection),
                                                               "outputs": training.outputs})
            checkpoints.save(done, (params, opt_state),
                             {"history": history, "step_seconds": step_seconds, "losses": losses})
            phase_seconds["checkpointing"] += time.perf_counter() - t_saves
            divergence = health.collapsed(losses, uniform)
            if divergence is not None:
                break
            if stop_after is not None and done >= stop_after and done < ft.steps:
                bar.close()
                return None
    bar.close()

    status, reason = ("ok", None) if divergence is None else ("diverged", divergence.message)
    if divergence is not None:
        _say(f"{cell.cell_id}: diverged: {divergence.message}; the result records it")
        _log(out_dir, {"event": "diverged", **divergence.to_json()})
    degenerate = health.degenerate_tasks(history, training.chance)
    timed = step_seconds[1:] or step_seconds  # the first step includes compilation
    finite = [x for x in losses[-ft.eval_every:] if np.isfinite(x)]
    result = {
        "cell": cell.to_dict(),
        "status": status, "status_reason": reason,
        "divergence": None if divergence is None else divergence.to_json(),
        "degenerate_tasks": degenerate,
        "chance": [{"task": t, "metric": m, "value": v} for (t, m), v in sorted(training.chance.items())],
        "data": {"train_examples": {t: int(len(i)) for t, i in mixture.indices.items()},
                 "full_sizes": mixture.full_sizes, "fingerprints": mixture.fingerprints,
                 "subsamples": mixture.subsamples, "source": mixture.source},
        "rows": result_rows(cell, best_per_metric(history), training.chance, status=status, status_reason=reason,
                            degenerate=tuple(degenerate)) + _transfer(cell, graphdef, params, tokenizer),
        "curve": history,
        "timing": {"steps": len(losses), "seconds_per_step": float(np.median(timed)),
                   # the first step includes tracing and XLA compilation (or a compilation-cache hit)
                   "compile_seconds": float(step_seconds[0] - np.median(timed)), "wall_seconds": time.perf_counter() - wall_start,
                   **{f"{phase}_seconds": seconds for phase, seconds in phase_seconds.items()},
                   "train_examples": len(train), "final_train_loss": float(np.mean(finite)) if finite else None},
    }
    if writer:
        write_json_atomic(out_dir / "result.json", result)
    return result
