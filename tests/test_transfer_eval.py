"""Transfer evaluation (FSAM Fig. 3): an encoder cell trained on one task is scored on tasks it
did not train on, through a new head per task fitted on its frozen features."""
import json
import string

import jax
import numpy as np
import pytest

pytest.importorskip("tokenizers", reason="BERT-family tokenizers need the `tokenizers` package")

from sam_bench.config import expand_cells, validate_config  # noqa: E402
from sam_bench.data.fixtures import DEFAULT_WORDS, write_official_files  # noqa: E402
from sam_bench.errors import ConfigError  # noqa: E402
from sam_bench.train.finetune import run_cell  # noqa: E402
from sam_bench.train.transfer import fit_head  # noqa: E402


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = write_official_files(tmp_path_factory.mktemp("official"), n_train=24, n_eval=8, edge_cases=False)
    folder = tmp_path_factory.mktemp("wordpiece")
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(DEFAULT_WORDS)),
              *string.ascii_lowercase, *string.digits, *string.punctuation]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(tokens)) + "\n")
    return root, folder


def _config(root, folder, results, eval_tasks, model="bert-tiny", task="qnli"):
    return {
        "experiment": "transfer", "results_dir": str(results),
        "data": {"source": "local", "root": str(root), "subsamples": "generate"},
        "pretrain": {"model": "t5.1.1-tiny"},
        "finetune": {"steps": 2, "batch_size": 4, "eval_every": 2, "eval_batch_size": 8, "max_input_length": 24,
                     "vocab": str(folder)},
        "grids": [{"name": "fig3", "model": [model], "init": ["random"], "task": [task], "subsample_rate": [1.0],
                   "optimizer": ["adamw(lr=1e-3)"], "seed": [0], "eval_tasks": eval_tasks}],
    }


def test_transfer_eval_cell_scores_three_tasks_it_did_not_train_on(setup, tmp_path):
    root, folder = setup
    (cell,) = expand_cells(validate_config(_config(root, folder, tmp_path, ["cola", "mrpc", "stsb"])))
    assert cell["eval_tasks"] == ["cola", "mrpc", "stsb"]
    result = run_cell(cell, tmp_path / "cells" / cell["cell_id"], progress=False)
    transfer = [r for r in result["rows"] if "eval_task" in r]
    assert {(r["eval_task"], r["metric"]) for r in transfer} == {
        ("cola", "mcc"), ("mrpc", "f1"), ("mrpc", "accuracy"), ("stsb", "pearson"), ("stsb", "spearman")}
    assert all(r["train_task"] == "qnli" and r["task"] == r["eval_task"] and r["step"] == 2 for r in transfer)
    assert {r["hparam_value"] for r in transfer if r["eval_task"] == "stsb"} == {"ridge"}
    assert {r["hparam_value"] for r in transfer if r["eval_task"] == "cola"} == {"logistic_regression"}
    own = [r for r in result["rows"] if "eval_task" not in r]
    assert {r["task"] for r in own} == {"qnli"}  # the cell's own task is scored as before
    assert all(np.isfinite(r["value"]) for r in transfer)


def test_transfer_eval_heads_fit_what_they_should():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 5))
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0, 1.0]) > 0).astype(int)
    assert (fit_head("classification", x, y).predict(x) == y).mean() > 0.95
    target = x @ np.array([0.3, 0.0, -1.0, 2.0, 0.1]) + 2.5
    np.testing.assert_allclose(fit_head("regression", x, target).predict(x), target, atol=0.05)
    with pytest.raises(ValueError, match="no transfer head for 'multiple_choice'"):
        fit_head("multiple_choice", x, y)


def test_transfer_eval_config_errors_before_compute(setup, tmp_path):
    root, folder = setup
    with pytest.raises(ConfigError, match=r"eval_tasks\[0\]: 'qnli' is the task the cell trains on"):
        validate_config(_config(root, folder, tmp_path, ["qnli"]))
    with pytest.raises(ConfigError, match=r"eval_tasks\[1\]: 'copa' cannot be a transfer target.*valid: \["):
        validate_config(_config(root, folder, tmp_path, ["cola", "copa"]))
    with pytest.raises(ConfigError, match="'t5.1.1-tiny' is not a BERT-family encoder"):
        validate_config(_config(root, folder, tmp_path, ["cola"], model="t5.1.1-tiny", task="cb"))


def test_landscape_and_hessian_of_a_finished_encoder_cell(setup, tmp_path):
    """The diagnostics read back a fine-tuning (BERT-family) cell, not only LM cells."""
    from sam_bench.analysis.cells import hessian_rows, landscape_rows, load_finished_cell

    root, folder = setup
    config = _config(root, folder, tmp_path, ["cola"])
    del config["grids"][0]["eval_tasks"]
    (cell,) = expand_cells(validate_config(config))
    out = tmp_path / "cells" / cell["cell_id"]
    run_cell(cell, out, progress=False)
    fc = load_finished_cell(out, sample=4)
    assert fc.step == 2 and fc.sample == 4
    rows = landscape_rows(fc, points_1d=3, points_2d=0)
    assert [r["alpha"] for r in rows] == [-1.0, 0.0, 1.0] and all(np.isfinite(r["value"]) for r in rows)
    assert {r["metric"] for r in hessian_rows(fc, steps=3, probes=2)} == {"hessian_top_eigenvalue", "hessian_trace"}
    with pytest.raises(ConfigError, match="not a finished cell"):
        load_finished_cell(tmp_path)


def test_hessian_at_the_best_and_the_final_weights_of_a_finished_cell(setup, tmp_path):
    """A cell keeps the weights of its best evaluation (its selection metric's best step);
    the Hessian rows are measured at those and at the final weights, each named."""
    from sam_bench.analysis.cells import hessian_rows, load_finished_cell
    from sam_bench.curvature import curvature

    root, folder = setup
    config = _config(root, folder, tmp_path, ["cola"])
    del config["grids"][0]["eval_tasks"]
    config["finetune"].update(steps=6, eval_every=2)
    (cell,) = expand_cells(validate_config(config))
    out = tmp_path / "cells" / cell["cell_id"]
    result = run_cell(cell, out, progress=False)
    history = [h for h in result["curve"] if (h["task"], h["metric"]) == ("qnli", "accuracy")]
    best = max(history, key=lambda h: h["value"])  # the first of equal values: later ones are not better
    fc = load_finished_cell(out, sample=4)
    assert fc.step == 6 and fc.best_step == best["step"] and fc.best_of == "qnli/accuracy"
    kept = json.loads((out / "best_outputs.json").read_text())  # the predictions of those weights
    assert kept["step"] == best["step"] and kept["selection"] == "qnli/accuracy"
    assert set(kept["outputs"]) == {"qnli"} and set(kept["outputs"]["qnli"]) <= {0, 1}
    rows = hessian_rows(fc, steps=3, probes=2)
    by = {(r["weights"], r["metric"]): r for r in rows}
    assert set(by) == {(w, m) for w in ("final", "best") for m in ("hessian_top_eigenvalue", "hessian_trace")}
    assert by[("best", "hessian_top_eigenvalue")]["step"] == best["step"]
    assert by[("final", "hessian_top_eigenvalue")]["step"] == 6
    # the best rows are the curvature of the kept weights, not of the final ones
    spectrum, _, _ = curvature(fc.loss_fn, fc.best, steps=3, probes=2, seed=cell["seed"])
    assert by[("best", "hessian_top_eigenvalue")]["value"] == pytest.approx(spectrum.top_eigenvalue, rel=1e-6)
    if fc.best_step != fc.step:
        assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(fc.best), jax.tree.leaves(fc.final)))
