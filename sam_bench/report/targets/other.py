"""The Functional-SAM comparison, and the targets of sam-bench's own CPU runs (config/default.yaml,
config/test.yaml, config/fsam_minilm.yaml), drawn with the same machinery and statistics."""

from __future__ import annotations

from .base import Select, Target

__all__ = ["FUNCTIONAL", "PROJECT"]

_FSAM_METHODS = ("adamw", "sam", "functional_sam", "precond_sam", "precond_functional_sam")

FUNCTIONAL = [
    Target("functional_sam_comparison", "functional_sam2025", "comparison",
           "AdamW, SAM, Functional-SAM and their preconditioned forms: validation loss and top Hessian eigenvalue",
           (Select("functional_sam_lm"),), rows=("method",), task_as="lm", lower_is_better=True,
           columns=(("lm", "val_loss"), ("lm", "hessian_top_eigenvalue")), expect=tuple((m,) for m in _FSAM_METHODS),
           needs="functional_sam_lm cells with val_loss and hessian_top_eigenvalue rows (issue 13)",
           notes=("Lower is better in both columns; P(↑) counts a lower value as a win.",)),
]

PROJECT = [
    Target("sambench_rates", "sam-bench", "Table A", "Our runs by training-data rate: baseline vs SAM (paired by seed)",
           (Select("main", {"init": ("pretrained",)}),),
           rows=("model", "method", "subsample_rate")),
    Target("sambench_rates_figure", "sam-bench", "Figure A", "Score against training-data rate (our runs)",
           (Select("main", {"init": ("pretrained",)}),), kind="figure", x="subsample_rate",
           rows=("model", "method", "subsample_rate")),
    Target("sambench_encoders", "sam-bench", "Table B", "Encoder runs (FSAM's comparison on CPU): Adam vs SAM vs FSAM",
           (Select("encoder"), Select("minilm_stsb"), Select("minilm_sst2")), rows=("model", "method", "subsample_rate")),
]
