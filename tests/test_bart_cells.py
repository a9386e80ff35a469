"""BART as a cell family: the registry entry and its Hugging Face names, the byte-level BPE
tokenizer (trained here on fixture text, no download), the training objective's loss and
greedy decoding against transformers on a tiny random BART, and cells end to end through
``run_cell`` on the official-format CoNLL-2014 and XSUM fixtures."""

from __future__ import annotations

import json
import math

import jax
import numpy as np
import pytest
from flax import nnx

from sam_bench.data.batching import pack_ids, row_lengths, tokenize, trim_padding
from sam_bench.data.fixtures import DATASETS, write_official_files
from sam_bench.errors import CheckpointError, ConfigError
from sam_bench.models import count_model_params, greedy_decode, init_model, model_config, model_family
from sam_bench.models.bart import BartConfig, Bart
from sam_bench.models.checkpoints import (NAMED_CHECKPOINTS, config_from_hf, export_hf, hf_config_dict, import_params,
                                          write_safetensors)
from sam_bench.models.registry import seq2seq_ids
from sam_bench.models.tokenizers import BartTokenizer, load_tokenizer
from sam_bench.train.step import make_loss_fn

tokenizers = pytest.importorskip("tokenizers", reason="BART's tokenizer needs the `tokenizers` package")

TINY = dict(vocab_size=64, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
            decoder_attention_heads=4, encoder_ffn_dim=48, decoder_ffn_dim=48, max_position_embeddings=32)


# ------------------------------------------------------------------ registry
def test_bart_registry_names_configs_and_ids():
    base, large, tiny = (model_config(n) for n in ("bart-base", "bart-large", "bart-tiny"))
    assert all(isinstance(c, BartConfig) and model_family(c) == "bart" for c in (base, large, tiny))
    # transformers' counts plus final_logits_bias (a buffer there)
    assert count_model_params(base) == 139_470_681 and count_model_params(large) == 406_341_721
    # the published config.json dropout rates
    assert (base.dropout, base.attention_dropout, base.activation_dropout) == (0.1, 0.1, 0.1)
    assert {"bart-base", "bart-large"} <= set(NAMED_CHECKPOINTS) and "bart-tiny" not in NAMED_CHECKPOINTS
    ids = seq2seq_ids(base)
    assert (ids.pad, ids.eos, ids.decoder_start) == (1, 2, 2)
    t5 = seq2seq_ids(model_config("t5.1.1-tiny"))
    assert (t5.pad, t5.eos, t5.decoder_start) == (0, 1, 0)
    with pytest.raises(TypeError, match="not an encoder-decoder"):
        seq2seq_ids(model_config("bert-tiny"))
    with pytest.raises(ValueError, match="float32 only"):
        model_config("bart-base", dtype="bfloat16")
    assert config_from_hf(hf_config_dict(tiny)) == tiny  # config.json both ways


def test_bart_checkpoint_import_round_trip_and_variants(tmp_path):
    config = BartConfig(**TINY)
    _, params = init_model(config, 3)
    export_hf(params, config, tmp_path / "ours")
    _, back, report = import_params(tmp_path / "ours", config, head="strict")
    for (path, a), (_, b) in zip(nnx.to_flat_state(params), nnx.to_flat_state(back)):
        np.testing.assert_array_equal(a.get_value(), b.get_value(), err_msg=str(path))
    # a BartModel checkpoint: no "model." prefix, no final_logits_bias (zeros, as transformers starts
    # it), the tied embedding copies present
    from safetensors.numpy import load_file

    tensors = {k.removeprefix("model."): v for k, v in load_file(tmp_path / "ours" / "model.safetensors").items()
               if k != "final_logits_bias"}
    tensors["encoder.embed_tokens.weight"] = tensors["shared.weight"]
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "config.json").write_text((tmp_path / "ours" / "config.json").read_text())
    write_safetensors(tmp_path / "bare" / "model.safetensors", tensors.items(), {k: v.shape for k, v in tensors.items()})
    _, bare, report = import_params(tmp_path / "bare", config)
    assert report.initialised == ["final_logits_bias"] and report.ignored == ["encoder.embed_tokens.weight"]
    np.testing.assert_array_equal(bare["final_logits_bias"][...], np.zeros((1, 64)))
    with pytest.raises(CheckpointError, match=r"missing \(1\): final_logits_bias"):
        import_params(tmp_path / "bare", config, head="strict")
    # another architecture in config.json is named field by field; a pre-norm variant is refused
    with pytest.raises(CheckpointError, match="d_model: checkpoint 32 vs model 48"):
        import_params(tmp_path / "ours", config.replace(d_model=48))
    hf = json.loads((tmp_path / "ours" / "config.json").read_text())
    with pytest.raises(CheckpointError, match="normalize_before=True"):
        config_from_hf({**hf, "normalize_before": True})


# ------------------------------------------------------------------ tokenizer
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def _fixture_lines(root) -> list[str]:
    conll = root / "conll2014"
    lines = (conll / "train.src").read_text().splitlines() + (conll / "train.trg").read_text().splitlines()
    for path in sorted((root / "xsum" / "xsum-extracts-from-downloads").glob("*.data")):
        lines += [line for line in path.read_text().splitlines() if line and not line.startswith("[XSUM]")]
    return lines


def train_bpe(lines, folder, vocab_size=400):
    """A byte-level BPE with BART's specials at 0-4, saved as tokenizer.json and vocab.json + merges.txt."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(lines, vocab_size=vocab_size, min_frequency=1, special_tokens=SPECIALS,
                            show_progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    bpe.save(str(folder / "tokenizer.json"))
    bpe.save_model(str(folder))
    return folder


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("official")
    return write_official_files(root, skip=set(DATASETS) - {"xsum"})  # xsum and conll2014 only


@pytest.fixture(scope="module")
def bpe_folder(data_root, tmp_path_factory):
    return train_bpe(_fixture_lines(data_root), tmp_path_factory.mktemp("bpe"))


def test_bart_tokenizer_round_trip(bpe_folder, tmp_path):
    texts = ["He go to the market every day .", "the river city «bank» — (U.S.) Zürich", "", "  two  spaces "]
    from_json = BartTokenizer.from_folder(bpe_folder)
    (tmp_path / "files").mkdir()
    for name in ("vocab.json", "merges.txt"):
        (tmp_path / "files" / name).write_bytes((bpe_folder / name).read_bytes())
    from_files = BartTokenizer.from_folder(tmp_path / "files")
    for tok in (from_json, from_files):
        assert (tok.bos_id, tok.pad_id, tok.eos_id, tok.unk_id) == (0, 1, 2, 3)
        encoded = tok.encode_batch(texts)
        assert all(row[0] == 0 for row in encoded) and all(2 not in row for row in encoded)
        assert [tok.decode(row) for row in encoded] == texts  # byte-level: every text comes back exactly
        assert tok.decode([0, 1, 3, *encoded[0][1:], 1]) == texts[0]  # specials are dropped
        packed = pack_ids(encoded, 12, tok.eos_id, tok.pad_id)
        assert [tok.decode(row) for row in packed][2] == "" and packed[2].tolist() == [0, 2] + [1] * 10
        assert tok.decode([0, *encoded[0][1:3], 2, 17, 18]) == tok.decode(encoded[0][:3])  # stops at </s>
    assert from_json.encode_batch(texts) == from_files.encode_batch(texts)
    with pytest.raises(ConfigError, match="no BART tokenizer"):
        BartTokenizer.from_folder(tmp_path)
    # the tokenizer must be the model's: ids and size
    assert isinstance(load_tokenizer(model_config("bart-tiny"), bpe_folder), BartTokenizer)
    with pytest.raises(ConfigError, match="does not fit the model"):
        load_tokenizer(model_config("bart-tiny", vocab_size=100), bpe_folder)
    transformers = pytest.importorskip("transformers")
    theirs = transformers.BartTokenizer(str(bpe_folder / "vocab.json"), str(bpe_folder / "merges.txt"))
    assert [theirs(t)["input_ids"] for t in texts] == [row + [2] for row in from_json.encode_batch(texts)]


def test_bart_padding_is_found_by_its_pad_id(bpe_folder):
    tok = BartTokenizer.from_folder(bpe_folder)
    split = tokenize([{"inputs": "He go to the market .", "targets": "He goes"}, {"inputs": "a", "targets": "b"}],
                     tok, 40, 20)
    assert split.inputs[0, 0] == 0 and (split.inputs[:, -1] == 1).all() and (split.targets[:, -1] == 1).all()
    n_in = int((split.inputs[0] != 1).sum())  # <s>, the pieces, </s>
    assert row_lengths(split, tok.pad_id).tolist() == [n_in, 3]  # row 2: <s> a </s>, <s> b </s>
    trimmed = trim_padding(split.as_batch(), tok.pad_id)
    assert trimmed["inputs"].shape[1] == 16 and trimmed["targets"].shape[1] == 16  # the first bucket
    assert row_lengths(split).tolist() == [40, 40]  # read with T5's pad 0, <pad> would look like text


# ------------------------------------------------------- against transformers
torch = pytest.importorskip("torch", reason="parity tests need torch: pip install -e '.[parity]'")
transformers = pytest.importorskip("transformers", reason="parity tests need transformers: pip install -e '.[parity]'")


def _hf_tiny(tmp_path, seed=0, bias_std=1.0, listen=False):
    """A random transformers BART saved as a Hugging Face folder, and our config of it. ``listen``
    strengthens cross-attention so that outputs depend on the input (a random BART repeats one token)."""
    torch.manual_seed(seed)
    config = BartConfig(**TINY)
    fields = {k: v for k, v in hf_config_dict(config).items() if k not in ("architectures", "model_type")}
    model = transformers.BartForConditionalGeneration(transformers.BartConfig(**fields)).eval()
    with torch.no_grad():  # a non-zero logits bias and perturbed layer norms, so every tensor matters
        model.final_logits_bias.normal_(std=bias_std)
        for name, p in model.named_parameters():
            if "layer_norm" in name or "layernorm" in name:
                p.add_(0.1 * torch.randn_like(p))
            if listen and ("encoder_attn.v_proj.weight" in name or "encoder_attn.out_proj.weight" in name):
                p.mul_(8)
            if listen and "decoder" in name and "self_attn.v_proj.weight" in name:
                p.mul_(4)
    model.save_pretrained(tmp_path)
    return model, config


def test_bart_training_loss_matches_transformers(tmp_path):
    """make_loss_fn with BART's ids (decoder start </s>, pad 1 left out of the mean) against
    transformers' loss with labels (pad -> -100, shift_tokens_right)."""
    model, config = _hf_tiny(tmp_path, seed=4)
    graphdef, params, _ = import_params(tmp_path, config, head="strict")
    rng = np.random.default_rng(0)
    inputs = rng.integers(4, 64, (3, 10))
    targets = rng.integers(4, 64, (3, 7))
    inputs[1, 6:], targets[0, 4:], targets[2, 5:] = 1, 1, 1  # padded rows
    targets[0, 3] = targets[2, 4] = 2
    labels = np.where(targets == 1, -100, targets)
    with torch.no_grad():
        out = model(input_ids=torch.tensor(inputs), attention_mask=torch.tensor(inputs != 1),
                    labels=torch.tensor(labels))
    objective = make_loss_fn(graphdef, seq2seq_ids(config))
    ours = float(objective(params, {"inputs": inputs, "targets": targets}, None))
    theirs = float(out.loss)
    err = abs(ours - theirs) / abs(theirs)
    logits = np.asarray(objective.logits_fn(params, {"inputs": inputs, "targets": targets}, None))
    logit_err = np.abs(logits - out.logits.numpy()).max() / np.abs(out.logits.numpy()).max()
    print(f"bart loss parity: ours {ours:.6f} theirs {theirs:.6f} rel err {err:.2e}; logits {logit_err:.2e}")
    assert err < 1e-5 and logit_err < 1e-4
    # with dropout the objective is random but reproducible from its key, and differs from the clean loss
    model_cfg = config.replace(dropout=0.3, attention_dropout=0.2, activation_dropout=0.1)
    g2, p2 = nnx.split(nnx.merge(graphdef, params), nnx.Param)
    g2 = nnx.split(Bart(model_cfg, rngs=nnx.Rngs(params=0)), nnx.Param)[0]
    noisy = make_loss_fn(g2, seq2seq_ids(model_cfg))
    key = jax.random.key(1)
    a, b = (float(noisy(p2, {"inputs": inputs, "targets": targets}, key)) for _ in range(2))
    assert a == b and abs(a - ours) > 1e-3


def test_bart_greedy_decode_matches_transformers_generate(tmp_path):
    """Tokens of our greedy decoding = transformers' generate(num_beams=1, do_sample=False), on a tiny
    random BART: with its </s> (rows run to the length limit) and with an end token that rows emit
    at different steps (one never), after which both pad with <pad>."""
    model, config = _hf_tiny(tmp_path, seed=7, bias_std=0.1, listen=True)
    graphdef, params, _ = import_params(tmp_path, config, head="strict")
    rng = np.random.default_rng(3)
    inputs = rng.integers(4, 64, (8, 9))
    inputs[2, 5:] = inputs[5, 3:] = 1
    max_new = 12
    for eos in (2, 4):
        with torch.no_grad():
            theirs = model.generate(torch.tensor(inputs), attention_mask=torch.tensor(inputs != 1), num_beams=1,
                                    do_sample=False, max_new_tokens=max_new, min_length=0, eos_token_id=eos,
                                    forced_bos_token_id=None, forced_eos_token_id=None,
                                    no_repeat_ngram_size=0).numpy()
        ours = np.asarray(jax.jit(lambda p, x: greedy_decode(graphdef, p, x, max_new, eos))(params, inputs))
        assert (theirs[:, 0] == 2).all()  # transformers returns the decoder start, </s>
        theirs = theirs[:, 1:]
        padded = np.full((len(inputs), max_new), 1)
        padded[:, : theirs.shape[1]] = theirs  # transformers stops when every row has ended
        lengths = [int(np.argmax(row == eos)) + 1 if (row == eos).any() else max_new for row in ours]
        print(f"bart greedy (end token {eos}): output lengths {lengths}, distinct tokens {np.unique(ours).tolist()}")
        if eos == 4:
            assert len(set(lengths)) >= 3 and max_new in lengths  # rows end at different steps, one never
        np.testing.assert_array_equal(ours, padded)


# ------------------------------------------------------------ cells end to end
def _bart_checkpoint(folder, bpe_folder):
    """bart-tiny with random weights as a Hugging Face folder, its tokenizer beside it."""
    config = model_config("bart-tiny")
    _, params = init_model(config, 0)
    export_hf(params, config, folder)
    for name in ("tokenizer.json", "vocab.json", "merges.txt"):
        (folder / name).write_bytes((bpe_folder / name).read_bytes())
    return folder


def _run(task, optimizer, data_root, checkpoint, tmp_path, **finetune):
    from sam_bench.config import expand_cells, validate_config
    from sam_bench.train.finetune import run_cell

    config = {
        "experiment": "bart", "results_dir": str(tmp_path / "results"),
        "data": {"source": "local", "root": str(data_root), "subsamples": "generate"},
        "pretrain": {"model": "t5.1.1-tiny"},
        "finetune": {"steps": 6, "batch_size": 8, "eval_every": 3, "eval_batch_size": 8, "max_input_length": 48,
                     "max_target_length": 16, **finetune},
        "grids": [{"name": "g", "model": ["bart-tiny"], "init": [str(checkpoint)], "task": [task],
                   "subsample_rate": [1.0], "optimizer": [optimizer], "rho": [0.05], "seed": [0]}],
    }
    (cell,) = expand_cells(validate_config(config))
    result = run_cell(cell, tmp_path / "cell", progress=False)
    log = [json.loads(line) for line in (tmp_path / "cell" / "log.jsonl").read_text().splitlines()]
    return result, [e["train_loss"] for e in log if "train_loss" in e]


def test_bart_conll2014_cell_end_to_end(data_root, bpe_folder, tmp_path):
    """A bart-tiny cell (SAM + AdamW) fine-tunes on the official-format CoNLL-2014 fixtures and is
    scored by M2 on the test file; the training loss falls from ln(vocab)."""
    checkpoint = _bart_checkpoint(tmp_path / "bart-tiny", bpe_folder)
    result, losses = _run("conll2014", "sam + adamw(lr=3e-3)", data_root, checkpoint, tmp_path)
    rows = {r["metric"]: r for r in result["rows"]}
    assert sorted(rows) == ["f0.5", "precision", "recall"] and result["status"] == "ok"
    for r in rows.values():
        assert r["model"] == "bart-tiny" and r["task"] == "conll2014" and r["split"] == "test"
        assert math.isfinite(r["value"]) and 0 <= r["value"] <= 100
    assert result["data"]["train_examples"] == {"conll2014": 24}
    print(f"bart conll2014 cell: train loss {losses}, rows {[(m, r['value']) for m, r in rows.items()]}")
    assert losses[1] < losses[0] < math.log(1024)


def test_bart_xsum_cell_end_to_end(data_root, bpe_folder, tmp_path):
    """A bart-tiny cell (AdamW) on the XSUM fixtures, scored by ROUGE."""
    checkpoint = _bart_checkpoint(tmp_path / "bart-tiny", bpe_folder)
    result, losses = _run("xsum", "adamw(lr=3e-3)", data_root, checkpoint, tmp_path, max_input_length=64)
    rows = {r["metric"]: r["value"] for r in result["rows"]}
    assert {"rouge1", "rouge2", "rougeL"} <= set(rows) and all(math.isfinite(v) and 0 <= v <= 100 for v in rows.values())
    print(f"bart xsum cell: train loss {losses}, rows {rows}")
    assert losses[1] < losses[0]


def test_bart_cell_config_refusals(data_root):
    from sam_bench.config import validate_config

    config = {"experiment": "bart", "results_dir": "unused",
              "data": {"source": "local", "root": str(data_root), "subsamples": "generate"},
              "pretrain": {"model": "t5.1.1-tiny"}, "finetune": {"steps": 3, "batch_size": 8, "eval_every": 3},
              "grids": [{"name": "g", "model": ["bart-tiny"], "init": ["random"], "task": ["xsum"],
                         "subsample_rate": [1.0], "optimizer": ["adamw(lr=1e-3)"], "seed": [0]}]}
    with pytest.raises(ConfigError, match="'bart-tiny' with init 'random' needs finetune.vocab"):
        validate_config(config)
    with pytest.raises(ConfigError, match="pretrain.model: unknown model 'bart-base'"):
        validate_config({**config, "pretrain": {"model": "bart-base"}})
