"""Mixtures: named lists of tasks trained together, and the data of a (mixture, rate, seed).

A mixture's training set is the concatenation of its tasks' (subsampled) training sets,
so tasks are sampled in proportion to their training-set sizes, as in Bahri et al. 2022
(T5's examples-proportional mixing without a cap). ``task_index`` is the position of
the task in the mixture. A single task name is accepted wherever a mixture is, meaning
the one-task mixture.
"""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path

import numpy as np

from sam_bench.data.subsample import dataset_fingerprint, subsample_indices
from sam_bench.tasks.registry import REGISTRY, get_task

__all__ = [
    "MIXTURES",
    "DEFAULT_MIXTURE",
    "get_mixture",
    "task_names",
    "MixtureTrainingData",
    "load_training_pairs",
    "load_eval_sets",
]

DEFAULT_MIXTURE = "tiny_suite"

#: mixture name -> task names (read-only).
MIXTURES = types.MappingProxyType(
    {
        "tiny_suite": ("cb", "stsb", "natural_questions"),
    }
)


def get_mixture(name: str) -> list[str]:
    try:
        return list(MIXTURES[name])
    except KeyError:
        raise ValueError(f"unknown mixture {name!r}; valid mixtures: {sorted(MIXTURES)}") from None


def task_names(name: str) -> list[str]:
    """Tasks of a mixture name, or [name] for a task name."""
    if name in MIXTURES:
        return get_mixture(name)
    if name in REGISTRY:
        return [name]
    raise ValueError(
        f"{name!r} is neither a task nor a mixture; tasks: {sorted(REGISTRY)}, mixtures: {sorted(MIXTURES)}"
    )


@dataclasses.dataclass(frozen=True)
class MixtureTrainingData:
    """Text-to-text training pairs of a mixture at one subsample (rate, seed).

    pairs: [{"inputs", "targets", "task_index"}], tasks concatenated in mixture order.
    tasks: the mixture's task names (task_index indexes this).
    indices: task -> the kept example indices into that task's full training file.
    full_sizes: task -> number of examples in the full training file.
    fingerprints: task -> sha256 of the full training records (detects a changed dataset).
    """

    pairs: list[dict]
    tasks: tuple[str, ...]
    indices: dict[str, np.ndarray]
    full_sizes: dict[str, int]
    fingerprints: dict[str, str]


def load_training_pairs(
    name: str, root: str | Path, rate: float = 1.0, subsample_seed: int = 0
) -> MixtureTrainingData:
    """Load, subsample (nested, per task, with ``subsample_indices``) and preprocess training data."""
    tasks = tuple(task_names(name))
    pairs: list[dict] = []
    indices, sizes, prints = {}, {}, {}
    for t_idx, t_name in enumerate(tasks):
        task = get_task(t_name)
        records = task.load(root, "train")
        keep = subsample_indices(len(records), rate, subsample_seed)
        indices[t_name] = keep
        sizes[t_name] = len(records)
        prints[t_name] = dataset_fingerprint(records)
        for i in keep:
            pair = task.preprocess(records[i])
            pairs.append({"inputs": pair["inputs"], "targets": pair["targets"], "task_index": t_idx})
    return MixtureTrainingData(pairs, tasks, indices, sizes, prints)


def load_eval_sets(name: str, root: str | Path, split: str = "validation") -> dict[str, tuple[list[dict], list[dict]]]:
    """task -> (raw examples, text-to-text pairs with task_index) for evaluation; never subsampled."""
    out = {}
    for t_idx, t_name in enumerate(task_names(name)):
        task = get_task(t_name)
        records = task.load(root, split)
        pairs = [dict(task.preprocess(r), task_index=t_idx) for r in records]
        out[t_name] = (records, pairs)
    return out
