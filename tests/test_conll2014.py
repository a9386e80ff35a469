"""CoNLL-2014 grammatical error correction: the MaxMatch (M2) scorer against the reference
scorer's own example and counts, the official file formats, the paired bootstrap on M2 counts,
and a cell end to end on official-format fixture files (a tiny T5: BART is not a cell family yet)."""

import math
from pathlib import Path

import numpy as np
import pytest

from sam_bench.analysis.significance import f_beta_from_counts, paired_bootstrap
from sam_bench.tasks.base import UnlabeledSplitError
from sam_bench.tasks.conll2014 import TASK, TEST_FILE, m2_rows, parse_m2
from sam_bench.tasks.formats import DataFormatError
from sam_bench.train.cell_data import TaskData
from sam_bench.train.chance import text_to_text_chance
from sam_bench.tasks.m2 import corpus_counts, gold_by_annotator, m2_score, sentence_counts, system_edits

# ------------------------------------------------------------------ fixtures
#: m2scorer release 3.2, README §2.2 and example/: the gold file, the `system` output and the
#: printed result ("Precision : 0.8 / Recall : 0.8 / F_0.5 : 0.8"); and example/system2, for
#: which the README prints nothing (its counts are derived by hand in the test).
REFERENCE_GOLD = """\
S The cat sat at mat .
A 3 4|||Prep|||on|||REQUIRED|||-NONE-|||0
A 4 4|||ArtOrDet|||the||a|||REQUIRED|||-NONE-|||0

S The dog .
A 1 2|||NN|||dogs|||REQUIRED|||-NONE-|||0
A -1 -1|||noop|||-NONE-|||-NONE-|||-NONE-|||1

S Giant otters is an apex predator .
A 2 3|||SVA|||are|||REQUIRED|||-NONE-|||0
A 3 4|||ArtOrDet|||-NONE-|||REQUIRED|||-NONE-|||0
A 5 6|||NN|||predators|||REQUIRED|||-NONE-|||0
A 1 2|||NN|||otter|||REQUIRED|||-NONE-|||1
"""
REFERENCE_SYSTEM = ["A cat sat on the mat .", "The dog .", "Giant otters are apex predator ."]
REFERENCE_SYSTEM2 = ["A cat sat on mat .", "The dog .", "Giant otters are apex predator ."]

#: learner sentences with their edits (annotator 0; some with a second annotator or a noop one)
BLOCKS = [
    ("He go to school every day .", ["1 2|||SVA|||goes|||0"]),
    ("She have a apple .", ["1 2|||SVA|||has|||0", "2 3|||ArtOrDet|||an|||0", "1 2|||SVA|||had|||1",
                            "2 3|||ArtOrDet|||an|||1"]),
    ("They was happy yesterday .", ["1 2|||SVA|||were|||0"]),
    ("I am agree with you .", ["1 2|||Vform|||-NONE-|||0", "-1 -1|||noop|||-NONE-|||1"]),
    ("We discussed about the problem .", ["2 3|||Prep|||-NONE-|||0"]),
    ("There is many book on the table .", ["1 2|||SVA|||are|||0", "3 4|||Nn|||books|||0"]),
    ("He is good in math .", ["3 4|||Prep|||at|||0"]),
    ("The weather is nice today .", []),
    ("My friend live in big city .", ["2 3|||SVA|||lives|||0", "4 4|||ArtOrDet|||a||the|||0"]),
    ("It is depend on the weather .", ["1 2|||Vform|||-NONE-|||0", "2 3|||SVA|||depends|||0"]),
]
NAMES = ("He", "She", "Tom", "Anna", "My brother", "The teacher")


def m2_text(blocks) -> str:
    out = []
    for source, edits in blocks:
        lines = [f"S {source}"]
        for e in edits:
            span, etype, corr, ann = e.split("|||")
            lines.append(f"A {span}|||{etype}|||{corr}|||REQUIRED|||-NONE-|||{ann}")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def write_conll2014_files(root: Path, n_train: int = 24) -> Path:
    """A data root in the CoNLL-2014 layout: parallel training text, a dev M2 file and the test
    M2 file where the official release unpacks it."""
    d = root / "conll2014"
    (d / "conll14st-test-data" / "noalt").mkdir(parents=True, exist_ok=True)
    (root / TEST_FILE).write_text(m2_text(BLOCKS))
    (d / "dev.m2").write_text(m2_text(BLOCKS[::-1]))
    src, trg = [], []
    for k in range(n_train):
        name = NAMES[k % len(NAMES)]
        verb, fixed = [("go", "goes"), ("have", "has"), ("live", "lives"), ("want", "wants")][k % 4]
        src.append(f"{name} {verb} to the market every day .")
        trg.append(f"{name} {fixed} to the market every day .")
    (d / "train.src").write_text("\n".join(src) + "\n")
    (d / "train.trg").write_text("\n".join(trg) + "\n")
    return root


@pytest.fixture
def conll_root(tmp_path):
    return write_conll2014_files(tmp_path / "data")


def _annotations(text):
    records = parse_m2(text)
    return records, [r["source"] for r in records], [gold_by_annotator(r["source"], r["edits"]) for r in records]


# ------------------------------------------------------- the reference example
def test_conll_m2_scorer_reproduces_the_reference_example():
    """m2scorer 3.2's README example: P = R = F0.5 = 0.8 (4 valid edits, 1 unnecessary, 1 missed)."""
    records, sources, annotations = _annotations(REFERENCE_GOLD)
    assert m2_score(sources, REFERENCE_SYSTEM, annotations) == pytest.approx(
        {"precision": 0.8, "recall": 0.8, "f0.5": 0.8})
    # the README's explanation, sentence by sentence, as (tp, fp, fn): #1 two valid edits and
    # The -> A; #2 annotator 1 (no edit) is chosen; #3 annotator 0: two valid, one missed
    assert corpus_counts(sources, REFERENCE_SYSTEM, annotations).tolist() == [[2, 1, 0], [0, 0, 0], [2, 0, 1]]
    gold0 = gold_by_annotator(sources[0], records[0]["edits"])[0]
    # the reference's path (its verbose output prints the first edit shrunk to The -> A)
    assert system_edits(sources[0], REFERENCE_SYSTEM[0], gold0) == [
        (0, 3, "The cat sat", "A cat sat"), (3, 4, "at", "on"), (4, 4, "", "the")]
    # the task's metric is the same on the papers' 0-100 scale
    assert TASK.score(records, REFERENCE_SYSTEM) == pytest.approx({"precision": 80.0, "recall": 80.0, "f0.5": 80.0})


def test_conll_m2_scorer_second_reference_system_by_hand():
    """example/system2: #1 makes The -> A (wrong) and at -> on (valid) and misses 'the';
    #2, #3 as above: tp 3, fp 1, fn 2 -> P 3/4, R 3/5, F0.5 = 1.25 PR / (0.25 P + R)."""
    _, sources, annotations = _annotations(REFERENCE_GOLD)
    rows = corpus_counts(sources, REFERENCE_SYSTEM2, annotations)
    assert rows.tolist() == [[1, 1, 1], [0, 0, 0], [2, 0, 1]]
    p, r = 0.75, 0.6
    assert m2_score(sources, REFERENCE_SYSTEM2, annotations) == pytest.approx(
        {"precision": p, "recall": r, "f0.5": 1.25 * p * r / (0.25 * p + r)})


def test_conll_m2_scorer_single_annotator_variant_of_the_example():
    """The example without annotator 1's lines and with 'The' kept: 4 valid edits of 6, none
    wrong -> P 1.0, R 0.6667, F0.5 0.9091 (the reference scorer gives the same)."""
    single = "\n".join(line for line in REFERENCE_GOLD.splitlines() if not line.endswith("|||1"))
    _, sources, annotations = _annotations(single)
    system = ["The cat sat on the mat .", "The dog .", "Giant otters are apex predator ."]
    assert corpus_counts(sources, system, annotations).tolist() == [[2, 0, 0], [0, 0, 1], [2, 0, 1]]
    assert m2_score(sources, system, annotations) == pytest.approx(
        {"precision": 1.0, "recall": 4 / 6, "f0.5": 1.25 * (2 / 3) / (0.25 + 2 / 3)})


#: (source, hypothesis, M2 edits, (correct, proposed, gold)) as the reference scorer counts them
#: (m2scorer 3.2's levenshtein.batch_multi_pre_rec_f1 with its repository's 2016 fix of
#: sentence-initial insertions, run once on these cases; see docs/conll2014.md)
REFERENCE_COUNTS = [
    # a repeated insertion takes the gold insertion once
    ("sat on mat", "sat on the the mat", [[2, 2, "X", ["the"], 0]], (1, 2, 1)),
    # a tie between two edit sequences that each match one gold edit, decided as the reference
    # does by its unit arcs being listed once per lattice (they carry EPSILON twice)
    ("mat sat on a the", "mat sat on a is is is",
     [[1, 1, "X", ["-NONE-"], 0], [4, 5, "X", ["is is"], 0], [5, 5, "X", ["is"], 0]], (1, 2, 3)),
    # a gold edit spanning one unchanged word is found through a transitive arc
    ("a b c d", "x b y d", [[0, 3, "X", ["x b y"], 0]], (1, 1, 1)),
    # ... but not across three (max_unchanged_words = 2): the edits stay apart
    ("a b c d e", "x b c d y", [[0, 5, "X", ["x b c d y"], 0]], (0, 2, 1)),
    # a sentence-initial insertion of two tokens (release 3.2 misplaces it; fixed upstream)
    ("x", "is is x", [[0, 0, "X", ["is is"], 0]], (1, 1, 1)),
]


@pytest.mark.parametrize("source, hypothesis, edits, counts", REFERENCE_COUNTS)
def test_conll_m2_counts_match_the_reference_scorer(source, hypothesis, edits, counts):
    assert sentence_counts(source, hypothesis, gold_by_annotator(source, edits)) == counts


# ------------------------------------------------------------------ edge cases
def score(source, hypothesis, edits=(), **kw):
    return m2_score([source], [hypothesis], [gold_by_annotator(source, list(edits))], **kw)


def test_conll_m2_edge_cases():
    # no edits anywhere: nothing proposed, nothing to find -> P = R = 1, F = 1 (the scorer's convention)
    assert score("a b c", "a b c") == {"precision": 1.0, "recall": 1.0, "f0.5": 1.0}
    # the source copied although a correction is due: P = 1 (nothing proposed), R = 0, F = 0
    assert score("He go .", "He go .", [[1, 2, "SVA", ["goes"], 0]]) == {"precision": 1.0, "recall": 0.0,
                                                                          "f0.5": 0.0}
    # all edits correct, with an alternative correction and a deletion
    edits = [[1, 2, "SVA", ["has"], 0], [2, 3, "Art", ["an", "the"], 0], [4, 5, "Del", ["-NONE-"], 0]]
    assert score("She have a apple really .", "She has the apple .", edits) == {
        "precision": 1.0, "recall": 1.0, "f0.5": 1.0}
    # a wrong edit: P = 1/2, R = 1, F0.5 = 1.25 * 0.5 / (0.125 + 1)
    assert score("He go home .", "She goes home .", [[1, 2, "SVA", ["goes"], 0]]) == pytest.approx(
        {"precision": 0.5, "recall": 1.0, "f0.5": 1.25 * 0.5 / 1.125})
    # a correction that is not the gold one is wrong and the gold edit missed
    assert score("He go home .", "He went home .", [[1, 2, "SVA", ["goes"], 0]]) == {
        "precision": 0.0, "recall": 0.0, "f0.5": 0.0}
    # empty sentences
    assert score("", "") == {"precision": 1.0, "recall": 1.0, "f0.5": 1.0}
    # whitespace/case-only edits count unless ignored
    assert score("the cat .", "The cat .")["precision"] == 0.0
    assert score("the cat .", "The cat .", ignore_whitespace_casing=True)["precision"] == 1.0


def test_conll_m2_multiple_annotators_choose_the_best_for_the_corpus():
    source = "She have a apple ."
    two = [[1, 2, "SVA", ["has"], 0], [2, 3, "Art", ["an"], 0], [1, 2, "SVA", ["had"], 1]]
    ann = gold_by_annotator(source, two)
    assert sorted(ann) == [0, 1]
    # "has an": all of annotator 0; "had a": all of annotator 1
    assert sentence_counts(source, "She has an apple .", ann) == (2, 2, 2)
    assert sentence_counts(source, "She had a apple .", ann) == (1, 1, 1)
    # a noop annotator: leaving the sentence alone is perfect for them
    noop = gold_by_annotator(source, two[:2] + [[-1, -1, "noop", ["-NONE-"], 1]])
    assert noop[1] == [] and sentence_counts(source, source, noop) == (0, 0, 0)
    # the choice maximises the corpus F0.5 so far, not the sentence's: annotator 0 wants one
    # edit (made), annotator 1 eight (two made). Alone, 2 of 8 (F 0.625) beats 1 of 1 with one
    # wrong edit (F 0.556); after 100 perfect edits, 1 of 1 (F 0.9921) beats 2 of 8 (F 0.9884)
    src, hyp = "a b c d e f g h i j", "A b C d e f g h i j"
    many = gold_by_annotator(src, [[0, 1, "X", ["A"], 0], [0, 1, "X", ["A"], 1], [2, 3, "X", ["C"], 1]]
                             + [[k, k + 1, "X", ["Z"], 1] for k in range(4, 10)])
    assert sentence_counts(src, hyp, many) == (2, 2, 8)
    assert sentence_counts(src, hyp, many, so_far=(100, 100, 100)) == (1, 2, 1)
    # ties: equal F and correct -> fewer proposed + beta^2 gold (annotator 1's single edit)
    tie = gold_by_annotator(source, [[1, 2, "SVA", ["has"], 0], [2, 3, "Art", ["an"], 0],
                                     [1, 2, "SVA", ["has"], 1]])
    assert sentence_counts(source, "She has a apple .", tie) == (1, 1, 1)


def test_conll_m2_bad_input_is_refused():
    with pytest.raises(ValueError, match="outside the 2-token source"):
        gold_by_annotator("a b", [[1, 3, "X", ["c"], 0]])
    with pytest.raises(ValueError, match="one hypothesis and one annotation per source"):
        corpus_counts(["a"], [], [{0: []}])


# ---------------------------------------------------------------- file formats
def test_conll_reads_the_official_m2_and_parallel_formats(conll_root):
    test = TASK.load(conll_root, "test")
    assert len(test) == len(BLOCKS) and test[0] == {
        "id": "0", "source": "He go to school every day .", "target": "He goes to school every day .",
        "edits": [[1, 2, "SVA", ["goes"], 0]]}
    # the target applies the first annotator's edits (first correction; -NONE- deletes)
    assert test[1]["target"] == "She has an apple ."
    assert test[3]["target"] == "I agree with you ." and test[3]["edits"][1] == [-1, -1, "noop", ["-NONE-"], 1]
    assert test[8]["target"] == "My friend lives in a big city ."
    assert test[7]["edits"] == [] and test[7]["target"] == test[7]["source"]
    assert [r["source"] for r in TASK.load(conll_root, "validation")] == [b[0] for b in BLOCKS[::-1]]
    train = TASK.load(conll_root, "train")
    assert len(train) == 24 and train[1] == {"id": "1", "source": "She have to the market every day .",
                                             "target": "She has to the market every day ."}
    assert TASK.preprocess(train[1]) == {"inputs": train[1]["source"], "targets": train[1]["target"]}
    assert TASK.eval_split == "test" and TASK.paper_split == "test"
    # a training corpus in M2 (NUCLE, Lang-8) is accepted instead of the parallel files
    (conll_root / "conll2014" / "train.src").unlink()
    assert TASK.missing_files(conll_root, "train") == ["conll2014/train.src"]
    (conll_root / "conll2014" / "train.m2").write_text(m2_text(BLOCKS))
    assert [r["target"] for r in TASK.load(conll_root, "train")] == [r["target"] for r in test]


@pytest.mark.parametrize("text, message", [
    ("A 1 2|||SVA|||goes|||REQUIRED|||-NONE-|||0\n", "line 1: an M2 block starts with 'S <sentence>'"),
    ("S He go .\nA 1 2|||SVA|||goes|||REQUIRED|||0\n", "line 2: an A line has 6"),
    ("S He go .\nA 1 9|||SVA|||goes|||REQUIRED|||-NONE-|||0\n", "line 2: edit offsets 1 9 lie outside the 3-token"),
    ("S He go .\nA one 2|||SVA|||goes|||REQUIRED|||-NONE-|||0\n", "line 2: expected integer token offsets"),
    ("S He go .\nS He went .\n", "line 2: expected an 'A ' edit line"),
    ("S a b c\nA 0 2|||X|||y|||R|||-|||0\nA 1 3|||X|||z|||R|||-|||0\n", "line 1: annotator 0's edits overlap"),
])
def test_conll_malformed_m2_names_file_and_line(text, message):
    with pytest.raises(DataFormatError, match=message):
        parse_m2(text, "x.m2")


def test_conll_malformed_parallel_text_is_refused(conll_root):
    d = conll_root / "conll2014"
    (d / "train.trg").write_text("one line\n")
    with pytest.raises(DataFormatError, match="train.src has 24 lines but train.trg has 1"):
        TASK.load(conll_root, "train")
    (d / "train.trg").unlink()
    assert TASK.missing_files(conll_root, "train") == ["conll2014/train.trg"]
    with pytest.raises(FileNotFoundError, match="line-aligned corrections"):
        TASK.load(conll_root, "train")


def test_conll_task_scores_targets_copies_and_refuses_unannotated(conll_root):
    test = TASK.load(conll_root, "test")
    assert TASK.score(test, [TASK.oracle_prediction(ex) for ex in test]) == pytest.approx(
        {"precision": 100.0, "recall": 100.0, "f0.5": 100.0})
    # postprocessing: decoded spacing does not matter to the token-level scorer
    assert TASK.score(test, ["  " + ex["target"].replace(" ", "  ") + " " for ex in test])["f0.5"] == pytest.approx(100)
    copies = TASK.score(test, [ex["source"] for ex in test])
    assert copies == {"precision": 100.0, "recall": 0.0, "f0.5": 0.0}
    with pytest.raises(UnlabeledSplitError, match="no gold edits"):
        TASK.score(TASK.load(conll_root, "train")[:2], ["a", "b"])


# ------------------------------------------------------- significance (bootstrap)
def test_conll_bootstrap_resamples_sentence_counts(conll_root):
    """Per-sentence M2 counts sum to the corpus F0.5, and the paired bootstrap on them (corpus
    F0.5 recomputed per resample) separates a system that fixes every error from one that fixes
    the first error of each sentence only."""
    test = TASK.load(conll_root, "test") * 4  # 40 sentences
    full = [ex["target"] for ex in test]
    partial = [" ".join(ex["source"].split()[:ex["edits"][0][0]] + ex["target"].split()[ex["edits"][0][0]:])
               if len([e for e in ex["edits"] if e[4] == 0]) == 1 else ex["source"] for ex in test]
    rows_a, rows_b = m2_rows(test, full), m2_rows(test, partial)
    assert rows_a.shape == (40, 3)
    for rows, preds in ((rows_a, full), (rows_b, partial)):
        assert f_beta_from_counts(rows) == pytest.approx(TASK.score(test, preds)["f0.5"])
    assert TASK.score(test, partial)["recall"] < 100
    result = paired_bootstrap(rows_a, rows_b, f_beta_from_counts, samples=500, seed=0)
    assert result.delta > 0 and result.p_value < 0.05 and result.interval[0] > 0
    assert paired_bootstrap(rows_a, rows_a, f_beta_from_counts, samples=50).p_value == 1.0
    assert np.array_equal(m2_rows(test, full), rows_a)  # deterministic


# ------------------------------------------------------------- a cell, end to end
def test_conll2014_cell_end_to_end_on_official_format_files(conll_root, tmp_path):
    """A tiny T5.1.1 (random init, a SentencePiece vocabulary of the fixture's text) fine-tunes on
    the parallel training files and is scored on the official-format test M2 file."""
    from sam_bench.config import expand_cells, validate_config
    from sam_bench.data.tokenizer import train_sentencepiece
    from sam_bench.train.finetune import run_cell

    corpus = tmp_path / "corpus.txt"
    lines = [p for split in ("train", "test") for ex in TASK.load(conll_root, split)
             for p in TASK.preprocess(ex).values()]
    corpus.write_text("\n".join(lines) + "\n")
    vocab = train_sentencepiece(corpus, tmp_path / "spm", 120)
    config = {
        "experiment": "conll", "results_dir": str(tmp_path / "results"),
        "data": {"source": "local", "root": str(conll_root), "subsamples": "generate"},
        "pretrain": {"model": "t5.1.1-tiny"},
        "finetune": {"steps": 3, "batch_size": 8, "eval_every": 3, "eval_batch_size": 16,
                     "max_input_length": 24, "max_target_length": 16, "vocab": str(vocab)},
        "grids": [{"name": "g", "model": ["t5.1.1-tiny"], "init": ["random"], "task": ["conll2014"],
                   "subsample_rate": [1.0], "optimizer": ["adafactor(lr=1e-3)"], "seed": [0]}],
    }
    (cell,) = expand_cells(validate_config(config))
    result = run_cell(cell, tmp_path / "cell", progress=False)
    rows = {r["metric"]: r for r in result["rows"]}
    assert sorted(rows) == ["f0.5", "precision", "recall"]
    for r in rows.values():
        assert r["task"] == "conll2014" and r["split"] == "test" and r["step"] == 3
        assert math.isfinite(r["value"]) and 0 <= r["value"] <= 100
    assert result["data"]["train_examples"] == {"conll2014": 24}
    assert math.isfinite(result["timing"]["final_train_loss"])
    # the cell keeps what its best (F0.5) weights decoded, so two cells can be compared by the
    # paired bootstrap; the saved outputs re-score to the cell's row
    import json

    kept = json.loads((tmp_path / "cell" / "best_outputs.json").read_text())
    test = TASK.load(conll_root, "test")
    assert kept["step"] == 3 and kept["selection"] == "conll2014/f0.5" and len(kept["outputs"]["conll2014"]) == len(test)
    counts = m2_rows(test, kept["outputs"]["conll2014"])
    assert f_beta_from_counts(counts) == pytest.approx(rows["f0.5"]["value"], abs=1e-9)
    unchanged = m2_rows(test, [ex["source"] for ex in test])  # the null system: the source as it is
    assert paired_bootstrap(counts, unchanged, f_beta_from_counts, samples=50).samples == 50


def test_conll2014_cell_config_refusals_name_what_is_wrong(conll_root):
    """Before any compute: pinned subsamples do not exist (the training set has no fixed size),
    and a missing test file is named with where to get it."""
    from sam_bench.config import validate_config
    from sam_bench.errors import ConfigError

    def config(root, subsamples):
        return {"experiment": "conll", "results_dir": "unused",
                "data": {"source": "local", "root": str(root), "subsamples": subsamples},
                "pretrain": {"model": "t5.1.1-tiny"},
                "finetune": {"steps": 3, "batch_size": 8, "eval_every": 3, "eval_batch_size": 16},
                "grids": [{"name": "g", "model": ["t5.1.1-tiny"], "init": ["random"], "task": ["conll2014"],
                           "subsample_rate": [1.0], "optimizer": ["adafactor(lr=1e-3)"], "seed": [0]}]}

    with pytest.raises(ConfigError, match="conll2014.json pins no subsamples for task 'conll2014'"):
        validate_config(config(conll_root, "manifest"))
    (conll_root / TEST_FILE).unlink()
    with pytest.raises(ConfigError) as err:
        validate_config(config(conll_root, "generate"))
    message = str(err.value)
    assert "conll2014: missing under" in message and f"{TEST_FILE} (test split)" in message
    assert "conll14st-test-data.tar.gz" in message and "data_manifests/conll2014.json" in message


def test_conll_chance_line_is_the_source_left_unchanged(conll_root):
    test = TASK.load(conll_root, "test")
    assert text_to_text_chance(TaskData("conll2014", TASK, test, None)) == {"precision": 100.0, "recall": 0.0,
                                                                           "f0.5": 0.0}
