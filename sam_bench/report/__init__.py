"""Reporting: aggregate result files, compare with the papers' tables, draw, build the PDF.

    rows_df, cells_df = collect_results("results/cells")
    write_summary(rows_df, cells_df, "results")
    build_report("results", "reports/build", title="sam-bench", meta={"git_commit": "..."})

Every published table and figure is a target (``targets/``): ``compute(get_target(key), rows_df,
load_reference())`` gives its numbers; ``build_report`` renders them all (docs/targets.md).
"""

from .aggregate import (ResultFileError, collect_curves, collect_results, read_summary,  # noqa: F401
                        write_summary)
from .figures import training_curves  # noqa: F401
from .pdf import build_report  # noqa: F401
from .reference import load_reference, reference_tables  # noqa: F401
from .targets import PAPER_TARGETS, TARGETS, compute, get_target  # noqa: F401
from .tables import benchmark_score, cost_table, pretraining_check, to_csv, to_markdown  # noqa: F401

__all__ = [
    "ResultFileError", "collect_results", "collect_curves", "write_summary", "read_summary",
    "load_reference", "reference_tables",
    "pretraining_check", "cost_table", "benchmark_score", "to_markdown", "to_csv",
    "training_curves", "build_report",
    "TARGETS", "PAPER_TARGETS", "get_target", "compute",
]
