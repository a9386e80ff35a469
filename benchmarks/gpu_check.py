"""A GPU check in one unattended run (≤ 4 minutes on one modern GPU):

1. the step-overhead table of T5.1.1-Small and -Base in bf16 (random weights, the real
   architectures): the jitted train step of each recipe against its base optimizer;
2. the throughput of a short data-parallel cell: T5.1.1-Small with efficient SAM on a mesh over
   every visible device, examples/s and MFU (FLOPs per step as `sam-bench plan` counts them,
   over the device's peak bf16 rate).

    python benchmarks/gpu_check.py --out benchmarks/results          # on the GPU machine
    python benchmarks/gpu_check.py --tiny --out /tmp/check           # anywhere (CPU: seconds)

Writes <out>/gpu_check.md (the tables) and <out>/<device>.json (rows `sam-bench plan` reads as
measured step times). `--tiny` runs the same code on a tiny T5 with small batches.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import jax
import numpy as np

from sam_bench import parallel
from sam_bench.models import init_params, t5_config
from sam_bench.optim import parse_recipe
from sam_bench.plan import DEVICES, step_flops
from sam_bench.train.step import make_loss_fn, make_train_step

BASE = "adafactor(lr=1e-3)"
# device_kind substrings -> sam_bench.plan.DEVICES names (peak rates)
KINDS = {"H200": "h200", "H100": "h100", "A100-SXM4-80GB": "a100-80gb", "A100": "a100-40gb", "V100": "v100",
         "TPU v3": "tpu-v3", "TPU v4": "tpu-v4", "TPU v5 lite": "tpu-v5e"}


def device_name() -> str:
    kind = jax.devices()[0].device_kind
    return next((name for key, name in KINDS.items() if key in kind), kind.lower().replace(" ", "-"))


def recipes(b: int) -> list[tuple[str, str]]:
    return [("base", BASE), (f"sam a=b/4={b // 4}", f"sam(rho=0.15, a={b // 4}) + {BASE}"),
            (f"sam a=b={b}", f"sam(rho=0.15, a={b}) + {BASE}"), ("fsam a=b", f"fsam(rho=0.01) + {BASE}"),
            ("functional_sam a=b", f"functional_sam(rho=0.15) + {BASE}")]


def models(tiny: bool) -> dict:
    """name -> (config, batch, input length, target length)."""
    if tiny:
        small = t5_config("t5.1.1-tiny", vocab_size=128, d_model=32, d_ff=64, num_heads=2, d_kv=16,
                          num_encoder_layers=1, num_decoder_layers=1, dtype="bfloat16")
        return {"t5-tiny": (small, 8, 16, 4)}
    return {"t5.1.1-small": (t5_config("t5.1.1-small", dtype="bfloat16"), 64, 128, 32),
            "t5.1.1-base": (t5_config("t5.1.1-base", dtype="bfloat16"), 32, 128, 32)}


def batch_of(config, b, lin, lt, seed=0):
    rng = np.random.default_rng(seed)
    targets = rng.integers(2, config.vocab_size, (b, lt)).astype(np.int32)
    targets[:, lt - lt // 4:] = 0  # some padding, as real targets have
    return {"inputs": rng.integers(2, config.vocab_size, (b, lin)).astype(np.int32), "targets": targets}


def time_steps(step, params, state, batches, key, steps):
    """(compile + first step seconds, median seconds per step over `steps` steps)."""
    t0 = time.perf_counter()
    params, state, loss = step(params, state, batches[0], key)
    jax.block_until_ready(loss)
    first = time.perf_counter() - t0
    times = []
    for t in range(steps):
        t0 = time.perf_counter()
        params, state, loss = step(params, state, batches[(t + 1) % len(batches)], jax.random.fold_in(key, t))
        jax.block_until_ready(loss)
        times.append(time.perf_counter() - t0)
    if not np.isfinite(float(loss)):
        raise FloatingPointError(f"loss {float(loss)}")
    return first, statistics.median(times)


def overhead_table(tiny: bool, steps: int, device: str) -> tuple[list[str], list[dict]]:
    lines = ["| model | recipe | ms/step | × base | compile s |", "|---|---|---:|---:|---:|"]
    rows = []
    for name, (config, b, lin, lt) in models(tiny).items():
        graphdef, params = init_params(config, seed=0)
        objective = make_loss_fn(graphdef)
        batch = batch_of(config, b, lin, lt)
        base_seconds = None
        for label, recipe in recipes(b):
            optimizer, gradient = parse_recipe(recipe).build(b)
            step = make_train_step(objective, optimizer, gradient)
            first, seconds = time_steps(step, params, optimizer.init(params), [batch], jax.random.key(0), steps)
            base_seconds = base_seconds or seconds
            lines.append(f"| {name} | {label} | {seconds * 1e3:.1f} | {seconds / base_seconds:.2f} | "
                         f"{first - seconds:.1f} |")
            rows.append({"device": device, "model": name, "recipe": recipe, "method": parse_recipe(recipe).method,
                         "batch_size": b, "devices": 1, "seconds_per_step": seconds, "label": label})
    return lines, rows


def data_parallel_cell(tiny: bool, steps: int, device: str) -> tuple[list[str], list[dict]]:
    n = jax.device_count()
    name, (config, b, lin, lt) = next(iter(models(tiny).items()))
    b = b * n  # the per-device batch of the overhead table on every device
    mesh = parallel.make_mesh(None)
    recipe = f"sam(rho=0.15, a={b // 4}) + {BASE}"
    graphdef, params = init_params(config, seed=0)
    optimizer, gradient = parse_recipe(recipe).build(b)
    params, state = parallel.place((params, optimizer.init(params)), mesh)
    step = make_train_step(make_loss_fn(graphdef), optimizer, gradient, mesh=mesh)
    batches = [parallel.shard_batch(batch_of(config, b, lin, lt, seed), mesh) for seed in range(4)]
    first, seconds = time_steps(step, params, state, batches, jax.random.key(1), steps)
    flops = step_flops(config, b, lin, lt, 0.25)
    peak = DEVICES[device].peak_flops if device in DEVICES else float("nan")
    mfu = flops / (seconds * n * peak)
    lines = ["| model | devices | batch | recipe | s/step | examples/s | MFU |", "|---|---:|---:|---|---:|---:|---:|",
             f"| {name} | {n} | {b} | {recipe} | {seconds:.4f} | {b / seconds:.1f} | "
             f"{'n/a (no peak rate for ' + device + ')' if np.isnan(mfu) else f'{mfu:.1%}'} |"]
    row = {"device": device, "model": name, "recipe": recipe, "method": "sam", "batch_size": b, "devices": n,
           "seconds_per_step": seconds, "examples_per_second": b / seconds, "mfu": None if np.isnan(mfu) else mfu,
           "compile_seconds": first - seconds}
    return lines, [row]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a tiny T5 and small batches (CPU, seconds)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per row (default 20; tiny 2)")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    steps = args.steps or (2 if args.tiny else 20)
    device = device_name()
    started = time.perf_counter()
    table, rows = overhead_table(args.tiny, steps, device)
    dp_table, dp_rows = data_parallel_cell(args.tiny, steps, device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = [f"# GPU check on {jax.device_count()} × {jax.devices()[0].device_kind} ({device}), "
              f"jax {jax.__version__}, {steps} timed steps per row, bf16 compute", ""]
    text = "\n".join(header + ["## Step overhead", ""] + table + ["", "## Data-parallel cell", ""] + dp_table +
                     ["", f"total wall time {time.perf_counter() - started:.0f} s"]) + "\n"
    (out / "gpu_check.md").write_text(text)
    (out / f"{device}.json").write_text(json.dumps(rows + dp_rows, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
