"""Task registry: T5 text-to-text formats, loaders on real and malformed files, scoring."""

import dataclasses
import json
from pathlib import Path

import pytest

from sam_bench.tasks import (
    MIXTURES,
    TASKS,
    DataFormatError,
    get_mixture,
    get_task,
    load_eval_sets,
    load_training_pairs,
    task_names,
)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
needs_real_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"real benchmark files not present at {SHARED_DATA} (the ../shared checkout is absent)",
)


# ----------------------------------------------------------------- registry
def test_registry_names_and_errors():
    assert set(TASKS) == {"cb", "stsb", "natural_questions"}
    assert get_task("cb").benchmark == "superglue"
    assert get_task("stsb").benchmark == "glue"
    assert get_task("natural_questions").benchmark == "cbqa"
    with pytest.raises(ValueError, match="valid tasks"):
        get_task("boolq_typo")
    assert get_mixture("tiny_suite") == ["cb", "stsb", "natural_questions"]
    assert "tiny_suite" in MIXTURES
    with pytest.raises(ValueError, match="valid mixtures"):
        get_mixture("nope")
    assert task_names("stsb") == ["stsb"]
    assert task_names("tiny_suite") == ["cb", "stsb", "natural_questions"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_task("cb").name = "x"
    with pytest.raises(ValueError, match="valid splits"):
        get_task("cb").path("/tmp", "test")


def test_metric_names_match_paper_tables():
    assert get_task("cb").metric_names == ("accuracy", "f1")
    assert get_task("stsb").metric_names == ("pearson", "spearman")
    assert get_task("natural_questions").metric_names == ("em", "f1")


# ------------------------------------------------------------ preprocessing
def test_cb_preprocess_t5_format():
    ex = {"premise": "It rained.", "hypothesis": "the ground is wet", "label": "neutral", "idx": 3}
    assert get_task("cb").preprocess(ex) == {
        "inputs": "cb hypothesis: the ground is wet premise: It rained.",
        "targets": "neutral",
    }


@pytest.mark.parametrize(
    "score, target",
    [(5.0, "5.0"), (0.0, "0.0"), (3.8, "3.8"), (4.75, "4.8"), (4.5, "4.4"), (2.9, "2.8"), (1.25, "1.2"), (0.1, "0.0")],
)
def test_stsb_preprocess_rounds_to_point_two(score, target):
    # T5: round(label * 5) / 5 with round-half-to-even, printed "%.1f"
    ex = {"sentence1": "A man is dancing.", "sentence2": "A man dances.", "label": score, "idx": 0}
    out = get_task("stsb").preprocess(ex)
    assert out == {"inputs": "stsb sentence1: A man is dancing. sentence2: A man dances.", "targets": target}


def test_nq_preprocess_first_answer_is_target():
    ex = {"question": "who wrote hamlet", "answer": ["William Shakespeare", "Shakespeare"]}
    assert get_task("natural_questions").preprocess(ex) == {
        "inputs": "nq question: who wrote hamlet",
        "targets": "William Shakespeare",
    }


def test_postprocess():
    cb, stsb, nq = get_task("cb"), get_task("stsb"), get_task("natural_questions")
    assert [cb.postprocess(t) for t in ("entailment", "contradiction", "neutral", "maybe")] == [0, 1, 2, -1]
    assert stsb.postprocess("3.2") == pytest.approx(3.2)
    assert stsb.postprocess("three") == -1.0
    assert stsb.postprocess("nan") == -1.0
    assert nq.postprocess("Paris ") == "Paris "


def test_scores_on_toy_examples():
    cb = get_task("cb")
    exs = [{"premise": "p", "hypothesis": "h", "label": lab, "idx": i} for i, lab in
           enumerate(["entailment", "contradiction", "neutral", "entailment"])]
    s = cb.score(exs, ["entailment", "contradiction", "entailment", "garbage"])
    assert s["accuracy"] == pytest.approx(50.0)
    # per class F1: entailment 2*1/(2+1+1)=0.5, contradiction 1, neutral 0
    assert s["f1"] == pytest.approx(100 * (0.5 + 1 + 0) / 3)
    nq = get_task("natural_questions")
    s = nq.score([{"question": "q", "answer": ["the red house", "red"]}], ["Red House"])
    assert s == {"em": 100.0, "f1": 100.0}
    with pytest.raises(ValueError, match="predictions"):
        nq.score([{"question": "q", "answer": ["a"]}], [])


# ------------------------------------------------------------------ loaders
def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_missing_file_names_file_and_layout(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        get_task("cb").load(tmp_path, "validation")
    msg = str(err.value)
    assert str(tmp_path / "super_glue/CB/val.jsonl") in msg and "premise, hypothesis, label, idx" in msg


def test_malformed_jsonl_names_file_and_line(tmp_path):
    good = json.dumps({"premise": "p", "hypothesis": "h", "label": "neutral", "idx": 0})
    path = _write(tmp_path / "super_glue/CB/train.jsonl", good + "\n" + '{"premise": "p", "hyp\n')
    with pytest.raises(DataFormatError) as err:
        get_task("cb").load(tmp_path, "train")
    assert str(path) in str(err.value) and "line 2" in str(err.value)
    assert err.value.line == 2


def test_bad_label_names_file_line_and_field(tmp_path):
    rows = [{"premise": "p", "hypothesis": "h", "label": "neutral", "idx": 0},
            {"premise": "p", "hypothesis": "h", "label": "not_entailment", "idx": 1}]
    path = _write(tmp_path / "super_glue/CB/val.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataFormatError, match="line 2, field 'label'") as err:
        get_task("cb").load(tmp_path, "validation")
    assert str(path) in str(err.value) and "not_entailment" in str(err.value)


def test_bad_nq_and_sts_records(tmp_path):
    _write(tmp_path / "nq_open/NQ-open.dev.jsonl", '{"question": "q", "answer": "a"}\n')
    with pytest.raises(DataFormatError, match="line 1, field 'answer'"):
        get_task("natural_questions").load(tmp_path, "validation")
    _write(tmp_path / "stsbenchmark/sts-dev.csv",
           "g\tf\t2012\t0001\t4.0\ta\tb\ng\tf\t2012\t0002\tfive\ta\tb\n")
    with pytest.raises(DataFormatError, match="line 2, field 'score'"):
        get_task("stsb").load(tmp_path, "validation")
    _write(tmp_path / "stsbenchmark/sts-train.csv", "g\tf\t2012\t0001\t4.0\ta\n")
    with pytest.raises(DataFormatError, match="line 1: expected at least 7"):
        get_task("stsb").load(tmp_path, "train")


def test_sts_reader_raw_tabs_quotes_and_extra_fields(tmp_path):
    _write(tmp_path / "stsbenchmark/sts-dev.csv",
           'g\tf\t2012\t0001\t3.5\tHe said "hi.\tShe said, "hello"\textra\tfields\n')
    (ex,) = get_task("stsb").load(tmp_path, "validation")
    assert ex["sentence1"] == 'He said "hi.' and ex["sentence2"] == 'She said, "hello"'
    assert ex["label"] == 3.5


# --------------------------------------------------------------- real files
EXPECTED_REAL = [("cb", "train", 250), ("cb", "validation", 56), ("stsb", "train", 5749),
                 ("stsb", "validation", 1500), ("natural_questions", "validation", 3610)]


@needs_real_data
@pytest.mark.parametrize("task_name, split, n", EXPECTED_REAL)
def test_real_files_load_and_gold_scores_max(task_name, split, n):
    task = get_task(task_name)
    examples = task.load(SHARED_DATA, split)
    assert len(examples) == n
    gold = [task.preprocess(ex)["targets"] for ex in examples]
    scores = task.score(examples, gold)
    assert set(scores) == set(task.metric_names)
    for metric, value in scores.items():
        assert value == pytest.approx(100.0), (task_name, metric)


@needs_real_data
def test_real_nq_other_answers_also_score_max():
    task = get_task("natural_questions")
    examples = task.load(SHARED_DATA, "validation")
    assert task.score(examples, [ex["answer"][-1] for ex in examples]) == {"em": 100.0, "f1": 100.0}


# ----------------------------------------------------------------- mixtures
def _tiny_root(tmp_path: Path) -> Path:
    cb = [{"premise": f"p{i}", "hypothesis": f"h{i}", "label": ["entailment", "neutral"][i % 2], "idx": i}
          for i in range(20)]
    _write(tmp_path / "super_glue/CB/train.jsonl", "".join(json.dumps(r) + "\n" for r in cb))
    _write(tmp_path / "super_glue/CB/val.jsonl", "".join(json.dumps(r) + "\n" for r in cb[:4]))
    sts = "".join(f"g\tf\t2012\t{i:04d}\t{i % 6}.0\ts{i}\tt{i}\n" for i in range(40))
    _write(tmp_path / "stsbenchmark/sts-train.csv", sts)
    _write(tmp_path / "stsbenchmark/sts-dev.csv", sts)
    nq = "".join(json.dumps({"question": f"q{i}", "answer": [f"a{i}"]}) + "\n" for i in range(60))
    _write(tmp_path / "nq_open/NQ-open.train.jsonl", nq)
    _write(tmp_path / "nq_open/NQ-open.dev.jsonl", nq)
    return tmp_path


def test_mixture_is_proportional_concatenation(tmp_path):
    root = _tiny_root(tmp_path)
    full = load_training_pairs("tiny_suite", root)
    assert full.tasks == ("cb", "stsb", "natural_questions")
    assert [p["task_index"] for p in full.pairs] == [0] * 20 + [1] * 40 + [2] * 60
    assert full.pairs[0] == {"inputs": "cb hypothesis: h0 premise: p0", "targets": "entailment", "task_index": 0}
    half = load_training_pairs("tiny_suite", root, rate=0.5, subsample_seed=3)
    assert [len(half.indices[t]) for t in half.tasks] == [10, 20, 30]
    quarter = load_training_pairs("tiny_suite", root, rate=0.25, subsample_seed=3)
    for t in quarter.tasks:
        assert set(quarter.indices[t]) <= set(half.indices[t])
    assert half.fingerprints == full.fingerprints
    single = load_training_pairs("stsb", root)
    assert {p["task_index"] for p in single.pairs} == {0}
    evals = load_eval_sets("tiny_suite", root)
    assert [len(evals[t][0]) for t in ("cb", "stsb", "natural_questions")] == [4, 40, 60]
    assert evals["natural_questions"][1][0] == {"inputs": "nq question: q0", "targets": "a0", "task_index": 2}
