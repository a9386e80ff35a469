"""Task registry: T5 text-to-text formats, loaders on real and malformed files, scoring."""

import dataclasses
import json
import re
from pathlib import Path

import pytest

from helpers import SHARED_DATA, T5_VOCAB, needs_real_data
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



# ----------------------------------------------------------------- registry
ALL_TASKS = {
    "boolq", "cb", "copa", "multirc", "record", "rte", "wic", "wsc", "axb", "axg",
    "cola", "sst2", "mrpc", "stsb", "qqp", "mnli_m", "mnli_mm", "qnli", "glue_rte", "wnli", "sst2_sentences",
    "natural_questions", "web_questions", "trivia_qa",
    "tydiqa_en", "tydiqa_ar", "tydiqa_bn", "tydiqa_fi", "tydiqa_id", "tydiqa_ko", "tydiqa_ru", "tydiqa_sw",
    "tydiqa_te", "xsum", "conll2014",
}


def test_registry_names_and_errors():
    assert set(TASKS) == ALL_TASKS
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
        get_task("cb").path("/tmp", "dev")


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
    from sam_bench.data.sources import LocalSource

    root = LocalSource(_tiny_root(tmp_path), subsamples="generate")  # made-up data: no pinned subsamples
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


def test_mixtures_of_the_papers():
    assert get_mixture("superglue") == ["boolq", "cb", "copa", "multirc", "record", "rte", "wic", "wsc", "axb", "axg"]
    assert get_mixture("glue") == ["cola", "sst2", "mrpc", "stsb", "qqp", "mnli_m", "mnli_mm", "qnli", "glue_rte"]
    assert get_mixture("cbqa") == ["natural_questions", "web_questions", "trivia_qa"]
    assert get_mixture("tydiqa") == [f"tydiqa_{x}" for x in ("en", "ar", "bn", "fi", "id", "ko", "ru", "sw", "te")]
    assert {n for n in MIXTURES} >= {"tiny_suite", "superglue", "glue", "cbqa", "tydiqa", "mnli"}
    for name in MIXTURES:
        for t in get_mixture(name):
            assert t in TASKS
    # evaluation-only tasks contribute no training data
    assert [t for t in TASKS if not get_task(t).trains] == ["axb", "axg", "mnli_mm"]


def test_eval_only_tasks_and_eval_splits(tmp_path):
    from sam_bench.data.fixtures import write_official_files
    from sam_bench.data.sources import LocalSource

    src = LocalSource(write_official_files(tmp_path), subsamples="generate")
    with pytest.raises(ValueError, match="evaluation-only"):
        load_training_pairs("axb", src)
    mix = load_training_pairs("mnli", src)
    assert mix.tasks == ("mnli_m", "mnli_mm") and set(mix.indices) == {"mnli_m"}
    assert {p["task_index"] for p in mix.pairs} == {0}
    evals = load_eval_sets("superglue", src)
    assert len(evals["axb"][0]) == 8 and evals["axb"][1][0]["task_index"] == 8
    wq = load_eval_sets("web_questions", src)  # its evaluation split is the official test set
    assert get_task("web_questions").eval_split == "test" and len(wq["web_questions"][0]) == 6
    assert len(load_eval_sets("cb", src, split="test")["cb"][0]) == 6


# ------------------------------------------------------- T5 text-to-text forms
T5_FORMS = [
    ("boolq", {"question": "is it wet", "passage": "Rain -- It rains.", "idx": 0, "label": "True"},
     "boolq passage: Rain -- It rains. question: is it wet", "True"),
    ("copa", {"premise": "I ran.", "choice1": "I fell.", "choice2": "I won.", "question": "effect", "idx": 0,
              "label": "choice2"},
     "copa choice1: I fell. choice2: I won. premise: I ran. question: effect", "choice2"),
    ("multirc", {"paragraph": "<b>Sent 1: </b>A b.<br>", "question": "Q?", "answer": "Yes",
                 "idx": {"paragraph": 0, "question": 0, "answer": 0}, "label": "False"},
     "multirc question: Q? answer: Yes paragraph: Sent 1: A b. ", "False"),
    ("rte", {"premise": "P.", "hypothesis": "H.", "idx": 0, "label": "not_entailment"},
     "rte hypothesis: H. premise: P.", "not_entailment"),
    ("wic", {"word": "bank", "sentence1": "S1.", "sentence2": "S2.", "start1": 0, "start2": 0, "end1": 1, "end2": 1,
             "idx": 0, "label": "False"}, "wic sentence1: S1. sentence2: S2. word: bank", "False"),
    ("axb", {"sentence1": "A.", "sentence2": "B.", "idx": 0, "label": "entailment"},
     "rte hypothesis: B. premise: A.", "entailment"),
    ("axg", {"premise": "A.", "hypothesis": "B.", "idx": 0, "label": "entailment"},
     "rte hypothesis: B. premise: A.", "entailment"),
    ("cola", {"sentence": "Him went.", "idx": 0, "label": "unacceptable"}, "cola sentence: Him went.", "unacceptable"),
    ("sst2", {"sentence": "great fun", "idx": 0, "label": "positive"}, "sst2 sentence: great fun", "positive"),
    ("mrpc", {"sentence1": "A.", "sentence2": "B.", "idx": 0, "label": "equivalent"},
     "mrpc sentence1: A. sentence2: B.", "equivalent"),
    ("qqp", {"question1": "A?", "question2": "B?", "idx": 0, "label": "duplicate"},
     "qqp question1: A? question2: B?", "duplicate"),
    ("mnli_m", {"premise": "P.", "hypothesis": "H.", "idx": 0, "label": "neutral"},
     "mnli hypothesis: H. premise: P.", "neutral"),
    ("mnli_mm", {"premise": "P.", "hypothesis": "H.", "idx": 0, "label": None}, "mnli hypothesis: H. premise: P.", "<unk>"),
    ("qnli", {"question": "Q?", "sentence": "S.", "idx": 0, "label": "entailment"},
     "qnli question: Q? sentence: S.", "entailment"),
    ("glue_rte", {"sentence1": "A.", "sentence2": "B.", "idx": 0, "label": "entailment"},
     "rte sentence1: A. sentence2: B.", "entailment"),
    ("wnli", {"sentence1": "A.", "sentence2": "B.", "idx": 0, "label": "entailment"},
     "wnli sentence1: A. sentence2: B.", "entailment"),
    ("web_questions", {"question": "who is x?", "answers": ["Y", "Z"]}, "wq question: who is x?", "Y"),
    ("trivia_qa", {"question": "Who?", "question_id": "q1", "answer": "Bob", "aliases": ["Bob", "Robert"]},
     "trivia_qa question: Who?", "Bob"),
    ("xsum", {"id": "1", "document": "Long text.", "summary": "Short."}, "summarize: Long text.", "Short."),
]


@pytest.mark.parametrize("name, example, inputs, targets", T5_FORMS)
def test_t5_text_to_text_forms(name, example, inputs, targets):
    assert get_task(name).preprocess(example) == {"inputs": inputs, "targets": targets}


def test_record_format_and_one_training_pair_per_answer():
    ex = {"passage": "Ann met Bo.\n@highlight\nBo left\n@highlight\nAnn smiled", "query": "@placeholder smiled",
          "entities": ["Ann", "Bo"], "answers": ["Ann", "Ann B."], "idx": {"passage": 0, "query": 0}}
    task = get_task("record")
    pair = task.preprocess(ex)
    assert pair == {"inputs": "record query: @placeholder smiled entities: Ann, Bo passage: Ann met Bo. Bo left. "
                              "Ann smiled", "targets": "Ann"}
    assert [p["targets"] for p in task.training_pairs(ex)] == ["Ann", "Ann B."]
    assert task.score([ex], ["ann b"]) == {"em": 100.0, "f1": 100.0}  # max over the answers


def test_wsc_simple_format_training_filter_and_referent_match():
    task = get_task("wsc")
    ex = {"text": "Mark told Pete lies about himself , which he wrote down .", "span1_index": 2, "span2_index": 8,
          "span1_text": "Pete", "span2_text": "he", "idx": 3, "label": "True"}
    assert task.preprocess(ex) == {"inputs": "wsc: Mark told Pete lies about himself , which *he* wrote down .",
                                   "targets": "Pete"}
    assert task.training_pairs(ex) == [task.preprocess(ex)]
    assert task.training_pairs(dict(ex, label="False")) == []
    # T5's wsc_simple: determiners and case ignored, subset either way, apostrophes must agree
    assert [task.postprocess(p, ex) for p in ("the pete", "Pete Smith", "Mark", "Pete's")] == [1, 1, 0, 0]
    exs = [ex, dict(ex, label="False")]
    assert task.score(exs, ["Pete", "Mark"]) == {"accuracy": 100.0}
    assert task.score(exs, ["Pete", "Pete"]) == {"accuracy": 50.0}


def test_wsc_fixed_span_repair_matches_tfds():
    from sam_bench.tasks.superglue_records import fix_wsc_spans

    ex = {"text": "Mark told Pete lies .", "span1_index": 0, "span2_index": 2, "span1_text": "mark.", "span2_text": "Pete"}
    assert fix_wsc_spans(ex)["span1_text"] == "Mark"
    with pytest.raises(DataFormatError, match="span1_text"):
        fix_wsc_spans(dict(ex, span1_text="Zed"))


def test_tydiqa_pads_punctuation_like_mt5():
    task = get_task("tydiqa_fi")
    ex = {"id": "finnish-1-0", "title": "T", "context": "Helsinki (pääkaupunki) on 1550.", "question": "Mikä on?",
          "answers": ["Helsinki (pääkaupunki)"], "answer_starts": [0]}
    assert task.preprocess(ex) == {"inputs": "question: Mikä on ? context: Helsinki ( pääkaupunki ) on 1550 . ",
                                   "targets": "Helsinki ( pääkaupunki ) "}
    assert task.score([ex], ["Helsinki (pääkaupunki)"]) == {"em": 100.0, "f1": 100.0}


def test_stsb_and_classification_postprocessing():
    assert get_task("mrpc").postprocess("equivalent") == 1
    assert get_task("mrpc").postprocess(" not_equivalent ") == 0
    assert get_task("mnli_m").postprocess("maybe") == -1
    mrpc = get_task("mrpc")
    exs = [{"sentence1": "a", "sentence2": "b", "idx": i, "label": lab}
           for i, lab in enumerate(["equivalent", "not_equivalent", "equivalent", "equivalent"])]
    s = mrpc.score(exs, ["equivalent", "equivalent", "garbage", "equivalent"])
    # garbage on a positive counts as a negative prediction (T5's f1_score_with_invalid)
    assert s == {"f1": pytest.approx(100 * 2 * 2 / (2 * 2 + 1 + 1)), "accuracy": 50.0}


def test_unlabeled_split_cannot_be_scored():
    from sam_bench.tasks import UnlabeledSplitError

    ex = {"premise": "p", "hypothesis": "h", "idx": 0, "label": None}
    assert get_task("cb").preprocess(ex)["targets"] == "<unk>"
    with pytest.raises(UnlabeledSplitError, match="no label"):
        get_task("cb").score([ex], ["neutral"])


# ---------------------------------------------------------------- encoder forms
def test_encoder_forms_score_like_the_text_to_text_form(tmp_path):
    from sam_bench.data.fixtures import write_official_files

    root = write_official_files(tmp_path)
    kinds = {}
    for name in TASKS:
        task = get_task(name)
        if task.encoder is None:
            assert task.benchmark in ("cbqa", "tydiqa", "summarization", "gec"), name
            with pytest.raises(ValueError, match="generation task"):
                task.encoder_example({})
            continue
        split = "validation" if "validation" in task.splits else task.eval_split
        exs = task.load(root, split)
        forms = [task.encoder_example(e) for e in exs]
        kinds[name] = task.encoder.kind
        if task.encoder.kind == "multiple_choice":
            gold = [f["label"][0] if isinstance(f["label"], list) else f["label"] for f in forms]
            assert all(len(f["choices"]) >= 2 for f in forms)
        else:
            gold = [f["label"] for f in forms]
            assert all(isinstance(f["text_a"], str) for f in forms)
        scores = task.score_encoder(exs, gold)
        assert all(v == pytest.approx(100.0) for v in scores.values()), (name, scores)
    assert kinds["stsb"] == "regression" and kinds["copa"] == "multiple_choice" and kinds["cb"] == "classification"
    assert get_task("cb").encoder.num_labels == 3 and get_task("stsb").encoder.num_labels == 1


# ------------------------------------------------------------------ bad data
def _jsonl_lines(*objs) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs)


BAD_DATA = [
    ("boolq", "super_glue/BoolQ/val.jsonl",
     _jsonl_lines({"question": "q", "passage": "p", "idx": 0, "label": True},
                  {"question": "q", "passage": "p", "idx": 1, "label": "maybe"}),
     "line 2, field 'label'"),
    ("copa", "super_glue/COPA/val.jsonl",
     _jsonl_lines({"premise": "p", "choice1": "a", "choice2": "b", "question": "effect", "idx": 0, "label": 2}),
     "line 1, field 'label'"),
    ("copa", "super_glue/COPA/val.jsonl",
     _jsonl_lines({"premise": "p", "choice1": "a", "choice2": "b", "question": "why", "idx": 0, "label": 0}),
     "line 1, field 'question'"),
    ("rte", "super_glue/RTE/val.jsonl",
     _jsonl_lines({"premise": "p", "hypothesis": "h", "idx": 0, "label": "entailment"}, '{"premise": "p", "hyp'),
     "line 2: invalid JSON"),
    ("wic", "super_glue/WiC/val.jsonl",
     _jsonl_lines({"word": "w", "sentence1": "a", "sentence2": "b", "start1": "0", "start2": 0, "end1": 1, "end2": 1,
                   "idx": 0, "label": False}),
     "line 1, field 'start1'"),
    ("multirc", "super_glue/MultiRC/val.jsonl",
     _jsonl_lines({"idx": 0, "passage": {"text": "t", "questions": [{"question": "q", "idx": 0, "answers": [
         {"text": "a", "idx": 0, "label": 3}]}]}}),
     "line 1, field 'label'"),
    ("cola", "glue/CoLA/dev.tsv", "gj04\t1\t\tGood.\ngj04\t7\t*\tBad.\n", "line 2, field 'label'"),
    ("mnli_m", "glue/MNLI/dev_matched.tsv", "index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tmaybe\n",
     "line 2, field 'gold_label'"),
    ("qnli", "glue/QNLI/dev.tsv", "index\tquestion\tlabel\n0\tq\tentailment\n", "line 1: header lacks column"),
    ("stsb", "glue/STS-B/dev.tsv", "index\tsentence1\tsentence2\tscore\n0\ta\tb\t7.5\n", "line 2, field 'score'"),
    ("web_questions", "web_questions/webquestions.examples.test.json",
     json.dumps([{"url": "u", "targetValue": "(list)", "utterance": "q?"}]), "record [0], field 'targetValue'"),
    ("tydiqa_en", "tydiqa_goldp/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-english.json",
     json.dumps({"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [{"id": "english-1", "answers": []}]}]}]}),
     "record data[0].paragraphs[0].qas[0], field 'question'"),
    ("trivia_qa", "trivia_qa/triviaqa-unfiltered/unfiltered-web-dev.json",
     json.dumps({"Data": [{"Question": "q", "QuestionId": "x", "Answer": {"Value": "v", "Aliases": "v"}}]}),
     "record Data[0].Answer, field 'Aliases'"),
]


@pytest.mark.parametrize("name, rel, text, where", BAD_DATA)
def test_bad_data_names_file_line_and_field(tmp_path, name, rel, text, where):
    path = _write(tmp_path / rel, text)
    task = get_task(name)
    split = next(s for s in task.splits if task.candidates(s)[0] == rel)
    with pytest.raises(DataFormatError, match=re.escape(where)) as err:
        task.load(tmp_path, split)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("name, rel", [
    ("cb", "super_glue/CB/val.jsonl"), ("cola", "glue/CoLA/dev.tsv"), ("sst2", "glue/SST-2/dev.tsv"),
    ("natural_questions", "nq_open/NQ-open.dev.jsonl"), ("stsb", "stsbenchmark/sts-dev.csv"),
])
def test_empty_split_refused(tmp_path, name, rel):
    task = get_task(name)
    text = "sentence\tlabel\n" if name == "sst2" else ""
    _write(tmp_path / rel, text)
    with pytest.raises(ValueError, match="holds no examples"):
        task.load(tmp_path, "validation")


# --------------------------------------------------------------- real files
# Example counts of ../shared/data/README.md, as loaded. MultiRC: one example per answer
# option (4,848 for its 953 questions, 83 passages). README counts the test files with
# `wc -l`, which misses the last line of a file without a final newline: CB/RTE/WSC test
# hold 250, 3,000 and 146 examples, not 249, 2,999 and 145.
EXPECTED_REAL = [
    ("cb", "train", 250), ("cb", "validation", 56), ("cb", "test", 250),
    ("rte", "train", 2490), ("rte", "validation", 277), ("rte", "test", 3000),
    ("wsc", "train", 554), ("wsc", "validation", 104), ("wsc", "test", 146),
    ("boolq", "validation", 3270), ("boolq", "train32", 32),
    ("copa", "validation", 100), ("copa", "train32", 32),
    ("wic", "validation", 638), ("wic", "train32", 32),
    ("multirc", "validation", 4848), ("multirc", "train32", 154),
    ("record", "train32", 32), ("record", "dev32", 32),
    ("axb", "test", 1104), ("axg", "test", 356),
    ("stsb", "train", 5749), ("stsb", "validation", 1500), ("stsb", "test", 1379),
    ("sst2_sentences", "train", 6920), ("sst2_sentences", "validation", 872), ("sst2_sentences", "test", 1821),
    ("natural_questions", "validation", 3610), ("natural_questions", "efficientqa_dev", 1800),
    ("natural_questions", "efficientqa_test", 1769),
    ("web_questions", "train", 3778), ("web_questions", "test", 2032),
    ("tydiqa_en", "train", 3696), ("tydiqa_ko", "train", 1625), ("tydiqa_sw", "train", 2755),
    ("tydiqa_en", "validation", 440), ("tydiqa_ar", "validation", 921), ("tydiqa_bn", "validation", 113),
    ("tydiqa_fi", "validation", 782), ("tydiqa_id", "validation", 565), ("tydiqa_ko", "validation", 276),
    ("tydiqa_ru", "validation", 812), ("tydiqa_sw", "validation", 499), ("tydiqa_te", "validation", 669),
]


@pytest.fixture(scope="module")
def t5_vocab():
    if not T5_VOCAB.is_file():
        pytest.skip(f"T5 vocabulary not present at {T5_VOCAB} (the ../shared checkout is absent)")
    from sam_bench.data.tokenizer import Vocabulary

    return Vocabulary(T5_VOCAB)


@needs_real_data
@pytest.mark.parametrize("task_name, split, n", EXPECTED_REAL)
def test_real_files_load_tokenise_and_gold_scores_max(task_name, split, n, t5_vocab):
    from sam_bench.data.batching import tokenize
    from sam_bench.tasks import UnlabeledSplitError

    task = get_task(task_name)
    examples = task.load(SHARED_DATA, split)
    assert len(examples) == n
    pairs = [task.preprocess(ex) for ex in examples]
    assert all(p["inputs"] and p["targets"] for p in pairs)
    batch = tokenize(pairs, t5_vocab, 512, 64)
    assert batch.inputs.shape == (n, 512) and (batch.targets == 1).any(axis=1).all()  # EOS in every target
    if task.trains:
        assert sum(len(task.training_pairs(ex)) for ex in examples) >= (1 if task_name != "wsc" else 0)
    if all(ex.get("label", "x") is None for ex in examples):
        with pytest.raises(UnlabeledSplitError):
            task.score(examples, [task.oracle_prediction(ex) for ex in examples])
        return
    scores = task.score(examples, [task.oracle_prediction(ex) for ex in examples])
    assert set(scores) == set(task.metric_names)
    for metric, value in scores.items():
        assert value == pytest.approx(100.0), (task_name, metric)


@needs_real_data
def test_real_every_shared_file_is_read_by_some_task():
    used = set()
    for name in TASKS:
        task = get_task(name)
        for split in task.splits:
            path = task.path(SHARED_DATA, split)
            if path.exists():
                used.add(path.relative_to(SHARED_DATA).as_posix())
    web_q = {"web_questions/val.json", "web_questions/devtest.json"}  # read with trainmodel.json
    files = {p.relative_to(SHARED_DATA).as_posix() for p in SHARED_DATA.rglob("*") if p.is_file()}
    data_files = {f for f in files if not f.endswith((".md", "LICENSE.txt"))}
    assert data_files - used - web_q == set()


@needs_real_data
def test_real_nq_other_answers_also_score_max():
    task = get_task("natural_questions")
    examples = task.load(SHARED_DATA, "validation")
    assert task.score(examples, [ex["answer"][-1] for ex in examples]) == {"em": 100.0, "f1": 100.0}


@needs_real_data
def test_real_web_questions_train_is_the_official_order():
    exs = get_task("web_questions").load(SHARED_DATA, "train")
    assert len(exs) == 3778 and all(ex["answers"] for ex in exs)
