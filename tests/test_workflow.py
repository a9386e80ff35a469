"""End to end: the Snakemake DAG on the smoke config, its reuse of finished cells, and
resume of an interrupted cell with the same numbers as an uninterrupted run; the config the
workflow reads, its logs and Snakemake's own report."""
import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sam_bench.config import expand_cells, validate_config

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
         "--configfile", str(workdir / "config.yaml"), *args],
        capture_output=True, text=True, env=env, cwd=ROOT)


def _t5_cell(workdir: Path) -> dict:
    """A finished T5 cell of the smoke run, to derive other cells from."""
    cells = (json.loads(p.read_text())["cell"] for p in (workdir / "results" / "cells").glob("*/result.json"))
    return next(c for c in cells if c["model"] == "t5.1.1-tiny")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke")
    config = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run = snakemake(workdir, "--cores", "2")
    assert run.returncode == 0, run.stderr[-4000:]
    return workdir, config


@pytest.mark.slow
def test_dag_writes_report_and_tidy_summary(smoke_run):
    workdir, config = smoke_run
    assert (workdir / config["report_dir"] / "report.pdf").stat().st_size > 10_000
    summary = pd.read_parquet(workdir / "results" / "summary" / config["experiment"] / "summary.parquet")
    cells = list((workdir / "results" / "cells").glob("*/result.json"))
    assert summary["cell_id"].nunique() == len(cells) == 8
    assert set(summary["method"]) == {"adafactor", "sam", "fsam", "adamw"}
    # one row per (cell, task, metric): 6 T5 cells on 3 tasks with 2 metrics each, 2 encoder cells on CB
    assert not summary.duplicated(["cell_id", "task", "metric"]).any()
    assert len(summary) == 6 * 6 + 2 * 2
    assert set(summary["task"]) == {"cb", "stsb", "natural_questions"}
    encoder = summary[summary["model"] == "all-minilm-l6-v2"]
    assert set(encoder["metric"]) == {"accuracy", "f1"} and set(encoder["method"]) == {"adamw", "fsam"}


@pytest.mark.slow
def test_second_run_reuses_finished_cells(smoke_run):
    workdir, _ = smoke_run
    dry = snakemake(workdir, "-n", "--cores", "2")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr


@pytest.mark.slow
@pytest.mark.parametrize("method", ["sam", "fsam"])  # fsam: its Fisher mask lives in the optimizer state
def test_interrupted_cell_resumes_to_identical_numbers(smoke_run, tmp_path, method):
    from sam_bench.train.finetune import run_cell

    workdir, _ = smoke_run
    finished = next(p for p in (workdir / "results" / "cells").glob("*/result.json")
                    if json.loads(p.read_text())["cell"]["method"] == method
                    and json.loads(p.read_text())["cell"]["model"] == "t5.1.1-tiny")
    uninterrupted = json.loads(finished.read_text())
    cell = dict(uninterrupted["cell"], results_dir=str(workdir / "results"))
    cell["data_root"] = str(workdir / cell["data_root"])
    out = tmp_path / "cell"
    assert run_cell(cell, out, progress=False, stop_after=6) is None  # "killed" after the first checkpoint
    assert not (out / "result.json").exists()
    resumed = run_cell(cell, out, progress=False)
    assert resumed["rows"] == uninterrupted["rows"]
    assert resumed["curve"] == uninterrupted["curve"]


@pytest.mark.slow
def test_cell_starts_from_an_exported_checkpoint_folder(smoke_run, tmp_path):
    """A cell names a model size and a checkpoint path (a Hugging Face folder here)."""
    from sam_bench.models import model_config
    from sam_bench.models.checkpoints import export_hf, load_initial_params
    from sam_bench.train.finetune import run_cell

    workdir, _ = smoke_run
    config = model_config("t5.1.1-tiny")
    _, params = load_initial_params("random", config, seed=7)
    folder = export_hf(params, config, tmp_path / "t5-tiny-hf")
    pretrain = next((workdir / "results" / "pretrain").glob("*/spm.model"))
    shutil.copy(pretrain, folder / "spiece.model")  # T5 checkpoints ship their SentencePiece model

    template = _t5_cell(workdir)
    cell = dict(template, init=str(folder), method="adafactor", optimizer="adafactor(lr=0.001)", rho=None,
                base_optimizer="adafactor", results_dir=str(workdir / "results"), cell_id="from-checkpoint")
    cell["data_root"] = str(workdir / template["data_root"])
    result = run_cell(cell, tmp_path / "cell", progress=False)
    assert {(r["task"], r["metric"]) for r in result["rows"]} >= {("cb", "f1"), ("natural_questions", "em")}


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["gsam(rho=0.01) + adafactor(lr=1e-3)", "esam(rho=0.01) + adam(lr=1e-3)",
                                    "functional_sam(rho=0.05) + adafactor(lr=1e-3)",
                                    "precond_sam(rho=0.05) + amsgrad(lr=1e-3)", "asam(rho=0.5) + sgd(lr=1e-2)"])
def test_every_variant_family_trains_a_cell(smoke_run, tmp_path, recipe):
    from sam_bench.optim import parse_recipe
    from sam_bench.train.finetune import run_cell

    workdir, _ = smoke_run
    template = _t5_cell(workdir)
    parsed = parse_recipe(recipe)
    cell = dict(template, optimizer=recipe, method=parsed.method, rho=parsed.rho, base_optimizer=parsed.base,
                results_dir=str(workdir / "results"), cell_id=f"variant-{parsed.method}", init="pretrained",
                finetune=dict(template["finetune"], steps=4, eval_every=4))
    cell["data_root"] = str(workdir / template["data_root"])
    result = run_cell(cell, tmp_path / "cell", progress=False)
    assert result["rows"] and all(r["method"] == parsed.method for r in result["rows"])
    assert result["timing"]["final_train_loss"] > 0


def test_default_config_is_the_configfile_and_a_configfile_replaces_it(tmp_path):
    """Without --configfile the workflow runs config/default.yaml (Snakemake's `configfile:`);
    a --configfile replaces it whole: what it leaves out takes the schema's default, never the
    default config's value (Snakemake alone would lay one over the other)."""
    base = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    base["grids"] = [g for g in base["grids"] if g["name"] == "main"]
    default = dict(copy.deepcopy(base), results_dir="default_results")  # sets finetune.eval_batch_size: 256
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "default.yaml").write_text(yaml.safe_dump(default))
    other = copy.deepcopy(base)
    del other["results_dir"], other["finetune"]["eval_batch_size"]
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(other))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    for args in ([], ["--configfile", str(tmp_path / "other.yaml")]):
        dry = subprocess.run([str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                              "-n", "--cores", "1", *args], capture_output=True, text=True, env=env, cwd=ROOT)
        assert dry.returncode == 0, dry.stderr[-3000:]

    def planned(results_dir):  # the cell ids of the table the workflow wrote while planning
        (table,) = (tmp_path / results_dir / "cell_tables").glob("*.tsv")
        return [line.split("\t")[0] for line in table.read_text().splitlines()]

    assert planned("default_results") == [c["cell_id"] for c in expand_cells(validate_config(default))]
    assert planned("results") == [c["cell_id"] for c in expand_cells(validate_config(other))]
    assert validate_config(other)["finetune"]["eval_batch_size"] == 128


@pytest.mark.slow
def test_every_job_logs_in_its_own_folder(smoke_run):
    workdir, config = smoke_run
    results = workdir / "results"
    cells = sorted((results / "cells").iterdir())
    assert len(cells) == 8 and all((c / "finetune.log").is_file() for c in cells)
    (pretrain,) = (results / "pretrain").glob("*/pretrain.log")
    assert "pretrain" in pretrain.read_text()  # its progress, also shown on the terminal
    for log in (results / "data" / "synthetic-seed0" / "synthesize.log",
                results / "summary" / config["experiment"] / "aggregate.log",
                workdir / config["report_dir"] / "report.log"):
        assert log.is_file(), log


@pytest.mark.slow
def test_snakemake_report_holds_every_table_and_figure(smoke_run, tmp_path):
    """`snakemake --cores 1 --report report.html` after a run: one self-contained page with the PDF, every
    table (as its CSV) and every figure (as its PNG) the report rule wrote."""
    workdir, config = smoke_run
    out = tmp_path / "report.html"
    run = snakemake(workdir, "--cores", "1", "--report", str(out))  # --cores: pretrain takes them all
    assert run.returncode == 0, run.stderr[-3000:]
    html = out.read_text()
    built = workdir / config["report_dir"]
    tables, figures = sorted((built / "tables").glob("*.csv")), sorted((built / "figures").glob("*.png"))
    assert len(tables) > 25 and len(figures) > 5
    for name in [p.name for p in tables + figures] + ["report.pdf", "Tables", "Figures"]:
        assert name in html, name
