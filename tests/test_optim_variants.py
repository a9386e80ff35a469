"""Each variant's update against the independent NumPy reference (test_optim_reference.py).

Two steps of the variant's jitted gradient (from `Recipe.build`) fed to the optax base
optimizer are compared with two steps of the reference gradient fed to the same optax base
optimizer (the train step itself is tested in test_optim_step.py); the second step checks
the state the variant carries (FSAM's mask from step 0 with Fi = 2, GSAM's ρ_t, the
base optimizer's second moment as preconditioner). The base optimizer rotates through
all six bases across the cases, and every base's preconditioner is checked on its own.
"""
from __future__ import annotations

import jax
import numpy as np
import pytest

from sam_bench.optim import parse_recipe
from sam_bench.optim.base import make_base_optimizer, make_preconditioner
from optim_reference import (
    PROBLEMS,
    empirical_fisher,
    fisher_mask,
    grad,
    reference_gradient,
    second_moment_after_one_step,
    take,
    to_jax,
    to_numpy,
)

BASES = ["adafactor(lr=1e-2)", "adam(lr=1e-2, eps=1e-3)", "adamw(lr=1e-2, eps=1e-3)",
         "amsgrad(lr=1e-2, b1=0.0, eps=1e-3)", "adagrad(lr=1e-1)", "sgd(lr=1e-1)"]
SCHEDULED = ", schedule='linear', decay_steps=4)"   # GSAM's ρ_t follows this lr
N = 16


def _base_name(base):
    return base.split("(")[0]


def _base_args(base):
    return parse_recipe(base).base_args


# the cases: recipe variant term, and reference keyword arguments per step
CASES = {
    "sam_efficient": ("sam(rho=0.1, a=8, m=2)", dict(kind="sam", rho=0.1, a=8, m=2)),
    "sam_full": ("sam(rho=0.1, a=16)", dict(kind="sam", rho=0.1)),
    "asam": ("asam(rho=0.3, eta=0.05)", dict(kind="asam", rho=0.3, eta=0.05)),
    "fsam_paper": ("fsam(rho=0.1, s=0.8, fi=2, n_fisher=8)", dict(kind="sam", rho=0.1, fisher=("paper", 0.8, 8))),
    "fsam_reference": ("fsam(rho=0.1, s=0.8, fi=2, fisher='reference')",
                       dict(kind="sam", rho=0.1, fisher=("reference", 0.8, None))),
    "esam": ("esam(rho=0.1, beta=0.6, gamma=0.5)", dict(kind="sam", rho=0.1, beta=0.6, gamma=0.5, swp=True)),
    "gsam": ("gsam(rho=0.1, alpha=0.3)", dict(kind="sam", rho=0.1, alpha=0.3, gsam=True)),
    "f_esam": ("f_esam(rho=0.1, beta=0.6, gamma=0.5, s=0.7, fi=2)",
               dict(kind="sam", rho=0.1, beta=0.6, gamma=0.5, swp=True, fisher=("paper", 0.7, None))),
    "f_gsam": ("f_gsam(rho=0.1, alpha=0.3, s=0.7, fi=2, fisher='reference')",
               dict(kind="sam", rho=0.1, alpha=0.3, gsam=True, fisher=("reference", 0.7, None))),
    "functional_sam": ("functional_sam(rho=0.2)", dict(kind="sam", rho=0.2, functional=True)),
    "functional_sam_efficient": ("functional_sam(rho=0.2, a=4)", dict(kind="sam", rho=0.2, a=4, functional=True)),
    "precond_sam": ("precond_sam(rho=0.1)", dict(kind="precond", rho=0.1)),
    "precond_functional_sam": ("precond_functional_sam(rho=0.1)", dict(kind="precond", rho=0.1, functional=True)),
}


def run_ours(recipe: str, P, params, batches, keys):
    """The variant's jitted gradient, fed to the optax base optimizer, for len(batches) steps."""
    optimizer, gradient = parse_recipe(recipe).build(N)
    state = optimizer.init(to_jax(params))
    objective = P.jax_objective()
    update = jax.jit(lambda p, gs, bs, batch, key: gradient.update(objective, p, batch, key, gs, bs))
    p, out = to_jax(params), []
    for batch, key in zip(batches, keys):
        loss, grads, gstate = update(p, state.gradient, state.base, to_jax(batch), key)
        updates, state = optimizer.update(grads, state._replace(gradient=gstate), p)
        p = jax.tree.map(lambda a, b: a + b, p, updates)
        out.append((float(loss), to_numpy(p)))
    return out, gradient


def run_reference(recipe: str, case: dict, P, params, batches, keys, gradient):
    base = recipe.split(" + ")[1]
    name, args = _base_name(base), _base_args(base)
    optimizer = make_base_optimizer(name, **args)
    state = optimizer.init(to_jax(params))
    p, out, mask, previous = dict(params), [], None, None
    rho0 = case["rho"]
    for t, (batch, key) in enumerate(zip(batches, keys)):
        kw = {k: v for k, v in case.items() if k not in ("fisher", "swp", "gsam")}
        if "fisher" in case:
            mode, s, n_fisher = case["fisher"]
            if t % 2 == 0:  # Fi = 2: refreshed at steps 0, 2, ...
                if mode == "paper":
                    fisher = empirical_fisher(P, p, batch, n_fisher or N)
                    mask = fisher_mask(fisher, s)
                else:
                    g = grad(P, p, take(batch, np.arange(case.get("a") or N)))
                    mask = fisher_mask({k: v**2 for k, v in g.items()}, s,
                                       unmasked=[k for k in p if "bias" in k])
            kw["mask"] = mask
        if case.get("swp"):
            kw["selection"] = {k: bool(v) for k, v in gradient.swp_selection(to_jax(p), key).items()}
        if case.get("gsam"):  # lr_t = lr (1 − t/4), lr_min = 0: ρ_t = ρ_min + (ρ − ρ_min)(1 − t/4), ρ_min = ρ/10
            kw["rho"] = rho0 / 10 + (rho0 - rho0 / 10) * (1 - t / 4)
        if case["kind"] == "precond":
            if t == 0:  # no second moment yet: P = δ·1, a constant, so the direction is g
                kw["precond"] = {k: np.ones_like(v) for k, v in p.items()}
            else:
                moment = second_moment_after_one_step(name, previous, args)
                kw["precond"] = moment or {k: np.ones_like(v) for k, v in p.items()}
        loss, g = reference_gradient(P, p, batch, **kw)
        previous = g
        updates, state = optimizer.update(to_jax(g), state, to_jax(p))
        p = {k: p[k] + np.asarray(updates[k], np.float64) for k in p}
        out.append((loss, p))
    return out


def _compare(ours, ref):
    for (loss, p), (ref_loss, ref_p) in zip(ours, ref):
        np.testing.assert_allclose(loss, ref_loss, rtol=2e-4)
        for k in p:
            np.testing.assert_allclose(p[k], ref_p[k], rtol=2e-4, atol=2e-5, err_msg=k)


def _problem(name, seed=0):
    P = PROBLEMS[name]
    params, batch0 = P.init(seed, N)
    _, batch1 = P.init(seed + 1, N)
    return P, params, [batch0, batch1], [jax.random.key(10), jax.random.key(11)]


# every variant on both problems; the extra settings of a variant on one problem only
ONE_PROBLEM = {"sam_full": "mlp", "fsam_reference": "mlp", "functional_sam_efficient": "mlp"}
GRID = [(case, problem) for case in CASES for problem in ("logreg", "mlp") if ONE_PROBLEM.get(case, problem) == problem]


@pytest.mark.parametrize("case, problem", GRID)
def test_variant_matches_reference(case, problem):
    i = list(CASES).index(case) + (3 if problem == "mlp" else 0)
    base = BASES[i % len(BASES)]
    term, kw = CASES[case]
    if kw.get("gsam"):
        base = base[:-1] + SCHEDULED
    recipe = f"{term} + {base}"
    P, params, batches, keys = _problem(problem)
    ours, gradient = run_ours(recipe, P, params, batches, keys)
    _compare(ours, run_reference(recipe, kw, P, params, batches, keys, gradient))


@pytest.mark.parametrize("base", BASES)
def test_preconditioner_of_every_base_matches_its_second_moment(base):
    """P read from each base optimizer's state after one step equals the NumPy second moment."""
    name, args = _base_name(base), _base_args(base)
    P, params, batches, _ = _problem("mlp", seed=3)
    g = grad(P, params, batches[0])
    optimizer = make_base_optimizer(name, **args)
    state = optimizer.init(to_jax(params))
    precondition = make_preconditioner(name, **args)
    if name == "sgd":
        assert precondition is None  # no second moment: P = I
        return
    at_start = precondition(state, to_jax(params))  # before any step: a constant δ, so P⁻¹g ∝ g
    for k in params:
        assert np.ptp(np.asarray(at_start[k])) == 0
    _, state = optimizer.update(to_jax(g), state, to_jax(params))
    got, want = precondition(state, to_jax(params)), second_moment_after_one_step(name, g, args)
    for k in params:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-12, err_msg=k)
