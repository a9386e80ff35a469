"""Metrics against scikit-learn and scipy on random inputs, plus SQuAD hand-checked cases."""

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from sam_bench.tasks import metrics

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
