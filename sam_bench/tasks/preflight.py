"""Checks of a task or mixture's cells before any compute: pinned subsamples and data files.

The per-task checks are the data layer's (``sam_bench.data.pins.task_pin_problems``,
``sam_bench.data.preflight``); this module runs them over the tasks a name stands for.
"""

from __future__ import annotations

from pathlib import Path

from sam_bench.data.pins import task_pin_problems
from sam_bench.data.preflight import local_problems, tfds_problems
from sam_bench.tasks.mixtures import task_names
from sam_bench.tasks.registry import get_task

__all__ = ["cell_splits", "pin_problems", "data_problems"]


def cell_splits(task) -> list[str]:
    """The splits a fine-tuning cell reads for ``task``: the training split of a task that trains
    (``load_training_pairs``) and its evaluation split (``load_eval_sets``)."""
    return (["train"] if task.trains else []) + [task.eval_split]


def pin_problems(name: str, rate: float, seed: int, directory: str | Path | None = None) -> list[str]:
    """Why a (task or mixture, rate, seed) cell on official data cannot use pinned subsamples,
    without loading any data (empty if it can). For config validation before compute."""
    return [p for task_name in task_names(name)
            for p in task_pin_problems(get_task(task_name), rate, seed, directory)]


def data_problems(name: str, data: dict) -> list[str]:
    """Every missing file (or missing requirement) of the cells of task or mixture ``name`` on the
    config's ``data`` section ({"source", "root", "archives", ...}); empty when all is there."""
    source = data.get("source")
    if source == "local" and not data.get("root"):
        return []  # reported by the config check
    if source == "local" and not Path(data["root"]).is_dir():
        return [f"data.root {data['root']} is not a directory (source local: the official release files, "
                "laid out as in docs/data.md)"]
    out: list[str] = []
    for task_name in task_names(name):
        task = get_task(task_name)
        if source == "local":
            out += local_problems(task.source, data["root"], cell_splits(task))
        elif source == "tfds":
            out += tfds_problems(task.source, cell_splits(task), data.get("root"), data.get("archives"))
    return out
