"""What a fine-tuning cell trains on and how it is scored, for either model family.

``sam_bench.train.text_to_text`` (T5/mT5, BART: pairs of texts, greedy decoding) and
``sam_bench.train.encoder`` (BERT family: class ids, scores or choices) each turn a cell
into a :class:`CellTraining`; ``run_cell`` only sees this record.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sam_bench.data.sources import resolve_source
from sam_bench.optim.objective import Objective


@dataclass
class TaskData:
    """One evaluation set: the raw records (for scoring) and their arrays."""

    name: str
    task: Any
    examples: list
    split: Any  # TokenizedSplit | EncodedSplit


@dataclass
class CellTraining:
    train: Any  # a split with len, take and as_batch
    validation: list[TaskData]
    mixture: Any  # MixtureTrainingData: the subsample's provenance
    objective: Objective
    evaluate: Callable[[Any], dict]  # params -> {(task, metric): value}
    chance: dict = field(default_factory=dict)  # {(task, metric): best constant prediction's score}
    pad_id: int = 0  # pads the split's inputs and targets (T5 0, BART 1; encoders use attention masks)
    # {task: the latest evaluation's outputs, one per example in file order (decoded text, a
    # class, a score)}: a cell keeps those of its best evaluation for significance tests
    outputs: dict = field(default_factory=dict)


def cell_source(cell: dict):
    """The data source a cell reads (the synthetic suite, which the workflow has written; official
    local files; or tfds), with the cell's options."""
    options = {"write": False} if cell["source"] == "synthetic" else {"subsamples": cell.get("subsamples", "manifest")}
    if cell["source"] == "tfds":
        options["archives"] = cell.get("data_archives")
    return resolve_source(cell["data_root"], cell["source"], **options)
