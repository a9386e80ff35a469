"""Numerical parity of our T5.1.1 / mT5 with Hugging Face transformers' PyTorch T5.

Random weights made by transformers are written with the ``safetensors`` library (and
``torch.save``) and imported through our checkpoint path; ours are exported and loaded
by ``from_pretrained``. Logits must agree to 1e-4 relative (max |ours - theirs| /
max |theirs|), and greedy decoding must give the same tokens as transformers'
greedy ``generate``. Shapes: the CI tiny model, T5.1.1-small and mT5-small at their
real widths and depths (8 + 8 layers), at short sequence lengths.

Skipped, with the reason, where torch or transformers is not installed
(``pip install -e '.[parity]'``).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="parity tests need torch: pip install -e '.[parity]'")
transformers = pytest.importorskip("transformers", reason="parity tests need transformers: pip install -e '.[parity]'")
safetensors_torch = pytest.importorskip("safetensors.torch", reason="parity tests need safetensors")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from sam_bench.models import apply, greedy_decode, init_params, shift_right, t5_config  # noqa: E402
from sam_bench.models.checkpoints import export_hf, hf_config_dict, import_params  # noqa: E402

TOL = 1e-4
_apply = jax.jit(apply)
_greedy = jax.jit(greedy_decode, static_argnames=("max_length",))


def rel_err(ours, theirs) -> float:
    theirs = np.asarray(theirs, np.float64)
    return float(np.abs(np.asarray(ours, np.float64) - theirs).max() / np.abs(theirs).max())


def _hf_model(config, seed: int):
    """A random transformers T5ForConditionalGeneration with an untied lm_head (T5.1.1)."""
    torch.manual_seed(seed)
    hf_config = transformers.T5Config(**hf_config_dict(config))
    model = transformers.T5ForConditionalGeneration(hf_config).eval()
    # transformers >= 5 ties lm_head to shared at init; T5.1.1 has its own (HF's init: std 1)
    model.lm_head.weight = torch.nn.Parameter(torch.randn(config.vocab_size, config.d_model))
    return model


def _save_hf(model, folder, kind="safetensors"):
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    if kind == "safetensors":
        safetensors_torch.save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    else:
        torch.save(state, folder / "pytorch_model.bin")
    model.config.save_pretrained(folder)
    return folder


def _inputs(vocab: int, seed: int = 0, batch: int = 2, in_len: int = 12, out_len: int = 8):
    rng = np.random.RandomState(seed)
    x = rng.randint(2, vocab, size=(batch, in_len)).astype(np.int64)
    x[1, 7:] = 0  # a padded row
    y = rng.randint(2, vocab, size=(batch, out_len)).astype(np.int64)
    return x, np.asarray(shift_right(jnp.asarray(y)), np.int64)


def _hf_logits(model, x, dec):
    with torch.no_grad():
        out = model(input_ids=torch.tensor(x), attention_mask=torch.tensor(x != 0),
                    decoder_input_ids=torch.tensor(dec))
    return out.logits.numpy()


def _ours(graphdef, params, x, dec):
    return np.asarray(_apply(graphdef, params, jnp.asarray(x, jnp.int32), jnp.asarray(dec, jnp.int32)))


def _check_greedy(model, graphdef, params, x, steps):
    with torch.no_grad():
        theirs = model.generate(torch.tensor(x), attention_mask=torch.tensor(x != 0), max_new_tokens=steps,
                                do_sample=False, num_beams=1, decoder_start_token_id=0, pad_token_id=0,
                                eos_token_id=1).numpy()[:, 1:]  # drop the decoder start token
    ours = np.asarray(_greedy(graphdef, params, jnp.asarray(x, jnp.int32), max_length=steps))
    theirs = np.pad(theirs, ((0, 0), (0, steps - theirs.shape[1])))  # HF stops early once all hit EOS
    np.testing.assert_array_equal(ours, theirs)


CASES = {
    # name: (config, greedy steps or 0)
    "t5.1.1-tiny": (t5_config("t5.1.1-tiny", vocab_size=1152), 10),
    "t5.1.1-small": (t5_config("t5.1.1-small"), 6),
    "mt5-small": (t5_config("mt5-small"), 0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hf_to_ours_logits_and_greedy(name, tmp_path):
    config, steps = CASES[name]
    model = _hf_model(config, seed=0)
    _save_hf(model, tmp_path / "hf")
    graphdef, params, report = import_params(tmp_path / "hf", config)
    assert not report.initialised
    x, dec = _inputs(config.vocab_size)
    err = rel_err(_ours(graphdef, params, x, dec), _hf_logits(model, x, dec))
    print(f"PARITY {name} transformers->ours logits rel err {err:.2e}")
    assert err < TOL
    if steps:
        _check_greedy(model, graphdef, params, x, steps)


def test_ours_to_hf_logits(tmp_path):
    config = CASES["t5.1.1-tiny"][0]
    graphdef, params = init_params(config, seed=3)
    export_hf(params, config, tmp_path)
    model = transformers.T5ForConditionalGeneration.from_pretrained(tmp_path).eval()
    x, dec = _inputs(config.vocab_size, seed=1)
    err = rel_err(_ours(graphdef, params, x, dec), _hf_logits(model, x, dec))
    print(f"PARITY t5.1.1-tiny ours->transformers logits rel err {err:.2e}")
    assert err < TOL
    _check_greedy(model, graphdef, params, x, 10)


def test_torch_bin_import(tmp_path):
    config = CASES["t5.1.1-tiny"][0]
    model = _hf_model(config, seed=4)
    _save_hf(model, tmp_path, kind="bin")
    graphdef, params, _ = import_params(tmp_path, config)
    x, dec = _inputs(config.vocab_size, seed=2)
    err = rel_err(_ours(graphdef, params, x, dec), _hf_logits(model, x, dec))
    print(f"PARITY t5.1.1-tiny pytorch_model.bin->ours logits rel err {err:.2e}")
    assert err < TOL
