"""A cell of an encoder-decoder model (T5.1.1/mT5 or BART): text-to-text pairs, token
cross-entropy, and scoring by greedy decoding. The model's token ids (pad, EOS, decoder
start: :func:`sam_bench.models.registry.seq2seq_ids`) must be its tokenizer's."""
from __future__ import annotations

import jax
import numpy as np

from sam_bench.cell import Cell
from sam_bench.data.batching import predict_split, tokenize
from sam_bench.data.tokenizer import Vocabulary
from sam_bench.errors import ConfigError
from sam_bench.models import greedy_decode, model_config
from sam_bench.models.registry import seq2seq_ids
from sam_bench.tasks import get_task, load_eval_sets, load_training_pairs
from sam_bench.train.cell_data import CellTraining, TaskData, cell_source
from sam_bench.train.chance import chance_table, text_to_text_chance
from sam_bench.train.step import make_loss_fn


def prepare(cell: Cell, graphdef, vocab: Vocabulary) -> CellTraining:
    """Training mixture (each task subsampled, nested across rates, pinned for official data),
    per-task evaluation sets, the objective and the evaluation."""
    ft = cell.finetune
    ids = seq2seq_ids(model_config(cell.model))
    if (vocab.pad_id, vocab.eos_id) != (ids.pad, ids.eos):
        raise ConfigError(f"cell {cell.cell_id}: the tokenizer pads with {vocab.pad_id} and ends with {vocab.eos_id}, "
                          f"but {cell.model} pads with {ids.pad} and ends with {ids.eos}")
    lengths = (ft.max_input_length, ft.max_target_length)
    source = cell_source(cell.to_dict())
    mixture = load_training_pairs(cell.task, source, cell.subsample_rate, cell.subsample_seed)
    eval_sets = load_eval_sets(cell.task, source)
    validation = [TaskData(name, get_task(name), examples, tokenize(pairs, vocab, *lengths))
                  for name, (examples, pairs) in eval_sets.items()]
    decode = jax.jit(lambda p, x: greedy_decode(graphdef, p, x, ft.max_target_length))
    outputs = {}
    return CellTraining(
        train=tokenize(mixture.pairs, vocab, *lengths), validation=validation, mixture=mixture,
        objective=make_loss_fn(graphdef, ids), chance=chance_table(validation, text_to_text_chance),
        evaluate=lambda params: evaluate(decode, params, validation, vocab, ft.eval_batch_size,
                                         ft.dynamic_padding, outputs),
        outputs=outputs,
        pad_id=ids.pad)


def evaluate(decode, params, validation: list[TaskData], vocab: Vocabulary, batch_size: int,
             dynamic_padding: bool = True, outputs: dict | None = None) -> dict:
    """{(task, metric): value} from greedy decoding of each validation set; the decoded texts
    go into ``outputs[task]`` when given."""
    scores = {}
    for data in validation:
        rows = predict_split(data.split, batch_size, lambda batch: np.asarray(decode(params, batch["inputs"])),
                             dynamic_padding, vocab.pad_id)
        # the embedding has padding rows past the vocabulary (T5 pads 32,100 to 32,128);
        # a model that emits one of them has produced an unknown token
        predictions = [vocab.decode(np.where(ids >= vocab.vocab_size, vocab.unk_id, ids).tolist()) for ids in rows]
        if outputs is not None:
            outputs[data.name] = predictions
        for metric, value in data.task.score(data.examples, predictions).items():
            scores[(data.name, metric)] = float(value)
    return scores
