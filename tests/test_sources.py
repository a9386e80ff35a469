"""The three data sources give identical records: tfds (through the builders' own generators,
served from a small archive in the official release layout), local official files, synthetic."""

import json
import shutil
from pathlib import Path

import pytest

from sam_bench.data import sources
from sam_bench.data.fixtures import write_official_files
from sam_bench.data.sources import (
    LocalSource,
    SyntheticSource,
    TensorflowRequired,
    TfdsSource,
    make_source,
    source_for_root,
    tensorflow_available,
)
from sam_bench.tasks import MIXTURES, TASKS, get_task, load_eval_sets, load_training_pairs

pytest.importorskip("tensorflow_datasets", reason="tensorflow-datasets is not installed (the tfds source needs it)")

TFDS_CASES = [(name, split) for name in TASKS if get_task(name).tfds is not None
              for split, _ in get_task(name).tfds.splits]


# `official` (tests/conftest.py): a generated data root in the official layout and its release archives


@pytest.mark.parametrize("name, split", TFDS_CASES)
def test_tfds_and_local_give_the_same_records_in_the_same_order(official, name, split):
    root, _, tfds_source = official
    task = get_task(name)
    if task.tfds.needs_tensorflow and not tensorflow_available():
        with pytest.raises(TensorflowRequired, match="pip install tensorflow-cpu"):
            tfds_source.load(task, split)
        return
    from_tfds = tfds_source.load(task, split)
    from_local = LocalSource(root).load(task, split)
    assert len(from_tfds) == len(from_local) > 0
    assert from_tfds == from_local


def test_the_fixture_exercises_the_awkward_cases(official):
    root, archives, tfds_source = official
    # QQP: the corrupted row is skipped by both readers; XSUM: the missing article too
    assert len(LocalSource(root).load(get_task("qqp"), "train")) == 24
    # TyDiQA: the repeated id is one question with both answers
    en = LocalSource(root).load(get_task("tydiqa_en"), "train")
    assert len(en) == 24 and len(en[0]["answers"]) == 2
    # WSC: a span repaired by tfds's wsc.fixed
    wsc = LocalSource(root).load(get_task("wsc"), "train")
    assert wsc[0]["span1_text"][0].isupper() and not wsc[0]["span1_text"].endswith(".")
    # SuperGLUE and GLUE both publish RTE.zip: kept apart by the builder folder
    assert (archives / "super_glue" / "RTE.zip").exists() and (archives / "glue" / "RTE.zip").exists()


def test_tfds_missing_release_file_says_which(official, tmp_path):
    _, archives, _ = official
    partial = tmp_path / "archives"
    shutil.copytree(archives, partial)
    (partial / "super_glue" / "BoolQ.zip").unlink()
    with pytest.raises(FileNotFoundError, match=r"BoolQ\.zip") as err:
        TfdsSource(tmp_path / "tfds", archives=partial).load(get_task("boolq"), "train")
    assert "superglue/data/v2/BoolQ.zip" in str(err.value)


def test_tfds_version_mismatch_is_refused(official, monkeypatch, tmp_path):
    import dataclasses

    _, archives, _ = official
    task = get_task("cb")
    old = dataclasses.replace(task, source=dataclasses.replace(task.source, tfds=dataclasses.replace(task.tfds,
                                                                                                     version="0.0.1")))
    with pytest.raises(RuntimeError, match="checked against 0.0.1"):
        TfdsSource(tmp_path, archives=archives).load(old, "train")
    assert TfdsSource(tmp_path, archives=archives, check_version=False).load(old, "train")


def test_tfds_source_refuses_tasks_without_a_builder(official):
    with pytest.raises(ValueError, match="no tensorflow-datasets builder"):
        official[2].load(get_task("sst2_sentences"), "train")


def test_tfds_mixture_equals_local_mixture(official):
    root, archives, tfds_source = official
    kw = dict(rate=1.0)
    a = load_training_pairs("superglue", LocalSource(root, subsamples="generate"), **kw)
    b = load_training_pairs("superglue", TfdsSource(tfds_source.data_dir, archives=archives, subsamples="generate"), **kw)
    assert a.pairs == b.pairs and a.fingerprints == b.fingerprints
    ev_a, ev_b = load_eval_sets("glue", LocalSource(root)), load_eval_sets("glue", tfds_source)
    assert ev_a == ev_b


def test_synthetic_source_serves_every_task_and_mixture(tmp_path):
    src = SyntheticSource(tmp_path / "syn", seed=0)
    assert isinstance(source_for_root(tmp_path / "syn"), SyntheticSource)
    for name in list(MIXTURES) + ["wsc", "xsum", "sst2_sentences", "wnli"]:
        data = load_training_pairs(name, src, rate=0.2, subsample_seed=1)
        assert data.pairs and all(p["inputs"] and p["targets"] for p in data.pairs)
        assert all(v["policy"] == "generate" for v in data.subsamples.values())
        assert load_eval_sets(name, src)
    # the synthetic suite is read by the local readers: the same records
    cb = get_task("cb")
    assert LocalSource(tmp_path / "syn").load(cb, "train") == src.load(cb, "train")


def test_make_source_errors(tmp_path):
    assert isinstance(make_source("local", tmp_path), LocalSource)
    assert isinstance(make_source("tfds", tmp_path), TfdsSource)
    with pytest.raises(ValueError, match="valid: \\['local', 'tfds', 'synthetic'\\]"):
        make_source("hub", tmp_path)
    with pytest.raises(ValueError, match="needs the directory"):
        make_source("local")
    with pytest.raises(ValueError, match="subsamples"):
        LocalSource(tmp_path, subsamples="random")


def test_extract_archive_refuses_paths_outside(tmp_path):
    import zipfile

    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../evil.txt", "x")
    with pytest.raises(ValueError, match="outside"):
        sources.extract_archive(bad, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_extract_archive_tolerates_a_concurrent_extraction(tmp_path, monkeypatch):
    """Two cells (parallel Snakemake jobs) extracting one release zip: the one that finishes
    second uses the other's directory instead of failing on the rename."""
    import zipfile

    archive = tmp_path / "CB.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("CB/train.jsonl", "{}\n")
    dest = tmp_path / "out" / "CB.zip.extracted"
    real_extractall = zipfile.ZipFile.extractall

    def racing_extractall(self, path, *args, **kwargs):
        real_extractall(self, path, *args, **kwargs)
        if not dest.exists():  # the other job renames its copy into place first
            real_extractall(self, dest, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "extractall", racing_extractall)
    assert sources.extract_archive(archive, tmp_path / "out") == dest
    assert (dest / "CB" / "train.jsonl").read_text() == "{}\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["CB.zip.extracted"]  # no temporary left


def test_tfds_dry_run_names_only_the_release_files_a_split_reads(official, tmp_path):
    """`missing_release_files` runs the builder's split generators without extracting anything."""
    _, archives, _ = official
    partial = tmp_path / "archives"
    shutil.copytree(archives, partial)
    (partial / "tydiqa-goldp-v1.1-dev.tgz").unlink()
    (partial / "tydiqa-goldp-v1.1-dev.json").unlink()  # downloaded by the builder, read by no task split
    source = TfdsSource(tmp_path / "tfds", archives=partial)
    assert source.missing_release_files(get_task("tydiqa_en"), "train") == []
    (missing,) = source.missing_release_files(get_task("tydiqa_en"), "validation")
    assert missing.startswith("tydiqa-goldp-v1.1-dev.tgz (tfds downloads it from https://storage.googleapis.com/")
    assert source.missing_release_files(get_task("cb"), "train") == []
    assert not (tmp_path / "tfds").exists()
    assert TfdsSource(tmp_path / "tfds").missing_release_files(get_task("cb"), "train") == []  # online: unknowable


def test_axg_zip_variant_is_read_through_the_archive(tmp_path):
    import zipfile

    rows = [{"hypothesis": "h", "idx": i, "label": "entailment", "pair_id": i, "premise": f"p{i}"} for i in range(4)]
    path = tmp_path / "super_glue" / "AX-g" / "winogender_filtered.jsonl"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("WinoGender.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    recs = get_task("axg").load(tmp_path, "test")
    assert [r["premise"] for r in recs] == ["p0", "p1", "p2", "p3"] and "pair_id" not in recs[0]


def test_fixture_is_deterministic(tmp_path):
    a = write_official_files(tmp_path / "a", seed=5)
    b = write_official_files(tmp_path / "b", seed=5)
    files = sorted(p.relative_to(a) for p in Path(a).rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in Path(b).rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
