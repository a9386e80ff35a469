"""How long Snakemake takes to plan a grid: `snakemake -n` (the dry run: config validation,
cell expansion, DAG) at 1,000, 8,000 and 50,000 cells, with one cell per job and with
`cells_per_job: 10`.

    python benchmarks/dag_scaling.py                          # 1000 8000 50000, 1 and 10 cells per job
    python benchmarks/dag_scaling.py 2000 --cells-per-job 1   # one size, one setting

Each size is a synthetic-data grid of N fine-tuning cells (N training seeds of one T5 cell)
in a fresh temporary folder, so every job is pending: the DAG holds N (or N/10) fine-tuning
jobs plus 5.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def grid_config(n: int, cells_per_job: int = 1) -> dict:
    return {
        "experiment": f"scale{n}", "cells_per_job": cells_per_job,
        "data": {"source": "synthetic"},
        "pretrain": {"model": "t5.1.1-tiny", "vocab_size": 600, "steps": 2, "batch_size": 8},
        "finetune": {"steps": 4, "batch_size": 8, "eval_every": 2},
        "grids": [{"name": "scale", "model": ["t5.1.1-tiny"], "task": ["tiny_suite"], "subsample_rate": [1.0],
                   "optimizer": ["sam(m=2) + adafactor(lr=1e-3)"], "rho": [0.15], "seed": list(range(n))}],
    }


def dry_run_seconds(n: int, cells_per_job: int, workdir: Path) -> tuple[float, int]:
    (workdir / "config.yaml").write_text(yaml.safe_dump(grid_config(n, cells_per_job)))
    snakemake = Path(sys.executable).parent / "snakemake"
    env = {**os.environ, "PATH": f"{snakemake.parent}{os.pathsep}{os.environ['PATH']}"}
    t0 = time.perf_counter()
    run = subprocess.run([str(snakemake), "-n", "-q", "rules", "--cores", "2", "-s", str(ROOT / "Snakefile"),
                          "--directory", str(workdir), "--configfile", str(workdir / "config.yaml")],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if run.returncode != 0:
        sys.exit(f"snakemake -n failed at {n} cells:\n{run.stderr[-3000:]}")
    jobs = max((int(line.split()[-1]) for line in run.stdout.splitlines()  # the job-stats table
                if line.startswith("finetune") and line.split()[-1].isdigit()), default=0)
    if jobs != -(-n // cells_per_job):
        sys.exit(f"snakemake -n planned {jobs} finetune jobs for {n} cells:\n{run.stdout[-3000:]}")
    return seconds, jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 8000, 50000])
    parser.add_argument("--cells-per-job", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folders")
    args = parser.parse_args()
    print(f"{'cells':>8} {'cells/job':>10} {'finetune jobs':>14} {'snakemake -n (s)':>17}")
    for n in args.sizes:
        for k in args.cells_per_job:
            workdir = Path(tempfile.mkdtemp(prefix=f"dag{n}-"))
            seconds, jobs = dry_run_seconds(n, k, workdir)
            print(f"{n:>8} {k:>10} {jobs:>14} {seconds:>17.1f}", flush=True)
            if not args.keep:
                subprocess.run(["rm", "-rf", str(workdir)], check=True)


if __name__ == "__main__":
    main()
