"""Transfer evaluation (FSAM Figure 3): an encoder cell, once trained on its task, is also
scored on tasks it did not train on (the grid's ``eval_tasks``).

Head mapping: the trained encoder is frozen and each evaluation task gets a *new* head fitted
on that task's training split (all of it), on the features the cell's own head reads (BERT,
ALBERT: the pooler output; RoBERTa, ELECTRA: the first token's last hidden state):
scikit-learn's L2 logistic regression (C = 1) for classification tasks, ridge regression
(α = 1) for regression (STS-B). The task's validation split is then scored with its own
metrics. A task with another label set (CoLA after QNLI) therefore needs no label mapping,
and the score measures what the representation learnt on the training task carries over —
our reading of FSAM §6.4's protocol (it follows Xu et al. 2021, whose text we do not have).
Multiple-choice tasks are not transfer targets (their heads score choice pairs).

Rows name both tasks: ``train_task`` (the cell's task) and ``eval_task`` (= ``task``).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from sklearn.linear_model import LogisticRegression, Ridge

from sam_bench.cell import Cell
from sam_bench.data.batching import eval_batches
from sam_bench.data.encoding import encode_examples
from sam_bench.tasks import TASKS, get_task, load_eval_sets, load_training_pairs
from sam_bench.train.cell_data import cell_source

TRANSFER_KINDS = ("classification", "regression")


def eval_task_problems(train_task: str, eval_tasks: list[str]) -> list[str]:
    """Why ``eval_tasks`` cannot be transfer targets of a cell trained on ``train_task``."""
    valid = sorted(n for n in TASKS if get_task(n).encoder is not None and get_task(n).encoder.kind in TRANSFER_KINDS
                   and get_task(n).trains)
    problems = []
    for i, name in enumerate(eval_tasks):
        if name == train_task:
            problems.append(f"eval_tasks[{i}]: {name!r} is the task the cell trains on (it is evaluated anyway)")
        elif name not in valid:
            problems.append(f"eval_tasks[{i}]: {name!r} cannot be a transfer target (a classification or regression "
                            f"task with a training split for its new head); valid: {valid}")
    return problems


def features(graphdef, params, batch) -> jax.Array:
    """What the cell's head reads: the pooler output, or the first token's hidden state."""
    model = nnx.merge(graphdef, params)
    hidden = model.encode(batch["input_ids"], batch["token_type_ids"], batch["attention_mask"])
    pooled = model.pooled(hidden) if model.config.has_pooler else hidden[:, 0]
    return pooled.astype(jnp.float32)


def fit_head(kind: str, x: np.ndarray, y: np.ndarray):
    """A new head on frozen features: logistic regression (classification) or ridge (regression)."""
    if kind == "classification":
        if len(np.unique(y)) < 2:
            raise ValueError("a classification head needs at least two classes in the training split")
        return LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    if kind == "regression":
        return Ridge(alpha=1.0).fit(x, y)
    raise ValueError(f"no transfer head for {kind!r} tasks; valid: {TRANSFER_KINDS}")


def _features_of(feature_fn, params, split, batch_size: int) -> np.ndarray:
    out = [np.asarray(feature_fn(params, batch))[:n_real] for batch, n_real in eval_batches(split, batch_size)]
    return np.concatenate(out)


def transfer_scores(cell: Cell, graphdef, params, tokenizer) -> dict:
    """{(eval task, metric): value} for every task in ``cell.eval_tasks``."""
    ft = cell.finetune
    source = cell_source(cell.to_dict())
    feature_fn = jax.jit(lambda p, batch: features(graphdef, p, batch))
    scores = {}
    for name in cell.eval_tasks:
        task = get_task(name)
        kind, length = task.encoder.kind, ft.max_input_length
        train = load_training_pairs(name, source, 1.0, 0, form="encoder")
        split = encode_examples(train.pairs, kind, tokenizer, length, where=f"transfer task {name!r}, training split")
        head = fit_head(kind, _features_of(feature_fn, params, split, ft.eval_batch_size),
                        np.asarray(split.arrays["label"]))
        (examples, forms), = load_eval_sets(name, source, form="encoder").values()
        evaluation = encode_examples(forms, kind, tokenizer, length, where=f"transfer task {name!r}, evaluation split")
        outputs = head.predict(_features_of(feature_fn, params, evaluation, ft.eval_batch_size)).tolist()
        for metric, value in task.score_encoder(examples, outputs).items():
            scores[(name, metric)] = float(value)
    return scores


def transfer_rows(cell: Cell, rows: list[dict]) -> list[dict]:
    """The cell's result rows of transfer scores, naming both tasks and the head."""
    return [{**row, "train_task": cell.task, "eval_task": row["task"], "hparam_name": "transfer_head",
             "hparam_value": "logistic_regression" if get_task(row["task"]).encoder.kind == "classification"
             else "ridge"} for row in rows]
