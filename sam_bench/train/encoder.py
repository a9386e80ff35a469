"""A cell of a BERT-family encoder (the FSAM experiments): one task's classification,
regression or multiple-choice form, its loss, and scoring from the head's outputs.

The head is sized by the task (``head_size``): C logits for C classes, one output for
regression (STS-B) and one score per choice for multiple choice (COPA, ReCoRD), which the
encoder computes on each (context, choice) pair as Hugging Face's ``*ForMultipleChoice`` does.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from sam_bench.cell import Cell
from sam_bench.data.batching import predict_split
from sam_bench.data.encoding import encode_examples
from sam_bench.models import bert_apply
from sam_bench.models.losses import (
    per_example_choice_cross_entropy,
    per_example_classification_cross_entropy,
    per_example_squared_error,
)
from sam_bench.optim.objective import Objective
from sam_bench.tasks import get_task, load_eval_sets, load_training_pairs
from sam_bench.train.cell_data import CellTraining, TaskData, cell_source
from sam_bench.train.chance import chance_table, encoder_chance


def head_size(task) -> int:
    """Outputs of the head a task needs."""
    return len(task.encoder.label_names) if task.encoder.kind == "classification" else 1


def _per_example_loss(kind: str):
    if kind == "classification":
        return lambda logits, batch: per_example_classification_cross_entropy(logits, batch["label"])
    if kind == "regression":
        return lambda logits, batch: per_example_squared_error(logits, batch["label"])
    return lambda scores, batch: per_example_choice_cross_entropy(scores, batch["label"], batch["choice_mask"])


def encoder_objective(graphdef, kind: str) -> Objective:
    """The task's loss on the encoder's outputs, as an Objective (logits apart, for
    Functional-SAM; per-example losses, for ESAM)."""

    def logits_fn(params, batch, dropout_key):
        inputs = (batch["input_ids"], batch["token_type_ids"], batch["attention_mask"])
        if kind != "multiple_choice":
            return bert_apply(graphdef, params, *inputs, dropout_key=dropout_key)
        b, c, length = batch["input_ids"].shape  # every choice is one row through the encoder
        scores = bert_apply(graphdef, params, *(x.reshape(b * c, length) for x in inputs), dropout_key=dropout_key)
        return scores.reshape(b, c)

    per_example = _per_example_loss(kind)
    return Objective(logits_fn, lambda logits, batch: jnp.mean(per_example(logits, batch)), per_example)


def predictions(logits, batch, kind: str):
    """Class ids, regression values, or the chosen choice, ``[B]``."""
    if kind == "regression":
        return logits[:, 0]
    if kind == "multiple_choice":
        logits = jnp.where(batch["choice_mask"].astype(bool), logits, -jnp.inf)
    return jnp.argmax(logits, axis=-1)


def _trainable(examples: list[dict], kind: str) -> list[dict]:
    # a ReCoRD query whose answer is none of the passage's entities has nothing to learn from
    if kind != "multiple_choice":
        return examples
    return [ex for ex in examples if not isinstance(ex["label"], (list, tuple)) or ex["label"]]


def prepare(cell: Cell, graphdef, tokenizer) -> CellTraining:
    """Training examples (subsampled as for every model), the evaluation set, the objective
    and the evaluation of one task's encoder cell."""
    ft = cell.finetune
    task = get_task(cell.task)
    kind, length = task.encoder.kind, ft.max_input_length
    source = cell_source(cell.to_dict())
    mixture = load_training_pairs(cell.task, source, cell.subsample_rate, cell.subsample_seed,
                                  form="encoder")
    train = encode_examples(_trainable(mixture.pairs, kind), kind, tokenizer, length,
                            where=f"task {task.name!r}, training split")
    validation = [TaskData(name, get_task(name), examples,
                           encode_examples(forms, kind, tokenizer, length, where=f"task {name!r}, evaluation split"))
                  for name, (examples, forms) in load_eval_sets(cell.task, source, form="encoder").items()]
    objective = encoder_objective(graphdef, kind)
    predict = jax.jit(lambda p, batch: predictions(objective.logits_fn(p, batch, None), batch, kind))
    outputs = {}
    return CellTraining(train=train, validation=validation, mixture=mixture, objective=objective,
                        chance=chance_table(validation, lambda data: encoder_chance(data, kind, head_size(task))),
                        evaluate=lambda params: evaluate(predict, params, validation, ft.eval_batch_size,
                                                         ft.dynamic_padding, outputs),
                        outputs=outputs)


def evaluate(predict, params, validation: list[TaskData], batch_size: int, dynamic_padding: bool = True,
             outputs: dict | None = None) -> dict:
    """{(task, metric): value} from the encoder's predictions on each validation set; the
    predictions go into ``outputs[task]`` when given."""
    scores = {}
    for data in validation:
        predicted = predict_split(data.split, batch_size, lambda batch: np.asarray(predict(params, batch)).tolist(),
                                  dynamic_padding)
        if outputs is not None:
            outputs[data.name] = predicted
        for metric, value in data.task.score_encoder(data.examples, predicted).items():
            scores[(data.name, metric)] = float(value)
    return scores
