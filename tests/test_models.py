"""Tests for the T5.1.1 model, the losses and greedy decoding (tiny config, CPU)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from sam_bench.models import (
    NAMED_CONFIGS,
    T5,
    T5Config,
    apply,
    count_params,
    greedy_decode,
    init_params,
    per_example_cross_entropy,
    relative_position_bucket,
    rms_norm,
    shift_right,
    t5_config,
    token_cross_entropy,
)

VOCAB = 1152

# Eager op-by-op dispatch of a whole transformer is slow on CPU: jit everything.
_apply = jax.jit(apply)
_greedy = jax.jit(greedy_decode, static_argnames=("max_length",))


def _jit_method(graphdef, params, fn):
    """Jit ``fn(model)`` for the model rebuilt from (graphdef, params)."""
    return jax.jit(lambda p: fn(nnx.merge(graphdef, p)))(params)


@pytest.fixture(scope="module")
def tiny():
    config = t5_config("t5.1.1-tiny", vocab_size=VOCAB)
    graphdef, params = init_params(config, seed=0)
    return config, graphdef, params


def _batch(seed=0, batch=3, in_len=9, out_len=7, vocab=VOCAB):
    rng = np.random.RandomState(seed)
    x = rng.randint(2, vocab, size=(batch, in_len)).astype(np.int32)
    x[1, 5:] = 0  # a padded row
    y = rng.randint(2, vocab, size=(batch, out_len)).astype(np.int32)
    return jnp.asarray(x), jnp.asarray(y)


# --------------------------------------------------------------------------
# configs and shapes
# --------------------------------------------------------------------------


def test_logit_shapes_and_dtype(tiny):
    config, graphdef, params = tiny
    x, y = _batch()
    logits = _apply(graphdef, params, x, shift_right(y))
    assert logits.shape == (3, 7, VOCAB)
    assert logits.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(logits)))
    # the module API agrees with the functional one
    enc, dec_logits, call_logits = _jit_method(
        graphdef, params,
        lambda m: (m.encode(x), m.decode(m.encode(x), x, shift_right(y)), m(x, shift_right(y))),
    )
    assert enc.shape == (3, 9, config.d_model)
    np.testing.assert_allclose(dec_logits, logits, atol=1e-4)
    np.testing.assert_allclose(call_logits, logits, atol=1e-4)


def _hand_count(c: T5Config) -> int:
    d, inner, ff, v = c.d_model, c.num_heads * c.d_kv, c.d_ff, c.vocab_size
    attn = 4 * d * inner
    ffn = 3 * d * ff
    rel = c.relative_attention_num_buckets * c.num_heads
    enc = c.num_encoder_layers * (attn + ffn + 2 * d) + rel + d
    dec = c.num_decoder_layers * (2 * attn + ffn + 3 * d) + rel + d
    return v * d + enc + dec + d * v  # shared embedding + stacks + untied lm_head


def test_param_count_tiny_matches_formula(tiny):
    config, _, params = tiny
    actual = sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(params))
    assert actual == _hand_count(config)
    assert count_params(config) == actual
    # all params are float32, even for a bf16 compute dtype
    bf16 = config.replace(dtype="bfloat16")
    _, p16 = init_params(bf16, seed=0)
    assert {leaf.dtype for leaf in jax.tree_util.tree_leaves(p16)} == {jnp.dtype("float32")}


def test_params_are_the_whole_state():
    config = t5_config("t5.1.1-tiny", vocab_size=64)
    model = T5(config, rngs=nnx.Rngs(params=0))
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    assert jax.tree_util.tree_leaves(rest) == []
    # HF-like names the checkpoint importer relies on
    assert params["shared"]["embedding"].shape == (64, 128)
    assert params["lm_head"]["kernel"].shape == (128, 64)
    attn = params["encoder"]["block"][0]["layer"][0]["SelfAttention"]
    assert attn["relative_attention_bias"]["embedding"].shape == (32, 4)
    assert "relative_attention_bias" not in params["encoder"]["block"][1]["layer"][0]["SelfAttention"]
    ff = params["decoder"]["block"][1]["layer"][2]["DenseReluDense"]
    assert ff["wi_0"]["kernel"].shape == (128, 256) and ff["wo"]["kernel"].shape == (256, 128)
    assert "EncDecAttention" in params["decoder"]["block"][0]["layer"][1]
    assert params["decoder"]["final_layer_norm"]["scale"].shape == (128,)
    # same seed, same params
    _, p0 = init_params(config, seed=5)
    _, p1 = init_params(config, seed=5)
    for a, b in zip(jax.tree_util.tree_leaves(p0), jax.tree_util.tree_leaves(p1)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("name,published", [("t5.1.1-small", 77e6), ("t5.1.1-base", 248e6)])
def test_published_param_counts(name, published):
    n = count_params(t5_config(name))
    assert abs(n - published) / published < 0.02
    assert n == _hand_count(t5_config(name))


def test_named_configs_and_validation():
    assert set(NAMED_CONFIGS) >= {
        "t5.1.1-tiny", "t5.1.1-small", "t5.1.1-base", "t5.1.1-large", "t5.1.1-xl",
        "mt5-small", "mt5-base", "mt5-large", "mt5-xl",
    }
    assert t5_config("mt5-base").vocab_size == 250112
    assert t5_config("t5.1.1-xl").d_ff == 5120
    assert t5_config("t5.1.1-tiny", vocab_size=500).vocab_size == 500
    with pytest.raises(ValueError, match="t5.1.1-small"):
        t5_config("t5-huge")
    with pytest.raises(ValueError, match="unknown T5Config field"):
        t5_config("t5.1.1-tiny", hidden_size=3)
    with pytest.raises(ValueError, match="dtype"):
        t5_config("t5.1.1-tiny", dtype="float16")
    with pytest.raises(ValueError, match="d_model"):
        t5_config("t5.1.1-tiny", d_model=0)
    with pytest.raises(ValueError, match="dropout_rate"):
        t5_config("t5.1.1-tiny", dropout_rate=1.0)
    with pytest.raises(ValueError, match="num_buckets"):
        t5_config("t5.1.1-tiny", relative_attention_num_buckets=7)
    with pytest.raises(ValueError, match="max_distance"):
        t5_config("t5.1.1-tiny", relative_attention_max_distance=8)


def test_shift_right():
    t = jnp.array([[5, 6, 1, 0], [7, 1, 0, 0]])
    np.testing.assert_array_equal(shift_right(t), [[0, 5, 6, 1], [0, 7, 1, 0]])
    np.testing.assert_array_equal(shift_right(t, decoder_start_id=3)[:, 0], [3, 3])


# --------------------------------------------------------------------------
# independent NumPy references
# --------------------------------------------------------------------------


def _np_bucket(rel: int, bidirectional: bool, num_buckets: int, max_distance: int) -> int:
    """Scalar re-statement of the T5 bucketing rule, in float64."""
    offset = 0
    n = num_buckets
    if bidirectional:
        n = num_buckets // 2
        if rel > 0:
            offset = n
        dist = abs(rel)
    else:
        dist = max(-rel, 0)
    exact = n // 2
    if dist < exact:
        return offset + dist
    log_bucket = exact + int(math.log(dist / exact) / math.log(max_distance / exact) * (n - exact))
    return offset + min(log_bucket, n - 1)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("num_buckets,max_distance", [(32, 128), (16, 64), (64, 512)])
def test_relative_position_bucket_matches_numpy(bidirectional, num_buckets, max_distance):
    q = np.arange(0, 700, 7)[:, None]
    k = np.arange(0, 700, 3)[None, :]
    rel = k - q
    ours = np.asarray(
        relative_position_bucket(
            jnp.asarray(rel), bidirectional=bidirectional, num_buckets=num_buckets,
            max_distance=max_distance,
        )
    )
    ref = np.vectorize(lambda r: _np_bucket(int(r), bidirectional, num_buckets, max_distance))(rel)
    np.testing.assert_array_equal(ours, ref)
    # and every offset in a dense window
    dense = np.arange(-600, 601)
    ours = np.asarray(relative_position_bucket(jnp.asarray(dense), bidirectional=bidirectional,
                                               num_buckets=num_buckets, max_distance=max_distance))
    ref = np.array([_np_bucket(int(r), bidirectional, num_buckets, max_distance) for r in dense])
    np.testing.assert_array_equal(ours, ref)
    assert ours.min() >= 0 and ours.max() < num_buckets


def test_rms_norm_matches_numpy():
    rng = np.random.RandomState(1)
    x = rng.randn(3, 5, 16).astype(np.float32) * 3
    scale = rng.rand(16).astype(np.float32) + 0.5
    x64 = x.astype(np.float64)
    ref = scale * x64 / np.sqrt(np.mean(x64**2, axis=-1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(np.asarray(rms_norm(jnp.asarray(x), jnp.asarray(scale), 1e-6)), ref,
                               rtol=1e-5, atol=1e-5)
    # bf16 input: statistics still float32, float32 output
    out16 = rms_norm(jnp.asarray(x, jnp.bfloat16), jnp.asarray(scale), 1e-6)
    assert out16.dtype == jnp.float32


def _np_cross_entropy(logits, targets, mask):
    logits = np.asarray(logits, np.float64)
    m = logits.max(-1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(-1)) + m[..., 0]
    nll = lse - np.take_along_axis(logits, targets[..., None], -1)[..., 0]
    return nll, mask.astype(np.float64)


def test_cross_entropy_matches_numpy():
    rng = np.random.RandomState(2)
    logits = (rng.randn(3, 6, 50) * 10).astype(np.float32)
    targets = rng.randint(0, 50, (3, 6))
    mask = rng.rand(3, 6) > 0.3
    mask[2] = False
    nll, m = _np_cross_entropy(logits, targets, mask)
    got = token_cross_entropy(jnp.asarray(logits), jnp.asarray(targets), jnp.asarray(mask))
    assert got.dtype == jnp.float32 and got.shape == ()
    np.testing.assert_allclose(float(got), (nll * m).sum() / m.sum(), rtol=1e-5)
    per = per_example_cross_entropy(jnp.asarray(logits), jnp.asarray(targets), jnp.asarray(mask))
    ref = [(nll[i] * m[i]).sum() / m[i].sum() if m[i].sum() else 0.0 for i in range(3)]
    np.testing.assert_allclose(np.asarray(per), ref, rtol=1e-5)
    # all-zero mask: finite, zero
    zero = token_cross_entropy(jnp.asarray(logits), jnp.asarray(targets), jnp.zeros((3, 6), bool))
    assert float(zero) == 0.0
    # large logits stay finite
    big = token_cross_entropy(jnp.asarray(logits * 1e4), jnp.asarray(targets), jnp.asarray(mask))
    assert np.isfinite(float(big))


# --------------------------------------------------------------------------
# masking
# --------------------------------------------------------------------------


def test_causal_mask(tiny):
    _, graphdef, params = tiny
    x, y = _batch()
    dec = shift_right(y)
    base = _apply(graphdef, params, x, dec)
    j = 4
    changed = _apply(graphdef, params, x, dec.at[:, j].set((dec[:, j] + 17) % VOCAB))
    np.testing.assert_allclose(changed[:, :j], base[:, :j], atol=1e-5)
    assert float(jnp.abs(changed[:, j:] - base[:, j:]).max()) > 1e-3


def test_encoder_padding_mask(tiny):
    _, graphdef, params = tiny
    x, y = _batch()
    dec = shift_right(y)
    base = _apply(graphdef, params, x, dec)
    padded = jnp.concatenate([x, jnp.zeros((3, 6), jnp.int32)], axis=1)
    np.testing.assert_allclose(_apply(graphdef, params, padded, dec), base, atol=1e-4, rtol=1e-5)
    # encoder hidden states at real positions are unchanged too
    real = np.asarray(x != 0)
    e0 = np.asarray(_jit_method(graphdef, params, lambda m: m.encode(x)))
    e1 = np.asarray(_jit_method(graphdef, params, lambda m: m.encode(padded)))[:, : x.shape[1]]
    np.testing.assert_allclose(e1[real], e0[real], atol=1e-5)
    # padding a real token away does change the logits
    assert float(jnp.abs(_apply(graphdef, params, x.at[0, 8].set(0), dec) - base).max()) > 1e-3
    assert float(jnp.abs(_apply(graphdef, params, x.at[0, 2].set(9), dec) - base).max()) > 1e-3


# --------------------------------------------------------------------------
# dropout
# --------------------------------------------------------------------------


def test_dropout_keys(tiny):
    config, graphdef, params = tiny
    assert config.dropout_rate > 0
    x, y = _batch()
    dec = shift_right(y)
    k1, k2 = jax.random.key(1), jax.random.key(2)
    a = _apply(graphdef, params, x, dec, k1)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(_apply(graphdef, params, x, dec, k1)))
    assert float(jnp.abs(a - _apply(graphdef, params, x, dec, k2)).max()) > 1e-3
    det = _apply(graphdef, params, x, dec)
    np.testing.assert_array_equal(np.asarray(det), np.asarray(_apply(graphdef, params, x, dec, None)))
    assert float(jnp.abs(a - det).max()) > 1e-3
    # deterministic=False without rngs is an error
    with pytest.raises(ValueError, match="rngs"):
        nnx.merge(graphdef, params)(x, dec, deterministic=False)
    # the module call with the same key gives the same masks as apply()
    mod_drop = _jit_method(
        graphdef, params, lambda m: m(x, dec, deterministic=False, rngs=nnx.Rngs(dropout=k1))
    )
    np.testing.assert_allclose(mod_drop, a, atol=1e-4)
    # gradients through dropout are finite
    g = jax.jit(jax.grad(lambda p: token_cross_entropy(apply(graphdef, p, x, dec, k1), y, y != 0)))(params)
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(g))


def test_bfloat16_compute(tiny):
    config, graphdef, params = tiny
    x, y = _batch()
    dec = shift_right(y)
    g16, _ = init_params(config.replace(dtype="bfloat16"), seed=0)
    ref = _apply(graphdef, params, x, dec)
    out = _apply(g16, params, x, dec)  # same float32 params, bf16 matmuls
    assert out.dtype == jnp.float32
    rel = float(jnp.abs(out - ref).max() / jnp.abs(ref).max())
    assert 0 < rel < 0.05


# --------------------------------------------------------------------------
# memorisation + greedy decoding
# --------------------------------------------------------------------------

_MEM_INPUTS = np.array(
    [
        [11, 12, 13, 14, 15, 1, 0, 0],
        [21, 22, 23, 1, 0, 0, 0, 0],
        [31, 32, 33, 34, 35, 36, 37, 1],
        [41, 42, 1, 0, 0, 0, 0, 0],
    ],
    np.int32,
)
_MEM_TARGETS = np.array(
    [
        [101, 102, 103, 1, 0, 0],
        [201, 202, 203, 204, 205, 1],
        [301, 1, 0, 0, 0, 0],
        [401, 402, 403, 404, 1, 0],
    ],
    np.int32,
)


@pytest.fixture(scope="module")
def memorised(tiny):
    config, graphdef, params = tiny
    x, y = jnp.asarray(_MEM_INPUTS), jnp.asarray(_MEM_TARGETS)
    dec = shift_right(y)
    opt = optax.adam(3e-3)

    def loss_fn(p):
        return token_cross_entropy(apply(graphdef, p, x, dec), y, y != 0)

    @jax.jit
    def train(p):
        def step(carry, _):
            p, s = carry
            loss, g = jax.value_and_grad(loss_fn)(p)
            updates, s = opt.update(g, s, p)
            return (optax.apply_updates(p, updates), s), loss

        (p, _), losses = jax.lax.scan(step, (p, opt.init(p)), None, length=100)
        return p, losses

    trained, losses = train(params)
    return graphdef, trained, np.asarray(losses), float(loss_fn(trained))


def test_loss_falls_on_memorisable_batch(memorised):
    _, _, losses, final = memorised
    assert losses[0] > 5.0  # ~log(vocab) at initialisation
    assert final < 0.1, final


def test_greedy_decode_reproduces_targets(memorised):
    graphdef, params, _, _ = memorised
    out = _greedy(graphdef, params, jnp.asarray(_MEM_INPUTS), max_length=9)
    assert out.dtype == jnp.int32 and out.shape == (4, 9)
    expected = np.zeros((4, 9), np.int32)
    expected[:, :6] = _MEM_TARGETS
    np.testing.assert_array_equal(np.asarray(out), expected)
    # unjitted call gives the same
    np.testing.assert_array_equal(np.asarray(greedy_decode(graphdef, params, _MEM_INPUTS, 9)), expected)


def test_greedy_decode_consistent_with_teacher_forcing(tiny):
    _, graphdef, params = tiny
    x, _ = _batch(seed=3)
    out = _greedy(graphdef, params, x, max_length=6, eos_id=-1)  # no EOS: never stops
    logits = _apply(graphdef, params, x, shift_right(out))
    np.testing.assert_array_equal(np.asarray(jnp.argmax(logits, -1)), np.asarray(out))


def test_greedy_decode_pads_after_eos(tiny):
    _, graphdef, params = tiny
    x, _ = _batch(seed=4)
    free = np.asarray(_greedy(graphdef, params, x, max_length=8, eos_id=-1))
    eos = int(free[0, 2])  # pretend the token row 0 emits at step 2 is EOS
    out = np.asarray(_greedy(graphdef, params, x, max_length=8, eos_id=eos))
    expected = free.copy()
    for row in expected:
        hits = np.nonzero(row == eos)[0]
        if hits.size:
            row[hits[0] + 1 :] = 0
    assert np.all(expected[0, 3:] == 0)
    np.testing.assert_array_equal(out, expected)
