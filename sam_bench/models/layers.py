"""The layers every model family shares: dense, embedding, norms, activations, dropout, dtypes.

Parameters are float32 whatever the compute dtype; a layer casts its inputs and weights
to ``dtype`` for the matmul and keeps statistics (norms, softmax) in float32. Kernels are
``[in, out]`` (Hugging Face's ``weight`` transposed), embeddings ``[n, features]``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from sam_bench.models.dropout import DropoutStream

Array = jax.Array

#: Compute dtypes a config may name.
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
#: The masked-out attention score (finite, so a fully masked row stays finite).
NEG_INF = float(jnp.finfo(jnp.float32).min)


def check_dtype(owner: str, dtype: str) -> None:
    if dtype not in DTYPES:
        raise ValueError(f"{owner}.dtype must be one of {sorted(DTYPES)}, got {dtype!r}")


def normal(rngs: nnx.Rngs, shape: tuple[int, ...], std: float) -> nnx.Param:
    return nnx.Param(jax.random.normal(rngs.params(), shape, jnp.float32) * std)


class Dense(nnx.Module):
    """Linear layer, with a zero-initialised ``bias`` when ``bias=True``."""

    def __init__(self, in_features: int, out_features: int, *, std: float, dtype: Any, rngs: nnx.Rngs,
                 bias: bool = False):
        self.kernel = normal(rngs, (in_features, out_features), std)
        if bias:
            self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float32))
        self.use_bias = bias
        self.dtype = dtype

    def __call__(self, x: Array, out_dtype: Any = None) -> Array:
        out_dtype = out_dtype or self.dtype
        y = jnp.dot(x.astype(self.dtype), self.kernel[...].astype(self.dtype), preferred_element_type=out_dtype)
        return y + self.bias[...].astype(out_dtype) if self.use_bias else y


class Embedding(nnx.Module):
    def __init__(self, num_embeddings: int, features: int, *, std: float, rngs: nnx.Rngs):
        self.embedding = normal(rngs, (num_embeddings, features), std)

    def __call__(self, ids: Array) -> Array:
        return jnp.take(self.embedding[...], ids, axis=0)


def rms_norm(x: Array, scale: Array, eps: float = 1e-6) -> Array:
    """T5 layer norm: ``scale * x / sqrt(mean(x**2) + eps)``; statistics in float32.

    Returns float32 (the caller casts to the compute dtype).
    """
    x = x.astype(jnp.float32)
    variance = jnp.mean(jnp.square(x), axis=-1, keepdims=True)
    return scale.astype(jnp.float32) * (x * jax.lax.rsqrt(variance + eps))


class RMSNorm(nnx.Module):
    """T5's layer norm: a ``scale`` only, no bias, no mean subtraction."""

    def __init__(self, features: int, *, eps: float, dtype: Any):
        self.scale = nnx.Param(jnp.ones((features,), jnp.float32))
        self.eps = eps
        self.dtype = dtype

    def __call__(self, x: Array) -> Array:
        return rms_norm(x, self.scale[...], self.eps).astype(self.dtype)


class LayerNorm(nnx.Module):
    """Standard layer norm (mean and variance in float32), ``scale``/``bias``."""

    def __init__(self, features: int, *, eps: float, dtype: Any = jnp.float32):
        self.scale = nnx.Param(jnp.ones((features,), jnp.float32))
        self.bias = nnx.Param(jnp.zeros((features,), jnp.float32))
        self.eps = float(eps)
        self.dtype = dtype

    def __call__(self, x: Array) -> Array:
        x = x.astype(jnp.float32)
        mean = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
        y = (x - mean) * jax.lax.rsqrt(var + self.eps)
        return (y * self.scale[...] + self.bias[...]).astype(self.dtype)


def activation(name: str, x: Array) -> Array:
    """``gelu`` (exact), ``gelu_new`` (tanh approximation) or ``relu``, by Hugging Face's names."""
    if name == "gelu":
        return jax.nn.gelu(x, approximate=False)
    if name == "gelu_new":
        return jax.nn.gelu(x, approximate=True)
    return jax.nn.relu(x)


def dropout_stream(deterministic: bool, rngs: nnx.Rngs | None, *rates: float) -> DropoutStream | None:
    """The dropout masks of one pass, or None when the pass is deterministic or every rate is 0."""
    if deterministic or not any(rates):
        return None
    if rngs is None:
        raise ValueError("dropout needs rngs=nnx.Rngs(dropout=key) when deterministic=False")
    return DropoutStream(rngs.dropout())


def keyed_dropout(x: Array, rate: float, key: Array | None, site: int) -> Array:
    """Inverted dropout with the mask drawn from ``fold_in(key, site)`` (BART, the decoder LM)."""
    if key is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(jax.random.fold_in(key, site), 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0).astype(x.dtype)
