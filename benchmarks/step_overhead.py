"""Cost of each sharpness-aware variant: the jitted train step against its base optimizer.

    python benchmarks/step_overhead.py            # full run: tiny T5 and a CPU-sized T5 (a few minutes)
    python benchmarks/step_overhead.py --quick    # tiny T5, a subset of rows, few repeats (~1-2 min)

Everything runs in one process on the same model, batch and shapes. Each row's train step
(`make_train_step` with the recipe's optimizer and gradient, exactly what fine-tuning runs)
is compiled first (compile time reported apart), then timed with fixed inputs: `--repeats`
rounds, each timing `--steps` consecutive calls, rows taken round-robin within a round so a
burst of load from other processes hits all rows alike; the median over rounds is reported.
optax's contrib SAM (opaque mode: adversarial step ρ g/‖g‖, then the outer optimizer at the
perturbed point) runs on the same model as an outside reference for full-batch SAM.

FSAM refreshes its mask every Fi steps inside a `lax.cond`: the ordinary step and the
refresh step are timed separately and reported averaged over one refresh interval,
((Fi − 1)·t_step + t_refresh)/Fi with the recipe's Fi (default 100).

Peak memory is XLA's estimate for the compiled step (arguments + outputs + temporaries −
aliased), from `compiled.memory_analysis()`.

Writes <out>/step_overhead.csv and <out>/step_overhead.md (default out: benchmarks/results).
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TARGETS = """\
Targets (issue 3): efficient SAM (a = b/4, m = 1) <= 1.30x its base (compute floor 1.25x);
full-batch SAM <= 2.05x; FSAM within 1.05x of SAM averaged over a mask-refresh interval;
Functional-SAM within 1.05x of SAM; our full-batch SAM relative to optax's contrib SAM."""


@dataclass
class Row:
    model: str
    label: str          # what the row is
    recipe: str         # the recipe line, or "optax.contrib.sam + <base>"
    base: str
    compare: str        # label of the row the "× ref" column divides by ("" for none)
    seconds: float = float("nan")
    refresh_seconds: float = float("nan")
    interval: int = 0
    peak_mib: float = float("nan")
    compile_s: float = float("nan")


def model_configs(quick: bool):
    from sam_bench.models import t5_config

    tiny = t5_config("t5.1.1-tiny", vocab_size=512)
    cpu = t5_config("t5.1.1-tiny", vocab_size=2048, d_model=256, d_kv=64, num_heads=4, d_ff=1024,
                    num_encoder_layers=4, num_decoder_layers=4)
    # (config, batch size, input length, target length)
    models = {"t5-tiny (2+2 layers, d=128)": (tiny, 32, 32, 8)}
    if not quick:
        models["t5-cpu (4+4 layers, d=256)"] = (cpu, 16, 32, 8)
    return models


def rows_for(model: str, batch: int, quick: bool, full: bool) -> list[Row]:
    b, a4 = batch, batch // 4
    base = "adafactor(lr=1e-3)"
    rows = [
        Row(model, "base", base, "adafactor", ""),
        Row(model, f"sam a=b/4={a4} (efficient)", f"sam(rho=0.15, a={a4}) + {base}", "adafactor", "base"),
        Row(model, f"sam a=b={b} (full)", f"sam(rho=0.15, a={b}) + {base}", "adafactor", "base"),
        Row(model, "optax contrib sam (full)", f"optax.contrib.sam + {base}", "adafactor", "base"),
        Row(model, "fsam paper Fisher", f"fsam(rho=0.01, a={b}) + {base}", "adafactor", f"sam a=b={b} (full)"),
        Row(model, "functional_sam a=b", f"functional_sam(rho=0.15, a={b}) + {base}", "adafactor",
            f"sam a=b={b} (full)"),
    ]
    if quick or not full:
        return rows
    rows += [
        Row(model, "fsam reference Fisher", f"fsam(rho=0.01, a={b}, fisher='reference') + {base}", "adafactor",
            f"sam a=b={b} (full)"),
        Row(model, "functional_sam a=b/4", f"functional_sam(rho=0.15, a={a4}) + {base}", "adafactor",
            f"sam a=b/4={a4} (efficient)"),
        Row(model, "asam", f"asam(rho=0.5) + {base}", "adafactor", f"sam a=b={b} (full)"),
        Row(model, "esam (beta=0.5, gamma=0.5)", f"esam(rho=0.01) + {base}", "adafactor", f"sam a=b={b} (full)"),
        Row(model, "gsam", f"gsam(rho=0.01) + {base}", "adafactor", f"sam a=b={b} (full)"),
        Row(model, "f_esam", f"f_esam(rho=0.01) + {base}", "adafactor", f"sam a=b={b} (full)"),
        Row(model, "f_gsam", f"f_gsam(rho=0.01) + {base}", "adafactor", f"sam a=b={b} (full)"),
        Row(model, "precond_sam", f"precond_sam(rho=0.15) + {base}", "adafactor", f"sam a=b={b} (full)"),
        Row(model, "precond_functional_sam", f"precond_functional_sam(rho=0.15) + {base}", "adafactor",
            f"sam a=b={b} (full)"),
        Row(model, "base adamw", "adamw(lr=2e-5)", "adamw", ""),
        Row(model, f"sam a=b={b} (full) + adamw", f"sam(rho=0.01, a={b}) + adamw(lr=2e-5)", "adamw", "base adamw"),
        Row(model, "fsam + adamw", f"fsam(rho=0.01) + adamw(lr=2e-5)", "adamw", f"sam a=b={b} (full) + adamw"),
    ]
    return rows


def build_step(row: Row, objective, params, batch_size: int):
    """(jitted step, initial state, refresh state or None, Fi)."""
    import jax
    import jax.numpy as jnp
    import optax

    from sam_bench.optim import SharpnessAwareState, parse_recipe
    from sam_bench.train.step import make_train_step

    if row.recipe.startswith("optax.contrib.sam"):
        recipe = parse_recipe(row.recipe.split(" + ", 1)[1])
        outer, _ = recipe.build(batch_size)
        tx = optax.contrib.sam(outer, optax.chain(optax.contrib.normalize(), optax.sgd(0.15)), sync_period=2,
                               opaque_mode=True)

        @jax.jit
        def step(p, state, batch, key):
            loss, grads = jax.value_and_grad(objective)(p, batch, key)
            updates, state = tx.update(grads, state, p, grad_fn=lambda q, _: jax.grad(objective)(q, batch, key))
            return optax.apply_updates(p, updates), state, loss

        return step, tx.init(params), None, 0
    optimizer, gradient = parse_recipe(row.recipe).build(batch_size)
    state = optimizer.init(params)
    step = make_train_step(objective, optimizer, gradient)
    mask = getattr(gradient, "mask", None)
    if isinstance(state, SharpnessAwareState) and mask is not None:
        # count = 1: an ordinary step; count = 0: a refresh step (count % Fi == 0)
        ordinary = state._replace(gradient=state.gradient._replace(count=jnp.ones((), jnp.int32)))
        return step, ordinary, state, mask.fisher_interval
    return step, state, None, 0


def peak_mib(compiled) -> float:
    try:
        m = compiled.memory_analysis()
        total = m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes - m.alias_size_in_bytes
        return total / 2**20
    except Exception:  # not every backend reports it
        return float("nan")


def run_model(name, spec, rows, repeats: int, steps: int, log):
    import jax
    import numpy as np

    from sam_bench.models import count_params, init_params
    from sam_bench.train.step import make_loss_fn

    config, b, len_in, len_t = spec
    graphdef, params = init_params(config, seed=0)
    rng = np.random.default_rng(0)
    batch = {"inputs": rng.integers(2, config.vocab_size, (b, len_in)).astype(np.int32),
             "targets": rng.integers(2, config.vocab_size, (b, len_t)).astype(np.int32),
             "task_index": np.zeros(b, np.int32)}
    batch["targets"][:, -2:] = 0
    batch = jax.device_put(batch)
    objective = make_loss_fn(graphdef)
    key = jax.random.key(0)
    log(f"== {name}: {count_params(config) / 1e6:.1f}M parameters, batch {b} x ({len_in} in, {len_t} out)")

    timed = []  # (row, compiled, args, which) with which in {"step", "refresh"}
    for row in rows:
        step, state, refresh_state, interval = build_step(row, objective, params, b)
        t0 = time.perf_counter()
        compiled = step.lower(params, state, batch, key).compile()
        row.compile_s = time.perf_counter() - t0
        row.peak_mib = peak_mib(compiled)
        row.interval = interval
        timed.append((row, compiled, (params, state, batch, key), "step"))
        if refresh_state is not None:
            timed.append((row, compiled, (params, refresh_state, batch, key), "refresh"))
        for _ in range(2):  # warm-up, excluded
            jax.block_until_ready(compiled(params, state, batch, key))
        log(f"   compiled {row.label:<34} {row.compile_s:6.1f} s   peak {row.peak_mib:7.1f} MiB")
    samples: dict = {}
    for r in range(repeats):
        for row, compiled, args, which in timed:
            t0 = time.perf_counter()
            for _ in range(steps):
                out = compiled(*args)
            jax.block_until_ready(out)
            samples.setdefault((id(row), which), []).append((time.perf_counter() - t0) / steps)
        log(f"   round {r + 1}/{repeats} done")
    for row, _, _, which in timed:
        value = statistics.median(samples[(id(row), which)])
        if which == "step":
            row.seconds = value
        else:
            row.refresh_seconds = value
    return rows


def interval_seconds(row: Row) -> float:
    if row.interval and row.refresh_seconds == row.refresh_seconds:  # not NaN
        return ((row.interval - 1) * row.seconds + row.refresh_seconds) / row.interval
    return row.seconds


def write_outputs(rows: list[Row], out: Path, header: str):
    out.mkdir(parents=True, exist_ok=True)
    by_label = {(r.model, r.label): r for r in rows}
    table = []
    for r in rows:
        t = interval_seconds(r)
        base_row = by_label.get((r.model, "base adamw" if r.base == "adamw" else "base"))
        ref_row = by_label.get((r.model, r.compare)) if r.compare else None
        table.append({
            "model": r.model, "variant": r.label, "base": r.base, "recipe": r.recipe,
            "seconds_per_step": t, "ratio_to_base": t / interval_seconds(base_row) if base_row else float("nan"),
            "reference": r.compare, "ratio_to_reference": t / interval_seconds(ref_row) if ref_row else float("nan"),
            "ordinary_step_s": r.seconds, "refresh_step_s": r.refresh_seconds, "refresh_interval": r.interval or "",
            "peak_memory_mib": r.peak_mib, "compile_s": r.compile_s,
        })
    with open(out / "step_overhead.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        for line in table:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in line.items()})

    lines = [header, "", TARGETS, ""]
    for model in dict.fromkeys(r.model for r in rows):
        lines += [f"### {model}", "",
                  "| variant | base | s/step | × base | × ref (ref) | peak MiB | compile s |",
                  "|---|---|---:|---:|---|---:|---:|"]
        for line in (t for t in table if t["model"] == model):
            ref = (f"{line['ratio_to_reference']:.3f} ({line['reference']})" if line["reference"] else "")
            note = ""
            if line["refresh_interval"]:
                note = (f" ¹" if line["refresh_step_s"] == line["refresh_step_s"] else "")
            lines.append(f"| {line['variant']}{note} | {line['base']} | {line['seconds_per_step']:.4f} | "
                         f"{line['ratio_to_base']:.3f} | {ref} | {line['peak_memory_mib']:.1f} | "
                         f"{line['compile_s']:.1f} |")
        fsam = [t for t in table if t["model"] == model and t["refresh_interval"]]
        if fsam:
            lines.append("")
            lines.append("¹ averaged over a refresh interval: " + "; ".join(
                f"{t['variant']}: ordinary step {t['ordinary_step_s']:.4f} s, refresh step {t['refresh_step_s']:.4f} s,"
                f" Fi = {t['refresh_interval']}" for t in fsam))
        lines.append("")
        lines += target_summary(model, table)
        lines.append("")
    (out / "step_overhead.md").write_text("\n".join(lines))
    return "\n".join(lines)


def target_summary(model, table) -> list[str]:
    rows = {t["variant"]: t for t in table if t["model"] == model}
    out = []

    def find(prefix):
        return next((t for k, t in rows.items() if k.startswith(prefix)), None)

    def verdict(value, limit):
        return "met" if value <= limit else "MISSED"

    eff, full, contrib = find("sam a=b/4"), find("sam a=b=") , find("optax contrib")
    if eff:
        out.append(f"- efficient SAM: {eff['ratio_to_base']:.3f}x base (target <= 1.30): "
                   f"{verdict(eff['ratio_to_base'], 1.30)}")
    if full:
        out.append(f"- full-batch SAM: {full['ratio_to_base']:.3f}x base (target <= 2.05): "
                   f"{verdict(full['ratio_to_base'], 2.05)}")
    for name in ("fsam paper Fisher", "fsam reference Fisher", "functional_sam a=b"):
        t = rows.get(name)
        if t:
            out.append(f"- {name}: {t['ratio_to_reference']:.3f}x full SAM (target <= 1.05): "
                       f"{verdict(t['ratio_to_reference'], 1.05)}")
    if full and contrib:
        out.append(f"- our full-batch SAM / optax contrib SAM: "
                   f"{full['seconds_per_step'] / contrib['seconds_per_step']:.3f}")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny T5 only, core rows, 2 rounds")
    parser.add_argument("--repeats", type=int, default=None, help="timing rounds (median reported)")
    parser.add_argument("--steps", type=int, default=None, help="calls timed per round")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for XLA (default: all)")
    parser.add_argument("--cache", default=None, help="persistent XLA compilation cache directory")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)

    from sam_bench.runtime import enable_compilation_cache, limit_cpu_threads

    threads = limit_cpu_threads(args.threads)
    enable_compilation_cache(args.cache)
    import jax

    repeats = args.repeats or (2 if args.quick else 5)
    steps = args.steps or (2 if args.quick else 3)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    rows = []
    for i, (name, spec) in enumerate(model_configs(args.quick).items()):
        # the tiny model runs every variant; the CPU-sized one the rows the targets are about
        model_rows = rows_for(name, spec[1], args.quick, full=(i == 0))
        rows += run_model(name, spec, model_rows, repeats if i == 0 else max(3, repeats - 2), steps, log)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    header = (f"Step overhead, measured {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()} "
              f"({jax.default_backend()}, {threads} XLA threads, load average {load[0]:.1f}), jax {jax.__version__}; "
              f"median of {repeats} rounds x {steps} steps; run time {time.perf_counter() - started:.0f} s.")
    print(write_outputs(rows, Path(args.out), header))


if __name__ == "__main__":
    main()
