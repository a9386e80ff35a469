"""Bahri, Mobahi & Tay (ACL 2022): Tables 1–9 and Figures 1–2, fed by config/bahri2022.yaml."""

from __future__ import annotations

from .base import Select, Target

__all__ = ["BAHRI"]

P = "bahri2022"
_SG_GRIDS = ("superglue_small", "superglue_base_to_xl")
_GLUE_GRIDS = ("glue_small", "glue_base_to_xl")
_CBQA_GRIDS = ("cbqa_small", "cbqa_base", "cbqa_large_xl")
_TYDIQA_GRIDS = ("tydiqa_small_to_large", "tydiqa_xl")
_ONE_RUN = "The paper ran each experiment once (n = 1 for its numbers)."


def _grids(grids, **where) -> tuple[Select, ...]:
    return tuple(Select(g, {k: v if isinstance(v, tuple) else (v,) for k, v in where.items()}) for g in grids)


def _ref(table_id, **where):
    return ((table_id, where),)


BAHRI = [
    Target("bahri2022_table1", P, "Table 1", "SuperGLUE dev, full training data, AdaFactor vs SAM",
           _grids(_SG_GRIDS, subsample_rate=1.0), score="superglue",
           reference=_ref("bahri2022_table1_superglue_full"), notes=(_ONE_RUN,)),
    Target("bahri2022_table2", P, "Table 2", "GLUE dev, full training data (task mixture)",
           _grids(_GLUE_GRIDS, subsample_rate=1.0), score="glue",
           reference=_ref("bahri2022_table2_glue_full"), notes=(_ONE_RUN,)),
    Target("bahri2022_table3", P, "Table 3", "TyDiQA-GoldP, average over the 9 languages (mT5)",
           _grids(_TYDIQA_GRIDS), score="tydiqa", reference=_ref("bahri2022_table3_tydiqa_avg"),
           notes=(_ONE_RUN, "Split: dev (the caption is silent; TyDiQA-GoldP publishes dev).")),
    Target("bahri2022_table4", P, "Table 4", "Closed-book QA, full data, trained on the task mixture",
           _grids(_CBQA_GRIDS, subsample_rate=1.0), reference=_ref("bahri2022_table4_cbqa_full_mixture"),
           notes=(_ONE_RUN,)),
    Target("bahri2022_table5", P, "Table 5", "Closed-book QA, full data, each task trained on its own",
           _grids(("cbqa_single_task_small", "cbqa_single_task")),
           reference=_ref("bahri2022_table5_cbqa_full_single_task"), notes=(_ONE_RUN,)),
    Target("bahri2022_table6", P, "Table 6", "SuperGLUE dev with 5% of the training data",
           _grids(_SG_GRIDS, subsample_rate=0.05), score="superglue",
           reference=_ref("bahri2022_table6_superglue_5pct"), notes=(_ONE_RUN,)),
    Target("bahri2022_table7", P, "Table 7", "Closed-book QA with 5% of the training data (task mixture)",
           _grids(_CBQA_GRIDS, subsample_rate=0.05), reference=_ref("bahri2022_table7_cbqa_5pct"),
           notes=(_ONE_RUN, "Mixture training assumed, as in Table 4 (the paper does not say).")),
    Target("bahri2022_table8", P, "Table 8", "TyDiQA-GoldP per language (mT5)",
           _grids(_TYDIQA_GRIDS), score="tydiqa", reference=_ref("bahri2022_table8_tydiqa_per_language"),
           notes=(_ONE_RUN,)),
    Target("bahri2022_table9", P, "Table 9", "SuperGLUE, T5.1.1-Base: SAM's ρ, ascent micro-batch a and sharpness m",
           (Select("ablation_rho", hparam="rho"), Select("ablation_a", hparam="a"), Select("ablation_m", hparam="m")),
           rows=("hparam_name", "hparam_value"), score="superglue",
           reference=_ref("bahri2022_table9_superglue_base_hparam_ablation"),
           notes=(_ONE_RUN, "The ρ = 0.15, a = 32 and m = 1 rows are one cell here (the same experiment); "
                            "the paper prints them from separate runs.")),
    Target("bahri2022_figure1", P, "Figure 1", "CBQA at training-data rates 2%–100%, Small and Base",
           _grids(("cbqa_small", "cbqa_base")), kind="figure", x="subsample_rate",
           rows=("model", "method", "subsample_rate"),
           reference=(("bahri2022_table4_cbqa_full_mixture", {"model": ("t5.1.1-small", "t5.1.1-base")}),
                      ("bahri2022_table7_cbqa_5pct", {"model": ("t5.1.1-small", "t5.1.1-base")})),
           notes=("Published points: only 5% (Table 7) and 100% (Table 4, mixture) are printed; each model with "
                  "its own points. The figure's other rates (2%–80%) are not printed.",)),
    Target("bahri2022_figure2", P, "Figure 2", "SuperGLUE score against SAM's ρ, a and m (T5.1.1-Base)",
           (Select("ablation_rho", hparam="rho"), Select("ablation_a", hparam="a"), Select("ablation_m", hparam="m"),
            Select("superglue_base_to_xl", {"model": ("t5.1.1-base",), "subsample_rate": (1.0,),
                                            "method": ("adafactor",)})),
           kind="figure", x="hparam_value", rows=("method", "hparam_name", "hparam_value"), score="superglue",
           columns=(("superglue_avg", "score"),),
           reference=(("bahri2022_table9_superglue_base_hparam_ablation", {}),
                      ("bahri2022_table1_superglue_full", {"model": "t5.1.1-base", "method": "adafactor"})),
           notes=("The no-SAM line is Table 1's T5.1.1-Base AdaFactor run (the figure's reference line is inferred).",)),
]
