"""Plain-text corpora for language-model cells, as byte tokens cut into fixed windows.

Tokens are the UTF-8 bytes of the text (vocabulary 256, no tokenizer to train, nothing to
download); documents are joined by their newline. Each split's byte stream is cut into
non-overlapping windows of ``length + 1`` bytes: a window's first ``length`` bytes are the
model's input and its last ``length`` its targets (the next byte at every position).

Named corpora (the file paths are relative to the cell's data root):

==================  ==============================  =============================================
name                source                          splits
==================  ==============================  =============================================
``sst2_text``       local (``../shared/data``)      the sentences of SST-2's sentence-level release
                                                    (``sst2_sentences/stsa.binary.{train,dev}``,
                                                    the leading label removed): real English
``synthetic_text``  synthetic (the workflow's       ``corpus/pretrain.txt``; every 10th document
                    ``synthesize`` rule)            is validation, the rest train
==================  ==============================  =============================================

``unigram_entropy`` is the baseline a model must beat: the entropy of the training split's
byte distribution, and the cross-entropy of that (add-one smoothed) distribution on the
validation split, both in nats per token.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

__all__ = ["CORPORA", "Corpus", "WindowSplit", "byte_windows", "unigram_entropy", "corpus_problems"]

VOCAB_SIZE = 256


def _sst2_lines(path: Path) -> list[str]:
    lines = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        label, _, text = line.partition(" ")
        if label not in ("0", "1") or not text:
            raise ValueError(f"{path}:{n}: expected '<0|1> <sentence>', got {line[:60]!r}")
        lines.append(text)
    return lines


@dataclasses.dataclass(frozen=True)
class Corpus:
    name: str
    source: str                        # the data source whose root holds the files
    files: tuple[str, ...]             # relative to the data root
    description: str

    def texts(self, root: str | Path) -> dict[str, str]:
        """{"train": text, "validation": text}."""
        root = Path(root)
        missing = [f for f in self.files if not (root / f).exists()]
        if missing:
            raise FileNotFoundError(f"corpus {self.name!r}: missing {missing} under the data root {root}")
        if self.name == "sst2_text":
            train, dev = (_sst2_lines(root / f) for f in self.files)
        else:
            docs = (root / self.files[0]).read_text(encoding="utf-8").splitlines()
            train = [d for i, d in enumerate(docs) if i % 10 != 9]
            dev = [d for i, d in enumerate(docs) if i % 10 == 9]
        return {"train": "\n".join(train) + "\n", "validation": "\n".join(dev) + "\n"}


CORPORA: dict[str, Corpus] = {c.name: c for c in [
    Corpus("sst2_text", "local", ("sst2_sentences/stsa.binary.train", "sst2_sentences/stsa.binary.dev"),
           "SST-2 sentence-level release, sentences only"),
    Corpus("synthetic_text", "synthetic", ("corpus/pretrain.txt",), "the synthetic world's pretraining corpus"),
]}


def corpus_problems(name: str, source: str, root: str | None, check_files: bool = True) -> list[str]:
    """What is wrong with reading corpus ``name`` from ``source`` at ``root`` (checked before compute)."""
    if name not in CORPORA:
        return [f"unknown corpus {name!r}; a decoder LM trains on a corpus, valid: {sorted(CORPORA)}"]
    corpus = CORPORA[name]
    if corpus.source != source:
        return [f"corpus {name!r} is read from data.source {corpus.source!r}, the config's is {source!r}"]
    if check_files and root is not None:
        missing = [f for f in corpus.files if not (Path(root) / f).exists()]
        if missing:
            return [f"corpus {name!r}: missing {missing} under data.root {root}"]
    return []


@dataclasses.dataclass(frozen=True)
class WindowSplit:
    """``tokens`` int32 ``[N, length + 1]``; the split interface of ``batch_at_step``."""

    tokens: np.ndarray

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def take(self, indices) -> "WindowSplit":
        return WindowSplit(self.tokens[np.asarray(indices, dtype=np.int64)])

    def as_batch(self) -> dict[str, np.ndarray]:
        return {"tokens": self.tokens}


def byte_windows(text: str, length: int) -> WindowSplit:
    """Non-overlapping windows of ``length + 1`` byte tokens (the tail that does not fill one is dropped)."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int32)
    n = (len(data) - 1) // length
    if n < 1:
        raise ValueError(f"a text of {len(data)} bytes holds no window of {length + 1} tokens")
    # window i covers bytes [i·L, (i+1)·L]: consecutive windows share one byte, so every byte is a target once
    idx = np.arange(n)[:, None] * length + np.arange(length + 1)[None, :]
    return WindowSplit(data[idx])


def unigram_entropy(train: str, validation: str) -> dict[str, float]:
    """{"unigram_entropy": H(p_train), "val_unigram_loss": −mean log p̂(validation bytes)} in nats,
    p̂ the add-one smoothed training distribution over the 256 byte values."""
    counts = np.bincount(np.frombuffer(train.encode("utf-8"), np.uint8), minlength=VOCAB_SIZE).astype(np.float64)
    p = counts / counts.sum()
    entropy = float(-np.sum(p[p > 0] * np.log(p[p > 0])))
    smoothed = (counts + 1.0) / (counts.sum() + VOCAB_SIZE)
    val = np.frombuffer(validation.encode("utf-8"), np.uint8)
    return {"unigram_entropy": entropy, "val_unigram_loss": float(-np.mean(np.log(smoothed[val])))}
