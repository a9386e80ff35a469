"""Configs are validated before any job runs and expand into stable, unique cells."""
from pathlib import Path

import pytest
import yaml

from sam_bench.config import expand_cells, load_config, validate_config
from sam_bench.errors import ConfigError

from helpers import stand_in_local_data

ROOT = Path(__file__).resolve().parent.parent


def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "default.yaml").read_text())


def test_default_config_expands_to_the_documented_grid():
    cells = expand_cells(validate_config(default_config()))
    main = [c for c in cells if c["init"] == "pretrained"]
    encoder = [c for c in cells if c["model"] == "all-minilm-l6-v2"]
    # T5: 2 rates × (baseline + SAM at one ρ) × 3 seeds; MiniLM on real SST-2: 3 methods × 3 seeds
    assert len(main) == 12 and len(encoder) == 9 and len(cells) == 21
    assert {c["rho"] for c in main if c["method"] == "sam"} == {0.05}
    assert all(c["rho"] is None for c in cells if c["method"] in ("adafactor", "adamw"))
    assert {c["source"] for c in encoder} == {"local"} and {c["source"] for c in main} == {"synthetic"}
    assert {c["method"] for c in encoder} == {"adamw", "sam", "fsam"}
    assert len({c["cell_id"] for c in cells}) == len(cells)


def test_cell_ids_are_stable_and_change_with_any_setting():
    config = validate_config(default_config())
    ids = [c["cell_id"] for c in expand_cells(config)]
    assert ids == [c["cell_id"] for c in expand_cells(validate_config(default_config()))]
    changed = default_config()
    changed["finetune"]["max_input_length"] += 1  # a setting no grid overrides
    assert not set(ids) & {c["cell_id"] for c in expand_cells(validate_config(changed))}


def test_every_shipped_config_is_valid(tmp_path, monkeypatch):
    from sam_bench.models import MODEL_CONFIGS

    # TriviaQA's tfds builder needs TensorFlow, which validation checks: stand in for it too
    monkeypatch.setattr("sam_bench.data.sources.tensorflow_available", lambda: True)
    for name in MODEL_CONFIGS:  # stand-ins for the public checkpoint folders paper configs name
        (tmp_path / name).mkdir()
    for path in sorted((ROOT / "config").glob("*.yaml")):
        config = yaml.safe_load(path.read_text())
        if "checkpoint_root" in config:
            config["checkpoint_root"] = str(tmp_path)
        stand_in_local_data(config, tmp_path)
        assert expand_cells(validate_config(config)), path


def test_bahri2022_config_covers_the_papers_grid(tmp_path, monkeypatch):
    from sam_bench.models import MODEL_CONFIGS

    monkeypatch.setattr("sam_bench.data.sources.tensorflow_available", lambda: True)  # TriviaQA's builder
    for name in MODEL_CONFIGS:
        (tmp_path / name).mkdir()
    config = yaml.safe_load((ROOT / "config" / "bahri2022.yaml").read_text())
    config["checkpoint_root"] = str(tmp_path)
    cells = expand_cells(validate_config(config))
    sam = [c for c in cells if c["method"] == "sam"]
    assert {c["rho"] for c in sam if c["model"] == "t5.1.1-small"} == {0.05}
    assert {c["init"] for c in cells} == {c["model"] for c in cells}  # each model's own checkpoint
    cbqa = next(c for c in cells if c["task"] == "cbqa")
    assert cbqa["finetune"]["steps"] == 20000 and cbqa["finetune"]["dropout_rate"] == 0.05
    assert next(c for c in cells if c["task"] == "superglue")["finetune"]["steps"] == 250000


def test_zhong2022_config_covers_the_papers_grid(tmp_path):
    from sam_bench.models import MODEL_CONFIGS

    for name in MODEL_CONFIGS:
        (tmp_path / name).mkdir()
    config = yaml.safe_load((ROOT / "config" / "zhong2022.yaml").read_text())
    config["checkpoint_root"] = str(tmp_path)
    stand_in_local_data(config, tmp_path)
    cells = expand_cells(validate_config(config))
    # Tables 1 and 3: 6 encoders x 8 tasks x (Adam + {SAM, FSAM} x 3 rho) x 5 seeds
    families = ("bert_", "electra_", "albert_", "roberta_")
    main = [c for c in cells if any(g.startswith(families) for g in c["identity"]["grid"].split(","))]
    assert len(main) == 6 * 8 * 7 * 5
    assert {c["task"] for c in main} == {"cola", "mrpc", "stsb", "glue_rte", "boolq", "cb", "wic", "wsc"}
    # the ablation, base-optimizer, variant, beta1 = 0, sparse-ratio, low-resource and transfer grids, and
    # Table 2: BART-large and -base x {XSUM, CoNLL-2014} x (Adam + {SAM, FSAM} x 3 rho), one seed
    assert len(cells) == 5945 + 28
    assert {c["task"] for c in cells} - {c["task"] for c in main} == {"qnli", "xsum", "conll2014"}
    bart = [c for c in cells if c["model"].startswith("bart")]
    assert len(bart) == 28 and {c["model"] for c in bart} == {"bart-large", "bart-base"}
    # Table 8: 15,000 steps, 500 warm-up; XSUM lr 3e-5 at batch 56, CoNLL-2014 lr 2e-5 at batch 800
    xsum = next(c for c in bart if c["task"] == "xsum" and c["method"] == "fsam")
    conll = next(c for c in bart if c["task"] == "conll2014" and c["method"] == "sam")
    assert xsum["finetune"]["steps"] == conll["finetune"]["steps"] == 15000
    assert "lr=3e-05" in xsum["optimizer"] and xsum["finetune"]["batch_size"] == 56
    assert "lr=2e-05" in conll["optimizer"] and conll["finetune"]["batch_size"] == 800
    assert "warmup_steps=500" in xsum["optimizer"] and "fi=100" in xsum["optimizer"]
    assert {c["rho"] for c in cells if c["method"] == "fsam"} == {0.01, 0.005, 0.001}
    # Table 10: BERT CoLA 3 epochs of 8,551 examples at batch 16; RoBERTa CoLA 2,668 steps, 160 warm-up
    bert_cola = next(c for c in cells if c["model"] == "bert-large-cased" and c["task"] == "cola")
    assert bert_cola["finetune"]["steps"] == 1604 and "lr=2e-05" in bert_cola["optimizer"]
    roberta = next(c for c in cells if c["model"] == "roberta-large" and c["task"] == "cola" and c["method"] == "fsam")
    assert roberta["finetune"]["steps"] == 2668 and "warmup_steps=160" in roberta["optimizer"]
    assert "fi=100" in roberta["optimizer"] and "s=0.9" in roberta["optimizer"]


def test_missing_public_checkpoint_is_reported_before_compute(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "bahri2022.yaml").read_text())
    config["checkpoint_root"] = str(tmp_path)
    with pytest.raises(ConfigError, match="named checkpoint 't5.1.1-small' not found"):
        validate_config(config)


def broken(path: str, value):
    config = default_config()
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return config


@pytest.mark.parametrize("path, value, expected", [
    ("grids.0.task.0", "superglue_nope", ["grids[0].task[0]", "'superglue_nope'", "valid:", "tiny_suite"]),
    ("grids.0.model.0", "t5.1.1-huge", ["grids[0].model[0]", "'t5.1.1-huge'", "valid:", "t5.1.1-small"]),
    ("grids.0.optimizer.0", "lion(lr=1e-3)", ["grids[0].optimizer[0]", "'lion'", "valid:", "adafactor"]),
    ("grids.0.rho.0", -0.05, ["grids[0].rho[0]", "-0.05", "minimum of 0"]),
    ("grids.0.optimizer.1", "sam(a=4096) + adafactor", ["grids[0].optimizer[1]", "a=4096", "exceeds the batch size b=",
                                                         "valid: 1 <= a <="]),
    ("grids.0.subsample_rate.0", 0.0, ["grids[0].subsample_rate[0]", "0.0", "less than or equal to the minimum of 0"]),
    ("grids.0.subsample_rate.1", 1.5, ["grids[0].subsample_rate[1]", "1.5", "maximum of 1"]),
    ("data.source", "internet", ["data.source", "'internet'", "synthetic", "local"]),
    ("finetune.steps", 0, ["finetune.steps", "minimum of 1"]),
])
def test_bad_config_names_field_value_and_valid_choices(path, value, expected):
    with pytest.raises(ConfigError) as err:
        validate_config(broken(path, value))
    for fragment in expected:
        assert fragment in str(err.value), (fragment, str(err.value))


def test_unknown_keys_are_rejected():
    config = default_config()
    config["finetune"]["stepz"] = 10
    with pytest.raises(ConfigError, match="stepz"):
        validate_config(config)


def test_missing_config_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_official_data_needs_pinned_subsamples(tmp_path):
    from sam_bench.data.fixtures import DATASETS, write_official_files

    config = default_config()
    root = write_official_files(tmp_path, skip=[d for d in DATASETS if d != "super_glue_cb"])  # CB's files only
    config["data"] = {"source": "local", "root": str(root)}
    config["grids"] = [{"name": "g", "model": ["t5.1.1-tiny"], "task": ["cb"], "subsample_rate": [0.05, 0.35],
                        "subsample_seed": [0, 7], "optimizer": ["adafactor"], "seed": [0]}]
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    message = str(err.value)
    assert "subsample rate 0.35 is not pinned" in message and "subsample seed 7 is not pinned" in message
    config["grids"][0].update(subsample_rate=[0.05, 1.0], subsample_seed=[0])
    cells = expand_cells(validate_config(config))
    assert {c["source"] for c in cells} == {"local"} and all(c["subsamples"] == "manifest" for c in cells)


def test_a_grid_can_read_official_files_in_a_synthetic_config(tmp_path):
    from sam_bench.data.fixtures import DATASETS, write_official_files

    root = write_official_files(tmp_path, skip=[d for d in DATASETS if d != "super_glue_cb"])
    config = default_config()
    config["grids"] = [
        {"name": "synthetic", "model": ["t5.1.1-tiny"], "task": ["tiny_suite"], "subsample_rate": [1.0],
         "optimizer": ["adafactor"], "seed": [0]},
        {"name": "official", "model": ["t5.1.1-tiny"], "task": ["cb"], "subsample_rate": [0.05],
         "optimizer": ["adafactor"], "seed": [0], "data": {"source": "local", "root": str(root)}},
    ]
    cells = {c["task"]: c for c in expand_cells(validate_config(config))}
    assert cells["tiny_suite"]["source"] == "synthetic" and cells["cb"]["source"] == "local"
    assert cells["cb"]["data_root"] == str(root) and cells["cb"]["subsamples"] == "manifest"
    config["grids"][1]["data"] = {"source": "local"}  # no root: refused before compute, naming the grid
    with pytest.raises(ConfigError, match=r"grids\[1\]\.data\.root"):
        validate_config(config)
    config["grids"][1]["data"] = {"source": "local", "root": str(tmp_path / "nowhere")}
    with pytest.raises(ConfigError, match="grids\\[1\\].task\\[0\\]"):
        validate_config(config)


# ------------------------------------------------ defaults and docs: written once, in the schema
def test_cell_ids_do_not_move():
    """A cell id hashes the whole expanded cell: a key added to (or dropped from) the defaults
    moves every id and orphans every finished cell. Change these only on purpose."""
    config = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    config["grids"] = [g for g in config["grids"] if g["name"] in ("main", "pretraining_check")]
    assert [c["cell_id"] for c in expand_cells(validate_config(config))] == [
        "t5.1.1-tiny-tiny_suite-pre-r0.2-adafactor-s0-3a598bbd", "t5.1.1-tiny-tiny_suite-pre-r0.2-sam0.15-s0-e577532c",
        "t5.1.1-tiny-tiny_suite-pre-r1-adafactor-s0-b2d7c433", "t5.1.1-tiny-tiny_suite-pre-r1-sam0.15-s0-e23a0c7f",
        "t5.1.1-tiny-tiny_suite-ran-r1-adafactor-s0-3d0686e0"]


def test_defaults_are_the_schemas_and_a_grid_override_inherits_the_config():
    from sam_bench.config import SCHEMA

    finetune = SCHEMA["$defs"]["finetune"]["properties"]
    config = default_config()
    del config["finetune"]["max_input_length"]
    config["grids"][0]["finetune"] = {"steps": 5}
    cell = next(c for c in expand_cells(validate_config(config)) if c["identity"]["grid"] == "main")
    assert cell["finetune"]["max_input_length"] == finetune["max_input_length"]["default"]  # the schema's default
    assert cell["finetune"]["eval_batch_size"] == 256 != finetune["eval_batch_size"]["default"]  # the config's
    assert cell["finetune"]["steps"] == 5
    assert "diagnostics" not in validate_config(default_config())  # an absent section stays absent
    config = default_config()
    config["grids"][0]["data"] = {"synthetic_seed": 3}  # the suite is the config's: a grid cannot pick another
    with pytest.raises(ConfigError, match=r"grids\[0\]\.data: .*'synthetic_seed' was unexpected"):
        validate_config(config)


def test_every_config_parameter_has_a_description():
    from sam_bench.config_docs import parameters

    params = list(parameters())
    assert len(params) > 60 and {"finetune.steps", "grids[].finetune", "data.synthetic_seed"} <= {p for p, _, _ in params}
    assert [path for path, node, _ in params if not node.get("description", "").strip()] == []


def test_config_readme_table_is_the_schemas():
    from sam_bench.config_docs import README, render

    text = README.read_text()
    assert render(text) == text, "config/README.md is out of date: run python -m sam_bench.config_docs"
    assert "| `finetune.eval_batch_size` | integer (≥ 1) | `128` |" in text
