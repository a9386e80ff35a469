"""Dropout masks from the counter-based hash: the keep rate, determinism, and independence
across sites and keys."""
import jax
import numpy as np
import pytest

from sam_bench.models.dropout import DropoutStream, dropout

SHAPE = (8, 4, 128, 256)  # 1,048,576 elements


def _masks(key, sites=2, rate=0.1):
    stream = DropoutStream(key)
    return [np.asarray(dropout(jax.numpy.ones(SHAPE), rate, stream)) != 0 for _ in range(sites)]


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_keep_rate_is_one_minus_rate_and_kept_values_are_rescaled(rate):
    x = np.asarray(dropout(jax.numpy.ones(SHAPE), rate, DropoutStream(jax.random.key(3))))
    n, keep = x.size, 1 - rate
    sigma = np.sqrt(keep * rate / n)
    assert abs((x != 0).mean() - keep) < 5 * sigma
    np.testing.assert_allclose(np.unique(x[x != 0]), [1 / keep], rtol=1e-6)


def test_same_key_same_masks_and_sites_and_keys_are_uncorrelated():
    first, second = _masks(jax.random.key(0)), _masks(jax.random.key(0))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)  # the two passes of a SAM step share masks
    other_key = _masks(jax.random.key(1))
    for a, b in [(first[0], first[1]), (first[0], other_key[0]), (first[1], other_key[1])]:
        assert (a != b).any()
        corr = np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1]
        assert abs(corr) < 5 / np.sqrt(a.size)  # ~0 up to sampling noise (1M elements)
    # neighbouring elements are not correlated either (no short period along the counter)
    flat = first[0].ravel().astype(float)
    assert abs(np.corrcoef(flat[:-1], flat[1:])[0, 1]) < 5 / np.sqrt(flat.size)


def test_no_stream_or_zero_rate_is_the_identity():
    x = jax.numpy.arange(6.0)
    assert dropout(x, 0.1, None) is x
    assert dropout(x, 0.0, DropoutStream(jax.random.key(0))) is x
