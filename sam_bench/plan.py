"""`sam-bench plan CONFIG --device tpu-v3 --mesh data=8`: what a config will cost before it runs.

For every cell: its steps, the training state per device on the mesh (memory.py:
weights, gradients, optimizer state and SAM's copy; activations not included) and the
accelerator-hours. The time per step is measured where a measurement exists for the device
(rows {device, model, method, batch_size, devices, seconds_per_step} in JSON files under
benchmarks/results/, as benchmarks/gpu_check.py writes them), else estimated from FLOPs:

    FLOPs/step = 6 · b · (N_encoder · L_in + N_decoder+head · L_target) · (1 + a/b for SAM variants)

(padded lengths, attention-score FLOPs and evaluation not counted) at a stated model-FLOPs
utilisation of the device's peak bf16 rate. Unlike `snakemake -n`, it needs no checkpoint or
data file: what is missing is listed at the end.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import jax
import yaml

from sam_bench import parallel
from sam_bench.config import check_config, expand_cells
from sam_bench.errors import ConfigError
from sam_bench.memory import GIB, estimate_memory
from sam_bench.models.registry import abstract_model, model_config
from sam_bench.optim import parse_recipe

MEASURED = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


@dataclass(frozen=True)
class Device:
    peak_flops: float   # dense bf16 FLOP/s of one JAX device
    memory_gib: float   # its accelerator memory
    note: str


# one JAX device each: a TPU v3 core (a v3 chip shows as two devices), a v4/v5e chip, a GPU
DEVICES = {
    "tpu-v3": Device(61.5e12, 16, "TPU v3 core (123 TFLOP/s and 32 GiB per 2-core chip)"),
    "tpu-v4": Device(275e12, 32, "TPU v4 chip"),
    "tpu-v5e": Device(197e12, 16, "TPU v5e chip"),
    "v100": Device(125e12, 16, "V100 16 GB (fp16 tensor cores; no bf16)"),
    "a100-40gb": Device(312e12, 40, "A100 40 GB"),
    "a100-80gb": Device(312e12, 80, "A100 80 GB"),
    "h100": Device(989e12, 80, "H100 SXM 80 GB"),
    "h200": Device(989e12, 141, "H200 141 GB"),
}


@functools.lru_cache(maxsize=None)
def _top_level_sizes(config) -> dict:
    """Parameters per top-level module (encoder, decoder, lm_head, ...), from shapes only."""
    _, params = abstract_model(config)
    sizes = defaultdict(int)
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        sizes[str(getattr(path[0], "key", path[0]))] += math.prod(leaf.shape)
    return dict(sizes)


def step_flops(config, batch: int, input_length: int, target_length: int, ascent_fraction: float) -> float:
    """Training FLOPs of one step (see the module docstring)."""
    sizes = _top_level_sizes(config)
    if "decoder" in sizes:  # T5: the encoder reads the inputs, the decoder and the head the targets
        tokens = sizes["encoder"] * input_length + (sizes["decoder"] + sizes.get("lm_head", 0)) * target_length
    else:  # an encoder: every non-embedding weight reads every input token
        tokens = sum(n for k, n in sizes.items() if "embed" not in k) * input_length
    return 6.0 * batch * tokens * (1.0 + ascent_fraction)


def measured_steps(device: str, root: Path = MEASURED) -> dict:
    """(model, method, batch_size, devices) -> seconds per step, from benchmarks/results/*.json."""
    found = {}
    for path in sorted(root.glob("*.json")) if root.exists() else []:
        rows = json.loads(path.read_text())
        for row in rows if isinstance(rows, list) else []:
            if row.get("device") == device and "seconds_per_step" in row:
                found[(row["model"], row["method"], row["batch_size"], row["devices"])] = row["seconds_per_step"]
    return found


def plan(config_path: str, device: str, mesh, mfu: float, measured_root: Path = MEASURED) -> tuple[list[dict], list[str]]:
    raw = yaml.safe_load(Path(config_path).read_text())
    config, structure, missing = check_config(raw)
    if structure:
        raise ConfigError(f"{config_path}: invalid config:\n  " + "\n  ".join(structure))
    if device not in DEVICES:
        raise ConfigError(f"unknown device {device!r}; valid: {sorted(DEVICES)}")
    spec = DEVICES[device]
    shape = parallel.parse_mesh(mesh or config.get("mesh")) or parallel.MeshShape()
    measured = measured_steps(device, measured_root)
    rows = []
    for cell in expand_cells(config):
        ft = cell["finetune"]
        recipe = parse_recipe(cell["optimizer"])
        b = ft["batch_size"]
        a = recipe.ascent_size(b)
        model = model_config(cell["model"], dtype=ft["dtype"])
        memory = estimate_memory(model, optimizer=recipe.base, sam=recipe.variant is not None, mesh=shape)
        key = (cell["model"], cell["method"], b, shape.devices)
        if key in measured:
            seconds, source = measured[key], "measured"
        else:
            flops = step_flops(model, b, ft["max_input_length"], ft["max_target_length"], 0.0 if a is None else a / b)
            seconds, source = flops / (shape.devices * spec.peak_flops * mfu), f"FLOPs at {mfu:.0%} MFU"
        problems = parallel.check_batch(shape, b, a, 1, ft["accumulation_steps"])
        rows.append({"cell": cell["cell_id"], "model": cell["model"], "method": cell["method"],
                     "optimizer": cell["optimizer"], "steps": ft["steps"], "batch": b,
                     "gib_per_device": memory.total_bytes / GIB, "fits": memory.total_bytes / GIB < spec.memory_gib,
                     "seconds_per_step": seconds, "source": source,
                     "device_hours": seconds * ft["steps"] * shape.devices / 3600, "problems": problems})
    return rows, missing


def render(rows: list[dict], missing: list[str], device: str, mesh, mfu: float, list_cells: bool) -> str:
    shape = mesh
    spec = DEVICES[device]
    lines = [f"{len(rows)} cells on {shape.devices} × {device} ({spec.note}; {spec.memory_gib:g} GiB each), "
             f"mesh {shape}", ""]
    groups = defaultdict(list)
    for r in rows:
        groups[(r["model"], r["optimizer"], r["steps"], r["batch"])].append(r)
    header = (f"{'cells':>5}  {'model':<16} {'optimizer':<44} {'steps':>7} {'GiB/dev':>8} {'fits':>4} "
              f"{'s/step':>8} {'acc-hours':>10}  time from")
    lines += [header, "-" * len(header)]
    for (model, optimizer, steps, batch), group in groups.items():
        r = group[0]
        lines.append(f"{len(group):>5}  {model:<16} {optimizer[:44]:<44} {steps:>7} {r['gib_per_device']:>8.2f} "
                     f"{'yes' if r['fits'] else 'NO':>4} {r['seconds_per_step']:>8.3f} "
                     f"{sum(x['device_hours'] for x in group):>10.1f}  {r['source']}")
        if list_cells:
            lines += [f"         {x['cell']}" for x in group]
    total = sum(r["device_hours"] for r in rows)
    lines += ["", f"total: {total:,.1f} accelerator-hours ({device}); memory is the training state only "
                  f"(activations come on top: measure with a short run)"]
    if any(not r["fits"] for r in rows):
        lines.append("some cells do NOT fit: add fsdp devices (--mesh data=N,fsdp=M) or a larger device")
    batch_problems = sorted({p for r in rows for p in r["problems"]})
    if batch_problems:
        lines += ["", "the batch does not split evenly over this mesh:"] + [f"  {p}" for p in batch_problems]
    if missing:
        lines += ["", f"missing before these cells can run ({len(missing)}):"] + [f"  {p}" for p in missing]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sam-bench plan", description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--device", required=True, help=f"valid: {', '.join(DEVICES)}")
    parser.add_argument("--mesh", default=None, help="e.g. data=8 or data=2,fsdp=4 (default: the config's, else 1)")
    parser.add_argument("--mfu", type=float, default=0.35,
                        help="model-FLOPs utilisation assumed where no measurement exists (default 0.35)")
    parser.add_argument("--list", action="store_true", help="list every cell id under its row")
    args = parser.parse_args(argv)
    if not 0 < args.mfu <= 1:
        parser.error(f"--mfu must be in (0, 1], got {args.mfu}")
    try:
        rows, missing = plan(args.config, args.device, args.mesh, args.mfu)
        shape = parallel.parse_mesh(args.mesh) or parallel.parse_mesh(
            yaml.safe_load(Path(args.config).read_text()).get("mesh")) or parallel.MeshShape()
    except ConfigError as err:
        print(f"sam-bench plan: error: {err}", file=sys.stderr)
        return 2
    print(render(rows, missing, args.device, shape, args.mfu, args.list))
    return 0


if __name__ == "__main__":
    sys.exit(main())
