"""Paper targets as data: one registry entry per published table and figure.

    from sam_bench.report.targets import TARGETS, PAPER_TARGETS, get_target, compute
    table, info = compute(get_target("bahri2022_table1"), rows_df, reference_df)

``PAPER_TARGETS`` are the 25 published targets in paper order; ``TARGETS`` adds sam-bench's own
(CPU runs). How to add one: docs/targets.md.
"""

from __future__ import annotations

from .bahri import BAHRI
from .base import HPARAM_NAMES, SCORE_COLUMNS, Select, Target, our_method, our_model, paper_method, paper_model
from .checks import like_for_like, warn_unlike
from .compute import NONE, SLOT_COLUMNS, compute, keyed_reference, keyed_rows
from .fsam import FSAM
from .other import FUNCTIONAL, PROJECT

__all__ = ["NONE", "TARGETS", "PAPER_TARGETS", "get_target", "Target", "Select", "compute", "keyed_rows",
           "keyed_reference", "like_for_like", "warn_unlike", "HPARAM_NAMES", "SCORE_COLUMNS", "SLOT_COLUMNS", "paper_method",
           "paper_model", "our_method", "our_model"]

PAPER_TARGETS: tuple[Target, ...] = tuple(BAHRI + FSAM + FUNCTIONAL)
TARGETS: tuple[Target, ...] = PAPER_TARGETS + tuple(PROJECT)
assert len({t.key for t in TARGETS}) == len(TARGETS), "target keys must be unique"


def get_target(key: str) -> Target:
    for t in TARGETS:
        if t.key == key:
            return t
    raise KeyError(f"unknown target {key!r}; valid: {[t.key for t in TARGETS]}")
