"""Base optimizers (optax) and the sharpness-aware gradient family."""
from sam_bench.optim.recipe import Recipe, parse_recipe
from sam_bench.optim.sharpness import SAM, standard_gradient

__all__ = ["Recipe", "parse_recipe", "SAM", "standard_gradient"]
