"""Micro-batching (gradient accumulation): a pass over many examples as a loop over chunks.

Every pass of a gradient over more than `micro_batch` examples runs as a sequential loop over
chunks whose results are averaged weighted by their size (or concatenated), so memory scales
with the chunk, not the batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp


def batch_size(batch: dict) -> int:
    return jax.tree.leaves(batch)[0].shape[0]


def _take(batch, start, stop):
    return jax.tree.map(lambda x: x[start:stop], batch)


@dataclass(frozen=True)
class Chunks:
    """How a pass over n examples is split: at most `size` examples at a time. When `fold`
    is set (accumulation active), chunk j uses the dropout key fold_in(key, j). When size
    divides n, chunk j holds examples j, j + n/size, j + 2n/size, ...: strided, so on a
    mesh every chunk is spread over all devices (a contiguous chunk would sit on a few)."""
    size: int | None = None
    fold: bool = False

    def _stack(self, examples, n):
        full = n // self.size
        if n % self.size == 0:
            return jax.tree.map(lambda x: x.reshape(self.size, full, *x.shape[1:]).swapaxes(0, 1), examples)
        return jax.tree.map(lambda x: x[: full * self.size].reshape(full, self.size, *x.shape[1:]), examples)

    def mean(self, fn, examples, key):
        """Σⱼ nⱼ fn(chunkⱼ, keyⱼ) / n, fn returning a pytree of per-chunk means."""
        n = batch_size(examples)
        if self.size is None or n <= self.size:
            return fn(examples, jax.random.fold_in(key, 0) if self.fold else key)
        full, rest = divmod(n, self.size)
        stacked = self._stack(examples, n)
        shape = jax.eval_shape(lambda: fn(jax.tree.map(lambda x: x[0], stacked), key))
        zero = jax.tree.map(lambda s: jnp.zeros(s.shape, jnp.float32 if jnp.issubdtype(s.dtype, jnp.floating)
                                                else s.dtype), shape)

        def body(acc, xs):
            j, chunk = xs
            out = fn(chunk, jax.random.fold_in(key, j))
            return jax.tree.map(lambda a, o: a + o.astype(a.dtype) * self.size, acc, out), None

        total, _ = jax.lax.scan(body, zero, (jnp.arange(full), stacked))
        if rest:
            out = fn(_take(examples, full * self.size, n), jax.random.fold_in(key, full))
            total = jax.tree.map(lambda a, o: a + o.astype(a.dtype) * rest, total, out)
        return jax.tree.map(lambda a, s: (a / n).astype(s.dtype), total, shape)

    def concat(self, fn, examples, key):
        """fn(chunkⱼ, keyⱼ) per chunk, concatenated along the example axis."""
        n = batch_size(examples)
        if self.size is None or n <= self.size:
            return fn(examples, jax.random.fold_in(key, 0) if self.fold else key)
        full, rest = divmod(n, self.size)
        outs = jax.lax.map(lambda xs: fn(xs[1], jax.random.fold_in(key, xs[0])), (jnp.arange(full), self._stack(examples, n)))
        if not rest:  # back from strided chunks to example order
            outs = jax.tree.map(lambda o: o.swapaxes(0, 1), outs)
        outs = jax.tree.map(lambda o: o.reshape(full * self.size, *o.shape[2:]), outs)
        if rest:
            tail = fn(_take(examples, full * self.size, n), jax.random.fold_in(key, full))
            outs = jax.tree.map(lambda o, t: jnp.concatenate([o, t]), outs, tail)
        return outs


def chunks_for(batch, micro_batch: int | None) -> Chunks:
    b = batch_size(batch)
    if micro_batch is None or micro_batch >= b:
        return Chunks()
    return Chunks(size=int(micro_batch), fold=True)


def chunks_key(key, chunks: Chunks):
    return jax.random.fold_in(key, 0) if chunks.fold else key


def chunks_in_group(chunks: Chunks, group_size: int) -> Chunks:
    if chunks.size is None or chunks.size >= group_size:
        return Chunks(None, chunks.fold)
    return chunks
