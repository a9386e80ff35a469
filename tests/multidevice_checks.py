"""Checks on 8 fake CPU devices, run by test_multidevice.py in a subprocess (XLA_FLAGS must be
set before JAX starts). Prints one JSON object: per check, the figures the tests assert on.

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python tests/multidevice_checks.py OUT_DIR
"""
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from sam_bench import parallel
from sam_bench.models import init_params, t5_config
from sam_bench.optim import Objective, parse_recipe
from sam_bench.train.checkpoint import TrainStateCheckpoints
from sam_bench.train.step import make_loss_fn, make_train_step

B, D, H, C = 32, 128, 256, 4
KEEP = 0.9


def mlp_objective():
    """A two-layer MLP with dropout, split into network and loss head (every variant runs on it)."""
    def logits_fn(p, batch, key):
        h = jnp.tanh(batch["x"] @ p["w1"] + p["b1"])
        h = jnp.where(jax.random.bernoulli(key, KEEP, h.shape), h / KEEP, 0.0)
        return h @ p["w2"] + p["b2"]

    def per_example(z, batch):
        return -jnp.take_along_axis(jax.nn.log_softmax(z), batch["y"][:, None], axis=-1)[:, 0]

    return Objective(logits_fn, lambda z, batch: jnp.mean(per_example(z, batch)), per_example)


def mlp_problem(seed=0):
    rng = np.random.default_rng(seed)
    params = {"w1": rng.normal(size=(D, H)) / np.sqrt(D), "b1": np.zeros(H), "w2": rng.normal(size=(H, C)) / 16,
              "b2": np.zeros(C)}
    params = {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}
    batches = [{"x": rng.normal(size=(B, D)).astype(np.float32), "y": rng.integers(0, C, B).astype(np.int32)}
               for _ in range(4)]
    return params, batches, mlp_objective()


def t5_problem():
    config = t5_config("t5.1.1-tiny", vocab_size=128, d_model=32, d_ff=64, num_heads=2, d_kv=16,
                       num_encoder_layers=1, num_decoder_layers=1, dropout_rate=0.1, dtype="float32")
    graphdef, params = init_params(config, seed=0)
    rng = np.random.default_rng(1)
    batches = []
    for _ in range(4):
        batch = {"inputs": rng.integers(2, 128, (16, 12)).astype(np.int32),
                 "targets": rng.integers(2, 128, (16, 5)).astype(np.int32)}
        batch["targets"][:, 3:] = 0
        batches.append(batch)
    return params, batches, make_loss_fn(graphdef)


def run(problem, recipe, mesh=None, steps=2, accumulation_steps=1, state=None, start=0):
    params, batches, objective = problem
    b = len(jax.tree.leaves(batches[0])[0])
    optimizer, gradient = parse_recipe(recipe).build(b, accumulation_steps)
    opt_state = optimizer.init(params)
    if state is not None:
        params, opt_state = state
    elif mesh is not None:
        params, opt_state = parallel.place((params, opt_state), mesh)
    step = make_train_step(objective, optimizer, gradient, accumulation_steps, mesh=mesh)
    losses = []
    for t in range(start, start + steps):
        batch = batches[t % len(batches)]
        if mesh is not None:
            batch = parallel.shard_batch(batch, mesh)
        params, opt_state, loss = step(params, opt_state, batch, jax.random.fold_in(jax.random.key(7), t))
        losses.append(float(loss))
    return params, opt_state, losses


def max_relative(got, want) -> float:
    """max over tensors of max|got − want| / max|want| (losses compared as one tensor)."""
    worst = 0.0
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        g, w = np.asarray(g, np.float64), np.asarray(w, np.float64)
        worst = max(worst, float(np.max(np.abs(g - w)) / max(np.max(np.abs(w)), 1e-30)))
    return worst


def compare(problem, recipe, shape, **kw):
    want_p, _, want_l = run(problem, recipe, **kw)
    got_p, _, got_l = run(problem, recipe, parallel.make_mesh(shape, jax.devices()[: parallel.parse_mesh(shape).devices]),
                          **kw)
    return {"params": max_relative(got_p, want_p), "loss": max_relative(np.array(got_l), np.array(want_l))}


# the variants on plain SGD: Adam-type bases turn float noise in a zero gradient entry into a
# full-size update, which would compare the base optimizer's sign flips, not the gradient
RECIPES = {
    "sam_a_b4": "sam(rho=0.15) + adafactor(lr=1e-2)",        # a = b/4 = 8: one ascent example per device
    "sam_m8": "sam(rho=0.15, m=8) + adafactor(lr=1e-2)",     # per-device ε on 8 devices, by recipe
    "fsam": "fsam(rho=0.05, s=0.5, fi=2) + sgd(lr=0.1)",
    "functional_sam": "functional_sam(rho=0.1, a=16) + sgd(lr=0.1)",
    "gsam": "gsam(rho=0.05, alpha=0.3) + sgd(lr=0.1)",
    "esam": "esam(rho=0.05, beta=0.6, gamma=0.5, m=2) + sgd(lr=0.1)",
}
SHAPES = {"sam_a_b4": ("data=8", "data=2"), "sam_m8": ("data=8", "data=2")}  # the others: 8 devices


def main(out_dir):
    assert len(jax.devices()) == 8, jax.devices()
    report = {"equality": {}}
    mlp = mlp_problem()
    for name, recipe in RECIPES.items():
        report["equality"][name] = {shape: compare(mlp, recipe, shape) for shape in SHAPES.get(name, ("data=8",))}
    report["equality"]["t5_sam_m8"] = {"data=8": compare(t5_problem(), "sam(rho=0.15, a=8, m=8) + adafactor", "data=8")}
    report["equality"]["sam_fsdp"] = {"data=2,fsdp=4": compare(mlp, RECIPES["sam_a_b4"], "data=2,fsdp=4")}
    report["equality"]["sam_fsdp_accumulation"] = {
        "data=2,fsdp=4": compare(mlp, RECIPES["sam_m8"], "data=2,fsdp=4", accumulation_steps=2)}

    # FSDP: where the parameters and Adafactor's factored moments live
    mesh = parallel.make_mesh("data=2,fsdp=4")
    params, opt_state, _ = run(mlp, RECIPES["sam_a_b4"], mesh, steps=1)
    layout = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path((params, opt_state))[0]:
        layout[jax.tree_util.keystr(path)] = {
            "shape": list(leaf.shape), "spec": [a for a in leaf.sharding.spec] + [None] * (leaf.ndim - len(leaf.sharding.spec)),
            "expected": list(parallel.param_spec(leaf.shape, 4)) + [None] * (leaf.ndim - len(parallel.param_spec(leaf.shape, 4))),
            "shard_shape": list(leaf.sharding.shard_shape(leaf.shape)), "devices": len(leaf.sharding.device_set)}
    report["layout"] = layout

    # a checkpoint written on 8 devices (data=2, fsdp=4) resumes on 2 (fsdp=2) with the same steps
    recipe = RECIPES["sam_a_b4"]
    params, opt_state, _ = run(mlp, recipe, mesh, steps=2)
    checkpoints = TrainStateCheckpoints(Path(out_dir) / "ckpt")
    checkpoints.save(2, (params, opt_state), {"written_on": 8})
    continued_p, _, continued_l = run(mlp, recipe, mesh, steps=2, state=(params, opt_state), start=2)
    small = parallel.make_mesh("fsdp=2", jax.devices()[:2])
    fresh = parse_recipe(recipe).build(B)[0].init(mlp[0])
    step, restored, meta = checkpoints.restore((mlp[0], fresh), mesh=small)
    devices = sorted({len(x.sharding.device_set) for x in jax.tree.leaves(restored)})
    resumed_p, _, resumed_l = run(mlp, recipe, small, steps=2, state=restored, start=2)
    report["resume"] = {"step": step, "meta": meta, "restored_devices": devices,
                        "params": max_relative(resumed_p, continued_p),
                        "loss": max_relative(np.array(resumed_l), np.array(continued_l))}
    # per-device memory: what `sam-bench memory --mesh` counts vs the bytes device 0 really holds
    from sam_bench.memory import estimate_memory
    from sam_bench.models.registry import abstract_model, model_config
    from sam_bench.optim.base import make_base_optimizer

    config = model_config("t5.1.1-small", dtype="float32")
    _, abstract = abstract_model(config)
    real = jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), abstract)
    state = parallel.place((real, make_base_optimizer("adafactor").init(real)), mesh)
    held = [sum(shard.data.nbytes for leaf in jax.tree.leaves(tree) for shard in leaf.addressable_shards
                if shard.device == jax.devices()[0]) for tree in state]
    estimate = estimate_memory(config, optimizer="adafactor", mesh="data=2,fsdp=4")
    report["memory"] = {"held_params": held[0], "held_optimizer": held[1],
                        "estimated_params": estimate.params_bytes, "estimated_optimizer": estimate.optimizer_bytes,
                        "unsharded_params": estimate_memory(config, optimizer="adafactor").params_bytes}
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
