"""SentencePiece training and the T5-convention vocabulary.

T5 conventions: pad 0, eos 1, unk 2, no BOS; ``extra_ids`` sentinel ids sit *above* the
SentencePiece pieces, and sentinel i (``<extra_id_i>``) is ``vocab_size - 1 - i``
(so extra_id_0 is the largest id), as in seqio's SentencePieceVocabulary.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import sentencepiece as spm

from sam_bench.io import atomic_write

__all__ = ["PAD_ID", "EOS_ID", "UNK_ID", "train_sentencepiece", "Vocabulary"]

PAD_ID, EOS_ID, UNK_ID = 0, 1, 2


def train_sentencepiece(
    corpus_path: str | Path | Sequence[str | Path],
    model_prefix: str | Path,
    vocab_size: int,
    *,
    character_coverage: float = 1.0,
    hard_vocab_limit: bool = False,
) -> Path:
    """Train a unigram SentencePiece model with T5's special ids; returns ``<model_prefix>.model``.

    ``corpus_path``: one text file (or several), one sentence/document per line. Training
    is deterministic: one thread, every input line used, no input shuffling; two runs on
    the same corpus give byte-identical ``.model`` files. Also writes ``<model_prefix>.vocab``
    (piece <TAB> score per line, for reading). Both files are written atomically.
    ``vocab_size`` counts the SentencePiece pieces only (the T5 ``Vocabulary`` adds the
    extra ids on top). With ``hard_vocab_limit=False`` (default) it is an upper bound: a
    small corpus (like the synthetic world's, a few hundred distinct words) supports
    fewer pieces, and SentencePiece then keeps what the corpus supports instead of
    failing; read the real size from ``Vocabulary(path).vocab_size``. With True, a
    corpus too small for ``vocab_size`` raises.
    """
    paths = [corpus_path] if isinstance(corpus_path, (str, Path)) else list(corpus_path)
    for p in paths:
        if not Path(p).is_file():
            raise FileNotFoundError(f"tokenizer corpus not found: {p}")
    model_prefix = Path(model_prefix)
    model_buf = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            input=",".join(str(p) for p in paths),
            model_writer=model_buf,
            vocab_size=int(vocab_size),
            model_type="unigram",
            pad_id=PAD_ID,
            eos_id=EOS_ID,
            unk_id=UNK_ID,
            bos_id=-1,
            character_coverage=character_coverage,
            hard_vocab_limit=hard_vocab_limit,
            num_threads=1,
            input_sentence_size=0,
            shuffle_input_sentence=False,
            max_sentence_length=1 << 16,
            logstream=open(os.devnull, "w"),
        )
    except RuntimeError as e:
        raise RuntimeError(
            f"SentencePiece training on {paths} with vocab_size={vocab_size} failed: {e}. "
            "A vocabulary larger than the corpus supports needs a smaller vocab_size."
        ) from e
    data = model_buf.getvalue()
    model_path = model_prefix.with_name(model_prefix.name + ".model")
    atomic_write(model_path, data)
    sp = spm.SentencePieceProcessor(model_proto=data)
    vocab_text = "".join(
        f"{sp.id_to_piece(i)}\t{sp.get_score(i):g}\n" for i in range(sp.get_piece_size())
    )
    atomic_write(model_prefix.with_name(model_prefix.name + ".vocab"), vocab_text.encode("utf-8"))
    return model_path


class Vocabulary:
    """A SentencePiece model plus ``extra_ids`` T5 sentinels.

    ``encode`` never adds EOS (the batching layer appends it); ``decode`` stops at the
    first EOS, drops padding and writes sentinels as ``<extra_id_i>``.
    """

    def __init__(self, model_path: str | Path, extra_ids: int = 100):
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"SentencePiece model not found: {self.model_path}")
        if extra_ids < 0:
            raise ValueError(f"extra_ids must be >= 0, got {extra_ids}")
        data = self.model_path.read_bytes()
        self._sp = spm.SentencePieceProcessor(model_proto=data)
        self.fingerprint = hashlib.sha256(data).hexdigest()
        self.extra_ids = int(extra_ids)
        self.piece_size = self._sp.get_piece_size()
        ids = {"pad": self._sp.pad_id(), "eos": self._sp.eos_id(), "unk": self._sp.unk_id()}
        expected = {"pad": PAD_ID, "eos": EOS_ID, "unk": UNK_ID}
        if ids != expected:
            raise ValueError(
                f"{self.model_path}: special ids {ids} do not follow the T5 convention {expected}"
            )

    # T5 special ids
    pad_id = PAD_ID
    eos_id = EOS_ID
    unk_id = UNK_ID

    @property
    def vocab_size(self) -> int:
        """Pieces + extra ids (the embedding size a model needs)."""
        return self.piece_size + self.extra_ids

    def sentinel_id(self, i: int) -> int:
        """Id of ``<extra_id_i>``: vocab_size - 1 - i."""
        if not 0 <= i < self.extra_ids:
            raise ValueError(f"sentinel index {i} outside [0, {self.extra_ids})")
        return self.vocab_size - 1 - i

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (no EOS)."""
        return self._sp.encode(text, out_type=int)

    def encode_batch(self, texts: Iterable[str]) -> list[list[int]]:
        """``encode`` for many texts at once (SentencePiece's batched C++ path)."""
        texts = list(texts)
        if not texts:
            return []
        return self._sp.encode(texts, out_type=int)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids`` up to the first EOS; padding dropped; sentinels as ``<extra_id_i>``."""
        out: list[str] = []
        run: list[int] = []

        def flush():
            if run:
                text = self._sp.decode(run)
                # SentencePiece drops the leading space of a run; keep it after a sentinel
                if out and self._sp.id_to_piece(run[0]).startswith("\u2581"):
                    text = " " + text
                out.append(text)
                run.clear()

        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i == PAD_ID:
                continue
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"token id {i} outside the vocabulary [0, {self.vocab_size})")
            if i >= self.piece_size:
                flush()
                out.append(f"<extra_id_{self.vocab_size - 1 - i}>")
            else:
                run.append(i)
        flush()
        return "".join(out)

    def __repr__(self) -> str:
        return f"Vocabulary({str(self.model_path)!r}, pieces={self.piece_size}, extra_ids={self.extra_ids})"
