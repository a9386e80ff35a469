"""Fault injection: diverged and collapsed cells, plateaued runs, replaced weights, damaged
checkpoints, two runs on one cell, hostile paths, and the errors a user sees.

`pytest -k fault_injection` selects the fault cases, `pytest -k degenerate` the plateau ones.
The DAG runs use a tiny config (pretraining without steps, a few fine-tuning steps); the
ones that train several cells are marked slow.
"""
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sam_bench.cell_table import read_cell, write_cell_table
from sam_bench.config import expand_cells, validate_config
from sam_bench.errors import ConfigError
from sam_bench.io import atomic_write
from sam_bench.train import health
from sam_bench.train.lock import CellLock, CellLocked

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# a results_dir a shell would split at the space and run the `touch` of
HOSTILE = "res dir;touch INJECTED;x"


@pytest.fixture(autouse=True)
def _fingerprint_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SAM_BENCH_CACHE", str(tmp_path / "fingerprint-cache"))


def tiny_config(results_dir: str, optimizers: list[str], steps: int = 2, eval_every: int = 2, **grid) -> dict:
    return {
        "experiment": "faults", "results_dir": results_dir, "report_dir": f"{results_dir}/report",
        "data": {"source": "synthetic"},
        "pretrain": {"model": "t5.1.1-tiny", "vocab_size": 600, "steps": 0, "batch_size": 8},
        "finetune": {"steps": steps, "batch_size": 8, "eval_every": eval_every, "eval_batch_size": 256,
                     "max_input_length": 32, "max_target_length": 4},
        "grids": [{"name": "faults", "model": ["t5.1.1-tiny"], "task": ["cb"], "subsample_rate": [1.0],
                   "optimizer": optimizers, "seed": [0], **grid}],
    }


def snakemake(workdir: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
                           "--configfile", str(workdir / "config.yaml"), *args],
                          capture_output=True, text=True, env=env, cwd=ROOT)


def results(workdir: Path, results_dir: str) -> dict[str, dict]:
    """optimizer -> result.json of every finished cell."""
    docs = [json.loads(p.read_text()) for p in (workdir / results_dir / "cells").glob("*/result.json")]
    return {d["cell"]["optimizer"]: d for d in docs}


# ------------------------------------------------------------------- run health (pure)
def test_fault_injection_nonfinite_loss_is_a_divergence_with_the_last_finite_loss():
    d = health.nonfinite([6.5, 6.1, 5.9, float("nan"), 4.0])
    assert (d.step, d.last_finite_loss, d.reason) == (4, 5.9, "nonfinite")
    assert health.nonfinite([6.5, float("inf")]).step == 2
    assert health.nonfinite([6.5, 6.1]) is None


def test_fault_injection_loss_stuck_at_ln_k_is_a_collapse():
    uniform = math.log(640)  # the 6.4615 of sgd(lr=1e6) on the 640-row tiny T5
    stuck = [7.3] + [uniform + 1e-5 * (-1) ** i for i in range(8)]
    d = health.collapsed(stuck, uniform)
    assert d.reason == "collapsed" and d.step == 9 and "ln 640" in d.message
    learning = [7.3] + list(np.linspace(6.46, 5.0, 8))  # starts at ln K, then learns
    assert health.collapsed(learning, uniform) is None
    assert health.collapsed(stuck[:3], uniform) is None  # too few steps for a verdict
    assert health.collapsed(stuck, None) is None  # regression: no uniform-output value


def test_degenerate_chance_scores_are_the_majority_class_and_zero_correlation():
    from sam_bench.tasks.metrics import accuracy, pearson
    from sam_bench.train.chance import best_constant_scores

    labels = np.array([0, 1, 1, 2, 1, 0, 1])
    chance = best_constant_scores(lambda out: {"accuracy": 100 * accuracy(labels, out)}, len(labels), range(3))
    assert chance["accuracy"] == pytest.approx(100 * np.mean(labels == np.bincount(labels).argmax()))
    gold = np.array([0.5, 3.2, 4.8, 2.0])  # STS-B at its label mean: a constant, correlation 0
    chance = best_constant_scores(lambda out: {"pearson": 100 * pearson(gold, out)}, 4, [float(gold.mean())])
    assert chance == {"pearson": 0.0}


def _curve(values: dict[str, list[float]]) -> list[dict]:
    return [{"step": 10 * (i + 1), "task": "stsb", "metric": m, "value": v}
            for m, vs in values.items() for i, v in enumerate(vs)]


def test_degenerate_plateau_curve_is_detected_and_a_learning_curve_is_not():
    chance = {("stsb", "pearson"): 0.0, ("stsb", "spearman"): 0.0}
    plateau = _curve({"pearson": [0.0, 0.0, 0.3, -0.2], "spearman": [0.0, 0.1, 0.0, 0.0]})
    learning = _curve({"pearson": [0.0, 5.0, 21.0, 40.0], "spearman": [0.0, 4.0, 19.0, 38.0]})
    assert health.degenerate_tasks(plateau, chance) == ["stsb"]
    assert health.degenerate_tasks(learning, chance) == []
    # one metric leaving the plateau is enough
    assert health.degenerate_tasks(_curve({"pearson": [0.0] * 4, "spearman": [0.0, 0.0, 2.0, 0.0]}), chance) == []
    assert health.degenerate_tasks(plateau, {}) == []  # no constant-prediction score known: no verdict


def test_degenerate_rows_are_counted_per_method_and_kept_out_of_averages():
    from sam_bench.report.health import split_by_health

    rows = pd.DataFrame([
        {"cell_id": "a", "method": "sam", "task": "cb", "value": 80.0, "status": "ok", "degenerate": False},
        {"cell_id": "b", "method": "sam", "task": "cb", "value": 41.2, "status": "ok", "degenerate": True},
        {"cell_id": "c", "method": "adam", "task": "cb", "value": 0.0, "status": "diverged", "degenerate": True},
    ])
    cells = pd.DataFrame([{"cell_id": "a", "method": "sam", "status": "ok", "status_reason": None},
                          {"cell_id": "b", "method": "sam", "status": "ok", "status_reason": None},
                          {"cell_id": "c", "method": "adam", "status": "diverged", "status_reason": "loss is nan"},
                          {"cell_id": "d", "method": "adam", "status": "diverged", "status_reason": "collapsed"}])
    kept, table = split_by_health(rows, cells)
    assert list(kept["cell_id"]) == ["a"]
    by = table.set_index("method")
    assert by.loc["sam", ["cells", "diverged", "degenerate"]].tolist() == [2, 0, 1]
    assert by.loc["adam", ["cells", "diverged", "degenerate"]].tolist() == [2, 2, 0]
    assert "d (collapsed)" in by.loc["adam", "where"] and "b: cb at plateau" in by.loc["sam", "where"]


# ------------------------------------------------------------------------- locks
def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_fault_injection_live_lock_blocks_a_second_run_and_a_dead_ones_is_taken_over(tmp_path):
    other = _sleeper()  # another run, alive
    try:
        (tmp_path / "lock").write_text(json.dumps({"pid": other.pid, "host": socket.gethostname(), "since": "x"}))
        with pytest.raises(CellLocked, match=f"pid {other.pid}"):
            CellLock(tmp_path, wait=False).acquire()
        said = []
        waiter = CellLock(tmp_path, wait=True, poll_seconds=0.05, say=said.append)
        os.kill(other.pid, signal.SIGKILL)  # the run dies without removing its lock
        other.wait()
        assert waiter.acquire() and json.loads((tmp_path / "lock").read_text())["pid"] == os.getpid()
        assert any("stale lock" in s and str(other.pid) in s for s in said)
        waiter.release()
        assert not (tmp_path / "lock").exists()
    finally:
        other.kill()


def test_fault_injection_lock_of_another_host_is_never_broken(tmp_path):
    (tmp_path / "lock").write_text(json.dumps({"pid": 1, "host": "elsewhere", "since": "x"}))
    with pytest.raises(CellLocked, match="if it is gone, delete"):
        CellLock(tmp_path, wait=False).acquire()


# ------------------------------------------------------------------- checkpoints
def _state(v: float):
    return {"w": np.full((4, 3), v, np.float32), "b": np.full((3,), v, np.float32)}


def test_fault_injection_truncated_checkpoint_falls_back_to_the_previous_one(tmp_path):
    from sam_bench.train.checkpoint import TrainStateCheckpoints

    said = []
    ckpt = TrainStateCheckpoints(tmp_path / "checkpoint", say=said.append)
    for step in (2, 4, 6):  # two are kept
        ckpt.save(step, _state(step), {"step": step})
    assert ckpt.manager.all_steps() == [4, 6]
    data = max((p for p in (tmp_path / "checkpoint" / "6").rglob("*") if p.is_file() and p.name != "sam_bench_files.json"),
               key=lambda p: p.stat().st_size)
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])  # a truncated write
    step, state, meta = TrainStateCheckpoints(tmp_path / "checkpoint", say=said.append).restore(_state(0))
    assert step == 4 and meta == {"step": 4} and float(state["w"][0, 0]) == 4.0
    assert data.name in said[0] and "truncated" in said[0] and "resuming from step 4" in said[0]
    assert (tmp_path / "checkpoint-damaged" / "6").is_dir()  # kept for inspection, out of the way


def test_fault_injection_every_checkpoint_damaged_starts_over(tmp_path):
    from sam_bench.train.checkpoint import TrainStateCheckpoints

    said = []
    ckpt = TrainStateCheckpoints(tmp_path / "c", say=said.append)
    ckpt.save(2, _state(2), {})
    (tmp_path / "c" / "2" / "meta" / "metadata").write_text('{"trunc')  # the JSON metadata, truncated
    assert TrainStateCheckpoints(tmp_path / "c", say=said.append).restore(_state(0)) is None
    assert "metadata" in said[0] and "starting the cell over" in said[0]


def test_fault_injection_truncated_safetensors_names_the_file(tmp_path):
    from safetensors.numpy import save_file

    from sam_bench.models.checkpoints import CheckpointError, SafetensorsFile

    path = tmp_path / "model.safetensors"
    save_file({"w": np.ones((256, 128), np.float32)}, str(path))
    path.write_bytes(path.read_bytes()[:30000])
    with pytest.raises(CheckpointError, match=r"model\.safetensors: truncated"):
        SafetensorsFile(path)
    config = tiny_config("r", ["adamw(lr=1e-3)"], init=[str(tmp_path)])
    with pytest.raises(ConfigError, match=r"grids\[0\]\.init\[0\]: .*model\.safetensors: truncated"):
        validate_config(config)


# ------------------------------------------------------------------ cell identity
def test_fault_injection_replaced_init_weights_make_a_new_cell(tmp_path, monkeypatch):
    from safetensors.numpy import save_file

    import sam_bench.fingerprint as fingerprint

    folder = tmp_path / "ckpt"
    folder.mkdir()
    save_file({"w": np.ones((4, 4), np.float32)}, str(folder / "model.safetensors"))
    config = validate_config(tiny_config(str(tmp_path / "results"), ["adamw(lr=1e-3)"], init=[str(folder)]))
    first = expand_cells(config)[0]
    hashed = []
    monkeypatch.setattr(fingerprint, "sha256_file", lambda p, real=fingerprint.sha256_file: hashed.append(p) or real(p))
    assert expand_cells(config)[0]["cell_id"] == first["cell_id"] and hashed == []  # cached by size and mtime
    time.sleep(0.01)
    save_file({"w": np.full((4, 4), 2.0, np.float32)}, str(folder / "model.safetensors"))  # same path and size
    second = expand_cells(config)[0]
    assert second["init_fingerprint"] != first["init_fingerprint"]
    assert second["cell_id"] != first["cell_id"] and hashed == [folder / "model.safetensors"]


def test_fault_injection_duplicate_grid_names_are_refused():
    config = tiny_config("r", ["adamw(lr=1e-3)"])
    config["grids"].append(dict(config["grids"][0], seed=[1]))
    with pytest.raises(ConfigError, match="the name 'faults' is used by grids \\[0, 1\\]"):
        validate_config(config)


def test_fault_injection_cell_table_round_trip(tmp_path):
    cells = expand_cells(validate_config(tiny_config("r", ["adamw(lr=1e-3)", "sgd(lr=0.1)"])))
    path = write_cell_table(cells, tmp_path)
    assert write_cell_table(cells, tmp_path) == path  # named by content: written once
    assert read_cell(path, cells[1]["cell_id"]) == cells[1]
    with pytest.raises(ConfigError, match="not in the cell table"):
        read_cell(path, "nope")


def test_fault_injection_cells_per_job_plans_batches(tmp_path):
    from sam_bench.cell_table import cell_batches

    batches = cell_batches(["a", "b", "c"], 2)
    assert list(batches.values()) == [["a", "b"], ["c"]]
    assert cell_batches(["a", "b", "x"], 2).keys() != batches.keys() and list(cell_batches(["a", "b", "x"], 2))[0] \
        == list(batches)[0]  # a batch is named by its cells
    config = dict(tiny_config("results", ["adamw(lr=1e-3)", "sgd(lr=0.1)", "adam(lr=1e-3)"]), cells_per_job=2)
    run = snakemake(tmp_path, config, "-n", "-q", "rules", "--cores", "1")
    assert run.returncode == 0, run.stderr[-3000:]
    counts = {line.split()[0]: int(line.split()[-1]) for line in run.stdout.splitlines()
              if line.split() and line.split()[-1].isdigit() and len(line.split()) == 2}
    assert counts["finetune_batch"] == 2 and "finetune" not in counts


# ----------------------------------------------------------- files and the CLI
@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_fault_injection_outputs_have_the_umask_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "a.json", "{}")
        atomic_write(tmp_path / "b.bin", lambda tmp: Path(tmp).write_bytes(b"x"))
    finally:
        os.umask(old)
    for name in ("a.json", "b.bin"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask


def test_fault_injection_cli_error_is_one_line_and_debug_shows_the_traceback(tmp_path):
    run = subprocess.run([str(BIN / "sam-bench"), "aggregate", str(tmp_path / "absent"), "--out", str(tmp_path)],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "sam-bench: error: FileNotFoundError: no such result file or folder" in run.stderr
    run = subprocess.run([str(BIN / "sam-bench"), "--debug", "aggregate", str(tmp_path / "absent"), "--out",
                          str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 1 and "Traceback" in run.stderr


def test_fault_injection_verify_fails_on_changed_files(tmp_path, monkeypatch):
    from sam_bench import manifest_cli
    from sam_bench.data import manifests, pins

    manifest = pins.load_manifest("super_glue_cb")
    entry = next(f for f in manifest["files"] if f["sha256"] and not f["sha256_source"].startswith("official"))
    (tmp_path / entry["path"]).parent.mkdir(parents=True)
    (tmp_path / entry["path"]).write_text('{"premise": "changed"}\n')
    changed = [r for r in manifests.verify(tmp_path, ["super_glue_cb"]) if r["path"].endswith(entry["path"])]
    assert [r["status"] for r in changed] == ["CHANGED"]
    monkeypatch.setattr(manifest_cli, "verify", lambda *a, **k: changed)  # only the CHANGED file, nothing missing
    args = ["verify", "--root", str(tmp_path), "--dataset", "super_glue_cb"]
    assert manifest_cli.main(args) == 1
    assert manifest_cli.main(args + ["--allow-changed"]) == 0


# ------------------------------------------------------------------ the workflow
def test_fault_injection_hostile_results_dir_and_a_nan_cell_still_get_a_report(tmp_path):
    """A results_dir with a space and a `;` is a path, never a command; a cell whose loss turns
    NaN ends with a diverged result and the aggregate and report run over it."""
    config = tiny_config(HOSTILE, ["sgd(lr=1e30)"])
    run = snakemake(tmp_path, config, "--cores", "1")
    assert run.returncode == 0, run.stderr[-4000:]
    assert not list(tmp_path.rglob("INJECTED")) and not (ROOT / "INJECTED").exists()
    (doc,) = results(tmp_path, HOSTILE).values()
    assert doc["status"] == "diverged" and doc["divergence"]["reason"] == "nonfinite"
    assert doc["divergence"]["step"] == 2 and math.isfinite(doc["divergence"]["last_finite_loss"])
    health_csv = pd.read_csv(tmp_path / HOSTILE / "report" / "tables" / "run_health.csv")
    assert health_csv.set_index("method").loc["sgd", "diverged"] == 1
    cells = pd.read_csv(tmp_path / HOSTILE / "summary" / "faults" / "cells.csv")
    assert cells["status"].tolist() == ["diverged"]


@pytest.mark.slow
def test_fault_injection_nan_and_collapsed_cells_beside_a_healthy_one(tmp_path):
    config = tiny_config("results", ["adafactor(lr=1e-3)", "adafactor(lr=1e3)", "sgd(lr=1e6)"], steps=6,
                         eval_every=3)
    run = snakemake(tmp_path, config, "--cores", "2")
    assert run.returncode == 0, run.stderr[-4000:]
    docs = results(tmp_path, "results")
    assert docs["adafactor(lr=0.001)"]["status"] == "ok"
    assert docs["adafactor(lr=1000.0)"]["divergence"]["reason"] == "nonfinite"
    collapsed = docs["sgd(lr=1000000.0)"]
    assert collapsed["divergence"]["reason"] == "collapsed" and "ln 640" in collapsed["status_reason"]
    assert all(r["status"] == "diverged" for r in collapsed["rows"])  # it evaluated: its rows are kept, marked
    table = pd.read_csv(tmp_path / "results" / "report" / "tables" / "run_health.csv").set_index("method")
    assert table.loc["adafactor", ["cells", "diverged"]].tolist() == [2, 1]
    assert table.loc["sgd", ["cells", "diverged"]].tolist() == [1, 1]
    again = snakemake(tmp_path, config, "-n", "--cores", "1")  # no retry loop: diverged cells are done
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.slow
def test_fault_injection_a_batch_job_runs_all_its_cells(tmp_path):
    config = dict(tiny_config("results", ["sgd(lr=1e30)", "adam(lr=1e30)"]), cells_per_job=2)
    run = snakemake(tmp_path, config, "--cores", "1")
    assert run.returncode == 0, run.stderr[-4000:]
    (batch,) = (tmp_path / "results" / "batches").glob("batch-*.json")
    listed = json.loads(batch.read_text())["results"]
    docs = results(tmp_path, "results")
    assert len(listed) == len(docs) == 2 and all(d["status"] == "diverged" for d in docs.values())


@pytest.fixture(scope="module")
def finished_dag(tmp_path_factory):
    """A pretrained tiny model and synthetic data, for the cell-level fault cases."""
    workdir = tmp_path_factory.mktemp("dag")
    config = tiny_config("results", ["adafactor(lr=1e-3)"], steps=4, eval_every=2)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run = snakemake(workdir, config, "--cores", "1", "--until", "pretrain")
    assert run.returncode == 0, run.stderr[-4000:]
    return workdir, expand_cells(validate_config(dict(config, results_dir=str(workdir / "results"))))[0]


@pytest.mark.slow
def test_fault_injection_two_concurrent_runs_train_one_cell_once(finished_dag, tmp_path):
    workdir, cell = finished_dag
    spec = tmp_path / "cell.json"
    spec.write_text(json.dumps(cell))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    runs = [subprocess.Popen([str(BIN / "sam-bench"), "run-cell", "--cell-file", str(spec), "--no-progress",
                              "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(2)]
    outputs = [r.communicate(timeout=600) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    errs = " ".join(err for _, err in outputs)
    assert errs.count("another run is training this cell") == 1 and errs.count("already finished") == 1
    log = [json.loads(line) for line in (Path(cell["results_dir"]) / "cells" / cell["cell_id"] / "log.jsonl")
           .read_text().splitlines()]
    assert [e["step"] for e in log] == [2, 4]  # trained once, nothing interleaved


@pytest.mark.slow
def test_fault_injection_truncated_checkpoint_resumes_from_the_previous_one(finished_dag, tmp_path):
    from sam_bench.train.finetune import run_cell

    _, cell = finished_dag
    cell = dict(cell, cell_id="resume-after-damage")
    out = tmp_path / "cell"
    first = run_cell(cell, out, progress=False)  # checkpoints at steps 2 and 4
    (out / "result.json").unlink()  # as if killed after the last checkpoint was written...
    victim = max((p for p in (out / "checkpoint" / "4").rglob("*") if p.is_file() and p.name != "sam_bench_files.json"),
                 key=lambda p: p.stat().st_size)
    victim.write_bytes(victim.read_bytes()[:10])  # ...and that checkpoint's largest file truncated
    resumed = run_cell(cell, out, progress=False)
    log = (out / "log.jsonl").read_text()
    assert victim.name in log and "resuming from step 2" in log
    assert resumed["rows"] == first["rows"] and resumed["curve"] == first["curve"]
