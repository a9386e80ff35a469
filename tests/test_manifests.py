"""data_manifests/: one per dataset, pinned nested subsamples, verification, changed-data refusal."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import sam_bench.manifest_cli as manifest_cli
from helpers import REPO, SHARED_DATA, needs_real_data
from sam_bench.data import subsample
from sam_bench.data.catalog import CATALOG
from sam_bench.data.manifests import verify
from sam_bench.data.pins import (DatasetChangedError, SubsampleNotPinnedError, clear_cache, load_manifest,
                                 subsample_for_task)
from sam_bench.data.sources import LocalSource
from sam_bench.data.subsample import LADDER, subsample_indices
from sam_bench.tasks import TASKS, get_task, load_training_pairs
from sam_bench.tasks.preflight import pin_problems


def test_one_manifest_per_dataset_and_every_task_has_one():
    files = {p.stem for p in (REPO / "data_manifests").glob("*.json")}
    assert files == set(CATALOG)
    for name in TASKS:
        task = get_task(name)
        m = load_manifest(task.dataset)
        assert name in m["tasks"]
        if task.tfds is not None:
            assert m["tfds"]["name"] == task.tfds.name and m["tfds"]["version"] == task.tfds.version
            assert m["tfds"]["needs_tensorflow"] == task.tfds.needs_tensorflow
        # the official files the task reads are listed
        listed = {f["path"] for f in m["files"]} | {v["path"] for v in m["variants"]}
        for split in task.splits:
            assert any(c in listed for c in task.candidates(split)), (name, split)
        if task.trains and "train" in m["splits"]:  # a training set of known size is pinned
            assert name in m["subsamples"]


@pytest.mark.parametrize("dataset", sorted(CATALOG))
def test_pinned_subsamples_are_nested_and_reproducible(dataset):
    m = load_manifest(dataset)
    for task_name, pins in m["subsamples"].items():
        n = pins["examples"]
        assert pins["ladder"] == list(LADDER)
        assert "0" in pins["seeds"]
        for seed, entry in pins["seeds"].items():
            levels = subsample.decode_levels(entry["levels"], n)
            previous = set()
            for j, rate in enumerate(LADDER):
                idx = np.flatnonzero(levels <= j)
                assert len(idx) == pins["counts"][j]
                assert subsample.indices_digest(idx) == entry["sha256"][j]
                assert previous <= set(idx.tolist())  # nested: 2% in 5% in ... in 80%
                previous = set(idx.tolist())
                if n <= 20_000:  # the generator still gives the pinned list
                    assert np.array_equal(idx, subsample_indices(n, rate, int(seed)))


def test_downloads_carry_tfds_checksums():
    for dataset in CATALOG:
        m = load_manifest(dataset)
        if m["tfds"] is None:
            continue
        for d in m["downloads"]:
            assert d["sha256"] and d["bytes"] and d["file"], (dataset, d["url"])


class _Task:
    """A stand-in task whose manifest is a temporary one."""

    def __init__(self, name, dataset):
        self.name, self.dataset = name, dataset


def _cb_manifest_dir(tmp_path):
    d = tmp_path / "manifests"
    d.mkdir()
    shutil.copy(REPO / "data_manifests" / "super_glue_cb.json", d)
    return d


def test_changed_dataset_is_refused_not_resampled(tmp_path):
    d = _cb_manifest_dir(tmp_path)
    task = _Task("cb", "super_glue_cb")
    pins = load_manifest("super_glue_cb", d)["subsamples"]["cb"]
    records = [{"i": i} for i in range(pins["examples"])]
    with pytest.raises(DatasetChangedError, match="differ from the recorded ones"):
        subsample_for_task(task, records, 0.05, 0, directory=d)
    with pytest.raises(DatasetChangedError, match="has 249 examples"):
        subsample_for_task(task, records[:-1], 0.05, 0, directory=d)
    # without recorded fingerprints only the size is checked; unpinned (rate, seed) are refused
    m = json.loads((d / "super_glue_cb.json").read_text())
    m["subsamples"]["cb"]["fingerprints"] = []
    (d / "super_glue_cb.json").write_text(json.dumps(m))
    clear_cache()
    idx, info = subsample_for_task(task, records, 0.05, 2, directory=d)
    assert info["policy"] == "manifest" and np.array_equal(idx, subsample_indices(250, 0.05, 2))
    with pytest.raises(SubsampleNotPinnedError, match="rate 0.35 is not pinned"):
        subsample_for_task(task, records, 0.35, 0, directory=d)
    with pytest.raises(SubsampleNotPinnedError, match="seed 9 is not pinned"):
        subsample_for_task(task, records, 0.05, 9, directory=d)
    # generated subsamples (synthetic data) need no manifest
    idx, info = subsample_for_task(task, records, 0.3, 0, policy="generate")
    assert info["policy"] == "generate" and np.array_equal(idx, subsample_indices(250, 0.3, 0))


@needs_real_data
def test_real_cells_use_the_pinned_lists_and_detect_changed_files(tmp_path):
    src = LocalSource(SHARED_DATA)
    pins = load_manifest("super_glue_cb")["subsamples"]["cb"]
    data = {r: load_training_pairs("cb", src, r, 1) for r in LADDER}
    for j, rate in enumerate(LADDER):
        info = data[rate].subsamples["cb"]
        assert info["policy"] == "manifest" and info["sha256"] == pins["seeds"]["1"]["sha256"][j]
        assert len(data[rate].pairs) == pins["counts"][j]
    # a changed record (same size) is detected
    root = tmp_path / "data"
    (root / "super_glue" / "CB").mkdir(parents=True)
    lines = (SHARED_DATA / "super_glue/CB/train.jsonl").read_text().splitlines(keepends=True)
    lines[7] = lines[7].replace('"label": "neutral"', '"label": "entailment"').replace(
        '"label": "contradiction"', '"label": "entailment"')
    lines[7] = lines[7].replace('"premise": "', '"premise": "X ')
    (root / "super_glue/CB/train.jsonl").write_text("".join(lines))
    with pytest.raises(DatasetChangedError, match="fingerprint"):
        load_training_pairs("cb", root, 0.05, 0)


def test_verify_names_missing_files_and_where_to_get_them(tmp_path):
    rows = verify(tmp_path, ["super_glue_cb", "glue_mrpc"])
    missing = {Path(r["path"]).relative_to(tmp_path).as_posix(): r for r in rows if r["status"] == "MISSING"}
    assert "super_glue/CB/train.jsonl" in missing
    msg = missing["super_glue/CB/train.jsonl"]["message"]
    assert "superglue/data/v2/CB.zip" in msg and "super_glue/cb:1.0.2" in msg
    assert "glue/MRPC/dev_ids.tsv" in missing


def test_verify_detects_an_official_file_that_differs(tmp_path):
    nq = tmp_path / "nq_open" / "NQ-open.dev.jsonl"
    nq.parent.mkdir(parents=True)
    nq.write_text('{"question": "q", "answer": ["a"]}\n')
    rows = [r for r in verify(tmp_path, ["natural_questions_open"]) if r["path"].endswith("NQ-open.dev.jsonl")]
    assert rows[0]["status"] == "DIFFERS" and "official file has f15567f38099" in rows[0]["message"]
    assert manifest_cli.main(["verify", "--root", str(tmp_path), "--dataset", "natural_questions_open"]) == 1


@needs_real_data
def test_verify_on_the_shared_data(capsys):
    rows = verify(SHARED_DATA)
    by = {(r["dataset"], Path(r["path"]).name): r["status"] for r in rows}
    assert by[("super_glue_cb", "train.jsonl")] == "OK"
    assert by[("natural_questions_open", "NQ-open.dev.jsonl")] == "OK"
    assert by[("glue_stsb", "train.tsv")] == "ALT"  # read from stsbenchmark/sts-train.csv
    assert by[("super_glue_boolq", "train.jsonl")] == "MISSING"
    assert by[("super_glue_boolq", "train32.jsonl")] == "VARIANT"
    assert not any(r["status"] in ("DIFFERS", "CHANGED") for r in rows)
    assert manifest_cli.main(["verify", "--root", str(SHARED_DATA), "--dataset", "super_glue_cb"]) == 0
    assert "summary:" in capsys.readouterr().out


@needs_real_data
def test_pin_rewrites_a_manifest_for_new_data(tmp_path, monkeypatch):
    d = _cb_manifest_dir(tmp_path)
    monkeypatch.setenv("SAM_BENCH_MANIFESTS", str(d))
    root = tmp_path / "data" / "super_glue" / "CB"
    root.mkdir(parents=True)
    lines = (SHARED_DATA / "super_glue/CB/train.jsonl").read_text().splitlines(keepends=True)[:100]
    (root / "train.jsonl").write_text("".join(lines))
    with pytest.raises(DatasetChangedError):
        load_training_pairs("cb", tmp_path / "data", 0.2, 0)
    assert manifest_cli.main(["pin", "super_glue_cb", "--root", str(tmp_path / "data"), "--seeds", "0", "4"]) == 0
    m = json.loads((d / "super_glue_cb.json").read_text())
    assert m["subsamples"]["cb"]["examples"] == 100 and sorted(m["subsamples"]["cb"]["seeds"]) == ["0", "4"]
    data = load_training_pairs("cb", tmp_path / "data", 0.2, 4)
    assert len(data.pairs) == 20 and data.subsamples["cb"]["policy"] == "manifest"


@needs_real_data
def test_manifests_are_up_to_date(tmp_path):
    """The committed manifests are what `build --shared ../shared/data` writes (modulo tfds's registry)."""
    for dataset in ("super_glue_cb", "super_glue_wsc", "glue_stsb", "natural_questions_open", "web_questions",
                    "tydi_qa_goldp", "xsum"):
        built = manifest_cli.build_manifest(dataset, SHARED_DATA)
        committed = {k: v for k, v in load_manifest(dataset).items() if not k.startswith("_")}
        assert json.loads(json.dumps(built)) == committed, dataset


def test_pin_problems_checks_a_cell_before_any_data_is_read():
    assert pin_problems("superglue", 0.05, 0) == []
    assert pin_problems("glue", 1.0, 17) == []
    problems = pin_problems("tiny_suite", 0.35, 0)
    assert len(problems) == 3 and "rate 0.35 is not pinned" in problems[0]
    assert any("seed 1 is not pinned" in p for p in pin_problems("glue", 0.05, 1))  # QQP/MNLI: seed 0 only
