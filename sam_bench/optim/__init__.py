"""Base optimizers (optax), the sharpness-aware gradient family, and the recipe grammar."""
from sam_bench.optim.fisher import FisherMask
from sam_bench.optim.objective import Objective, as_objective
from sam_bench.optim.recipe import VARIANTS, Recipe, parse_recipe
from sam_bench.optim.sharpness import (
    SAM,
    GradientState,
    SharpnessAware,
    SharpnessAwareState,
    Standard,
    standard_gradient,
    with_gradient_state,
)

__all__ = ["FisherMask", "GradientState", "Objective", "Recipe", "SAM", "SharpnessAware", "SharpnessAwareState",
           "Standard", "VARIANTS", "as_objective", "parse_recipe", "standard_gradient", "with_gradient_state"]
