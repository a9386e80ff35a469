"""Pretraining: a SentencePiece vocabulary and a T5.1.1 model pretrained with span
corruption on a corpus, saved as the checkpoint every fine-tuning cell starts from.

This stands in for the public T5.1.1 checkpoints the paper fine-tunes: same objective,
same architecture, at a size a CPU trains in minutes. As in T5.1.1, pretraining uses no
dropout and Adafactor at a constant 0.01 (T5's inverse-square-root schedule is flat at
0.01 for its first 10k steps).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import numpy as np
import optax
from tqdm.auto import tqdm

from sam_bench.data.span_corruption import corpus_chunks, random_spans_helper, span_corruption_batch_at_step
from sam_bench.data.tokenizer import Vocabulary, train_sentencepiece
from sam_bench.errors import ConfigError
from sam_bench.io import write_json_atomic
from sam_bench.models import init_params, t5_config
from sam_bench.models.checkpoints import save_checkpoint
from sam_bench.train.checkpoint import TrainStateCheckpoints
from sam_bench.train.step import make_loss_fn, make_train_step
from sam_bench.optim.gradient import standard_gradient

VOCAB_PREFIX = "spm"


def padded_vocab_size(size: int, multiple: int = 128) -> int:
    """T5 pads its 32,100-entry vocabulary to 32,128 rows; we pad the same way."""
    return -(-size // multiple) * multiple


def run_pretrain(spec: dict, corpus: Path, out_dir: Path, progress: bool = True) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not Path(corpus).exists():
        raise ConfigError(f"pretraining corpus {corpus} does not exist")
    started = time.perf_counter()
    train_sentencepiece(corpus, out_dir / VOCAB_PREFIX, spec["vocab_size"])
    vocab = Vocabulary(out_dir / f"{VOCAB_PREFIX}.model")
    config = t5_config(spec["model"], vocab_size=padded_vocab_size(vocab.vocab_size), dropout_rate=0.0)
    graphdef, params = init_params(config, seed=spec["seed"])
    optimizer = optax.adafactor(learning_rate=spec["learning_rate"])
    opt_state = optimizer.init(params)
    train_step = make_train_step(make_loss_fn(graphdef), optimizer, standard_gradient, donate=True)

    # T5's rule: the longest raw chunk whose corrupted inputs fit input_length
    length, target_length = random_spans_helper(spec["input_length"], spec["noise_density"],
                                                spec["mean_noise_span_length"])
    chunks = corpus_chunks(corpus, vocab, length)
    checkpoints = TrainStateCheckpoints(out_dir / "checkpoint")
    start, curve = 0, []
    restored = checkpoints.restore((params, opt_state))
    if restored is not None:
        start, (params, opt_state), meta = restored
        curve = meta["curve"]

    key, losses = jax.random.key(spec["seed"]), []
    bar = tqdm(range(start, spec["steps"]), desc="pretrain", disable=not progress, mininterval=2.0)
    for step in bar:
        batch = span_corruption_batch_at_step(chunks, spec["batch_size"], spec["seed"], step, vocab.vocab_size,
                                              spec["input_length"], target_length, spec["noise_density"],
                                              spec["mean_noise_span_length"])
        params, opt_state, loss = train_step(params, opt_state, batch, jax.random.fold_in(key, step))
        losses.append(float(loss))
        if (step + 1) % 100 == 0 or step + 1 == spec["steps"]:
            curve.append({"step": step + 1, "loss": float(np.mean(losses[-100:]))})
            bar.set_postfix(loss=f"{curve[-1]['loss']:.3f}")
        if (step + 1) % 500 == 0:
            checkpoints.save(step + 1, (params, opt_state), {"curve": curve})
    save_checkpoint(out_dir, params, config)  # params/ + model.json, read by load_initial_params
    meta = {
        "model": spec["model"], "model_config": dataclasses.asdict(config), "vocab_file": f"{VOCAB_PREFIX}.model",
        "vocab_size": vocab.vocab_size, "corpus": str(corpus), "chunks": int(len(chunks)), "chunk_length": length,
        "spec": spec, "curve": curve, "wall_seconds": time.perf_counter() - started,
    }
    write_json_atomic(out_dir / "pretrain.json", meta)  # written last: the workflow's completion marker
    return meta
