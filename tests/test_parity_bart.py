"""BART against transformers' PyTorch BartForConditionalGeneration on random weights: the
Hugging Face state dict imported through the cells' name/shape-checked path
(``import_params`` with :mod:`sam_bench.models.bart_names`; from a saved folder, safetensors
and pytorch_model.bin) must give the same logits, with padding in the encoder input. Skipped
where torch or transformers is not installed (pip install -e '.[parity]')."""
from __future__ import annotations

import dataclasses
import json
import math

import jax
import numpy as np
import pytest
from flax import nnx

from sam_bench.errors import CheckpointError
from sam_bench.models.bart import BART_CONFIGS, Bart, BartConfig, bart_apply, bart_config, init_bart, shift_tokens_right
from sam_bench.models.checkpoints import config_from_hf, export_hf, import_params, write_safetensors

TOL = 1e-4


def test_bart_named_configs_have_the_published_sizes():
    counts = {}
    for name in ("bart-base", "bart-large"):
        _, shapes = nnx.split(nnx.eval_shape(lambda n=name: Bart(bart_config(n), rngs=nnx.Rngs(params=0))), nnx.Param)
        counts[name] = sum(math.prod(v.shape) for v in jax.tree.leaves(shapes))
    # transformers' counts (model cards: 140M, 406M) plus our final_logits_bias parameter (a buffer there)
    assert counts["bart-base"] == 139_470_681 and counts["bart-large"] == 406_341_721


def test_bart_import_names_and_shapes_are_checked(tmp_path):
    config = BartConfig(vocab_size=40, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=20)
    _, params = init_bart(config, 0)
    export_hf(params, config, tmp_path / "ok")  # HF names: model.* plus final_logits_bias [1, vocab]
    _, back, _ = import_params(tmp_path / "ok", config, head="strict")  # the round trip restores every tensor
    for (path, ours), (_, again) in zip(nnx.to_flat_state(params), nnx.to_flat_state(back)):
        np.testing.assert_array_equal(ours.get_value(), again.get_value(), err_msg=str(path))
    from safetensors.numpy import load_file

    tensors = load_file(tmp_path / "ok" / "model.safetensors")
    assert tensors["final_logits_bias"].shape == (1, 40) and "model.shared.weight" in tensors
    broken = dict(tensors)
    broken.pop("model.decoder.layers.0.fc1.bias")
    broken["model.encoder.extra.weight"] = np.zeros(3, np.float32)
    broken["model.encoder.layers.0.fc2.weight"] = np.zeros((5, 5), np.float32)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text((tmp_path / "ok" / "config.json").read_text())
    write_safetensors(tmp_path / "broken" / "model.safetensors", broken.items(), {k: v.shape for k, v in broken.items()})
    with pytest.raises(CheckpointError, match=r"(?s)missing \(1\): decoder.layers.0.fc1.bias.*unexpected \(1\): "
                                              r"encoder.extra.weight.*wrong shape \(1\): .*fc2.weight: checkpoint \(5, 5\)"):
        import_params(tmp_path / "broken", config)


torch = pytest.importorskip("torch", reason="parity tests need torch: pip install -e '.[parity]'")
transformers = pytest.importorskip("transformers", reason="parity tests need transformers: pip install -e '.[parity]'")


def _tiny(**kw):
    return BartConfig(vocab_size=64, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                      decoder_attention_heads=4, encoder_ffn_dim=48, decoder_ffn_dim=48, max_position_embeddings=32,
                      **kw)


def _hf(config: BartConfig, seed: int):
    torch.manual_seed(seed)
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    model = transformers.BartForConditionalGeneration(transformers.BartConfig(**fields)).eval()
    with torch.no_grad():  # a non-zero logits bias and layer norms, so every tensor matters
        model.final_logits_bias.normal_()
        for name, p in model.named_parameters():
            if "layer_norm" in name or "layernorm" in name:
                p.add_(0.1 * torch.randn_like(p))
    return model


def rel_err(ours, theirs) -> float:
    theirs = np.asarray(theirs, np.float64)
    return float(np.abs(np.asarray(ours, np.float64) - theirs).max() / np.abs(theirs).max())


@pytest.mark.parametrize("kind,scale", [("safetensors", False), ("bin", True)])
def test_bart_logits_match_transformers(tmp_path, kind, scale):
    config = _tiny(scale_embedding=scale)
    model = _hf(config, seed=1 + scale)
    rng = np.random.default_rng(0)
    input_ids = rng.integers(3, 64, (2, 11))
    input_ids[1, 8:] = config.pad_token_id  # padding in the encoder input
    labels = rng.integers(3, 64, (2, 7))
    decoder_input_ids = shift_tokens_right(labels, config)
    with torch.no_grad():
        theirs = model(input_ids=torch.tensor(input_ids), attention_mask=torch.tensor(input_ids != 1),
                       decoder_input_ids=torch.tensor(decoder_input_ids)).logits.numpy()
    if kind == "safetensors":
        model.save_pretrained(tmp_path)
    else:
        model.save_pretrained(tmp_path, safe_serialization=False)
    loaded = config_from_hf(json.loads((tmp_path / "config.json").read_text()))
    assert loaded == config
    graphdef, params, _ = import_params(tmp_path, loaded, head="strict")
    ours = np.asarray(bart_apply(graphdef, params, input_ids, decoder_input_ids))
    err = rel_err(ours, theirs)
    print(f"bart parity ({kind}, scale_embedding={scale}): max |ours - theirs| / max |theirs| = {err:.2e}")
    assert err < TOL


def test_bart_base_shapes_import_from_transformers(tmp_path):
    """bart-base's real widths and depths (random weights, short inputs)."""
    config = BART_CONFIGS["bart-base"].replace(vocab_size=512)  # a small vocabulary keeps the test light
    model = _hf(config, seed=3)
    model.save_pretrained(tmp_path)
    graphdef, params, _ = import_params(tmp_path, config, head="strict")
    ids = np.random.default_rng(1).integers(3, 512, (1, 9))
    dec = shift_tokens_right(ids[:, :5], config)
    with torch.no_grad():
        theirs = model(input_ids=torch.tensor(ids), decoder_input_ids=torch.tensor(dec)).logits.numpy()
    err = rel_err(bart_apply(graphdef, params, ids, dec), theirs)
    print(f"bart-base parity: {err:.2e}")
    assert err < TOL
