"""Fixtures shared by several test modules."""

from pathlib import Path

import numpy as np
import pytest

from sam_bench.data.fixtures import write_official_files, write_release_archives
from sam_bench.config import expand_cells, validate_config
from sam_bench.data.sources import TfdsSource


@pytest.fixture(scope="session")
def official(tmp_path_factory):
    """A data root in the official layout (generated examples in every release format), and the
    same files packed as tfds downloads them: (root, archives, TfdsSource over the archives)."""
    base = tmp_path_factory.mktemp("official")
    root = write_official_files(base / "root", seed=3)
    archives = write_release_archives(root, base / "archives")
    return root, archives, TfdsSource(base / "tfds", archives=archives)


def lm_config(root, steps=40, optimizers=None):
    """A decoder-LM config over the data root of ``lm_data_root`` (1 layer, width 32, context 32)."""
    return {
        "experiment": "lm_test", "results_dir": str(root / "results"), "report_dir": str(root / "report"),
        "data": {"source": "local", "root": str(root / "data")},
        "pretrain": {"model": "t5.1.1-tiny", "steps": 0},
        "finetune": {"steps": steps, "batch_size": 8, "eval_every": steps, "eval_batch_size": 64, "dropout_rate": 0.0,
                     "model_overrides": {"d_model": 32, "num_layers": 1, "max_length": 32}},
        "grids": [{"name": "lm", "model": ["decoder-lm-tiny"], "init": ["random"], "task": ["sst2_text"],
                   "subsample_rate": [1.0], "seed": [0],
                   "optimizer": optimizers or ["adamw(lr=1e-2, schedule='cosine', warmup_steps=4, decay_steps=40)"]}],
    }


@pytest.fixture(scope="session")
def make_lm_config():
    return lm_config


@pytest.fixture(scope="session")
def lm_data_root(tmp_path_factory):
    """A local data root with SST-2-format files: short sentences over a small vocabulary."""
    root = tmp_path_factory.mktemp("lm")
    rng = np.random.default_rng(0)
    words = ["the film", "is", "a", "very", "good", "bad", "movie", "story", "and", "funny", "dull", "."]
    folder = root / "data" / "sst2_sentences"
    folder.mkdir(parents=True)
    for name, n in (("stsa.binary.train", 400), ("stsa.binary.dev", 60)):
        lines = [f"{rng.integers(0, 2)} " + " ".join(rng.choice(words, 8)) for _ in range(n)]
        (folder / name).write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="session")
def finished_lm_cell(lm_data_root):
    from sam_bench.train.language_model import run_lm_cell

    """An adamw LM cell trained for 40 steps (the loss test reads its result; the landscape test its checkpoint)."""
    config = lm_config(lm_data_root)
    config["results_dir"] = str(lm_data_root / "results_finished")
    cell = expand_cells(validate_config(config))[0]
    out = Path(cell["results_dir"]) / "cells" / cell["cell_id"]
    run_lm_cell(cell, out, progress=False)
    return out
