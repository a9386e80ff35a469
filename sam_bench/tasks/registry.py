"""Task registry: name -> Task (seqio/t5 style).

    from sam_bench.tasks import get_task
    task = get_task("cb")
    examples = task.load("../shared/data", "validation")
    pair = task.preprocess(examples[0])         # {"inputs": ..., "targets": ...}
    task.score(examples, predicted_strings)     # {"accuracy": ..., "f1": ...}
"""

from __future__ import annotations

import types

from sam_bench.tasks import cb, natural_questions, stsb
from sam_bench.tasks.base import Task

__all__ = ["TASKS", "get_task", "register"]

_REGISTRY: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Add a task; a name can be registered once."""
    if task.name in _REGISTRY:
        raise ValueError(f"task {task.name!r} is already registered")
    _REGISTRY[task.name] = task
    return task


for _module in (cb, stsb, natural_questions):
    register(_module.TASK)

#: Read-only view name -> Task of every registered task.
REGISTRY = types.MappingProxyType(_REGISTRY)
#: Names of the registered tasks, in registration order.
TASKS: tuple[str, ...] = tuple(_REGISTRY)


def get_task(name: str) -> Task:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; valid tasks: {sorted(_REGISTRY)}") from None
