"""One cell on many devices (8 fake CPU devices in a subprocess): the data-parallel and FSDP
steps equal the one-device step for every ascent semantics, parameters and Adafactor's state
live where the mesh says, and a checkpoint written on 8 devices resumes on 2."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-5


@pytest.fixture(scope="module")
def multidevice(tmp_path_factory):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "multidevice_checks.py"),
                             str(tmp_path_factory.mktemp("multidevice"))],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # the fixture's subprocess compiles ~30 steps on 8 fake devices (1.5 CPU-minutes)
@pytest.mark.parametrize("name", ["sam_a_b4", "sam_m8", "fsam", "functional_sam", "gsam", "esam", "t5_sam_m8",
                                  "sam_fsdp", "sam_fsdp_accumulation"])
def test_multidevice_step_equals_the_one_device_step(multidevice, name):
    for shape, figures in multidevice["equality"][name].items():
        assert figures["params"] < RTOL and figures["loss"] < RTOL, (name, shape, figures)


@pytest.mark.slow
def test_multidevice_fsdp_shards_params_and_adafactor_state_as_the_mesh_says(multidevice):
    layout = multidevice["layout"]
    for path, leaf in layout.items():
        assert leaf["spec"] == leaf["expected"], (path, leaf)
        assert leaf["devices"] == 8, (path, leaf)
    # the weights: split 4 ways on their largest axis divisible by 4
    w1 = next(v for k, v in layout.items() if k.startswith("[0]") and "w1" in k)
    assert w1["shape"] == [128, 256] and w1["shard_shape"] == [128, 64]
    # Adafactor's factored second moment of w1 (a row and a column vector), sharded too
    factored = [v for k, v in layout.items() if k.startswith("[1]") and v["shape"] in ([128], [256])]
    assert factored and all(v["shard_shape"][0] == v["shape"][0] // 4 for v in factored), factored


@pytest.mark.slow
def test_multidevice_checkpoint_written_on_8_devices_resumes_on_2(multidevice):
    resume = multidevice["resume"]
    assert resume["step"] == 2 and resume["restored_devices"] == [2]
    assert resume["params"] < RTOL and resume["loss"] < RTOL, resume


# ---- on one device: what the group and ESAM dropout keys must be -----------------------------

def _mlp():
    import jax.numpy as jnp
    from multidevice_checks import mlp_problem

    params, batches, objective = mlp_problem(seed=3)
    return params, {k: jnp.asarray(v) for k, v in batches[0].items()}, objective


def test_multidevice_m_groups_draw_distinct_dropout_masks():
    """m = 2 on a batch whose two halves are the same examples: with its own key per group
    (fold_in(key, g)) the result is the mean of the two one-group results under those keys,
    and the two differ (they would coincide if the groups shared their masks)."""
    import jax
    import numpy as np
    from sam_bench.optim import SAM

    params, batch, objective = _mlp()
    half = {k: v[:16] for k, v in batch.items()}
    doubled = {k: np.concatenate([v, v]) for k, v in half.items()}
    key = jax.random.key(11)
    _, got = jax.jit(lambda p: SAM(0.2, ascent_size=8, m=2)(objective, p, doubled, key))(params)
    one = [jax.jit(lambda p, k: SAM(0.2, ascent_size=4)(objective, p, half, k))(params, jax.random.fold_in(key, g))[1]
           for g in (0, 1)]
    for name in params:
        np.testing.assert_allclose(got[name], (one[0][name] + one[1][name]) / 2, rtol=2e-5, atol=1e-7)
    assert max(float(np.max(np.abs(one[0][n] - one[1][n]))) for n in params) > 1e-3  # distinct masks


def test_multidevice_esam_selected_examples_keep_their_ascent_dropout_masks():
    """ESAM's data selection: the descent gradient is that of the kept examples' losses as the
    whole group's forward pass (same dropout masks as the selection) computes them."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from sam_bench.optim.sharpness import SharpnessAware

    params, batch, objective = _mlp()
    key, rho, keep = jax.random.key(5), 0.3, 16  # γ = 0.5 of 32
    esam = SharpnessAware(rho=rho, sds_gamma=0.5, name="esam")
    _, got = jax.jit(lambda p: esam(objective, p, batch, key))(params)

    g = jax.grad(objective)(params, batch, key)
    norm = jnp.sqrt(sum(jnp.sum(x**2) for x in jax.tree.leaves(g)))
    perturbed = jax.tree.map(lambda w, x: w + rho * x / norm, params, g)
    increase = objective.per_example_loss(perturbed, batch, key) - objective.per_example_loss(params, batch, key)
    chosen = np.argsort(-np.asarray(increase), kind="stable")[:keep]
    want = jax.grad(lambda p: jnp.mean(objective.per_example_loss(p, batch, key)[chosen]))(perturbed)
    fresh = jax.grad(lambda p: objective(p, {k: v[chosen] for k, v in batch.items()}, key))(perturbed)
    for name in params:
        np.testing.assert_allclose(got[name], want[name], rtol=2e-5, atol=1e-7)
    assert max(float(np.max(np.abs(fresh[n] - want[n]))) for n in params) > 1e-3  # a new forward pass would differ


@pytest.mark.slow
def test_multidevice_memory_per_device_is_what_a_device_holds(multidevice):
    memory = multidevice["memory"]
    assert memory["estimated_params"] == memory["held_params"]
    assert memory["estimated_optimizer"] == memory["held_optimizer"]
    assert memory["held_params"] < memory["unsharded_params"] / 3  # T5.1.1-Small split 4 ways, small tensors whole
