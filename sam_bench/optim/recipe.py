"""Optimizer recipes: one config line names a gradient variant and a base optimizer.

    "adafactor(lr=1e-3)"                                 the baseline
    "sam(rho=0.15, a=32, m=1) + adafactor"               efficient SAM on top of Adafactor
    "fsam(rho=0.01, s=0.9, fi=100) + adamw(lr=2e-5)"     FSAM on AdamW
    {"variant": {"name": "sam", "rho": 0.15}, "base": {"name": "adafactor", "lr": 1e-3}}

Everything is checked before compute: unknown names and arguments, out-of-range values and
invalid combinations raise ConfigError naming the value and the valid choices. The variants,
their arguments and defaults are in VARIANTS and in docs/optimizers.md.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from sam_bench.errors import ConfigError
import sam_bench.optim.base as base_lib
from sam_bench.optim.base import check_args, choice, integer, number
from sam_bench.optim.fisher import FISHER_MODES, FisherMask
from sam_bench.optim.sharpness import RhoSchedule, SharpnessAware, standard_gradient, with_gradient_state

_RHO = number(0)
_COMMON = {
    "a": (None, integer(1, optional=True)),   # ascent micro-batch size; default per variant
    "m": (1, integer(1)),                     # m-sharpness groups
}
_FISHER = {
    "s": (0.9, number(0, 1, hi_open=True)),
    "fi": (100, integer(1)),
    "fisher": ("paper", choice(*FISHER_MODES)),
    "n_fisher": (None, integer(1, optional=True)),
}
_ESAM = {"beta": (0.5, number(0, 1, lo_open=True)), "gamma": (0.5, number(0, 1, lo_open=True))}
_GSAM = {"alpha": (0.4, number(0)), "rho_min": (None, number(0, optional=True))}


@dataclass(frozen=True)
class Variant:
    name: str
    spec: dict                              # argument -> (default, check)
    make: Callable[..., SharpnessAware]     # (args with defaults, batch_size, base name, base args) -> gradient
    ascent_default: str = "b"               # "b" or "b/4"
    summary: str = ""

    def resolve(self, args: dict) -> dict:
        check_args(self.name, args, self.spec)
        full = {k: v[0] for k, v in self.spec.items()}
        full.update(args)
        return full


def _fisher_mask(args) -> FisherMask:
    return FisherMask(sparsity=float(args["s"]), interval=int(args["fi"]), mode=args["fisher"],
                      n_fisher=args["n_fisher"])


def _rho_schedule(args, base_name, base_args) -> RhoSchedule:
    lr_fn, low, high = base_lib.make_learning_rate_fn(base_name, **base_args)
    rho_min = args["rho"] / 10 if args["rho_min"] is None else args["rho_min"]
    return RhoSchedule(lr_fn, low, high, float(rho_min))


def _common(name, args, b):
    return dict(name=name, rho=float(args["rho"]), ascent_size=ascent_size(name, args, b), m=int(args["m"]))


def _make(name, **fixed):
    def make(args, b, base_name, base_args):
        kw = _common(name, args, b)
        extra = dict(fixed)
        if extra.pop("precondition", False):
            extra["shape"] = "preconditioned"
            extra["preconditioner"] = base_lib.make_preconditioner(base_name, **base_args)
        if extra.pop("fisher", False):
            extra["mask"] = _fisher_mask(args)
        if extra.pop("esam", False):
            extra["swp_beta"] = None if args["beta"] >= 1 else float(args["beta"])
            extra["sds_gamma"] = None if args["gamma"] >= 1 else float(args["gamma"])
        if extra.pop("gsam", False):
            extra["gsam_alpha"] = float(args["alpha"])
            extra["rho_schedule"] = _rho_schedule(args, base_name, base_args)
        if extra.get("shape") == "adaptive":
            extra["eta"] = float(args["eta"])
        return SharpnessAware(**kw, **extra)

    return make


VARIANTS: dict[str, Variant] = {v.name: v for v in [
    Variant("sam", {"rho": (0.15, _RHO), **_COMMON}, _make("sam"),
            summary="SAM (Foret et al. 2021; a = b by default), with Bahri et al.'s efficient ascent a < b "
                    "(their a = b/4 is written explicitly, e.g. sam(a=32) at b = 128) and m-sharpness"),
    Variant("asam", {"rho": (0.5, _RHO), "eta": (0.01, number(0)), **_COMMON}, _make("asam", shape="adaptive"),
            summary="ASAM (Kwon et al. 2021): ε = ρ T²g/‖Tg‖, T = |w| + η"),
    Variant("fsam", {"rho": (0.01, _RHO), **_FISHER, **_COMMON}, _make("fsam", fisher=True),
            summary="FSAM (Zhong et al. 2022): SAM with a Fisher mask keeping (1 − s) of the parameters"),
    Variant("esam", {"rho": (0.01, _RHO), **_ESAM, **_COMMON}, _make("esam", esam=True),
            summary="ESAM (Du et al. 2022): stochastic weight perturbation (β) + sharpness-sensitive data selection (γ)"),
    Variant("gsam", {"rho": (0.01, _RHO), **_GSAM, **_COMMON}, _make("gsam", gsam=True),
            summary="GSAM (Zhuang et al. 2022): surrogate-gap correction α, ρ_t following the learning rate"),
    Variant("f_esam", {"rho": (0.01, _RHO), **_ESAM, **_FISHER, **_COMMON}, _make("f_esam", esam=True, fisher=True),
            summary="ESAM with FSAM's Fisher mask (FSAM Table 6)"),
    Variant("f_gsam", {"rho": (0.01, _RHO), **_GSAM, **_FISHER, **_COMMON}, _make("f_gsam", gsam=True, fisher=True),
            summary="GSAM with FSAM's Fisher mask (FSAM Table 6)"),
    Variant("functional_sam", {"rho": (0.15, _RHO), **_COMMON}, _make("functional_sam", functional=True),
            summary="Functional-SAM (Agarwala et al. 2025): J(w+ε)ᵀ ∇_z ℓ(z(w))"),
    Variant("precond_sam", {"rho": (0.15, _RHO), **_COMMON}, _make("precond_sam", precondition=True),
            summary="preconditioned SAM: ε = ρ P⁻¹g/‖P⁻¹g‖, P the base optimizer's second moment"),
    Variant("precond_functional_sam", {"rho": (0.15, _RHO), **_COMMON},
            _make("precond_functional_sam", precondition=True, functional=True),
            summary="preconditioned Functional-SAM"),
]}


def ascent_size(variant: str, args: dict, batch_size: int) -> int:
    """a: given, else the variant's default: b for every variant (Foret et al.'s SAM and the other
    papers take the ascent on the whole batch; Bahri et al.'s a = b/4 is written explicitly)."""
    if args.get("a") is not None:
        return args["a"]
    if VARIANTS[variant].ascent_default == "b/4":
        return max(1, batch_size // 4)
    return batch_size


def sam_ascent_size(args: dict, batch_size: int) -> int:
    return ascent_size("sam", args, batch_size)


def _check_combination(variant: Variant, args: dict, batch_size: int | None, accumulation_steps: int | None):
    name = variant.name
    if args.get("rho_min") is not None and args["rho_min"] > args["rho"]:
        raise ConfigError(f"{name}: rho_min={args['rho_min']} must not exceed rho={args['rho']}")
    if "fisher" in args and args["fisher"] == "reference" and args.get("n_fisher") is not None:
        raise ConfigError(f"{name}: n_fisher is only used with fisher='paper' (the reference code's Fisher is the "
                          f"squared mini-batch gradient)")
    if batch_size is None:
        return
    b, m = batch_size, args["m"]
    a = ascent_size(name, args, b)
    if a > b:
        raise ConfigError(f"{name}: a={a} exceeds the batch size b={b}; valid: 1 <= a <= {b}")
    if b % m or a % m:
        raise ConfigError(f"{name}: m={m} must divide both the batch size b={b} and a={a}")
    if args.get("n_fisher") is not None and args["n_fisher"] > b:
        raise ConfigError(f"{name}: n_fisher={args['n_fisher']} exceeds the batch size b={b} (the Fisher examples "
                          f"are taken from the batch); valid: 1 <= n_fisher <= {b}")
    if "gamma" in args and args["gamma"] < 1 and int(args["gamma"] * (b // m)) < 1:
        raise ConfigError(f"{name}: gamma={args['gamma']} keeps no example of a group of b/m={b // m}; "
                          f"valid: gamma >= {1 / (b // m):.4g}")
    if accumulation_steps is not None and (accumulation_steps < 1 or b % accumulation_steps):
        raise ConfigError(f"accumulation_steps={accumulation_steps} must be >= 1 and divide the batch size b={b}")


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
        if not self.variant:
            return None
        default = VARIANTS[self.variant].spec["rho"][0] if self.variant in VARIANTS else None
        return self.variant_args.get("rho", default)

    def ascent_size(self, batch_size: int) -> int | None:
        """a for a batch of `batch_size` (None for a baseline, which has no ascent)."""
        return ascent_size(self.variant, self.variant_args, batch_size) if self.variant in VARIANTS else None

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

    def identity(self, batch_size: int) -> dict:
        """The experiment identity this recipe fixes, resolved at batch size b (defaults filled in):
        base, a, m, s, fi and beta1 (None where the recipe has no such setting). Reports select
        cells by these, never by parsing the method string."""
        base_args = base_lib.get_base(self.base).resolve(self.base_args)
        beta1 = base_args.get("b1", base_args.get("momentum"))  # Adafactor calls β₁ momentum
        out = {"base_optimizer": self.base, "a": None, "m": None, "s": None, "fi": None,
               "beta1": None if beta1 is None else float(beta1)}
        if self.variant in VARIANTS:
            args = VARIANTS[self.variant].resolve(self.variant_args)
            out.update(a=ascent_size(self.variant, args, batch_size), m=int(args["m"]),
                       s=float(args["s"]) if "s" in args else None, fi=int(args["fi"]) if "fi" in args else None)
        return out

    def validate(self, batch_size: int | None = None, accumulation_steps: int | None = None) -> "Recipe":
        if self.base in VARIANTS and self.variant in base_lib.BASE_OPTIMIZERS:
            raise ConfigError(f"'{self.variant} + {self.base}': the variant comes first, the base optimizer last: "
                              f"write '{self.base}(...) + {self.variant}(...)'")
        if self.base not in base_lib.BASE_OPTIMIZERS:
            hint = (f"; {self.base!r} is a sharpness-aware variant: write it first, e.g. "
                    f"'{self.base}(...) + adafactor(...)'" if self.base in VARIANTS else "")
            raise ConfigError(f"unknown base optimizer {self.base!r}; valid: {sorted(base_lib.BASE_OPTIMIZERS)}{hint}")
        base_lib.get_base(self.base).resolve(self.base_args)
        if self.variant is None:
            if batch_size is not None and accumulation_steps is not None and (
                    accumulation_steps < 1 or batch_size % accumulation_steps):
                raise ConfigError(f"accumulation_steps={accumulation_steps} must be >= 1 and divide the batch size "
                                  f"b={batch_size}")
            return self
        if self.variant not in VARIANTS:
            hint = (f"; {self.variant!r} is a base optimizer: write it last, e.g. 'sam(...) + {self.variant}(...)'"
                    if self.variant in base_lib.BASE_OPTIMIZERS else "")
            raise ConfigError(f"unknown sharpness-aware variant {self.variant!r}; valid: {sorted(VARIANTS)}{hint}")
        variant = VARIANTS[self.variant]
        _check_combination(variant, variant.resolve(self.variant_args), batch_size, accumulation_steps)
        return self

    def build(self, batch_size: int, accumulation_steps: int | None = None):
        """(optax optimizer, gradient) for this recipe.

        Baseline: (the base optimizer, standard_gradient). Variant: the base optimizer wrapped
        so that `optimizer.init(params)` returns SharpnessAwareState(base, gradient) (the
        gradient's own state, e.g. FSAM's mask, rides along and is checkpointed with it), and
        the SharpnessAware gradient."""
        self.validate(batch_size, accumulation_steps)
        optimizer = base_lib.make_base_optimizer(self.base, **self.base_args)
        if self.variant is None:
            return optimizer, standard_gradient
        variant = VARIANTS[self.variant]
        gradient = variant.make(variant.resolve(self.variant_args), batch_size, self.base, self.base_args)
        return with_gradient_state(optimizer, gradient), gradient


_CALL = re.compile(r"^\s*([A-Za-z_][\w]*)\s*(?:\((.*)\))?\s*$", re.S)


def _parse_call(text: str) -> tuple[str, dict]:
    match = _CALL.match(text)
    if not match:
        hint = ("; in a YAML flow list [a, b] quote recipes that contain commas"
                if text.count("(") != text.count(")") else "")
        raise ConfigError(f"cannot parse optimizer term {text!r}; expected name(key=value, ...){hint}")
    name, inner = match.group(1), match.group(2)
    args: dict[str, Any] = {}
    if inner and inner.strip():
        try:
            call = ast.parse(f"f({inner})", mode="eval").body
            if call.args:
                raise ConfigError(f"{text!r}: arguments must be named (key=value)")
            args = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
        except ConfigError:
            raise
        except ValueError:
            raise ConfigError(f"cannot parse arguments of {text.strip()!r}: values are numbers, booleans or "
                              f"quoted strings, e.g. schedule='linear'") from None
        except SyntaxError as err:
            raise ConfigError(f"cannot parse arguments of {text.strip()!r}: {err}") from None
    return name, args


def _split_terms(spec: str) -> list[str]:
    """Split on '+' outside parentheses (so 'adamw(lr=1e+3)' stays one term)."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(spec):
        depth += (ch == "(") - (ch == ")")
        if ch == "+" and depth == 0:
            terms.append(spec[start:i])
            start = i + 1
    return terms + [spec[start:]]


def parse_recipe(spec: str | dict) -> Recipe:
    """Parse "variant(args) + base(args)", "base(args)" or the equivalent mapping."""
    if isinstance(spec, dict):
        unknown = set(spec) - {"variant", "base"}
        if unknown or "base" not in spec:
            raise ConfigError(f"optimizer mapping needs 'base' (and optionally 'variant'); got keys {sorted(spec)}")

        def named(part):
            part = dict(part) if isinstance(part, dict) else {"name": part}
            if "name" not in part:
                raise ConfigError(f"optimizer mapping part {part!r} needs a 'name'")
            return part.pop("name"), part

        base, base_args = named(spec["base"])
        variant, variant_args = named(spec["variant"]) if spec.get("variant") else (None, {})
        return Recipe(base, base_args, variant, variant_args).validate()
    if not isinstance(spec, str):
        raise ConfigError(f"optimizer must be a string or a mapping, got {spec!r}")
    terms = _split_terms(spec)
    if len(terms) == 1:
        base, base_args = _parse_call(terms[0])
        return Recipe(base, base_args).validate()
    if len(terms) == 2:
        variant, variant_args = _parse_call(terms[0])
        base, base_args = _parse_call(terms[1])
        return Recipe(base, base_args, variant, variant_args).validate()
    raise ConfigError(f"optimizer {spec!r}: expected 'base(...)' or 'variant(...) + base(...)' (one variant, "
                      f"one base)")
