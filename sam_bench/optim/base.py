"""Base optimizers (optax), built by name with validated hyper-parameters.

Each base optimizer is declared once: its optax construction, its hyper-parameters with
defaults and valid ranges, and, where it keeps one, its second-moment preconditioner
P (used by the preconditioned SAM variants, ε ∝ P⁻¹g):

    adafactor  P = sqrt(v̂ + ε₁), v̂ the factored estimate r cᵀ / mean(r) (or v, unfactored)
    adam(w)    P = sqrt(ν / (1 − β₂ᵗ)) + eps
    amsgrad    P = sqrt(ν_max) + eps
    adagrad    P = sqrt(Σ g² + eps)
    sgd        none (P = I)

P is read from the optimizer state *before* the step's update, i.e. the estimate the base
optimizer would apply to the previous gradient; at t = 0 it is δ·1, which makes the
preconditioned perturbation the plain SAM one.

Every base optimizer also takes a learning-rate schedule, built from optax's schedules (GSAM's ρ follows it):
`schedule` constant | linear | cosine, `warmup_steps` (linear warm-up from 0), and for
linear/cosine `decay_steps` (the step at which the decay ends, warm-up included, like
fairseq's total_num_update) and `end_lr`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from sam_bench.errors import ConfigError

SCHEDULES = ("constant", "linear", "cosine")
SCHEDULE_DEFAULTS = {"schedule": "constant", "warmup_steps": 0, "decay_steps": None, "end_lr": 0.0}


# --------------------------------------------------------------------------
# value checks (each returns an error message or None)
# --------------------------------------------------------------------------

def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def number(lo=None, hi=None, lo_open=False, hi_open=False, optional=False):
    def check(x):
        if x is None and optional:
            return None
        if not _is_number(x):
            return "a number" + (" or None" if optional else "")
        bad = ((lo is not None and (x <= lo if lo_open else x < lo))
               or (hi is not None and (x >= hi if hi_open else x > hi)))
        if bad:
            if hi is None:
                text = f"a number {'>' if lo_open else '>='} {lo}"
            elif lo is None:
                text = f"a number {'<' if hi_open else '<='} {hi}"
            else:
                text = f"a number with {lo} {'<' if lo_open else '<='} x {'<' if hi_open else '<='} {hi}"
            return text + (" (or None)" if optional else "")
        return None

    return check


def integer(lo=None, optional=False):
    def check(x):
        if x is None and optional:
            return None
        if not isinstance(x, int) or isinstance(x, bool) or (lo is not None and x < lo):
            return f"an integer >= {lo}" + (" or None" if optional else "") if lo is not None else "an integer"
        return None

    return check


def choice(*options):
    def check(x):
        return None if x in options else f"one of {list(options)}"

    return check


def boolean(x):
    return None if isinstance(x, bool) else "true or false"


def check_args(owner: str, args: dict, spec: dict[str, tuple[Any, Callable]]) -> None:
    """Raise ConfigError for unknown names or out-of-range values of `args` against `spec`."""
    unknown = sorted(set(args) - set(spec))
    if unknown:
        raise ConfigError(f"{owner}: unknown argument(s) {unknown}; valid: {list(spec)}")
    for name, value in args.items():
        problem = spec[name][1](value)
        if problem:
            raise ConfigError(f"{owner}: {name} must be {problem}, got {value!r}")


# --------------------------------------------------------------------------
# learning-rate schedules
# --------------------------------------------------------------------------

def _check_schedule(owner: str, args: dict) -> None:
    kind = args.get("schedule", "constant")
    if kind in ("linear", "cosine") and args.get("decay_steps") is None:
        raise ConfigError(f"{owner}: schedule={kind!r} needs decay_steps (the step at which the decay ends)")
    if args.get("decay_steps") is not None and args["decay_steps"] <= args.get("warmup_steps", 0):
        raise ConfigError(f"{owner}: decay_steps={args['decay_steps']} must exceed warmup_steps="
                          f"{args.get('warmup_steps', 0)}")
    if kind == "constant" and args.get("decay_steps") is not None:
        raise ConfigError(f"{owner}: decay_steps is only used with schedule 'linear' or 'cosine'")


def learning_rate(args: dict) -> float | optax.Schedule:
    """The base's learning rate: a float when constant (optax's plain path), else an optax
    schedule: linear warm-up from 0 over `warmup_steps`, then constant, a linear decay or a
    cosine decay reaching `end_lr` at step `decay_steps` (warm-up included)."""
    lr = float(args["lr"])
    kind = args.get("schedule", "constant")
    warmup = int(args.get("warmup_steps", 0))
    if kind == "constant" and warmup == 0:
        return lr
    end_lr = float(args.get("end_lr", 0.0))
    if kind == "cosine":
        return optax.warmup_cosine_decay_schedule(0.0, lr, warmup, int(args["decay_steps"]), end_lr)
    after = (optax.constant_schedule(lr) if kind == "constant"
             else optax.linear_schedule(lr, end_lr, int(args["decay_steps"]) - warmup))
    # join_schedules hands the second schedule the steps since the boundary
    return optax.join_schedules([optax.linear_schedule(0.0, lr, warmup), after], [warmup])


def learning_rate_range(args: dict) -> tuple[float, float]:
    """(lr_min, lr_max) over the whole schedule, for GSAM's ρ_t."""
    values = [float(args["lr"])]
    if args.get("warmup_steps", 0):
        values.append(0.0)
    if args.get("schedule", "constant") != "constant":
        values.append(float(args.get("end_lr", 0.0)))
    return min(values), max(values)

# --------------------------------------------------------------------------
# second-moment preconditioners, read from the base optimizer's state
# --------------------------------------------------------------------------

def find_state(opt_state, cls):
    """The unique sub-state of type `cls` inside an optax state (chains, wrappers)."""
    found = [s for s in jax.tree.leaves(opt_state, is_leaf=lambda x: isinstance(x, cls)) if isinstance(s, cls)]
    if len(found) != 1:
        raise ValueError(f"expected one {cls.__name__} in the optimizer state, found {len(found)}")
    return found[0]


def _adam_preconditioner(b2: float, eps: float):
    def precondition(opt_state, params):
        state = find_state(opt_state, optax.ScaleByAdamState)
        t = state.count.astype(jnp.float32)
        correction = jnp.where(t > 0, 1.0 - b2 ** t, 1.0)
        return jax.tree.map(lambda nu: jnp.sqrt(nu / correction) + eps, state.nu)

    return precondition


def _amsgrad_preconditioner(eps: float):
    def precondition(opt_state, params):
        state = find_state(opt_state, optax.ScaleByAmsgradState)
        return jax.tree.map(lambda v: jnp.sqrt(v) + eps, state.nu_max)

    return precondition


def _adagrad_preconditioner(eps: float):
    def precondition(opt_state, params):
        state = find_state(opt_state, optax.ScaleByRssState)
        return jax.tree.map(lambda s: jnp.sqrt(s + eps), state.sum_of_squares)

    return precondition


def _factored_dims(shape, factored: bool, min_dim_size_to_factor: int = 128):
    # the same rule (and the same numpy call) as optax's scale_by_factored_rms
    if not factored or len(shape) < 2:
        return None
    sorted_dims = np.argsort(shape)
    if shape[sorted_dims[-2]] < min_dim_size_to_factor:
        return None
    return int(sorted_dims[-2]), int(sorted_dims[-1])


def _adafactor_preconditioner(factored: bool, epsilon1: float = 1e-30):
    def precondition(opt_state, params):
        state = find_state(opt_state, optax.FactoredState)

        def leaf(p, v_row, v_col, v):
            dims = _factored_dims(p.shape, factored)
            if dims is None:
                v_hat = v
            else:
                d1, d0 = dims
                reduced_d1 = d1 - 1 if d1 > d0 else d1
                row_mean = jnp.mean(v_row, axis=reduced_d1, keepdims=True)
                row = jnp.where(row_mean > 0, v_row / jnp.where(row_mean > 0, row_mean, 1.0), 0.0)
                v_hat = jnp.expand_dims(row, d0) * jnp.expand_dims(v_col, d1)
            return jnp.sqrt(v_hat + epsilon1)

        return jax.tree.map(leaf, params, state.v_row, state.v_col, state.v)

    return precondition


# --------------------------------------------------------------------------
# the base optimizers
# --------------------------------------------------------------------------

_LR = number(0, lo_open=True)
_BETA = number(0, 1, hi_open=True)
_EPS = number(0, lo_open=True)
_SCHEDULE_SPEC = {
    "schedule": ("constant", choice(*SCHEDULES)),
    "warmup_steps": (0, integer(0)),
    "decay_steps": (None, integer(1, optional=True)),
    "end_lr": (0.0, number(0)),
}


@dataclass(frozen=True)
class BaseOptimizer:
    name: str
    spec: dict                       # name -> (default, check)
    build: Callable[..., optax.GradientTransformation]
    preconditioner: Callable[[dict], Callable] | None = None   # args -> (opt_state, params) -> P
    source: str = ""
    aliases: tuple = ()              # (alias, canonical) pairs, e.g. b1 -> momentum

    def resolve(self, args: dict) -> dict:
        """Canonical argument names, defaults filled in, everything checked."""
        args = dict(args)
        for alias, canonical in self.aliases:
            if alias in args:
                if canonical in args:
                    raise ConfigError(f"{self.name}: give {canonical} or its alias {alias}, not both")
                args[canonical] = args.pop(alias)
        check_args(self.name, args, self.spec)
        full = {k: v[0] for k, v in self.spec.items()}
        full.update(args)
        _check_schedule(self.name, full)
        return full


def _momentum(value):
    return None if value in (None, 0, 0.0) else value


def _build_adafactor(lr, decay_rate, clipping_threshold, multiply_by_parameter_scale, momentum, factored, **sched):
    # optax's defaults are mesh-tf's AdafactorOptimizer defaults, which T5.1.1 fine-tuning
    # uses with a constant learning rate of 1e-3 (Raffel et al. 2020; Bahri et al. §4.1).
    return optax.adafactor(learning_rate=learning_rate({"lr": lr, **sched}), decay_rate=decay_rate,
                           clipping_threshold=clipping_threshold,
                           multiply_by_parameter_scale=multiply_by_parameter_scale,
                           momentum=_momentum(momentum), factored=factored)


def _build_adam(lr, b1, b2, eps, **sched):
    return optax.adam(learning_rate=learning_rate({"lr": lr, **sched}), b1=b1, b2=b2, eps=eps)


def _build_adamw(lr, b1, b2, eps, weight_decay, **sched):
    # FSAM (Zhong et al. §4.2): Adam with β2 = 0.999 and weight decay 0.01.
    return optax.adamw(learning_rate=learning_rate({"lr": lr, **sched}), b1=b1, b2=b2, eps=eps,
                       weight_decay=weight_decay)


def _build_amsgrad(lr, b1, b2, eps, weight_decay, **sched):
    lr_ = learning_rate({"lr": lr, **sched})
    if not weight_decay:
        return optax.amsgrad(learning_rate=lr_, b1=b1, b2=b2, eps=eps)
    return optax.chain(optax.scale_by_amsgrad(b1=b1, b2=b2, eps=eps), optax.add_decayed_weights(weight_decay),
                       optax.scale_by_learning_rate(lr_))


def _build_adagrad(lr, initial_accumulator_value, eps, **sched):
    return optax.adagrad(learning_rate=learning_rate({"lr": lr, **sched}),
                         initial_accumulator_value=initial_accumulator_value, eps=eps)


def _build_sgd(lr, momentum, nesterov, **sched):
    return optax.sgd(learning_rate=learning_rate({"lr": lr, **sched}), momentum=_momentum(momentum),
                     nesterov=nesterov)


def _adam_spec(weight_decay: float | None = None) -> dict:
    """The Adam family's hyper-parameters (lr 1e-4, β1 0.9, β2 0.999, eps 1e-8), with weight decay if given."""
    decay = {} if weight_decay is None else {"weight_decay": (weight_decay, number(0))}
    return {"lr": (1e-4, _LR), "b1": (0.9, _BETA), "b2": (0.999, _BETA), "eps": (1e-8, _EPS), **decay,
            **_SCHEDULE_SPEC}


BASE_OPTIMIZERS: dict[str, BaseOptimizer] = {
    "adafactor": BaseOptimizer(
        "adafactor",
        {"lr": (1e-3, _LR), "decay_rate": (0.8, number(0, lo_open=True)),
         "clipping_threshold": (1.0, number(1, optional=True)),
         "multiply_by_parameter_scale": (True, boolean), "momentum": (None, number(0, 1, hi_open=True, optional=True)),
         "factored": (True, boolean), **_SCHEDULE_SPEC},
        _build_adafactor,
        preconditioner=lambda a: _adafactor_preconditioner(a["factored"]),
        source="Shazeer & Stern 2018; T5.1.1 settings (optax defaults = mesh-tf defaults)",
        aliases=(("b1", "momentum"),)),
    "adam": BaseOptimizer("adam", _adam_spec(), _build_adam,
                          preconditioner=lambda a: _adam_preconditioner(a["b2"], a["eps"]), source="Kingma & Ba 2015"),
    "adamw": BaseOptimizer("adamw", _adam_spec(weight_decay=0.01), _build_adamw,
                           preconditioner=lambda a: _adam_preconditioner(a["b2"], a["eps"]),
                           source="Loshchilov & Hutter 2019; FSAM §4.2 (β2 = 0.999, weight decay 0.01)"),
    "amsgrad": BaseOptimizer("amsgrad", _adam_spec(weight_decay=0.0), _build_amsgrad,
                             preconditioner=lambda a: _amsgrad_preconditioner(a["eps"]),
                             source="Reddi et al. 2018; FSAM Algorithm 1, Tables 5 and 9"),
    "adagrad": BaseOptimizer(
        "adagrad",
        {"lr": (1e-2, _LR), "initial_accumulator_value": (0.1, number(0)), "eps": (1e-7, _EPS), **_SCHEDULE_SPEC},
        _build_adagrad, preconditioner=lambda a: _adagrad_preconditioner(a["eps"]),
        source="Duchi et al. 2011; FSAM Table 5"),
    "sgd": BaseOptimizer(
        "sgd",
        {"lr": (1e-2, _LR), "momentum": (0.9, number(0, 1, hi_open=True, optional=True)),
         "nesterov": (False, boolean), **_SCHEDULE_SPEC},
        _build_sgd, preconditioner=None, source="SGD with (heavy-ball) momentum",
        aliases=(("b1", "momentum"),)),
}


def get_base(name: str) -> BaseOptimizer:
    if name not in BASE_OPTIMIZERS:
        raise ConfigError(f"unknown base optimizer {name!r}; valid: {sorted(BASE_OPTIMIZERS)}")
    return BASE_OPTIMIZERS[name]


def base_hparam_names(name: str) -> list[str]:
    base = get_base(name)
    return list(base.spec) + [alias for alias, _ in base.aliases]


def make_base_optimizer(name: str, **hparams: Any) -> optax.GradientTransformation:
    base = get_base(name)
    return base.build(**base.resolve(hparams))


def make_preconditioner(name: str, **hparams: Any):
    """(opt_state, params) -> P for this base, or None when it keeps no second moment (SGD)."""
    base = get_base(name)
    return None if base.preconditioner is None else base.preconditioner(base.resolve(hparams))


def make_learning_rate_fn(name: str, **hparams: Any):
    """(count -> lr, lr_min, lr_max) of this base's schedule."""
    full = get_base(name).resolve(hparams)
    lr = learning_rate(full)
    fn = lr if callable(lr) else optax.constant_schedule(lr)
    low, high = learning_rate_range(full)
    return fn, low, high


__all__ = ["BASE_OPTIMIZERS", "BaseOptimizer", "base_hparam_names", "make_base_optimizer", "make_preconditioner",
           "make_learning_rate_fn", "find_state", "check_args", "number", "integer", "choice", "boolean"]
