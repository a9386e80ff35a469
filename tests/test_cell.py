"""A Cell is the typed, frozen form of an expanded cell: built once from the mapping, checked,
and turned back into the same mapping (cell.json and the cell id depend on it)."""
import dataclasses
from pathlib import Path

import pytest
import yaml

from sam_bench.cell import Cell, Finetune, as_cell
from sam_bench.config import expand_cells, validate_config
from sam_bench.errors import ConfigError

from helpers import stand_in_local_data

ROOT = Path(__file__).resolve().parent.parent


def _cells(tmp_path, monkeypatch):
    from sam_bench.models import MODEL_CONFIGS

    # as tests/test_config.py: stand-ins for tfds' TensorFlow and the public checkpoint folders
    monkeypatch.setattr("sam_bench.data.sources.tensorflow_available", lambda: True)
    for name in MODEL_CONFIGS:
        (tmp_path / name).mkdir(exist_ok=True)
    out = []
    for path in sorted((ROOT / "config").glob("*.yaml")):
        config = yaml.safe_load(path.read_text())
        if "checkpoint_root" in config:
            config["checkpoint_root"] = str(tmp_path)
        stand_in_local_data(config, tmp_path)
        out += expand_cells(validate_config(config))
    return out


def test_every_shipped_cell_round_trips(tmp_path, monkeypatch):
    cells = _cells(tmp_path, monkeypatch)
    assert len(cells) > 100
    optional_left_out = 0
    for mapping in cells:
        cell = Cell.from_dict(mapping)
        assert cell.to_dict() == mapping, mapping["cell_id"]
        assert as_cell(cell) is cell and as_cell(mapping) == cell
        assert isinstance(cell.finetune, Finetune) and cell.finetune.steps == mapping["finetune"]["steps"]
        optional_left_out += "checkpoint_root" not in mapping
    assert 0 < optional_left_out < len(cells)  # both kinds of cell are in the shipped configs


def _one(tmp_path, monkeypatch) -> dict:
    config = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    return expand_cells(validate_config(config))[0]


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(seed=-1), "seed must be an integer >= 0, got -1"),
    (lambda c: c.update(subsample_rate=0.0), "subsample_rate must be a number with 0.0 < x <= 1.0, got 0.0"),
    (lambda c: c.update(source="ftp"), "source must be one of ['synthetic', 'local', 'tfds'], got 'ftp'"),
    (lambda c: c.update(colour="red"), "unknown key(s) ['colour']; valid:"),
    (lambda c: c.pop("task"), "missing key(s) ['task']"),
    (lambda c: c["finetune"].update(steps=0), "finetune: steps must be an integer >= 1, got 0"),
    (lambda c: c["finetune"].update(dtype="float16"), "dtype must be one of ['float32', 'bfloat16']"),
    (lambda c: c["finetune"].update(batch=3), "finetune: unknown key(s) ['batch']"),
])
def test_a_bad_cell_names_the_key_and_what_is_valid(tmp_path, monkeypatch, change, message):
    mapping = _one(tmp_path, monkeypatch)
    change(mapping)
    with pytest.raises(ConfigError) as err:
        Cell.from_dict(mapping)
    assert message in str(err.value) and mapping.get("cell_id", "") in str(err.value)


def test_a_cell_is_frozen(tmp_path, monkeypatch):
    cell = Cell.from_dict(_one(tmp_path, monkeypatch))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cell.seed = 3
    with pytest.raises(TypeError):
        cell.identity["grid"] = "other"
