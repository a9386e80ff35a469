"""Checkpoint import/export, name and shape checks, named checkpoints, tokenizers, memory estimates.

None of these needs torch: Hugging Face safetensors files are written by our exporter
(and, in tests/test_parity_*.py, by Hugging Face itself).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jax
import numpy as np
import pytest
from flax import nnx

from sam_bench.models import BertConfig, init_model, t5_config
from sam_bench.models.checkpoints import (
    CheckpointError,
    SafetensorsFile,
    detect_format,
    export_hf,
    export_t5x,
    import_params,
    load_checkpoint,
    load_initial_params,
    save_checkpoint,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _leaves(params):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(params)]


def _assert_same(a, b):
    la, lb = _leaves(a), _leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def tiny_t5():
    config = t5_config("t5.1.1-tiny", vocab_size=96)
    _, params = init_model(config, seed=1)
    return config, params


@pytest.fixture(scope="module")
def tiny_bert():
    config = BertConfig(family="bert", vocab_size=64, hidden_size=16, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=24, num_labels=3)
    _, params = init_model(config, seed=2)
    return config, params


def test_hf_roundtrip_t5(tmp_path, tiny_t5):
    config, params = tiny_t5
    export_hf(params, config, tmp_path)
    assert detect_format(tmp_path) == "hf"
    st = SafetensorsFile(tmp_path / "model.safetensors")
    assert st.shape("lm_head.weight") == (96, 128)  # HF [out, in]
    assert st.shape("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight") == (32, 4)
    np.testing.assert_array_equal(st.read("shared.weight"), np.asarray(params["shared"]["embedding"]))
    _, restored, report = import_params(tmp_path, config)
    _assert_same(params, restored)
    assert not report.ignored and not report.initialised
    hf_cfg = json.loads((tmp_path / "config.json").read_text())
    assert hf_cfg["feed_forward_proj"] == "gated-gelu" and hf_cfg["tie_word_embeddings"] is False


def test_hf_roundtrip_bert_with_prefix_and_legacy_names(tmp_path, tiny_bert):
    config, params = tiny_bert
    export_hf(params, config, tmp_path)
    keys = SafetensorsFile(tmp_path / "model.safetensors").keys()
    assert "bert.encoder.layer.0.attention.self.query.weight" in keys and "classifier.weight" in keys
    _, restored, _ = import_params(tmp_path, config)
    _assert_same(params, restored)
    # an old TF-converted BERT: no prefix, LayerNorm gamma/beta, pretraining heads, a position_ids buffer
    st = SafetensorsFile(tmp_path / "model.safetensors")
    renamed = {}
    for k in st.keys():
        name = k.removeprefix("bert.")
        name = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        renamed[name] = np.array(st.read(k))
    renamed["cls.predictions.bias"] = np.zeros(64, np.float32)
    renamed["embeddings.position_ids"] = np.arange(512, dtype=np.int64)[None]
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    from sam_bench.models.checkpoints import write_safetensors as _write_safetensors

    floats = {k: v for k, v in renamed.items() if v.dtype == np.float32}
    _write_safetensors(legacy / "model.safetensors", floats.items(), {k: v.shape for k, v in floats.items()})
    _, again, report = import_params(legacy, config)
    _assert_same(params, again)
    assert report.ignored == ["cls.predictions.bias"]


def test_missing_head_is_initialised_from_the_seed(tmp_path, tiny_bert):
    config, params = tiny_bert
    encoder_only = config.replace(num_labels=0)
    pure = nnx.to_pure_dict(params)
    pure.pop("classifier")
    _, enc_params = init_model(encoder_only, 0)
    nnx.replace_by_pure_dict(enc_params, pure)
    export_hf(enc_params, encoder_only, tmp_path)
    os.remove(tmp_path / "config.json")
    _, loaded, report = import_params(tmp_path, config, seed=7)
    assert report.initialised == ["classifier.bias", "classifier.kernel"]
    _, fresh = init_model(config, 7)
    # the same values as init_model(config, 7) (computed under jit: equal to float32 rounding)
    np.testing.assert_allclose(np.asarray(loaded["classifier"]["kernel"]), np.asarray(fresh["classifier"]["kernel"]),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(np.asarray(loaded["pooler"]["dense"]["kernel"]),
                                  np.asarray(params["pooler"]["dense"]["kernel"]))
    with pytest.raises(CheckpointError, match=r"missing \(2\): classifier.bias, classifier.weight"):
        import_params(tmp_path, config, head="strict")


def test_mismatch_lists_missing_unexpected_and_misshaped(tmp_path, tiny_t5):
    config, params = tiny_t5
    export_hf(params, config, tmp_path)
    os.remove(tmp_path / "config.json")  # no architecture hint: the tensor check must catch it
    with pytest.raises(CheckpointError) as err:
        import_params(tmp_path, config.replace(num_decoder_layers=3, d_ff=200))
    text = str(err.value)
    assert "missing (14)" in text and "decoder.block.2.layer.2.DenseReluDense.wo.weight" in text
    assert "wrong shape (12)" in text and "checkpoint (256, 128) vs model (200, 128)" in text
    with pytest.raises(CheckpointError, match=r"unexpected \(14\)"):
        import_params(tmp_path, config.replace(num_decoder_layers=1))


def test_config_json_mismatch_names_the_fields(tmp_path, tiny_t5):
    config, params = tiny_t5
    export_hf(params, config, tmp_path)
    with pytest.raises(CheckpointError, match=r"d_ff: checkpoint 256 vs model 512"):
        import_params(tmp_path, config.replace(d_ff=512))
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg.update(feed_forward_proj="relu", tie_word_embeddings=True)
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="original T5"):
        import_params(tmp_path, config)


def test_sharded_safetensors(tmp_path, tiny_t5):
    config, params = tiny_t5
    export_hf(params, config, tmp_path / "one")
    st = SafetensorsFile(tmp_path / "one" / "model.safetensors")
    from sam_bench.models.checkpoints import write_safetensors as _write_safetensors

    keys = st.keys()
    shards = {"model-00001-of-00002.safetensors": keys[: len(keys) // 2],
              "model-00002-of-00002.safetensors": keys[len(keys) // 2:]}
    out = tmp_path / "sharded"
    out.mkdir()
    for name, ks in shards.items():
        _write_safetensors(out / name, ((k, np.array(st.read(k))) for k in ks), {k: st.shape(k) for k in ks})
    weight_map = {k: name for name, ks in shards.items() for k in ks}
    (out / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    _, restored, _ = import_params(out, config)
    _assert_same(params, restored)


def test_t5x_roundtrip(tmp_path, tiny_t5):
    config, params = tiny_t5
    ckpt = export_t5x(params, config, tmp_path / "model_dir", step=1000)
    assert (ckpt / "checkpoint").is_file() and (ckpt / "target.encoder.layers_0.attention.query.kernel").is_dir()
    for path in (tmp_path / "model_dir", ckpt, ckpt / "checkpoint"):  # model dir, step dir, msgpack file
        assert detect_format(path) == "t5x"
        _, restored, report = import_params(path, config)
        _assert_same(params, restored)
    assert report.format == "t5x"
    with pytest.raises(CheckpointError, match=r"missing \(14\): decoder/layers_2/"):
        import_params(ckpt, config.replace(num_decoder_layers=3))


def test_t5x_three_dimensional_attention_kernels(tmp_path, tiny_t5):
    """T5X's DenseGeneral may store q/k/v as [d, heads, d_kv] and o as [heads, d_kv, d]."""
    import tensorstore as ts
    from flax import serialization

    config, params = tiny_t5
    ckpt = export_t5x(params, config, tmp_path, inline_below=1 << 30)  # everything inline in msgpack
    contents = serialization.msgpack_restore((ckpt / "checkpoint").read_bytes())
    attn = contents["optimizer"]["target"]["encoder"]["layers_0"]["attention"]
    attn["query"]["kernel"] = attn["query"]["kernel"].reshape(128, 4, 32)
    attn["out"]["kernel"] = attn["out"]["kernel"].reshape(4, 32, 128)
    # and one array as a TensorStore zarr with a relative path
    key = attn["key"]["kernel"]
    rel = "target.encoder.layers_0.attention.key.kernel"
    spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": rel},
            "metadata": {"compressor": {"id": "gzip"}, "shape": list(key.shape), "chunks": [64, 128], "dtype": "<f4"}}
    ts.open({**spec, "kvstore": {"driver": "file", "path": str(ckpt / rel)}}, create=True).result().write(key).result()
    attn["key"]["kernel"] = spec
    (ckpt / "checkpoint").write_bytes(serialization.msgpack_serialize(contents))
    _, restored, _ = import_params(ckpt, config)
    _assert_same(params, restored)


def test_orbax_save_restore_and_workflow_pretrained(tmp_path, tiny_t5):
    config, params = tiny_t5
    save_checkpoint(tmp_path / "ours", params, config)
    assert detect_format(tmp_path / "ours") == "sam-bench"
    saved_config, _, restored = load_checkpoint(tmp_path / "ours")
    assert saved_config == config
    _assert_same(params, restored)
    _, again = load_initial_params(str(tmp_path / "ours"), config.replace(dropout_rate=0.0))
    _assert_same(params, again)
    with pytest.raises(CheckpointError, match="d_model: checkpoint 128 vs model 64"):
        load_initial_params(tmp_path / "ours", config.replace(d_model=64))
    # the workflow's pretraining output: the checkpoint plus pretrain.json, as the trainer writes it
    pre = tmp_path / "pretrain"
    save_checkpoint(pre, params, config)
    (pre / "pretrain.json").write_text(json.dumps({"model_config": config.__dict__, "vocab_file": "v.model"}))
    _, pretrained = load_initial_params("pretrained", config, pretrained_dir=pre)
    _assert_same(params, pretrained)
    with pytest.raises(CheckpointError, match="pretrained_dir"):
        load_initial_params("pretrained", config)


def test_load_initial_params_specs(tmp_path, tiny_t5, monkeypatch):
    from sam_bench.models import init_params

    config, params = tiny_t5
    g, p = load_initial_params("random", config, seed=1)
    _assert_same(params, p)
    assert g == init_params(config, 0)[0]  # imported params work with the trainer's graphdef
    export_hf(params, config, tmp_path / "t5.1.1-small")
    # a named checkpoint is looked up under the checkpoint root
    monkeypatch.setenv("SAM_BENCH_CHECKPOINTS", str(tmp_path))
    _, named = load_initial_params("t5.1.1-small", config)
    _assert_same(params, named)
    _, prefixed = load_initial_params(f"hf:{tmp_path / 't5.1.1-small'}", config)
    _assert_same(params, prefixed)
    monkeypatch.setenv("SAM_BENCH_CHECKPOINTS", str(tmp_path / "elsewhere"))
    with pytest.raises(CheckpointError, match="not found at .*elsewhere/t5.1.1-small.*SAM_BENCH_CHECKPOINTS"):
        load_initial_params("t5.1.1-small", config)
    with pytest.raises(CheckpointError, match="not 'random', 'pretrained', a named checkpoint"):
        load_initial_params("no/such/path", config)
    with pytest.raises(CheckpointError, match="no checkpoint found"):
        load_initial_params(str(tmp_path), config)  # a folder without any checkpoint


def test_memory_estimates():
    from sam_bench.memory import estimate_memory, memory_table

    plain = estimate_memory("t5.1.1-small", optimizer="adamw")
    sam = estimate_memory("t5.1.1-small", optimizer="adamw", sam=True)
    n = 76_961_152
    assert plain.num_params == n and plain.params_bytes == 4 * n
    assert plain.optimizer_bytes >= 8 * n  # Adam: two float32 moments
    assert sam.total_bytes - plain.total_bytes == 4 * n  # SAM's perturbed copy
    ada = estimate_memory("t5.1.1-small", optimizer="adafactor")
    assert ada.optimizer_bytes < 0.05 * plain.optimizer_bytes  # factored second moments
    assert "t5.1.1-small" in memory_table(["t5.1.1-small"], ["adafactor"])


def test_t5_tokenizer_from_shared_vocab():
    from sam_bench.models.tokenizers import load_tokenizer

    folder = SHARED / "vocab" / "t5"
    if not (folder / "spiece.model").exists():
        pytest.skip(f"the T5 vocabulary is not at {folder}")
    vocab = load_tokenizer(t5_config("t5.1.1-small"), folder)
    assert vocab.encode("translate English to German: The house is wonderful.") == [
        13959, 1566, 12, 2968, 10, 37, 629, 19, 1627, 5]
    assert vocab.vocab_size == 32100 and vocab.sentinel_id(0) == 32099


def test_bert_tokenizer_from_vocab_txt(tmp_path):
    pytest.importorskip("tokenizers", reason="BERT-family tokenizers need the `tokenizers` package")
    from sam_bench.models.tokenizers import BertFamilyTokenizer, load_tokenizer

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", "."]
    (tmp_path / "vocab.txt").write_text("\n".join(words) + "\n")
    tok = BertFamilyTokenizer.from_folder(tmp_path)
    out = tok(["The cats sat."], ["on the mat"], max_length=12)
    np.testing.assert_array_equal(out["input_ids"][0], [2, 5, 6, 10, 7, 11, 3, 8, 5, 9, 3, 0])
    np.testing.assert_array_equal(out["token_type_ids"][0], [0] * 7 + [1] * 4 + [0])
    np.testing.assert_array_equal(out["attention_mask"][0], [1] * 11 + [0])
    assert tok(["the cat"] * 2, max_length=3)["input_ids"].shape == (2, 3)
    small = BertConfig(family="bert", vocab_size=8, hidden_size=16, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=16)
    with pytest.raises(Exception, match="embeds only 8"):
        load_tokenizer(small, tmp_path)


def test_memory_cli_runs(capsys):
    from sam_bench.memory import main

    assert main(["bert-tiny", "--optimizer", "sgd"]) == 0
    assert "bert-tiny" in capsys.readouterr().out


def test_t5x_written_by_orbax(tmp_path, tiny_t5):
    """Newer T5X writes its train state with orbax: {'target': params, 'state': ...}."""
    import orbax.checkpoint as ocp
    from flax import serialization

    config, params = tiny_t5
    ckpt = export_t5x(params, config, tmp_path / "legacy", inline_below=1 << 30)
    target = serialization.msgpack_restore((ckpt / "checkpoint").read_bytes())["optimizer"]["target"]
    ocp.PyTreeCheckpointer().save((tmp_path / "orbax").resolve(), {"target": target, "state": {"step": np.int32(5)}})
    assert detect_format(tmp_path / "orbax") == "t5x"
    _, restored, _ = import_params(tmp_path / "orbax", config)
    _assert_same(params, restored)


def test_bfloat16_safetensors_are_read_exactly(tmp_path):
    # numpy has no bfloat16, so the reader takes such tensors through another view of the file
    import ml_dtypes
    from safetensors.numpy import save_file

    x = (np.arange(12, dtype=np.float32).reshape(3, 4) / 7).astype(ml_dtypes.bfloat16)
    save_file({"w": x, "b": np.ones(4, np.float32)}, str(tmp_path / "model.safetensors"))
    st = SafetensorsFile(tmp_path / "model.safetensors")
    assert st.shape("w") == (3, 4) and st.read("w").dtype == x.dtype
    np.testing.assert_array_equal(st.read("w").astype(np.float32), x.astype(np.float32))
    np.testing.assert_array_equal(st.read("b"), np.ones(4, np.float32))


def test_loading_flows_one_way():
    # registry and the family names know specs and never load; the readers never ask the registry
    import ast

    models = Path(__file__).resolve().parents[1] / "sam_bench" / "models"

    def imported(path):
        tree = ast.parse(path.read_text())
        return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}

    for name in ("registry.py", "names.py", "t5_names.py", "bert_names.py", "t5.py", "bert.py", "layers.py"):
        assert not any(m.startswith("sam_bench.models.checkpoints") for m in imported(models / name)), name
    for name in ("base.py", "sources.py", "convert.py", "formats.py", "t5x.py"):
        assert "sam_bench.models.registry" not in imported(models / "checkpoints" / name), name
    assert "sam_bench.models.registry" in imported(models / "checkpoints" / "loader.py")
