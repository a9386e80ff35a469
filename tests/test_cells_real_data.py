"""Fine-tuning cells end to end on real data sources, as a config names them.

* source local on the real benchmark files in ../shared/data: every task with both a training
  and an evaluation split there trains a cell (tiny T5.1.1, random init, the T5 vocabulary) whose
  rows carry the task's metrics and whose data section records the README's training-set sizes
  and the pinned subsample;
* source tfds on release archives (real CB/RTE/WSC zips packed from ../shared/data, and the
  generated fixture in every release format): the same cell on local files over the same data
  gives identical fingerprints and identical numbers;
* configs whose files are missing are refused by validation, before any compute, naming each
  missing file per task and where to get it.
"""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO, SHARED_DATA, T5_VOCAB
from sam_bench.config import expand_cells, validate_config
from sam_bench.data.pins import load_manifest
from sam_bench.data.sources import LocalSource, tensorflow_available
from sam_bench.data.subsample import LADDER, subsample_count
from sam_bench.errors import ConfigError
from sam_bench.tasks import MIXTURES, TASKS, get_task, task_names
from sam_bench.tasks.preflight import cell_splits, data_problems

needs_shared = pytest.mark.skipif(
    not (SHARED_DATA.is_dir() and T5_VOCAB.is_file()),
    reason=f"real benchmark files / T5 vocabulary not present at {SHARED_DATA.parent} (../shared is absent)")

#: training-set sizes as ../shared/data/README.md lists them (WebQuestions: trainmodel + val +
#: devtest = the official 3,778 train questions)
README_TRAIN_SIZES = {"cb": 250, "rte": 2490, "wsc": 554, "stsb": 5749, "sst2_sentences": 6920,
                      "web_questions": 2834 + 755 + 189, "tydiqa_en": 3696, "tydiqa_ko": 1625, "tydiqa_sw": 2755}
#: the range of each metric on the papers' 0-100 scale
METRIC_RANGE = {"accuracy": (0, 100), "f1": (0, 100), "em": (0, 100), "f1a": (0, 100), "gender_parity": (0, 100),
                "pearson": (-100, 100), "spearman": (-100, 100), "mcc": (-100, 100),
                **{m: (0, 100) for m in ("rouge1", "rouge2", "rougeL", "rougeLsum")}}
STEPS = 3


@pytest.fixture(scope="module", autouse=True)
def compilation_cache(tmp_path_factory):
    """Cells of one shape share compiled programs, as the workflow's jobs do (~5 s a cell)."""
    import jax
    from jax.experimental.compilation_cache import compilation_cache as cc

    from sam_bench.runtime import enable_compilation_cache

    keys = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
            "jax_persistent_cache_min_entry_size_bytes")
    before = {k: getattr(jax.config, k) for k in keys}
    enable_compilation_cache(tmp_path_factory.mktemp("jax_cache"))
    yield
    for k, v in before.items():
        jax.config.update(k, v)
    cc.reset_cache()


def make_config(tmp_path, data: dict, tasks, *, rate: float, vocab, eval_batch_size=512) -> dict:
    return {
        "experiment": "real-data", "results_dir": str(tmp_path / "results"), "data": data,
        "pretrain": {"model": "t5.1.1-tiny"},
        "finetune": {"steps": STEPS, "batch_size": 8, "eval_every": STEPS, "eval_batch_size": eval_batch_size,
                     "max_input_length": 64, "max_target_length": 8, "vocab": str(vocab)},
        "grids": [{"name": "g", "model": ["t5.1.1-tiny"], "init": ["random"], "task": list(tasks),
                   "subsample_rate": [rate], "optimizer": ["adafactor(lr=1e-3)"], "seed": [0]}],
    }


def run(tmp_path, config: dict, name: str) -> dict:
    from sam_bench.train.finetune import run_cell

    (cell,) = expand_cells(validate_config(config))  # what `sam-bench validate` / the workflow accept
    return run_cell(cell, tmp_path / name, progress=False)


def check_rows(result: dict, source: str) -> None:
    """One row per (task, metric) of the cell's tasks, each finite and in the metric's range."""
    cell = result["cell"]
    expected = {(t, m) for t in task_names(cell["task"]) for m in get_task(t).metric_names}
    assert {(r["task"], r["metric"]) for r in result["rows"]} == expected
    assert len(result["rows"]) == len(expected)
    for r in result["rows"]:
        lo, hi = METRIC_RANGE[r["metric"]]
        assert math.isfinite(r["value"]) and lo <= r["value"] <= hi, r
        assert r["source"] == source and r["split"] == get_task(r["task"]).paper_split and r["step"] == STEPS
    assert math.isfinite(result["timing"]["final_train_loss"]) and result["timing"]["final_train_loss"] > 0


def numbers(result: dict) -> dict:
    """What a cell computed, without what names its source."""
    data = result["data"]
    return {
        "rows": [{k: v for k, v in r.items() if k not in ("cell_id", "source")} for r in result["rows"]],
        "curve": result["curve"], "losses": result["timing"]["final_train_loss"],
        "train_examples": result["timing"]["train_examples"],
        "data": {k: data[k] for k in ("train_examples", "full_sizes", "fingerprints")},
        "subsample_sha256": {t: s["sha256"] for t, s in data["subsamples"].items()},
    }


# ------------------------------------------------------- a. local: ../shared/data
@needs_shared
def test_the_tasks_with_train_and_eval_files_in_shared_are_the_readme_ones():
    runnable = sorted(t for t in TASKS if get_task(t).trains and not data_problems(
        t, {"source": "local", "root": str(SHARED_DATA)}))
    assert runnable == sorted(README_TRAIN_SIZES)


@needs_shared
@pytest.mark.parametrize("task_name", sorted(README_TRAIN_SIZES))
def test_cell_on_official_local_files(tmp_path, task_name):
    rate = 0.05  # a pinned rung of the ladder: the manifest's index list is used and checked
    data_cfg = {"source": "local", "root": str(SHARED_DATA)}
    result = run(tmp_path, make_config(tmp_path, data_cfg, [task_name], rate=rate, vocab=T5_VOCAB), "cell")
    check_rows(result, "local")

    task, n = get_task(task_name), README_TRAIN_SIZES[task_name]
    data = result["data"]
    assert data["source"] == f"local:{SHARED_DATA}"
    assert data["full_sizes"] == {task_name: n}
    assert data["train_examples"] == {task_name: subsample_count(n, rate)}
    pins = load_manifest(task.dataset)["subsamples"][task_name]
    provenance = data["subsamples"][task_name]
    assert provenance["policy"] == "manifest" and provenance["manifest"] == f"data_manifests/{task.dataset}.json"
    assert provenance["sha256"] == pins["seeds"]["0"]["sha256"][LADDER.index(rate)]
    recorded = [f["sha256"] for f in pins["fingerprints"]]
    assert not recorded or data["fingerprints"][task_name] in recorded
    # the training set trains: one pair per kept example (WSC: only the true referents)
    assert 0 < result["timing"]["train_examples"] <= subsample_count(n, rate)


# ----------------------------------------------- b. tfds = local, in one cell
def _same_cell_on_both_sources(tmp_path, tasks, local: dict, tfds: dict, **kw):
    a = run(tmp_path, make_config(tmp_path, local, tasks, **kw), "local")
    b = run(tmp_path, make_config(tmp_path, tfds, tasks, **kw), "tfds")
    check_rows(a, "local")
    check_rows(b, "tfds")
    assert a["data"]["source"].startswith("local:") and b["data"]["source"].startswith("tfds:")
    assert a["cell"]["cell_id"] != b["cell"]["cell_id"]  # two cells, not one reused
    assert numbers(a) == numbers(b)
    return a, b


@needs_shared
def test_real_superglue_files_through_tfds_builders_equal_local_files(tmp_path):
    """CB, RTE and WSC (the SuperGLUE tasks with full train sets here) packed into their release
    zips: tfds's own builders (WSC: its wsc.fixed span repair) give the records the manifest
    pinned from the local files, and the cells compute the same numbers."""
    from sam_bench.data.fixtures import write_release_archives

    root = tmp_path / "root" / "super_glue"
    for folder in ("CB", "RTE", "WSC"):  # a view of the shared files, not a copy
        (root / folder).mkdir(parents=True)
        for f in (SHARED_DATA / "super_glue" / folder).glob("*.jsonl"):
            os.symlink(f, root / folder / f.name)
    archives = write_release_archives(tmp_path / "root", tmp_path / "archives")
    assert sorted(p.name for p in (archives / "super_glue").iterdir()) == ["CB.zip", "RTE.zip", "WSC.zip"]
    for task_name in ("cb", "wsc"):
        a, b = _same_cell_on_both_sources(
            tmp_path / task_name, [task_name], {"source": "local", "root": str(SHARED_DATA)},
            {"source": "tfds", "root": str(tmp_path / "tfds"), "archives": str(archives)}, rate=0.2, vocab=T5_VOCAB)
        pins = load_manifest(get_task(task_name).dataset)["subsamples"][task_name]
        assert b["data"]["fingerprints"][task_name] in [f["sha256"] for f in pins["fingerprints"]]
        assert b["data"]["subsamples"][task_name]["policy"] == "manifest"
    # the records came out of the builder's extraction of the release zip
    assert (tmp_path / "tfds" / "downloads" / "extracted" / "super_glue" / "CB.zip.extracted" / "CB").is_dir()


@pytest.fixture(scope="module")
def fixture_vocab(official, tmp_path_factory):
    """A SentencePiece vocabulary of the generated fixture's text (so these cells need no ../shared)."""
    from sam_bench.data.tokenizer import train_sentencepiece

    root = official[0]
    corpus = tmp_path_factory.mktemp("vocab") / "corpus.txt"
    lines = []
    for name in sorted(set(MIXTURES["superglue"]) | set(MIXTURES["glue"])):
        task = get_task(name)
        for split in cell_splits(task):
            for ex in LocalSource(root).load(task, split):
                lines += [task.preprocess(ex)["inputs"], task.preprocess(ex)["targets"]]
    corpus.write_text("\n".join(lines) + "\n")
    return train_sentencepiece(corpus, corpus.with_name("spm"), 400)


@pytest.mark.parametrize("mixture", ["superglue", "glue"])
def test_mixture_cell_on_tfds_equals_local(tmp_path, official, fixture_vocab, mixture):
    """The papers' SuperGLUE and GLUE mixtures (evaluation-only AX-b/AX-g and MNLI-mismatched
    included) as one cell each, from the tfds builders and from the same files laid out locally."""
    pytest.importorskip("tensorflow_datasets", reason="the tfds source needs tensorflow-datasets")
    root, archives, _ = official
    local = {"source": "local", "root": str(root), "subsamples": "generate"}
    tfds = {"source": "tfds", "root": str(tmp_path / "tfds"), "archives": str(archives), "subsamples": "generate"}
    # a handful of evaluation examples per task: small batches, not 512 rows of padding each
    a, _ = _same_cell_on_both_sources(tmp_path, [mixture], local, tfds, rate=0.5, vocab=fixture_vocab,
                                      eval_batch_size=16)
    trained = [t for t in MIXTURES[mixture] if get_task(t).trains]
    assert sorted(a["data"]["full_sizes"]) == sorted(trained)
    assert all(a["data"]["train_examples"][t] == subsample_count(a["data"]["full_sizes"][t], 0.5) for t in trained)


@pytest.mark.parametrize("name", ["cbqa", "tydiqa", "mnli", "xsum"])
def test_generation_mixtures_and_xsum_cells_on_official_layout(tmp_path, official, fixture_vocab, name):
    """The closed-book QA, TyDiQA and MNLI mixtures and XSUM as cells on files in the official
    layout (their real files are not in ../shared), scored by their own metrics."""
    local = {"source": "local", "root": str(official[0]), "subsamples": "generate"}
    result = run(tmp_path, make_config(tmp_path, local, [name], rate=1.0, vocab=fixture_vocab, eval_batch_size=16),
                 name)
    check_rows(result, "local")


# --------------------------------------------------- c. refused before compute
def _config(data: dict, tasks) -> dict:
    return make_config(Path("unused"), data, tasks, rate=1.0, vocab="unused.model")


@needs_shared
@pytest.mark.parametrize("mixture", sorted(MIXTURES))
def test_mixtures_missing_files_in_shared_are_refused_naming_each(mixture):
    """Every registered mixture lacks files in ../shared/data; validation names exactly the
    (task, file) pairs the loaders would fail on, with the manifest that says where to get them."""
    missing = {}
    for t in task_names(mixture):
        task = get_task(t)
        for split in cell_splits(task):
            try:
                task.load(SHARED_DATA, split)
            except FileNotFoundError:
                missing.setdefault(t, []).append(task.candidates(split)[0])
    assert missing, f"{mixture} would run on ../shared/data: turn this refusal test into a cell test"
    with pytest.raises(ConfigError) as err:
        validate_config(_config({"source": "local", "root": str(SHARED_DATA)}, [mixture]))
    lines = [ln.strip() for ln in str(err.value).splitlines()[1:]]
    named = {ln.split(": ", 2)[1] for ln in lines}  # "grids[0].task[0]: <task>: missing ..."
    assert named == set(missing)
    for t, files in missing.items():
        (line,) = [ln for ln in lines if ln.split(": ", 2)[1] == t]
        assert all(f in line for f in files), (t, files, line)
        assert f"data_manifests/{get_task(t).dataset}.json" in line and "Get it:" in line


@needs_shared
def test_boolq_on_shared_is_refused_with_where_to_get_it(tmp_path):
    config = _config({"source": "local", "root": str(SHARED_DATA)}, ["boolq", "cb"])
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    message = str(err.value)
    assert message.count("\n") == 1, message  # one problem: BoolQ's train file; CB is complete
    for fragment in ("grids[0].task[0]: boolq: missing", "super_glue/BoolQ/train.jsonl (train split",
                     "super_glue/BoolQ/train32.jsonl", "https://dl.fbaipublicfiles.com/glue/superglue/data/v2/BoolQ.zip",
                     "super_glue/boolq:1.0.2", "data_manifests/super_glue_boolq.json"):
        assert fragment in message, fragment
    # the command line says the same and exits 2 without starting anything
    path = tmp_path / "boolq.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cli = subprocess.run([sys.executable, "-m", "sam_bench.cli", "validate", str(path)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert cli.returncode == 2 and "super_glue/BoolQ/train.jsonl" in cli.stderr


@needs_shared
def test_workflow_refuses_the_config_before_any_job(tmp_path):
    config = _config({"source": "local", "root": str(SHARED_DATA)}, ["tiny_suite"])
    config["results_dir"] = str(tmp_path / "results")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    dry = subprocess.run([str(bindir / "snakemake"), "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path),
                          "--configfile", str(tmp_path / "config.yaml"), "-n", "--cores", "1"],
                         capture_output=True, text=True, env=env, cwd=REPO)
    assert dry.returncode != 0
    assert "natural_questions: missing" in dry.stderr and "nq_open/NQ-open.train.jsonl" in dry.stderr
    assert not (tmp_path / "results").exists()


def test_local_preflight_agrees_with_the_loaders(official, tmp_path):
    """Remove files from a complete official-layout root: the pre-flight names exactly what the
    loaders then fail on (a split's file, or a companion the reader opens with it)."""
    root = tmp_path / "root"
    shutil.copytree(official[0], root)
    (root / "super_glue" / "BoolQ" / "train.jsonl").unlink()
    (root / "glue" / "MRPC" / "dev_ids.tsv").unlink()  # train and dev are both cut by it
    shutil.rmtree(root / "xsum" / "xsum-extracts-from-downloads")
    wq = root / "web_questions"  # the re-packaged layout: trainmodel.json needs val.json and devtest.json
    for f in wq.iterdir():
        f.unlink()
    (wq / "trainmodel.json").write_text(json.dumps([{"qId": "wqr000000", "qText": "q?", "answers": ["a"]}]))
    (wq / "test.json").write_text(json.dumps([{"qId": "wqs000000", "qText": "q?", "answers": ["a"]}]))
    expected = {"boolq": ["super_glue/BoolQ/train.jsonl"], "mrpc": ["glue/MRPC/dev_ids.tsv"],
                "xsum": ["xsum/xsum-extracts-from-downloads or xsum/xsum-extracts-from-downloads.tar.gz"],
                "web_questions": ["web_questions/val.json", "web_questions/devtest.json"]}
    for name in TASKS:
        task = get_task(name)
        problems = data_problems(name, {"source": "local", "root": str(root)})
        failing = []
        for split in cell_splits(task):
            try:
                task.load(root, split)
            except FileNotFoundError:
                failing.append(split)
        assert bool(problems) == bool(failing) == (name in expected), (name, problems, failing)
        for rel in expected.get(name, []):
            assert rel in problems[0]
    assert "read together with glue/MRPC/msr_paraphrase_train.txt" in data_problems("mrpc", {"source": "local",
                                                                                              "root": str(root)})[0]


def test_tfds_preflight_names_missing_release_files(official, tmp_path):
    pytest.importorskip("tensorflow_datasets", reason="the tfds source needs tensorflow-datasets")
    archives = tmp_path / "archives"
    shutil.copytree(official[1], archives)
    (archives / "super_glue" / "BoolQ.zip").unlink()
    (archives / "tydiqa-goldp-v1.1-dev.tgz").unlink()
    data = {"source": "tfds", "root": str(tmp_path / "tfds"), "archives": str(archives)}
    with pytest.raises(ConfigError) as err:
        validate_config(_config(data, ["superglue", "tydiqa_en", "sst2_sentences", "cb"]))
    lines = str(err.value).splitlines()[1:]
    assert len(lines) == 3, lines
    assert "grids[0].task[0]: boolq: missing release file BoolQ.zip" in lines[0]
    assert "https://dl.fbaipublicfiles.com/glue/superglue/data/v2/BoolQ.zip" in lines[0]
    # only the evaluation split reads the per-language dev archive
    assert "tydiqa-goldp-v1.1-dev.tgz" in lines[1] and "for the validation split" in lines[1]
    assert "sst2_sentences: has no tensorflow-datasets builder; use source local" in lines[2]
    assert not (tmp_path / "tfds").exists()  # nothing downloaded or extracted by the check
    if not tensorflow_available():
        with pytest.raises(ConfigError, match="trivia_qa: the tfds builder .* needs TensorFlow"):
            validate_config(_config(data, ["trivia_qa"]))


@needs_shared
def test_random_init_takes_the_named_vocabulary_beside_a_workflow_model(tmp_path):
    """`init: random` with `finetune.vocab` uses that vocabulary (the T5 one here), its embedding
    widened to fit, also when the workflow has pretrained a model of the same name (whose own
    vocabulary was used, and `finetune.vocab` silently ignored, before)."""
    from sam_bench.io import write_json_atomic
    from sam_bench.train.finetune import load_model, pretrain_dir

    (cell,) = expand_cells(validate_config(make_config(
        tmp_path, {"source": "local", "root": str(SHARED_DATA)}, ["cb"], rate=1.0, vocab=T5_VOCAB)))
    write_json_atomic(pretrain_dir(cell) / "pretrain.json", {"model": "t5.1.1-tiny", "vocab_file": "absent.model",
                                                              "model_config": {}})
    _, params, vocab, config = load_model(cell)
    assert vocab.vocab_size == 32100 and config.vocab_size == 32128  # T5 pads 32,100 ids to 32,128 rows
    assert params["shared"]["embedding"].shape == (32128, config.d_model)
