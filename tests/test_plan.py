"""`sam-bench plan` and `sam-bench memory --mesh`: cells, per-device memory and
accelerator-hours of a config with its checkpoints missing, against hand counts."""
import json
import math

import jax
import pytest
import yaml

from sam_bench import parallel
from sam_bench.memory import GIB, estimate_memory
from sam_bench.models.registry import abstract_model, model_config
from sam_bench.plan import DEVICES, main, plan


def _config(tmp_path, mesh=None):
    config = yaml.safe_load(open("config/test.yaml"))
    grid = next(g for g in config["grids"] if g["name"] == "main")
    config["grids"] = [{**grid, "subsample_rate": [1.0]},
                       {**grid, "name": "public", "model": ["t5.1.1-small"], "init": ["checkpoint"], "subsample_rate": [1.0],
                        "optimizer": ["adafactor(lr=1e-3)"]}]
    config["checkpoint_root"] = str(tmp_path / "no-checkpoints")
    if mesh:
        config["mesh"] = mesh
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, config


def test_plan_counts_flops_memory_and_hours_and_lists_missing_checkpoints(tmp_path):
    path, config = _config(tmp_path)
    rows, missing = plan(str(path), "a100-40gb", "data=2", mfu=0.5, measured_root=tmp_path)
    assert len(rows) == 3 and any("'t5.1.1-small' not found" in m for m in missing), missing
    ft = config["finetune"]
    for row in rows:
        cfg = model_config(row["model"], dtype="float32")
        _, params = abstract_model(cfg)
        leaves = jax.tree_util.tree_flatten_with_path(params)[0]
        count = lambda name: sum(math.prod(x.shape) for p, x in leaves if str(p[0].key) == name)  # noqa: E731
        tokens = count("encoder") * 64 + (count("decoder") + count("lm_head")) * ft["max_target_length"]  # L_in 64
        sam = row["method"] == "sam"
        flops = 6 * 8 * tokens * (1 + (2 / 8 if sam else 0))   # b = 8, a = b/4 = 2
        assert row["seconds_per_step"] == pytest.approx(flops / (2 * DEVICES["a100-40gb"].peak_flops * 0.5), rel=1e-9)
        assert row["device_hours"] == pytest.approx(row["seconds_per_step"] * 12 * 2 / 3600, rel=1e-9)
        want = estimate_memory(cfg, optimizer="adafactor", sam=sam).total_bytes / GIB  # fsdp = 1: nothing split
        assert row["gib_per_device"] == pytest.approx(want, rel=1e-9) and row["fits"]


def test_plan_prefers_a_measured_step_time(tmp_path):
    path, _ = _config(tmp_path)
    (tmp_path / "gpu.json").write_text(json.dumps([{"device": "h100", "model": "t5.1.1-tiny", "method": "sam",
                                                     "batch_size": 8, "devices": 2, "seconds_per_step": 0.25}]))
    rows, _ = plan(str(path), "h100", "data=2", mfu=0.35, measured_root=tmp_path)
    sam = [r for r in rows if r["method"] == "sam"]
    assert sam and all(r["seconds_per_step"] == 0.25 and r["source"] == "measured" for r in sam)
    assert all(r["source"].startswith("FLOPs at 35%") for r in rows if r["method"] != "sam")


def test_plan_prints_and_flags_a_mesh_the_batch_does_not_split_over(tmp_path, capsys):
    path, _ = _config(tmp_path)
    assert main([str(path), "--device", "tpu-v3", "--mesh", "data=3"]) == 0
    out = capsys.readouterr().out
    assert "3 cells on 3 × tpu-v3" in out and "accelerator-hours" in out and "missing before" in out
    assert "batch_size=8 must be a multiple of the mesh's 3 devices" in out
    assert main([str(path), "--device", "tpu-v9"]) == 2
    assert "unknown device 'tpu-v9'; valid:" in capsys.readouterr().err


@pytest.mark.parametrize("spec, message", [
    ("data=2,model=4", "unknown axis ['model']; valid: ['data', 'fsdp']"),
    ("data=x", "expected axis=size pairs"),
    ({"data": 0}, "data must be an integer >= 1"),
])
def test_bad_mesh_is_named(spec, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parallel.parse_mesh(spec)


def test_memory_per_device_splits_over_fsdp_only(capsys):
    from sam_bench.memory import main as memory_main

    whole = estimate_memory("t5.1.1-small", optimizer="adafactor", sam=True)
    data_only = estimate_memory("t5.1.1-small", optimizer="adafactor", sam=True, mesh="data=8")
    split = estimate_memory("t5.1.1-small", optimizer="adafactor", sam=True, mesh="data=2,fsdp=4")
    assert data_only.total_bytes == whole.total_bytes                      # data parallel: replicated
    assert whole.total_bytes / 4 <= split.total_bytes < whole.total_bytes / 3.9  # all big tensors split 4 ways
    assert memory_main(["t5.1.1-small", "--mesh", "data=2,fsdp=4", "--optimizer", "adafactor"]) == 0
    assert "GiB per device on 8 devices (data=2,fsdp=4)" in capsys.readouterr().out


def test_config_mesh_must_split_the_batch_and_the_ascent_set_evenly():
    from sam_bench.config import validate_config
    from sam_bench.errors import ConfigError

    config = yaml.safe_load(open("config/test.yaml"))
    config["grids"] = config["grids"][:1]
    validate_config({**config, "mesh": {"data": 2}})  # b = 8, a = 2: one ascent example per device
    with pytest.raises(ConfigError, match=r"the ascent size a=2 must be a multiple of the mesh's 4 devices"):
        validate_config({**config, "mesh": {"data": 2, "fsdp": 2}})
    with pytest.raises(ConfigError, match=r"mesh.*model"):
        validate_config({**config, "mesh": {"model": 2}})
