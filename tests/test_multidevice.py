"""One cell on many devices (8 fake CPU devices in a subprocess): the data-parallel and FSDP
steps equal the one-device step for every ascent semantics, parameters and Adafactor's state
live where the mesh says, and a checkpoint written on 8 devices resumes on 2."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-5


@pytest.fixture(scope="module")
def multidevice(tmp_path_factory):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "multidevice_checks.py"),
                             str(tmp_path_factory.mktemp("multidevice"))],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["sam_a_b4", "sam_m8", "fsam", "functional_sam", "gsam", "esam", "t5_sam_m8",
                                  "sam_fsdp", "sam_fsdp_accumulation"])
def test_multidevice_step_equals_the_one_device_step(multidevice, name):
    for shape, figures in multidevice["equality"][name].items():
        assert figures["params"] < RTOL and figures["loss"] < RTOL, (name, shape, figures)


def test_multidevice_fsdp_shards_params_and_adafactor_state_as_the_mesh_says(multidevice):
    layout = multidevice["layout"]
    for path, leaf in layout.items():
        assert leaf["spec"] == leaf["expected"], (path, leaf)
        assert leaf["devices"] == 8, (path, leaf)
    # the weights: split 4 ways on their largest axis divisible by 4
    w1 = next(v for k, v in layout.items() if k.startswith("[0]") and "w1" in k)
    assert w1["shape"] == [128, 256] and w1["shard_shape"] == [128, 64]
    # Adafactor's factored second moment of w1 (a row and a column vector), sharded too
    factored = [v for k, v in layout.items() if k.startswith("[1]") and v["shape"] in ([128], [256])]
    assert factored and all(v["shard_shape"][0] == v["shape"][0] // 4 for v in factored), factored


def test_multidevice_checkpoint_written_on_8_devices_resumes_on_2(multidevice):
    resume = multidevice["resume"]
    assert resume["step"] == 2 and resume["restored_devices"] == [2]
    assert resume["params"] < RTOL and resume["loss"] < RTOL, resume
