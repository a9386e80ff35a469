"""benchmarks/gpu_check.py in its tiny mode on CPU (2 fake devices for the data-parallel cell):
the tables print, the JSON rows are what `sam-bench plan` reads as measured step times."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # XLA compiles 6 tiny-T5 steps: 2 CPU-minutes on a loaded 2-core machine
def test_gpu_check_runs_tiny_on_cpu_and_writes_plan_rows(tmp_path):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--tiny", "--steps", "1",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "## Step overhead" in run.stdout and "## Data-parallel cell" in run.stdout
    rows = json.loads((tmp_path / "cpu.json").read_text())
    overhead = [r for r in rows if r["devices"] == 1]
    assert [r["label"] for r in overhead] == ["base", "sam a=b/4=2", "sam a=b=8", "fsam a=b", "functional_sam a=b"]
    assert all(r["seconds_per_step"] > 0 and r["device"] == "cpu" for r in rows)
    (cell,) = [r for r in rows if r["devices"] == 2]
    assert cell["batch_size"] == 16 and cell["examples_per_second"] > 0 and cell["mfu"] is None  # no peak for CPU
    assert (tmp_path / "gpu_check.md").read_text().startswith("# GPU check on 2 × cpu")
