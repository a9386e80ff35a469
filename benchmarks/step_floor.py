"""Seconds per training step of the MiniLM encoder (all-MiniLM-L6-v2's shape) against its
matmul floor, before and after the CPU step work, on one core.

    python benchmarks/step_floor.py            # SST-2 and STS-B lengths, AdamW and SAM (a = b)
    python benchmarks/step_floor.py --quick    # SST-2 only, 2 rounds (4.6 min measured with 3 rounds, loaded machine)

The floor of a step is its matrix-multiply FLOPs (dense layers 2·L·(4h² + 2hf) and
attention 4·L²·h per layer and sequence, forward; x3 for forward + backward; x2 for SAM's
two passes) divided by the rate this core reaches on one large float32 matmul
(2048x384 @ 384x1536, measured in the same round as the steps, so background load hits
both alike). Everything else a step does (dropout bits, softmax, GELU, layer norms, the
optimizer update over 22.7M parameters) is overhead above the floor.

"before": every batch padded to the cell's max length (64 for SST-2, 128 for STS-B), dropout
masks from XLA's RngBitGenerator (``rbg``) and a step that allocates new parameter and optimizer
buffers each call, as cells ran before the CPU step work.
"after": as cells run now: batches grouped by length (``finetune.group_by_length``, the
study's setting) and each padded to the bucket of its longest row (``finetune.dynamic_padding``),
dropout masks from the counter-based hash (``sam_bench.models.dropout``) and the parameter and
optimizer buffers donated to the step (``make_train_step(donate=True)``). The per-task rows
weight the bucket lengths by how often the cells' real batches of 16 (from ../shared/data,
MiniLM's tokenizer, the first 200 steps of seed 0) fall in each bucket.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
BATCH = 16


def matmul_rate(jax, jnp, repeats=5):
    a, b = jnp.ones((2048, 384)), jnp.ones((384, 1536))
    mm = jax.jit(lambda a, b: a @ b)
    mm(a, b).block_until_ready()
    t = time.perf_counter()
    for _ in range(repeats):
        mm(a, b).block_until_ready()
    return 2 * 2048 * 384 * 1536 * repeats / (time.perf_counter() - t)


def step_flops(config, length: int, passes: int) -> float:
    h, f, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    forward = layers * (2 * length * (4 * h * h + 2 * h * f) + 4 * length * length * h)
    return 3 * forward * BATCH * passes


def rbg_keep_mask(words, shape, keep):
    """The dropout masks cells drew before the hash (XLA RngBitGenerator)."""
    import jax
    import jax.numpy as jnp

    key = jax.random.wrap_key_data(jnp.concatenate([words, words ^ jnp.uint32(0x5BD1E995)]), impl="rbg")
    return jax.random.bernoulli(key, keep, shape)


def bucket_shares(task: str, max_length: int, batches: int = 200) -> dict[int, float]:
    """How often a cell's batch of 16 real training examples (grouped by length, seed 0) pads
    to each bucket."""
    from sam_bench.data.batching import batch_at_step, row_lengths, trim_padding
    from sam_bench.data.encoding import encode_examples
    from sam_bench.data.sources import make_source
    from sam_bench.models import model_config
    from sam_bench.models.checkpoints import resolve_named_checkpoint
    from sam_bench.models.tokenizers import load_tokenizer
    from sam_bench.tasks import get_task, load_training_pairs

    config = model_config("all-minilm-l6-v2")
    tokenizer = load_tokenizer(config, resolve_named_checkpoint("all-minilm-l6-v2"))
    data = load_training_pairs(task, make_source("local", DATA), 1.0, 0, form="encoder")
    split = encode_examples(data.pairs, get_task(task).encoder.kind, tokenizer, max_length, where=task)
    lengths = row_lengths(split)
    counts = Counter(trim_padding(batch_at_step(split, BATCH, 0, s, lengths))["input_ids"].shape[1]
                     for s in range(batches))
    return {length: n / batches for length, n in sorted(counts.items())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)

    from sam_bench.runtime import limit_cpu_threads

    limit_cpu_threads(1)
    import jax
    import jax.numpy as jnp
    import numpy as np

    import sam_bench.models.dropout as dropout_module
    from sam_bench.models import init_model, model_config
    from sam_bench.optim import parse_recipe
    from sam_bench.train.encoder import encoder_objective
    from sam_bench.train.step import make_train_step

    tasks = {"sst2_sentences": 64} if args.quick else {"sst2_sentences": 64, "stsb": 128}
    recipes = {"adamw": ("adamw(lr=1e-4)", 1), "sam": ("sam(a=16) + adamw(lr=1e-4)", 2)}
    repeats = args.repeats or (2 if args.quick else 5)
    shares = {task: bucket_shares(task, max_length) for task, max_length in tasks.items()}
    lengths = sorted({length for s in shares.values() for length in s} | set(tasks.values()))
    config = model_config("all-minilm-l6-v2", num_labels=2)
    graphdef, params = init_model(config, seed=0)
    objective = encoder_objective(graphdef, "classification")
    hash_mask = dropout_module.keep_mask

    def batch_of(length):
        rng = np.random.default_rng(length)
        return {"input_ids": rng.integers(1000, 30000, (BATCH, length)).astype(np.int32),
                "token_type_ids": np.zeros((BATCH, length), np.int32),
                "attention_mask": np.ones((BATCH, length), np.int32),
                "label": rng.integers(0, 2, BATCH).astype(np.int32)}

    # (method, "before" | "after", length) -> [jitted step, params, state, batch]; "before" only
    # at each task's max length (it pads every batch there)
    variants = {"before": (rbg_keep_mask, False), "after": (hash_mask, True)}
    rows = [(m, "before", n) for m in recipes for n in sorted(set(tasks.values()))]
    rows += [(m, "after", n) for m in recipes for n in lengths]
    steps = {}
    for method, variant, length in rows:
        mask_fn, donate = variants[variant]
        dropout_module.keep_mask = mask_fn  # read at trace time
        optimizer, gradient = parse_recipe(recipes[method][0]).build(BATCH, 1)
        step = make_train_step(objective, optimizer, gradient, donate=donate)
        own = jax.tree.map(jnp.array, params)  # its own buffers: a donating step consumes them
        batch = batch_of(length)
        out = step(own, optimizer.init(own), batch, jax.random.key(0))  # compile (and trace with this mask)
        jax.block_until_ready(out)
        steps[(method, variant, length)] = [step, out[0], out[1], batch]
    dropout_module.keep_mask = hash_mask

    times = {key: [] for key in steps}
    rates = []
    for r in range(repeats):  # round-robin: load from other processes hits every row alike
        rates.append(matmul_rate(jax, jnp))
        for key, entry in steps.items():
            step, p, state, batch = entry
            t = time.perf_counter()
            entry[1], entry[2], loss = step(p, state, batch, jax.random.key(r + 1))
            jax.block_until_ready(loss)
            times[key].append(time.perf_counter() - t)
    rate = statistics.median(rates)
    sec = {key: statistics.median(v) for key, v in times.items()}

    print(f"matmul floor rate: {rate / 1e9:.1f} GFLOP/s (one core, float32); jax {jax.__version__}; "
          f"{repeats} rounds, medians")
    print(f"\n{'method':7} {'length':>6} {'floor s':>8} {'after s':>8} {'x floor':>8}")
    for method, (_, passes) in recipes.items():
        for length in lengths:
            floor = step_flops(config, length, passes) / rate
            b = sec[(method, "after", length)]
            print(f"{method:7} {length:>6} {floor:8.3f} {b:8.3f} {b / floor:8.2f}")
    print("\nPer task, the cells' batches of 16 real training examples (bucket shares from ../shared/data):")
    print(f"{'task':15} {'method':7} {'before s':>9} {'x floor':>8} {'after s':>8} {'speed-up':>9} "
          f"{'after floor s':>14} {'x floor':>8}")
    worst = 0.0
    for task, max_length in tasks.items():
        for method, (_, passes) in recipes.items():
            before = sec[(method, "before", max_length)]
            before_floor = step_flops(config, max_length, passes) / rate
            after = sum(share * sec[(method, "after", length)] for length, share in shares[task].items())
            floor = sum(share * step_flops(config, length, passes) for length, share in shares[task].items()) / rate
            worst = max(worst, after / floor)
            print(f"{task:15} {method:7} {before:9.3f} {before / before_floor:8.2f} {after:8.3f} "
                  f"{before / after:8.2f}x {floor:14.3f} {after / floor:8.2f}")
        print(f"  {task} buckets: " + ", ".join(f"{k}: {v:.0%}" for k, v in shares[task].items()))
    print(f"\nlargest after/floor ratio: {worst:.2f} (target <= 2.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
