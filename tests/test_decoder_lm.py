"""The decoder-only LM (shapes, causality, RoPE, tied/untied, learned positions), its byte
corpora and unigram baseline, an LM cell whose loss falls, and the functional_sam_lm config."""
import json
import math
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
import yaml

from sam_bench.config import expand_cells, validate_config
from sam_bench.data.corpus import byte_windows, unigram_entropy
from sam_bench.errors import ConfigError
from sam_bench.models.decoder_lm import DecoderLMConfig, decoder_lm_apply, init_decoder_lm, rope

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("positions,tie", [("rope", True), ("learned", False)])
def test_decoder_lm_shapes_and_causality(positions, tie):
    config = DecoderLMConfig(vocab_size=50, d_model=32, num_heads=4, d_ff=64, num_layers=2, max_length=12,
                             positions=positions, tie_embeddings=tie)
    graphdef, params = init_decoder_lm(config, seed=0)
    assert ("lm_head" in params) is (not tie) and ("position" in params) is (positions == "learned")
    ids = jnp.asarray(np.random.default_rng(0).integers(0, 50, (3, 12)))
    logits = decoder_lm_apply(graphdef, params, ids)
    assert logits.shape == (3, 12, 50) and logits.dtype == jnp.float32
    changed = ids.at[:, 7:].set((ids[:, 7:] + 1) % 50)  # change the future of position 6
    other = decoder_lm_apply(graphdef, params, changed)
    np.testing.assert_allclose(logits[:, :7], other[:, :7], atol=1e-6)
    assert not np.allclose(logits[:, 7:], other[:, 7:])
    with pytest.raises(ValueError, match="exceeds the model's max_length 12"):
        decoder_lm_apply(graphdef, params, jnp.zeros((1, 13), jnp.int32))


def test_decoder_lm_rope_rotates_relative_positions():
    # ⟨rope(q)_i, rope(k)_j⟩ depends only on i − j
    rng = np.random.default_rng(1)
    q = jnp.asarray(np.tile(rng.standard_normal((1, 1, 1, 8)), (1, 6, 1, 1)), jnp.float32)
    k = jnp.asarray(np.tile(rng.standard_normal((1, 1, 1, 8)), (1, 6, 1, 1)), jnp.float32)
    rq, rk = rope(q, 10000.0)[0, :, 0], rope(k, 10000.0)[0, :, 0]
    dots = np.asarray(rq @ rk.T)
    assert dots[3, 1] == pytest.approx(dots[4, 2], rel=1e-5)
    assert dots[2, 0] == pytest.approx(dots[5, 3], rel=1e-5) and not np.isclose(dots[2, 0], dots[3, 0])
    np.testing.assert_allclose(np.linalg.norm(rq, axis=-1), np.linalg.norm(q[0, :, 0], axis=-1), rtol=1e-5)


def test_decoder_lm_config_errors_name_the_setting():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        DecoderLMConfig(d_model=30, num_heads=4)
    with pytest.raises(ValueError, match="positions must be one of"):
        DecoderLMConfig(positions="alibi")
    with pytest.raises(ValueError, match=r"unknown decoder-LM setting\(s\) \['width'\]"):
        DecoderLMConfig().replace(width=3)


def test_decoder_lm_byte_windows_and_unigram_entropy():
    split = byte_windows("abcdefghij", 3)
    assert split.tokens.tolist() == [[97, 98, 99, 100], [100, 101, 102, 103], [103, 104, 105, 106]]
    stats = unigram_entropy("aabb", "ab")
    assert stats["unigram_entropy"] == pytest.approx(math.log(2))
    assert stats["val_unigram_loss"] == pytest.approx(-math.log(3 / 260))


def test_decoder_lm_cell_loss_falls_below_the_unigram_entropy(finished_lm_cell):
    result = json.loads((finished_lm_cell / "result.json").read_text())
    values = {r["metric"]: r["value"] for r in result["rows"]}
    assert set(values) == {"val_loss", "val_perplexity", "hessian_top_eigenvalue", "hessian_trace",
                           "unigram_entropy", "val_unigram_loss"}
    assert all(r["grid"] == "lm" and r["task"] == "sst2_text" for r in result["rows"])
    assert values["val_loss"] < 0.7 * values["val_unigram_loss"]
    assert values["val_perplexity"] == pytest.approx(math.exp(values["val_loss"]))
    assert values["hessian_top_eigenvalue"] > 0


def test_decoder_lm_sharpness_aware_cells_run(lm_data_root, make_lm_config):
    from sam_bench.train.language_model import run_lm_cell

    recipes = ["precond_functional_sam(rho=0.05) + adamw(lr=1e-2)"]  # functional and preconditioned at once
    for cell in expand_cells(validate_config(make_lm_config(lm_data_root, steps=3, optimizers=recipes))):
        result = run_lm_cell(cell, Path(cell["results_dir"]) / "cells" / cell["cell_id"], progress=False)
        assert np.isfinite([r["value"] for r in result["rows"]]).all()


def test_decoder_lm_config_functional_sam_lm():
    config = yaml.safe_load((ROOT / "config" / "functional_sam_lm.yaml").read_text())
    assert [g["name"] for g in config["grids"]] == ["functional_sam_lm"]
    config["data"]["root"] = str(ROOT / config["data"]["root"])
    if not Path(config["data"]["root"], "sst2_sentences").exists():
        pytest.skip("the SST-2 sentence files (../shared/data) are not on this machine")
    cells = expand_cells(validate_config(config))
    methods = {c["method"] for c in cells}
    assert methods == {"adamw", "sam", "functional_sam", "precond_sam", "precond_functional_sam"}
    assert all(len({c["seed"] for c in cells if c["method"] == m}) >= 3 for m in methods)
    assert {c["grid"] for c in cells} == {"functional_sam_lm"} and {c["base_optimizer"] for c in cells} == {"adamw"}


def test_decoder_lm_config_errors_before_compute(lm_data_root, make_lm_config):
    bad = make_lm_config(lm_data_root)
    bad["grids"][0]["task"] = ["cb"]
    with pytest.raises(ConfigError, match=r"grids\[0\].task\[0\]: unknown corpus 'cb'.*valid: \['sst2_text', 'synthetic_text'\]"):
        validate_config(bad)
    bad = make_lm_config(lm_data_root)
    bad["grids"][0]["init"] = ["pretrained"]
    with pytest.raises(ConfigError, match=r"init must be \['random'\]"):
        validate_config(bad)
    bad = make_lm_config(lm_data_root)
    bad["finetune"]["model_overrides"] = {"depth": 3}
    with pytest.raises(ConfigError, match=r"model_overrides: unknown decoder-LM setting\(s\) \['depth'\]"):
        validate_config(bad)
    bad = make_lm_config(lm_data_root)
    bad["data"]["root"] = str(lm_data_root / "nowhere")
    with pytest.raises(ConfigError, match=r"corpus 'sst2_text': missing"):
        validate_config(bad)
