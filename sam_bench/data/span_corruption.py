"""T5 span corruption (the pretraining objective), in NumPy.

Follows ``t5.data.preprocessors.random_spans_noise_mask`` / ``span_corruption``:

* of a length-L sequence, ``round(L * noise_density)`` tokens are noise (at least 1,
  at most L - 1), grouped into ``round(noise_tokens / mean_noise_span_length)`` spans
  (at least 1; here also at most the number of noise and of non-noise tokens, so every
  span is non-empty). ``round`` is Python's (half to even), as in the T5 code.
* noise and non-noise tokens are each cut into that many spans by a uniformly random
  segmentation, then interleaved starting with a non-noise span (so the sequence never
  starts with noise and always ends with noise).
* inputs: the non-noise tokens, each noise span replaced by one sentinel; targets: each
  noise span preceded by its sentinel. Span k (0-based) uses ``<extra_id_k>`` =
  ``vocab_size - 1 - k`` in both.

``span_corrupt`` appends EOS to both inputs and targets (pass ``eos_id=None`` not to).
Pretraining data: the corpus is tokenised, all documents concatenated (no separator,
as T5's reduce_concat_tokens) and cut into chunks of ``tokens_length`` (the last, short,
chunk is dropped); ``random_spans_helper`` gives the chunk length whose corrupted inputs
(with EOS) are exactly ``inputs_length`` long.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sam_bench.data.batching import indices_at_step
from sam_bench.data.tokenizer import EOS_ID, PAD_ID

__all__ = [
    "noise_counts",
    "random_spans_noise_mask",
    "span_corrupt",
    "random_spans_helper",
    "chunk_token_stream",
    "corpus_chunks",
    "span_corruption_batch_at_step",
]


def noise_counts(length: int, noise_density: float, mean_noise_span_length: float) -> tuple[int, int]:
    """(number of noise tokens, number of noise spans) for a sequence of ``length`` >= 2."""
    num_noise = int(round(length * noise_density))
    num_noise = min(max(num_noise, 1), length - 1)
    num_spans = int(round(num_noise / mean_noise_span_length))
    num_spans = max(num_spans, 1)
    num_spans = min(num_spans, num_noise, length - num_noise)
    return num_noise, num_spans


def _random_segmentation(num_items: int, num_segments: int, rng: np.random.Generator) -> np.ndarray:
    """Lengths (all >= 1) of a uniformly random cut of ``num_items`` into ``num_segments`` parts."""
    first = np.zeros(num_items - 1, dtype=bool)
    first[: num_segments - 1] = True
    rng.shuffle(first)
    segment_id = np.concatenate([[0], np.cumsum(first)])
    return np.bincount(segment_id, minlength=num_segments)


def random_spans_noise_mask(
    length: int,
    rng: np.random.Generator,
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
) -> np.ndarray:
    """Boolean [length] mask, True = noise. Sequences shorter than 2 get no noise (as T5)."""
    if length < 2:
        return np.zeros(length, dtype=bool)
    num_noise, num_spans = noise_counts(length, noise_density, mean_noise_span_length)
    noise_lengths = _random_segmentation(num_noise, num_spans, rng)
    nonnoise_lengths = _random_segmentation(length - num_noise, num_spans, rng)
    interleaved = np.stack([nonnoise_lengths, noise_lengths], axis=1).reshape(-1)
    is_noise = np.tile([False, True], num_spans)
    return np.repeat(is_noise, interleaved)


def _spans_to_sentinels(tokens: np.ndarray, mask: np.ndarray, vocab_size: int) -> np.ndarray:
    """Replace each run of masked tokens by one sentinel (first run: vocab_size - 1, ...)."""
    prev = np.concatenate([[False], mask[:-1]])
    first = mask & ~prev
    sentinels = vocab_size - np.cumsum(first)
    out = np.where(first, sentinels, tokens)
    return out[~(mask & prev)]


def span_corrupt(
    tokens,
    rng: np.random.Generator,
    vocab_size: int,
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
    eos_id: int | None = EOS_ID,
    num_sentinels: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) int32 of one token sequence (no EOS in ``tokens``).

    ``vocab_size`` includes the sentinels (``Vocabulary.vocab_size``); more spans than
    ``num_sentinels`` is an error. EOS is appended to both outputs unless ``eos_id`` is None.
    """
    tokens = np.asarray(tokens, dtype=np.int32)
    if tokens.ndim != 1:
        raise ValueError(f"tokens must be one-dimensional, got shape {tokens.shape}")
    if tokens.size and int(tokens.max()) >= vocab_size - num_sentinels:
        raise ValueError("tokens contain sentinel ids; corrupt raw text tokens only")
    mask = random_spans_noise_mask(len(tokens), rng, noise_density, mean_noise_span_length)
    n_spans = int(np.sum(mask & ~np.concatenate([[False], mask[:-1]])))
    if n_spans > num_sentinels:
        raise ValueError(f"{n_spans} noise spans but only {num_sentinels} sentinels")
    inputs = _spans_to_sentinels(tokens, mask, vocab_size).astype(np.int32)
    targets = _spans_to_sentinels(tokens, ~mask, vocab_size).astype(np.int32)
    if eos_id is not None:
        inputs = np.append(inputs, np.int32(eos_id)).astype(np.int32)
        targets = np.append(targets, np.int32(eos_id)).astype(np.int32)
    return inputs, targets


def random_spans_helper(
    inputs_length: int, noise_density: float = 0.15, mean_noise_span_length: float = 3.0
) -> tuple[int, int]:
    """(tokens_length, targets_length): the longest raw chunk whose corrupted inputs plus EOS
    fit in ``inputs_length``, and the resulting targets length (with EOS)."""

    def lengths(tokens_length: int) -> tuple[int, int]:
        num_noise, num_spans = noise_counts(tokens_length, noise_density, mean_noise_span_length)
        return tokens_length - num_noise + num_spans + 1, num_noise + num_spans + 1

    if inputs_length < 3:
        raise ValueError(f"inputs_length must be >= 3, got {inputs_length}")
    tokens_length = 2
    while lengths(tokens_length + 1)[0] <= inputs_length:
        tokens_length += 1
    return tokens_length, lengths(tokens_length)[1]


def chunk_token_stream(documents: Sequence[Sequence[int]], chunk_length: int) -> np.ndarray:
    """Concatenate tokenised documents and cut into [N, chunk_length] int32 (remainder dropped)."""
    if chunk_length < 2:
        raise ValueError(f"chunk_length must be >= 2, got {chunk_length}")
    stream = np.fromiter((t for doc in documents for t in doc), dtype=np.int32)
    n = len(stream) // chunk_length
    if n == 0:
        raise ValueError(f"corpus of {len(stream)} tokens is shorter than one chunk of {chunk_length}")
    return stream[: n * chunk_length].reshape(n, chunk_length)


def corpus_chunks(corpus_path: str | Path, vocab, chunk_length: int) -> np.ndarray:
    """Tokenise a one-document-per-line corpus and cut it into chunks (see chunk_token_stream)."""
    with open(corpus_path, encoding="utf-8") as f:
        docs = [line.rstrip("\n") for line in f if line.strip()]
    return chunk_token_stream(vocab.encode_batch(docs), chunk_length)


def span_corruption_batch_at_step(
    chunks: np.ndarray,
    batch_size: int,
    seed: int,
    step: int,
    vocab_size: int,
    inputs_length: int,
    targets_length: int,
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
) -> dict[str, np.ndarray]:
    """Pretraining batch ``step``: chunk order as ``batching.indices_at_step(seed, step)``, noise
    from ``default_rng([seed, step, 1])``; {"inputs" [B, inputs_length], "targets" [B,
    targets_length]} int32, 0-padded. Raises if a corrupted example does not fit."""
    idx = indices_at_step(len(chunks), batch_size, seed, step)
    rng = np.random.default_rng([int(seed), int(step), 1])
    inputs = np.full((batch_size, inputs_length), PAD_ID, dtype=np.int32)
    targets = np.full((batch_size, targets_length), PAD_ID, dtype=np.int32)
    for row, i in enumerate(idx):
        x, y = span_corrupt(chunks[i], rng, vocab_size, noise_density, mean_noise_span_length)
        if len(x) > inputs_length or len(y) > targets_length:
            raise ValueError(
                f"corrupted lengths ({len(x)}, {len(y)}) exceed ({inputs_length}, {targets_length}); "
                "use random_spans_helper(inputs_length) for the chunk length"
            )
        inputs[row, : len(x)] = x
        targets[row, : len(y)] = y
    return {"inputs": inputs, "targets": targets}
