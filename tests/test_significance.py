"""The paired bootstrap test (Berg-Kirkpatrick et al. 2012) against an exact enumeration, and
its edge cases; the corpus F0.5 of summed edit counts."""
import itertools

import numpy as np
import pytest

from sam_bench.analysis.significance import f_beta_from_counts, paired_bootstrap


def test_bootstrap_p_value_matches_the_exact_resampling_distribution():
    # accuracy of A and B on 5 examples; enumerate all 5^5 equally likely resamples
    a, b = np.array([1, 1, 1, 0, 0]), np.array([0, 0, 1, 1, 0])
    delta = a.mean() - b.mean()
    exact = np.mean([(a[list(i)].mean() - b[list(i)].mean()) > 2 * delta
                     for i in itertools.product(range(5), repeat=5)])
    result = paired_bootstrap(a, b, np.mean, samples=20000, seed=1)
    assert result.delta == pytest.approx(delta)
    se = np.sqrt(exact * (1 - exact) / 20000)
    assert abs(result.p_value - exact) < 4 * se and 0 < exact < 1


def test_bootstrap_edge_cases():
    a = np.arange(10.0)
    assert paired_bootstrap(a + 1, a, np.mean).p_value == 0.0      # better on every example by the same margin
    assert paired_bootstrap(a, a, np.mean).p_value == 1.0          # no gain: not significant
    assert paired_bootstrap(a, a + 1, np.mean).p_value == 1.0      # worse
    with pytest.raises(ValueError, match="same, non-empty test set"):
        paired_bootstrap(a, a[:5], np.mean)


def test_bootstrap_f05_resamples_counts_not_sentence_scores():
    assert f_beta_from_counts([[2, 1, 3], [1, 0, 0]]) == pytest.approx(100 * 1.25 * 0.75 * 0.5 / (0.25 * 0.75 + 0.5))
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 4, 300)
    a = np.stack([np.minimum(gold, 2), rng.integers(0, 2, 300), gold - np.minimum(gold, 2)], axis=1)
    b = np.stack([np.minimum(gold, 1), rng.integers(0, 2, 300), gold - np.minimum(gold, 1)], axis=1)
    result = paired_bootstrap(a, b, f_beta_from_counts, samples=500)
    assert result.delta > 0 and result.p_value < 0.01 and result.interval[0] > 0
