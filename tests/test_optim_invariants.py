"""The defining invariants of the sharpness-aware family, and agreement with optax's contrib SAM.

ρ = 0 gives the base optimizer; FSAM with s = 0 gives SAM; Functional-SAM equals SAM when
the loss is linear in the logits; preconditioned SAM with P = I equals SAM; the result does
not depend on the order of the parameter tree. (a = b, m = 1 giving vanilla SAM is in
test_optim.py.)
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sam_bench.optim import VARIANTS, Objective, SharpnessAware, parse_recipe, standard_gradient
from sam_bench.optim.base import make_base_optimizer
from sam_bench.train.step import make_train_step
from optim_reference import MLP, to_jax

BASES = ["adafactor(lr=1e-2)", "adam(lr=1e-2)", "adamw(lr=1e-2, b1=0.0)", "amsgrad(lr=1e-2)", "adagrad(lr=1e-1)",
         "sgd(lr=1e-1)"]
N = 16


def _mlp(seed=0):
    params, batch = MLP.init(seed, N)
    return to_jax(params), to_jax(batch), MLP.jax_objective()


def _assert_trees_close(a, b, rtol=1e-6, atol=1e-7):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


def _train(recipe: str, steps: int = 2):
    params, batch, objective = _mlp()
    optimizer, gradient = parse_recipe(recipe).build(N)
    state = optimizer.init(params)
    step = make_train_step(objective, optimizer, gradient)
    for t in range(steps):
        params, state, loss = step(params, state, batch, jax.random.key(t))
    return params, loss


@functools.lru_cache(maxsize=None)
def _baseline(base: str):
    return _train(base)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rho_zero_gives_the_base_optimizer(variant):
    base = BASES[sorted(VARIANTS).index(variant) % len(BASES)]
    # ESAM's data selection (γ < 1) changes the descent set even at ρ = 0, so γ = 1 here
    extra = ", gamma=1.0" if "esam" in variant else ""
    got, _ = _train(f"{variant}(rho=0.0{extra}) + {base}")
    want, _ = _baseline(base)
    _assert_trees_close(got, want)


def _gradient(recipe_or_gradient, objective, params, batch, base_state=None, key=jax.random.key(0)):
    if isinstance(recipe_or_gradient, str):
        _, gradient = parse_recipe(recipe_or_gradient).build(N)
    else:
        gradient = recipe_or_gradient
    loss, grads, _ = jax.jit(lambda p, b, s: gradient.update(objective, p, b, key, None, s))(params, batch, base_state)
    return loss, grads


def test_fsam_with_no_sparsity_is_sam():
    params, batch, objective = _mlp(1)
    want = _gradient("sam(rho=0.2, a=16) + adamw", objective, params, batch)
    for fisher in ("paper", "reference"):
        got = _gradient(f"fsam(rho=0.2, s=0.0, fisher='{fisher}') + adamw", objective, params, batch)
        _assert_trees_close(got, want, rtol=0, atol=0)


def _linear_objective():
    """A loss linear in the logits: mean_i ⟨c_i, z_i⟩."""
    def loss_from_logits(z, batch):
        return jnp.mean(jnp.sum(z * batch["c"], axis=-1))

    return Objective(MLP.jax_objective().logits_fn, loss_from_logits)


def test_functional_sam_is_sam_when_the_loss_is_linear_in_the_logits():
    params, batch, _ = _mlp(2)
    batch = {**batch, "c": jnp.asarray(np.random.default_rng(0).normal(size=(N, MLP.C)), jnp.float32)}
    objective = _linear_objective()
    for functional, plain in [("functional_sam(rho=0.3)", "sam(rho=0.3, a=16)"),
                              ("functional_sam(rho=0.3, a=4, m=2)", "sam(rho=0.3, a=4, m=2)")]:
        got = _gradient(f"{functional} + sgd", objective, params, batch)
        want = _gradient(f"{plain} + sgd", objective, params, batch)
        _assert_trees_close(got, want, rtol=1e-5, atol=1e-7)


def test_functional_sam_differs_from_sam_on_cross_entropy():
    params, batch, objective = _mlp(2)
    _, got = _gradient("functional_sam(rho=0.3) + sgd", objective, params, batch)
    _, want = _gradient("sam(rho=0.3, a=16) + sgd", objective, params, batch)
    assert not np.allclose(got["w1"], want["w1"], rtol=1e-3)


def test_preconditioned_sam_with_identity_preconditioner_is_sam():
    params, batch, objective = _mlp(3)
    want = _gradient("sam(rho=0.2, a=16) + sgd", objective, params, batch)
    # SGD keeps no second moment: the recipe's P is I
    _assert_trees_close(_gradient("precond_sam(rho=0.2) + sgd", objective, params, batch), want, rtol=1e-5)
    # an explicit P = I read from an Adam state
    identity = SharpnessAware(rho=0.2, perturbation="preconditioned", preconditioner=lambda s, p: jax.tree.map(jnp.ones_like, p))
    adam_state = optax.adam(1e-3).init(params)
    _assert_trees_close(_gradient(identity, objective, params, batch, adam_state), want, rtol=1e-5)


# global norms, the Fisher threshold, GSAM's inner products, ESAM's selection, the preconditioner
# (ESAM's SWP draws one coin per tensor keyed by the tensor's name, so it is left at β = 1)
ORDER_CASES = ["f_gsam(rho=0.2, s=0.7)", "esam(rho=0.2, beta=1.0, gamma=0.5)", "precond_functional_sam(rho=0.2)"]
NAMES = ["w1", "bias1", "w2", "bias2"]


@pytest.mark.parametrize("variant", ORDER_CASES)
def test_result_does_not_depend_on_parameter_tree_order(variant):
    params, batch, objective = _mlp(4)
    base_state = optax.adam(1e-3).init(params)
    _, base_state = optax.adam(1e-3).update(jax.grad(objective)(params, batch, None), base_state, params)
    order = [2, 0, 3, 1]

    def as_list(tree, idx):
        return [tree[NAMES[i]] for i in idx]

    results = []
    for idx in ([0, 1, 2, 3], order):
        def logits_fn(p, b, k, idx=idx):
            return objective.logits_fn({NAMES[i]: x for i, x in zip(idx, p)}, b, k)

        listed = Objective(logits_fn, objective.loss_from_logits, objective.per_example_from_logits)
        _, gradient = parse_recipe(f"{variant} + adam(lr=1e-3)").build(N)
        state = jax.tree.map(lambda t: as_list(t, idx) if isinstance(t, dict) else t, base_state,
                             is_leaf=lambda t: isinstance(t, dict))
        loss, grads = _gradient(gradient, listed, as_list(params, idx), batch, state)
        results.append((loss, {NAMES[i]: g for i, g in zip(idx, grads)}))
    _assert_trees_close(results[0], results[1], rtol=2e-6, atol=1e-8)


@pytest.mark.parametrize("base", ["sgd(lr=0.1, momentum=0.0)", "adam(lr=1e-2)"])
def test_agrees_with_optax_contrib_sam(base):
    """Our full-batch SAM and optax.contrib.sam (opaque mode: adversarial step ρ g/‖g‖, then
    the outer optimizer on the gradient at the perturbed point) give the same trajectory."""
    params, batch, objective = _mlp(5)
    rho = 0.1
    recipe = parse_recipe(f"sam(rho={rho}, a={N}) + {base}")
    optimizer, gradient = recipe.build(N)
    state = optimizer.init(params)
    step = make_train_step(objective, optimizer, gradient)

    outer = make_base_optimizer(recipe.base, **recipe.base_args)
    contrib = optax.contrib.sam(outer, optax.chain(optax.contrib.normalize(), optax.sgd(rho)), sync_period=2,
                                opaque_mode=True)

    @jax.jit
    def contrib_step(p, s):
        grads = jax.grad(objective)(p, batch, None)
        updates, s = contrib.update(grads, s, p, grad_fn=lambda q, _: jax.grad(objective)(q, batch, None))
        return optax.apply_updates(p, updates), s

    ours, theirs, c_state = params, params, contrib.init(params)
    for t in range(3):
        ours, state, _ = step(ours, state, batch, None)
        theirs, c_state = contrib_step(theirs, c_state)
    # Adam's first steps are ≈ lr·sign(g): float32 differences in g show up at ~1e-5
    _assert_trees_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_zero_and_huge_preconditioned_directions_stay_finite():
    """P = √(0 + 1e-30) at Adafactor's first step makes P⁻¹g ~ 1e15·g: still a finite ε of norm ρ."""
    params, batch, objective = _mlp(6)
    params = jax.tree.map(lambda x: x * 30.0, params)  # large gradients
    optimizer, gradient = parse_recipe("precond_sam(rho=0.1) + adafactor").build(N)
    state = optimizer.init(params)
    precond = gradient.preconditioner(state.base, params)
    g = jax.grad(objective)(params, batch, None)
    eps = gradient.epsilon(g, params, precond)
    norm = float(optax.tree.norm(eps))
    assert np.isfinite(norm) and abs(norm - 0.1) < 1e-5
    zero = gradient.epsilon(jax.tree.map(jnp.zeros_like, g), params, precond)
    assert all(np.all(np.asarray(x) == 0) for x in jax.tree.leaves(zero))


def test_standard_gradient_is_plain_autodiff():
    params, batch, objective = _mlp(7)
    loss, grads = standard_gradient(objective, params, batch, None)
    _assert_trees_close(grads, jax.grad(objective)(params, batch, None), rtol=0, atol=0)
