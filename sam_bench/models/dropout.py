"""Dropout masks from a counter-based hash, shared by every model family.

Each dropout site of one stack pass draws its mask from the pass's key: the element index
is hashed together with two 32-bit words derived from (key, site) by two rounds of the
``lowbias32`` integer hash (Wellons 2018; the round structure of counter-based generators
such as Philox: state = f(counter, key)), and the element is kept when the hash falls below
``keep * 2**32``. It is a handful of integer operations per element, where XLA's
``RngBitGenerator`` (``rbg``) took ~60x longer on one CPU core (a MiniLM attention mask of
3.1M elements: 119 ms against 2 ms, measured here); ``benchmarks/step_floor.py`` times whole
training steps with either. Same key in, same masks out (the two passes of a
SAM step share them); a different key or site gives an independent-looking mask (tested:
keep rate, and near-zero correlation between sites and keys).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

_SITE_MIX = (0x9E3779B9, 0x85EBCA6B, 0xC2B2AE35, 0x27D4EB2F)


def _lowbias32(x: Array) -> Array:
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


def keep_mask(words: Array, shape: tuple[int, ...], keep: float) -> Array:
    """Boolean mask of ``shape`` with each element kept with probability ``keep``; ``words``
    are two uint32 seeds."""
    count = 1
    for d in shape:
        count *= d
    index = jax.lax.iota(jnp.uint32, count)
    bits = _lowbias32(_lowbias32(index ^ words[0]) + words[1])
    threshold = jnp.uint32(min(int(round(keep * 2.0**32)), 2**32 - 1))
    return (bits < threshold).reshape(shape)


class DropoutStream:
    """Dropout randomness for one stack pass, drawn from one ``rngs.dropout()`` key; each
    call (dropout site) mixes its site number into the key words."""

    def __init__(self, key: Array):
        data = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else jnp.asarray(key)
        data = data.reshape(-1).astype(jnp.uint32)
        if data.shape[0] < 4:
            data = jnp.concatenate([data, data ^ jnp.uint32(0x5BD1E995)])
        self._data = data[:4]
        self._site = 0

    def site_words(self) -> Array:
        """The two seeds of the next site."""
        self._site += 1
        mix = jnp.asarray([(self._site * m) & 0xFFFFFFFF for m in _SITE_MIX], jnp.uint32)
        d = _lowbias32(self._data ^ mix)
        return jnp.stack([_lowbias32(d[0] ^ _lowbias32(d[1])), _lowbias32(d[2] ^ _lowbias32(d[3] + d[0]))])

    def __call__(self, x: Array, rate: float) -> Array:
        if rate == 0.0:
            return x
        keep = 1.0 - rate
        mask = keep_mask(self.site_words(), x.shape, keep)
        return jnp.where(mask, x / jnp.asarray(keep, x.dtype), jnp.zeros((), x.dtype))


def dropout(x: Array, rate: float, stream: DropoutStream | None) -> Array:
    """Inverted dropout; ``stream=None`` means deterministic."""
    if stream is None or rate == 0.0:
        return x
    return stream(x, rate)
