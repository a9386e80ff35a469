"""Metrics against scikit-learn and scipy on random inputs, plus SQuAD hand-checked cases."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm

from sam_bench.tasks import benchmark_average, benchmarks, metrics

SEEDS = range(6)


@pytest.mark.parametrize("seed", SEEDS)
def test_accuracy_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    assert metrics.accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))


@pytest.mark.parametrize("seed", SEEDS)
def test_macro_f1_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 3, 40), rng.integers(-1, 3, 40)  # -1 = unparsable prediction
    expected = skm.f1_score(y, p, labels=[0, 1, 2], average="macro")
    assert metrics.macro_f1(y, p, labels=[0, 1, 2]) == pytest.approx(expected)
    # default labels: union of observed classes, as scikit-learn
    assert metrics.macro_f1(y, p) == pytest.approx(skm.f1_score(y, p, average="macro"))
    np.testing.assert_allclose(
        metrics.per_class_f1(y, p, [0, 1, 2]), skm.f1_score(y, p, labels=[0, 1, 2], average=None)
    )


def test_macro_f1_class_never_seen_counts_zero():
    # class 2 absent from both: T5's mean_multiclass_f1 still averages over 3 classes
    y, p = np.array([0, 1, 0, 1]), np.array([0, 1, 0, 1])
    assert metrics.macro_f1(y, p, labels=[0, 1, 2]) == pytest.approx(2 / 3)


@pytest.mark.parametrize("seed", SEEDS)
def test_mcc_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    for k in (2, 3):
        y, p = rng.integers(0, k, 60), rng.integers(0, k, 60)
        assert metrics.mcc(y, p) == pytest.approx(skm.matthews_corrcoef(y, p))
    assert metrics.mcc([0, 1, 0], [1, 1, 1]) == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_correlations_match_scipy(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=80)
    y = 0.5 * x + rng.normal(size=80)
    assert metrics.pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0])
    assert metrics.spearman(x, y) == pytest.approx(stats.spearmanr(x, y)[0])
    # heavy ties (scores on a 0.2 grid, like STS-B outputs)
    a, b = rng.integers(0, 26, 80) / 5, rng.integers(0, 26, 80) / 5
    assert metrics.spearman(a, b) == pytest.approx(stats.spearmanr(a, b)[0])
    np.testing.assert_allclose(metrics.rankdata(a), stats.rankdata(a))


def test_constant_input_correlation_is_zero():
    assert metrics.pearson([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]) == 0.0
    assert metrics.spearman([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]) == 0.0


def test_normalize_answer():
    assert metrics.normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert metrics.normalize_answer("an apple, a day") == "apple day"
    assert metrics.normalize_answer("theatre") == "theatre"  # articles only as whole words


def test_squad_scores():
    assert metrics.squad_em("The Cat", ["cat", "dog"]) == 1.0
    assert metrics.squad_em("cat sat", ["cat"]) == 0.0
    # pred {cat, sat}, gold {cat, sat, on}: P = 1, R = 2/3 -> F1 = 0.8
    assert metrics.squad_f1("the cat sat", ["a cat sat on", "zebra"]) == pytest.approx(0.8)
    assert metrics.squad_f1("dog", ["cat"]) == 0.0
    # an answer that normalises to nothing still matches itself
    assert metrics.squad_f1("---", ["---"]) == 1.0
    assert metrics.squad_f1("x", ["---"]) == 0.0
    result = metrics.squad(["cat", "dog"], [["cat"], ["cow"]])
    assert result == {"em": 0.5, "f1": 0.5}


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="length mismatch"):
        metrics.accuracy([1, 2], [1])
    with pytest.raises(ValueError, match="empty"):
        metrics.pearson([], [])
    with pytest.raises(TypeError):
        metrics.squad_em("a", "a")
    with pytest.raises(ValueError):
        metrics.squad_f1("a", [])


# ------------------------------------------------------ binary F1, MultiRC, AX-g
@pytest.mark.parametrize("seed", SEEDS)
def test_f1_with_invalid_matches_sklearn_after_replacement(seed):
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 2, 60), rng.integers(-1, 3, 60)  # -1 and 2: invalid predictions
    fixed = np.where((p != 0) & (p != 1), 1 - y, p)  # T5: an invalid prediction counts as the wrong class
    assert metrics.f1_with_invalid(y, p) == pytest.approx(skm.f1_score(y, fixed))
    assert metrics.f1_with_invalid(y, y) == 1.0
    with pytest.raises(ValueError, match="gold labels"):
        metrics.f1_with_invalid([0, 2], [0, 1])


def test_multirc_f1a_and_exact_match():
    gold = [1, 0, 1, 0, 0, 1]
    pred = [1, 0, 0, 0, -1, 1]
    groups = ["q1", "q1", "q1", "q2", "q2", "q3"]
    r = metrics.multirc(gold, pred, groups)
    # questions: q1 wrong (3rd option), q2 wrong (invalid), q3 right -> EM 1/3
    assert r["em"] == pytest.approx(1 / 3)
    assert r["f1a"] == pytest.approx(skm.f1_score(gold, [1, 0, 0, 0, 1, 1]))


def test_gender_parity():
    assert metrics.gender_parity([0, 0, 1, 0, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(2 / 3)


def test_trivia_qa_normalisation_differs_from_squad():
    # TriviaQA replaces punctuation (and underscores) by spaces instead of deleting it
    assert metrics.normalize_trivia_qa("The_Beatles' hit") == "beatles hit"
    assert metrics.normalize_answer("The_Beatles' hit") == "thebeatles hit"
    assert metrics.trivia_qa(["Beatles"], [["The_Beatles"]]) == {"em": 1.0, "f1": 1.0}
    assert metrics.squad(["Beatles"], [["The_Beatles"]])["em"] == 0.0


# ------------------------------------------------------------------------ ROUGE
def test_rouge_hand_computed():
    r = metrics.rouge(["the cat sat on the mat"], ["the cat was on the mat"], keys=("rouge1", "rouge2", "rougeL"))
    # unigrams: 5 of 6 shared each way; bigrams: the cat, on the, the mat = 3 of 5
    assert r["rouge1"] == pytest.approx(5 / 6)
    assert r["rouge2"] == pytest.approx(3 / 5)
    assert r["rougeL"] == pytest.approx(5 / 6)
    assert metrics.rouge_tokenize("Hello, World! It's 3pm.") == ["hello", "world", "it", "s", "3pm"]
    with pytest.raises(ValueError, match="unknown ROUGE key"):
        metrics.rouge(["a"], ["a"], keys=("rougeX",))


def test_rouge_matches_rouge_score_package():
    from rouge_score import rouge_scorer
    rng = np.random.default_rng(0)
    words = "the cat sat on mat a dog ran fast over hill . quickly big small red runs running ran".split()
    keys = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    scorer = rouge_scorer.RougeScorer(keys)
    preds, refs = [], []
    for i in range(150):
        p = " ".join(rng.choice(words, rng.integers(1, 20)))
        r = " ".join(rng.choice(words, rng.integers(1, 20)))
        if i % 3 == 0:  # several sentences for rougeLsum
            p, r = p.replace(" . ", " .\n"), r.replace(" . ", " .\n")
        preds.append(p)
        refs.append(r)
    ours = metrics.rouge(preds, refs, keys=keys)
    for k in keys:
        expected = np.mean([scorer.score(r, p)[k].fmeasure for p, r in zip(preds, refs)])
        assert ours[k] == pytest.approx(expected, abs=1e-12), k


# ------------------------------------------------------- benchmark averages
# the printed averages are means of printed (rounded) cells: they agree to the rounding
# tolerances in ../shared/papers/TRANSCRIPTION_NOTES.md (0.0625 is one rounding step at 8 tasks)
TABLES = Path(__file__).resolve().parents[2] / "shared" / "papers" / "tables"


def test_glue_average_counts_mnli_twice_and_superglue_pairs_once():
    glue = {"cola": {"mcc": 50.0}, "sst2": {"accuracy": 90.0}, "mrpc": {"f1": 90.0, "accuracy": 80.0},
            "stsb": {"pearson": 88.0, "spearman": 86.0}, "qqp": {"f1": 70.0, "accuracy": 90.0},
            "mnli_m": {"accuracy": 80.0}, "mnli_mm": {"accuracy": 82.0}, "qnli": {"accuracy": 90.0},
            "glue_rte": {"accuracy": 70.0}}
    expected = (50 + 90 + 85 + 87 + 80 + 80 + 82 + 90 + 70) / 9
    assert benchmark_average("glue", glue)["score"] == pytest.approx(expected)
    sg = {"boolq": {"accuracy": 80.0}, "cb": {"f1": 90.0, "accuracy": 94.0}, "copa": {"accuracy": 70.0},
          "multirc": {"f1a": 75.0, "em": 35.0}, "record": {"f1": 76.0, "em": 75.0}, "rte": {"accuracy": 80.0},
          "wic": {"accuracy": 69.0}, "wsc": {"accuracy": 77.0}}
    assert benchmark_average("superglue", sg)["score"] == pytest.approx(
        (80 + 92 + 70 + 55 + 75.5 + 80 + 69 + 77) / 8)
    with pytest.raises(KeyError, match="wsc"):
        benchmark_average("superglue", {k: v for k, v in sg.items() if k != "wsc"})


@pytest.mark.skipif(not TABLES.is_dir(), reason=f"paper tables not present at {TABLES} (../shared is absent)")
@pytest.mark.parametrize("csv, benchmark, avg_task, tol", [
    ("bahri2022_table1_superglue_full.csv", "superglue", "superglue_avg", 0.065),
    ("bahri2022_table6_superglue_5pct.csv", "superglue", "superglue_avg", 0.065),
    ("bahri2022_table9_superglue_base_hparam_ablation.csv", "superglue", "superglue_avg", 0.065),
    ("bahri2022_table2_glue_full.csv", "glue", "glue_avg", 0.05),
    ("bahri2022_table8_tydiqa_per_language.csv", "tydiqa", "tydiqa_avg", 0.056),
])
def test_benchmark_averages_reproduce_the_printed_ones(csv, benchmark, avg_task, tol):
    df = pd.read_csv(TABLES / csv)
    keys = ["model", "method", "rho", "hparam_name", "hparam_value"]
    n_rows = 0
    for _, row in df.groupby(keys, dropna=False):
        scores = {}
        for _, r in row.iterrows():
            scores.setdefault(r["task"], {})[r["metric"]] = float(r["value"])
        printed = scores.pop(avg_task)
        ours = benchmark_average(benchmark, scores)
        for metric, value in printed.items():
            assert ours["score" if metric == "score" else metric] == pytest.approx(value, abs=tol), (row.iloc[0][keys].tolist(), metric)
        n_rows += 1
    assert n_rows >= 8
    assert benchmarks.GLUE_TASKS.count("mnli_m") == 1 and "mnli_mm" in benchmarks.GLUE_TASKS
