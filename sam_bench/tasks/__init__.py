"""Tasks: registry of text-to-text tasks (loader, preprocessing, postprocessing, metrics) and mixtures."""

from sam_bench.data.spec import TfdsSpec
from sam_bench.tasks.base import SPLITS, EncoderSpec, Task, UnlabeledSplitError
from sam_bench.tasks.benchmarks import benchmark_average
from sam_bench.tasks.formats import DataFormatError
from sam_bench.tasks.mixtures import (
    DEFAULT_MIXTURE,
    MIXTURES,
    MixtureTrainingData,
    get_mixture,
    load_eval_sets,
    load_training_pairs,
    task_names,
)
from sam_bench.tasks.registry import REGISTRY, TASKS, get_task, register

__all__ = [
    "SPLITS",
    "Task",
    "EncoderSpec",
    "TfdsSpec",
    "UnlabeledSplitError",
    "DataFormatError",
    "DEFAULT_MIXTURE",
    "MIXTURES",
    "MixtureTrainingData",
    "benchmark_average",
    "get_mixture",
    "load_eval_sets",
    "load_training_pairs",
    "task_names",
    "REGISTRY",
    "TASKS",
    "get_task",
    "register",
]
