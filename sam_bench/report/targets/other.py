"""The Functional-SAM comparison, and the targets of sam-bench's own CPU runs (config/default.yaml,
config/test.yaml, config/evidence_minilm.yaml), drawn with the same machinery and statistics."""

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

_MATCHED = "adamw, 2× steps"

PROJECT = [
    Target("sambench_rates", "sam-bench", "Table A", "Our runs by training-data rate: baseline vs SAM (paired by seed)",
           (Select("main", {"init": ("pretrained",)}),),
           rows=("model", "method", "subsample_rate")),
    Target("sambench_rates_figure", "sam-bench", "Figure A", "Score against training-data rate (our runs)",
           (Select("main", {"init": ("pretrained",)}),), kind="figure", x="subsample_rate",
           rows=("model", "method", "subsample_rate")),
    Target("sambench_encoders", "sam-bench", "Table B", "Encoder runs (FSAM's comparison on CPU): Adam vs SAM vs FSAM",
           (Select("encoder"), Select("minilm_stsb"), Select("minilm_sst2")), rows=("model", "method", "subsample_rate")),
    # config/evidence_minilm.yaml: FSAM's low-resource question on real data, ρ chosen on dev as FSAM does
    Target("evidence_rates", "sam-bench", "Table C",
           "Real data, equal steps: AdamW vs SAM vs FSAM by training-data rate (ρ chosen on dev per rate)",
           (Select("equal_steps"), Select("compute_matched", label=_MATCHED)),
           rows=("model", "method", "subsample_rate"), best_rho=True,
           notes=(f"'{_MATCHED}' is AdamW given the steps SAM's two passes per step cost; its Δ is against AdamW "
                  "at equal steps, so it says what the extra compute buys the baseline.",)),
    Target("evidence_rates_figure", "sam-bench", "Figure C", "Score against training-data rate, real data (ρ chosen on dev)",
           (Select("equal_steps"), Select("compute_matched", label=_MATCHED)), kind="figure", x="subsample_rate",
           rows=("model", "method", "subsample_rate"), best_rho=True),
    Target("evidence_compute", "sam-bench", "Table D",
           "Real data, equal compute: SAM and FSAM against AdamW given SAM's compute (twice the steps)",
           (Select("compute_matched"), Select("equal_steps", {"method": ("sam", "fsam")})),
           rows=("model", "method", "subsample_rate"), best_rho=True,
           notes=("Here the AdamW row ran twice the steps of the SAM and FSAM rows, which cost two passes "
                  "per step: every Δ compares methods at equal forward-backward passes.",)),
    Target("evidence_fsam_vs_sam", "sam-bench", "Table E",
           "Real data, equal steps: FSAM against SAM (each at its ρ chosen on dev), paired by seed",
           (Select("equal_steps", {"method": ("sam", "fsam")}),),
           rows=("model", "method", "subsample_rate"), best_rho=True, baseline="sam",
           notes=("The FSAM paper's comparison: FSAM − SAM, +0.67 to +1.98 on average there, largest at "
                  "20% of the data.",)),
]
