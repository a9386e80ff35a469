"""Base optimizers, built from optax by name with validated hyper-parameters."""
from __future__ import annotations

from typing import Any, Callable

import optax

from sam_bench.errors import ConfigError


def _adafactor(lr: float = 1e-3, decay_rate: float = 0.8, clipping_threshold: float | None = 1.0,
               multiply_by_parameter_scale: bool = True, momentum: float | None = None,
               factored: bool = True) -> optax.GradientTransformation:
    # optax's defaults are mesh-tf's AdafactorOptimizer defaults, which T5.1.1 fine-tuning
    # uses with a constant learning rate of 1e-3 (Raffel et al. 2020; Bahri et al. §4.1).
    return optax.adafactor(learning_rate=lr, decay_rate=decay_rate, clipping_threshold=clipping_threshold,
                           multiply_by_parameter_scale=multiply_by_parameter_scale, momentum=momentum,
                           factored=factored)


def _adamw(lr: float = 1e-4, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
           weight_decay: float = 0.01) -> optax.GradientTransformation:
    # FSAM (Zhong et al. §4.2): Adam with β2 = 0.999 and weight decay 0.01.
    return optax.adamw(learning_rate=lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)


BASE_OPTIMIZERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "adafactor": _adafactor,
    "adamw": _adamw,
}


def base_hparam_names(name: str) -> list[str]:
    import inspect

    return list(inspect.signature(BASE_OPTIMIZERS[name]).parameters)


def make_base_optimizer(name: str, **hparams: Any) -> optax.GradientTransformation:
    if name not in BASE_OPTIMIZERS:
        raise ConfigError(f"unknown base optimizer {name!r}; valid: {sorted(BASE_OPTIMIZERS)}")
    unknown = set(hparams) - set(base_hparam_names(name))
    if unknown:
        raise ConfigError(f"{name}: unknown hyper-parameter(s) {sorted(unknown)}; valid: {base_hparam_names(name)}")
    return BASE_OPTIMIZERS[name](**hparams)
