"""The jitted train step with the sharpness-aware family: gradient accumulation, the state
carried in opt_state (FSAM's mask, GSAM's step), checkpointing, and bf16 T5 compute."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sam_bench.models import init_params, t5_config
from sam_bench.optim import SharpnessAwareState, parse_recipe, standard_gradient
from sam_bench.optim.sharpness import RhoSchedule
from sam_bench.train.step import make_loss_fn, make_train_step
from optim_reference import MLP, to_jax

N = 16


def _mlp(seed=0):
    params, batch = MLP.init(seed, N)
    return to_jax(params), to_jax(batch), MLP.jax_objective()


def _steps(recipe, accumulation_steps, steps=2, seed=0):
    params, batch, objective = _mlp(seed)
    optimizer, gradient = parse_recipe(recipe).build(N, accumulation_steps)
    state = optimizer.init(params)
    step = make_train_step(objective, optimizer, gradient, accumulation_steps=accumulation_steps)
    losses = []
    for t in range(steps):
        params, state, loss = step(params, state, batch, jax.random.key(t))
        losses.append(float(loss))
    return params, state, losses


@pytest.mark.parametrize("recipe, k", [
    ("sam(rho=0.2, a=8, m=2) + adafactor", 4),                   # groups of 8 in micro-batches of 4
    ("f_esam(rho=0.2, beta=0.6, gamma=0.5, fisher='reference', fi=1) + adam", 2),
    ("functional_sam(rho=0.2, a=8) + sgd", 2),
])
def test_accumulation_computes_the_unaccumulated_step(recipe, k):
    """With an example-mean loss, k micro-batches give the step of the whole batch: the
    perturbation still comes from the whole ascent set."""
    want, _, want_losses = _steps(recipe, 1)
    got, _, got_losses = _steps(recipe, k)
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-5)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=2e-5, atol=2e-6, err_msg=name)


def test_accumulation_of_plain_gradients():
    params, batch, objective = _mlp(1)
    optimizer = optax.sgd(0.1)

    def plain(loss_fn, p, b, key):  # a plain gradient function, as callers may pass
        return jax.value_and_grad(loss_fn)(p, b, key)

    results = []
    for gradient, k in [(standard_gradient, 1), (standard_gradient, 4), (plain, 4)]:
        step = make_train_step(objective, optimizer, gradient, accumulation_steps=k)
        p, _, loss = step(params, optimizer.init(params), batch, jax.random.key(0))
        results.append(p)
    for other in results[1:]:
        for name in params:
            np.testing.assert_allclose(other[name], results[0][name], rtol=1e-5, atol=1e-7)


def test_fsam_mask_lives_in_the_optimizer_state_and_refreshes_every_fi_steps():
    params, batch, objective = _mlp(2)
    optimizer, gradient = parse_recipe("fsam(rho=0.1, s=0.9, fi=3) + adamw(lr=1e-2)").build(N)
    state = optimizer.init(params)
    assert isinstance(state, SharpnessAwareState) and int(state.gradient.count) == 0
    step = make_train_step(objective, optimizer, gradient)
    masks = []
    for t in range(5):
        params, state, _ = step(params, state, batch, jax.random.key(t))
        masks.append({k: np.asarray(v) for k, v in state.gradient.mask.items()})
    assert int(state.gradient.count) == 5
    kept = sum(int(m.sum()) for m in masks[0].values())
    total = sum(m.size for m in masks[0].values())
    assert kept == int(0.1 * total + 1e-6) or abs(kept - 0.1 * total) <= 2  # ties at the threshold are kept
    same = [all(np.array_equal(a[k], b[k]) for k in a) for a, b in zip(masks, masks[1:])]
    assert same == [True, True, False, True]  # refreshed at steps 0 and 3 only


def test_stateful_gradient_refuses_a_plain_optimizer_state():
    params, batch, objective = _mlp(3)
    _, gradient = parse_recipe("fsam + adamw").build(N)
    base = optax.adamw(1e-3)
    step = make_train_step(objective, base, gradient)
    with pytest.raises(TypeError, match="keeps state across steps"):
        step(params, base.init(params), batch, jax.random.key(0))


def test_gsam_rho_follows_the_learning_rate():
    schedule = RhoSchedule(lr_fn=lambda t: 1e-3 * (1 - t / 10), lr_min=0.0, lr_max=1e-3, rho_min=0.01)
    np.testing.assert_allclose([float(schedule(0.05, t)) for t in (0, 5, 10)], [0.05, 0.03, 0.01], rtol=1e-6)
    _, gradient = parse_recipe("gsam(rho=0.05) + adamw(lr=1e-3, warmup_steps=2, schedule='cosine', "
                               "decay_steps=10)").build(N)
    rhos = [float(gradient.rho_at(t)) for t in (0, 1, 2, 10)]
    np.testing.assert_allclose(rhos, [0.005, 0.0275, 0.05, 0.005], rtol=1e-5)   # ρ_min = ρ/10 by default
    _, constant = parse_recipe("gsam(rho=0.05) + adamw(lr=1e-3)").build(N)
    assert float(constant.rho_at(7)) == pytest.approx(0.05)


def test_sharpness_aware_state_round_trips_through_a_checkpoint(tmp_path):
    from sam_bench.train.checkpoint import TrainStateCheckpoints

    params, batch, objective = _mlp(4)
    optimizer, gradient = parse_recipe("f_gsam(fi=2) + adafactor").build(N)
    state = optimizer.init(params)
    step = make_train_step(objective, optimizer, gradient)
    params, state, _ = step(params, state, batch, jax.random.key(0))
    checkpoints = TrainStateCheckpoints(tmp_path / "ckpt")
    checkpoints.save(1, (params, state), {"note": "x"})
    _, (p2, s2), _ = checkpoints.restore((params, optimizer.init(params)))
    for a, b in zip(jax.tree.leaves((params, state)), jax.tree.leaves((p2, s2))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert np.asarray(a).dtype == np.asarray(b).dtype


def _tiny_t5(dtype):
    config = t5_config("t5.1.1-tiny", vocab_size=128, d_model=32, d_ff=64, num_heads=2, d_kv=16,
                       num_encoder_layers=1, num_decoder_layers=1, dtype=dtype)
    graphdef, params = init_params(config, seed=0)
    rng = np.random.default_rng(0)
    batch = {"inputs": rng.integers(2, 128, (8, 12)).astype(np.int32),
             "targets": rng.integers(2, 128, (8, 5)).astype(np.int32), "task_index": np.zeros(8, np.int32)}
    batch["targets"][:, 3:] = 0
    return graphdef, params, batch


def test_t5_objective_splits_into_logits_and_loss():
    graphdef, params, batch = _tiny_t5("float32")
    objective = make_loss_fn(graphdef)
    key = jax.random.key(0)

    @jax.jit
    def pieces(p):
        logits = objective.logits_fn(p, batch, key)
        return objective(p, batch, key), objective.loss_from_logits(logits, batch), \
            objective.per_example_from_logits(logits, batch)

    loss, from_logits, per_example = pieces(params)
    assert float(loss) == pytest.approx(float(from_logits), rel=1e-6)
    assert per_example.shape == (8,)
    # all examples have 3 target tokens, so the token mean is the example mean
    assert float(jnp.mean(per_example)) == pytest.approx(float(loss), rel=1e-5)


def test_t5_bf16_with_accumulation():
    """bf16 compute, gradient accumulation, the logits path (Functional-SAM) and a base
    preconditioner on the real model."""
    graphdef, params, batch = _tiny_t5("bfloat16")
    optimizer, gradient = parse_recipe("precond_functional_sam(rho=0.05) + adamw").build(8, accumulation_steps=2)
    state = optimizer.init(params)
    step = make_train_step(make_loss_fn(graphdef), optimizer, gradient, accumulation_steps=2)
    new_params, new_state, loss = step(params, state, batch, jax.random.key(0))
    new_params, new_state, loss2 = step(new_params, new_state, batch, jax.random.key(1))
    assert np.isfinite(float(loss)) and np.isfinite(float(loss2))
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
    moved = [float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(new_params), jax.tree.leaves(params))]
    assert all(np.isfinite(moved)) and max(moved) > 0


_DATA_PARALLEL = r'''
import os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from sam_bench.optim import SAM

A = jnp.array([[3.0, 0.5], [0.5, 1.0]])
def loss(params, batch, key):
    d = params["w"][None, :] - batch["x"]
    return 0.5 * jnp.mean(jnp.einsum("bi,ij,bj->b", d, A, d))

params = {"w": jnp.array([1.0, -2.0])}
batch = {"x": jnp.asarray(np.random.default_rng(0).normal(size=(8, 2)), jnp.float32)}
sharded = jax.device_put(batch, NamedSharding(Mesh(np.array(jax.devices()), ("data",)), PartitionSpec("data")))
assert len(sharded["x"].sharding.device_set) == 2
grad = lambda m: jax.jit(lambda p, b: SAM(0.3, ascent_size=8, m=m)(loss, p, b, None)[1]["w"])
halves = [{"x": batch["x"][:4]}, {"x": batch["x"][4:]}]
per_device = np.mean([SAM(0.3, ascent_size=4)(loss, params, h, None)[1]["w"] for h in halves], axis=0)
# m = 1 on a batch sharded over 2 devices: one global ascent gradient, as on one device
np.testing.assert_allclose(grad(1)(params, sharded), grad(1)(params, batch), rtol=1e-6)
assert not np.allclose(grad(1)(params, sharded), per_device, rtol=1e-3)
# m = number of devices: the per-device ascent of Foret et al.
np.testing.assert_allclose(grad(2)(params, sharded), per_device, rtol=1e-6)
print("ok")
'''


def test_data_parallel_ascent_is_global_and_m_sharpness_is_per_device():
    """Under jit with the batch sharded over (here two fake CPU) devices, m = 1 computes one
    global ascent gradient; m = number of devices gives a per-device ascent."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", _DATA_PARALLEL], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]


@pytest.mark.parametrize("recipe", ["adamw(lr=1e-2)", "fsam(rho=0.1, a=8, s=0.5, fi=1) + adamw(lr=1e-2)"])
def test_donating_the_state_computes_the_same_steps(recipe):
    params, batch, objective = _mlp(0)
    optimizer, gradient = parse_recipe(recipe).build(N, 1)
    kept = make_train_step(objective, optimizer, gradient)
    donated = make_train_step(objective, optimizer, gradient, donate=True)
    a = (params, optimizer.init(params))
    b = jax.tree.map(jnp.array, a)  # its own buffers, handed over to the donating step
    for t in range(3):
        *a, loss_a = kept(*a, batch, jax.random.key(t))
        *b, loss_b = donated(*b, batch, jax.random.key(t))
        assert float(loss_a) == float(loss_b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert not jax.tree.leaves(params)[0].is_deleted()  # the kept step left its input alone
