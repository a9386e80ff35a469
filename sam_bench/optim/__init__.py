"""Base optimizers (optax), the sharpness-aware gradient family, and the recipe grammar."""
from sam_bench.optim.fisher import FisherMask
from sam_bench.optim.gradient import (
    Gradient,
    GradientState,
    SharpnessAwareState,
    Standard,
    as_gradient,
    standard_gradient,
    with_gradient_state,
)
from sam_bench.optim.objective import Objective, as_objective
from sam_bench.optim.recipe import VARIANTS, Recipe, parse_recipe
from sam_bench.optim.sharpness import SAM, SharpnessAware

__all__ = ["FisherMask", "Gradient", "GradientState", "Objective", "Recipe", "SAM", "SharpnessAware",
           "SharpnessAwareState", "Standard", "VARIANTS", "as_gradient", "as_objective", "parse_recipe",
           "standard_gradient", "with_gradient_state"]
