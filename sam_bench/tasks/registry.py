"""Task registry: name -> Task (seqio/t5 style).

    from sam_bench.tasks import get_task
    task = get_task("cb")
    examples = task.load("../shared/data", "validation")
    pair = task.preprocess(examples[0])         # {"inputs": ..., "targets": ...}
    task.score(examples, predicted_strings)     # {"accuracy": ..., "f1": ...}

Registered: SuperGLUE (boolq, cb, copa, multirc, record, rte, wic, wsc, axb, axg), GLUE (cola,
sst2, mrpc, stsb, qqp, mnli_m, mnli_mm, qnli, glue_rte, wnli; plus sst2_sentences, the
sentence-level SST-2 release), closed-book QA (natural_questions, web_questions, trivia_qa),
TyDiQA-GoldP (tydiqa_en, tydiqa_ar, tydiqa_bn, tydiqa_fi, tydiqa_id, tydiqa_ko, tydiqa_ru,
tydiqa_sw, tydiqa_te) and xsum.
"""

from __future__ import annotations

import types

import sam_bench.tasks.cbqa as cbqa
import sam_bench.tasks.conll2014 as conll2014
import sam_bench.tasks.glue as glue
import sam_bench.tasks.natural_questions as natural_questions
import sam_bench.tasks.stsb as stsb
import sam_bench.tasks.superglue as superglue
import sam_bench.tasks.tydiqa as tydiqa
import sam_bench.tasks.xsum as xsum
from sam_bench.tasks.base import Task

__all__ = ["TASKS", "REGISTRY", "get_task", "register"]

_REGISTRY: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Add a task; a name can be registered once."""
    if task.name in _REGISTRY:
        raise ValueError(f"task {task.name!r} is already registered")
    _REGISTRY[task.name] = task
    return task


for _task in (
    *superglue.TASKS,
    *glue.TASKS_BEFORE_STSB, stsb.TASK, *glue.TASKS_AFTER_STSB,
    natural_questions.TASK, *cbqa.TASKS,
    *tydiqa.TASKS,
    xsum.TASK, conll2014.TASK,
):
    register(_task)

#: Read-only view name -> Task of every registered task.
REGISTRY = types.MappingProxyType(_REGISTRY)
#: Names of the registered tasks, in registration order.
TASKS: tuple[str, ...] = tuple(_REGISTRY)


def get_task(name: str) -> Task:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; valid tasks: {sorted(_REGISTRY)}") from None
