"""BART against transformers' PyTorch BartForConditionalGeneration on random weights: the
Hugging Face state dict imported through our name/shape-checked path (from a saved folder,
safetensors and pytorch_model.bin) must give the same logits, with padding in the encoder
input. Skipped where torch or transformers is not installed (pip install -e '.[parity]')."""
from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
import pytest
from flax import nnx

from sam_bench.models.bart import (BART_CONFIGS, Bart, BartConfig, bart_apply, bart_config, hf_name, import_bart_state,
                                   init_bart, load_bart_hf, shift_tokens_right)

TOL = 1e-4


def test_bart_named_configs_have_the_published_sizes():
    counts = {}
    for name in ("bart-base", "bart-large"):
        _, shapes = nnx.split(nnx.eval_shape(lambda n=name: Bart(bart_config(n), rngs=nnx.Rngs(params=0))), nnx.Param)
        counts[name] = sum(math.prod(v.shape) for v in jax.tree.leaves(shapes))
    # transformers' counts (model cards: 140M, 406M) plus our final_logits_bias parameter (a buffer there)
    assert counts["bart-base"] == 139_470_681 and counts["bart-large"] == 406_341_721


def test_bart_import_names_and_shapes_are_checked():
    config = BartConfig(vocab_size=40, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=20)
    _, params = init_bart(config, 0)
    tensors = {}
    for path, var in nnx.to_flat_state(params):
        key, transpose = hf_name(path)
        arr = np.asarray(var.get_value())
        tensors[key] = arr.reshape(1, -1) if key == "final_logits_bias" else (arr.T if transpose else arr)
    _, back = import_bart_state(tensors, config)  # the round trip restores every tensor
    for (path, ours), (_, again) in zip(nnx.to_flat_state(params), nnx.to_flat_state(back)):
        np.testing.assert_array_equal(ours.get_value(), again.get_value(), err_msg=str(path))
    broken = dict(tensors)
    broken.pop("model.decoder.layers.0.fc1.bias")
    broken["model.encoder.extra.weight"] = np.zeros(3)
    broken["model.encoder.layers.0.fc2.weight"] = np.zeros((5, 5))
    with pytest.raises(ValueError, match=r"(?s)missing: \['model.decoder.layers.0.fc1.bias'\].*unexpected: "
                                         r"\['model.encoder.extra.weight'\].*shapes: .*fc2.weight: checkpoint \(5, 5\)"):
        import_bart_state(broken, config)


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
    loaded, graphdef, params = load_bart_hf(tmp_path)
    assert loaded == config
    ours = np.asarray(bart_apply(graphdef, params, input_ids, decoder_input_ids))
    err = rel_err(ours, theirs)
    print(f"bart parity ({kind}, scale_embedding={scale}): max |ours - theirs| / max |theirs| = {err:.2e}")
    assert err < TOL


def test_bart_base_shapes_import_from_transformers():
    """bart-base's real widths and depths (random weights, short inputs)."""
    config = BART_CONFIGS["bart-base"].replace(vocab_size=512)  # a small vocabulary keeps the test light
    model = _hf(config, seed=3)
    tensors = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    graphdef, params = import_bart_state(tensors, config)
    ids = np.random.default_rng(1).integers(3, 512, (1, 9))
    dec = shift_tokens_right(ids[:, :5], config)
    with torch.no_grad():
        theirs = model(input_ids=torch.tensor(ids), decoder_input_ids=torch.tensor(dec)).logits.numpy()
    err = rel_err(bart_apply(graphdef, params, ids, dec), theirs)
    print(f"bart-base parity: {err:.2e}")
    assert err < TOL
