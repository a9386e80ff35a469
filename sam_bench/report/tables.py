"""Table helpers that are not a target: which rows are encoder rows, FSAM's task names and its
"AVG." (the paper tables themselves are targets, ``targets/``, rendered by ``publish``).

The benchmark score, the pretraining check and the cost table live in ``labels`` and
``checks``; they are re-exported here, their former home.
"""
from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import pandas as pd

from sam_bench.tasks import get_task

from .checks import cost_table, pretraining_check  # noqa: F401  (re-exported: the old home)
from .formatting import display_frame, flat_frame, to_csv, to_markdown  # noqa: F401
from .labels import benchmark_score  # noqa: F401

__all__ = ["benchmark_score", "pretraining_check", "cost_table", "FSAM_TASK_BENCHMARK", "is_encoder_model",
           "encoder_rows", "fsam_task", "fsam_average", "display_frame", "to_markdown", "to_csv", "flat_frame"]

#: The benchmark of each FSAM task (FSAM Table 7): its RTE is GLUE RTE, not SuperGLUE RTE.
FSAM_TASK_BENCHMARK = {"cola": "glue", "mrpc": "glue", "stsb": "glue", "rte": "glue",
                       "cb": "superglue", "boolq": "superglue", "wsc": "superglue", "wic": "superglue"}


@functools.lru_cache(maxsize=None)
def is_encoder_model(name: str) -> bool:
    """True for a BERT-family encoder of the model registry; False for T5/mT5 and for names the
    registry does not know (a checkpoint path, a model from elsewhere)."""
    from sam_bench.models import model_config, model_family  # imports JAX: only when a report asks

    try:
        return model_family(model_config(str(name))) == "bert"
    except ValueError:
        return False


def encoder_rows(rows_df: pd.DataFrame) -> pd.DataFrame:
    """The result rows of BERT-family encoder models."""
    return rows_df[np.array([isinstance(m, str) and is_encoder_model(m) for m in rows_df["model"]], dtype=bool)]


def fsam_task(task: str) -> str | None:
    """The FSAM column task our registry ``task`` reports under, or None.  Matched on benchmark
    and paper name, because both our ``glue_rte`` and our SuperGLUE ``rte`` are "rte" in the
    papers, and only GLUE RTE is FSAM's."""
    try:
        t = get_task(str(task))
    except ValueError:
        return None
    return t.paper_name if FSAM_TASK_BENCHMARK.get(t.paper_name) == t.benchmark else None


def fsam_average(wide: pd.DataFrame, task_metrics: Sequence[tuple[str, str]] | None = None) -> pd.Series:
    """FSAM's "AVG." per row of ``wide``: the plain mean of every metric cell (MRPC accuracy and
    F1 count as two cells, unlike :func:`benchmark_score`).  NaN where any column is missing."""
    cols = list(task_metrics) if task_metrics is not None else [c for c in wide.columns if isinstance(c, tuple)]
    if not cols:
        return pd.Series(np.nan, index=wide.index, dtype="float64")
    return wide[cols].astype("float64").mean(axis=1, skipna=False)
