"""Optimizer recipes: one config line names a gradient variant and a base optimizer.

    "adafactor(lr=1e-3)"                     the baseline
    "sam(rho=0.15, a=32, m=1) + adafactor"   SAM on top of Adafactor
    {"variant": {"name": "sam", "rho": 0.15}, "base": {"name": "adafactor", "lr": 1e-3}}

Everything is checked before compute: unknown names and arguments, and out-of-range
values, raise ConfigError naming the value and the valid choices.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from sam_bench.errors import ConfigError
from sam_bench.optim import base as base_lib
from sam_bench.optim.sharpness import SAM, standard_gradient


def _check_sam(args: dict, batch_size: int | None) -> None:
    rho, a, m = args.get("rho", 0.15), args.get("a"), args.get("m", 1)
    if not isinstance(rho, (int, float)) or rho < 0:
        raise ConfigError(f"sam: rho must be a number >= 0, got {rho!r}")
    if not isinstance(m, int) or m < 1:
        raise ConfigError(f"sam: m must be an integer >= 1, got {m!r}")
    if a is not None and (not isinstance(a, int) or a < 1):
        raise ConfigError(f"sam: a (ascent micro-batch size) must be an integer >= 1, got {a!r}")
    if batch_size is not None:
        a_eff = sam_ascent_size(args, batch_size)
        if a_eff > batch_size:
            raise ConfigError(f"sam: a={a_eff} exceeds the batch size b={batch_size}; valid: 1 <= a <= {batch_size}")
        if batch_size % m or a_eff % m:
            raise ConfigError(f"sam: m={m} must divide both the batch size b={batch_size} and a={a_eff}")


def sam_ascent_size(args: dict, batch_size: int) -> int:
    """a defaults to b/4, as in Bahri et al.'s Algorithm 1."""
    return args["a"] if args.get("a") is not None else max(1, batch_size // 4)


VARIANTS: dict[str, dict[str, Any]] = {
    "sam": {"args": ("rho", "a", "m"), "check": _check_sam},
}


@dataclass(frozen=True)
class Recipe:
    base: str
    base_args: dict = field(default_factory=dict, hash=False)
    variant: str | None = None
    variant_args: dict = field(default_factory=dict, hash=False)

    @property
    def method(self) -> str:
        """The papers' method key: the variant name, or the base optimizer's for a baseline."""
        return self.variant or self.base

    @property
    def rho(self) -> float | None:
        return self.variant_args.get("rho", 0.15) if self.variant else None

    def with_rho(self, rho: float) -> "Recipe":
        if not self.variant:
            return self
        return Recipe(self.base, dict(self.base_args), self.variant, {**self.variant_args, "rho": rho})

    def canonical(self) -> str:
        def call(name, args):
            inner = ", ".join(f"{k}={args[k]!r}" for k in sorted(args))
            return f"{name}({inner})"

        base = call(self.base, self.base_args)
        return f"{call(self.variant, self.variant_args)} + {base}" if self.variant else base

    def validate(self, batch_size: int | None = None) -> "Recipe":
        if self.base not in base_lib.BASE_OPTIMIZERS:
            raise ConfigError(f"unknown base optimizer {self.base!r}; valid: {sorted(base_lib.BASE_OPTIMIZERS)}")
        unknown = set(self.base_args) - set(base_lib.base_hparam_names(self.base))
        if unknown:
            raise ConfigError(f"{self.base}: unknown argument(s) {sorted(unknown)}; "
                              f"valid: {base_lib.base_hparam_names(self.base)}")
        if self.variant is not None:
            if self.variant not in VARIANTS:
                raise ConfigError(f"unknown sharpness-aware variant {self.variant!r}; valid: {sorted(VARIANTS)}")
            spec = VARIANTS[self.variant]
            unknown = set(self.variant_args) - set(spec["args"])
            if unknown:
                raise ConfigError(f"{self.variant}: unknown argument(s) {sorted(unknown)}; valid: {list(spec['args'])}")
            spec["check"](self.variant_args, batch_size)
        return self

    def build(self, batch_size: int):
        """Return (optax optimizer, gradient function) for this recipe."""
        self.validate(batch_size)
        optimizer = base_lib.make_base_optimizer(self.base, **self.base_args)
        gradient: Callable = standard_gradient
        if self.variant == "sam":
            args = self.variant_args
            gradient = SAM(rho=float(self.rho), ascent_size=sam_ascent_size(args, batch_size), m=args.get("m", 1))
        return optimizer, gradient


_CALL = re.compile(r"^\s*([A-Za-z_][\w]*)\s*(?:\((.*)\))?\s*$", re.S)


def _parse_call(text: str) -> tuple[str, dict]:
    match = _CALL.match(text)
    if not match:
        raise ConfigError(f"cannot parse optimizer term {text!r}; expected name(key=value, ...)")
    name, inner = match.group(1), match.group(2)
    args: dict[str, Any] = {}
    if inner and inner.strip():
        try:
            call = ast.parse(f"f({inner})", mode="eval").body
            if call.args:
                raise ConfigError(f"{text!r}: arguments must be named (key=value)")
            args = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
        except (SyntaxError, ValueError) as err:
            raise ConfigError(f"cannot parse arguments of {text!r}: {err}") from None
    return name, args


def parse_recipe(spec: str | dict) -> Recipe:
    """Parse "variant(args) + base(args)", "base(args)" or the equivalent mapping."""
    if isinstance(spec, dict):
        unknown = set(spec) - {"variant", "base"}
        if unknown or "base" not in spec:
            raise ConfigError(f"optimizer mapping needs 'base' (and optionally 'variant'); got keys {sorted(spec)}")
        def named(part):
            part = dict(part) if isinstance(part, dict) else {"name": part}
            return part.pop("name"), part
        base, base_args = named(spec["base"])
        variant, variant_args = named(spec["variant"]) if spec.get("variant") else (None, {})
        return Recipe(base, base_args, variant, variant_args).validate()
    if not isinstance(spec, str):
        raise ConfigError(f"optimizer must be a string or a mapping, got {spec!r}")
    terms = [t for t in spec.split("+")]
    if len(terms) == 1:
        base, base_args = _parse_call(terms[0])
        return Recipe(base, base_args).validate()
    if len(terms) == 2:
        variant, variant_args = _parse_call(terms[0])
        base, base_args = _parse_call(terms[1])
        return Recipe(base, base_args, variant, variant_args).validate()
    raise ConfigError(f"optimizer {spec!r}: expected 'base(...)' or 'variant(...) + base(...)'")
