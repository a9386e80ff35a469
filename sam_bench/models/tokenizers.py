"""Tokenizers for the model families.

* T5.1.1 / mT5: SentencePiece through :class:`sam_bench.data.tokenizer.Vocabulary`
  (pad 0, eos 1, unk 2, 100 sentinels at the top); the path comes from the config
  (a ``spiece.model`` file or a folder holding one).
* BERT family: the Hugging Face ``tokenizers`` library, read from the checkpoint
  folder: ``tokenizer.json`` when present, else ``vocab.txt`` (WordPiece: BERT,
  ELECTRA, MiniLM) or ``vocab.json`` + ``merges.txt`` (byte-level BPE: RoBERTa).
  ALBERT's SentencePiece model is read from its ``tokenizer.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sam_bench.data.tokenizer import Vocabulary
from sam_bench.errors import ConfigError
from sam_bench.models.registry import ModelConfig, model_family

__all__ = ["BertFamilyTokenizer", "load_tokenizer", "t5_vocabulary"]


def t5_vocabulary(path: str | Path, extra_ids: int = 100):
    """The T5/mT5 SentencePiece vocabulary at ``path`` (a ``.model`` file or a folder with ``spiece.model``)."""
    path = Path(path)
    if path.is_dir():
        candidates = [path / "spiece.model", *sorted(path.glob("*.model"))]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ConfigError(f"no SentencePiece model (spiece.model or *.model) in {path}")
        path = found
    return Vocabulary(path, extra_ids=extra_ids)


def _require_tokenizers():
    try:
        import tokenizers
    except ImportError:
        raise ConfigError(
            "BERT-family tokenizers need the `tokenizers` package: pip install tokenizers"
        ) from None
    return tokenizers


class BertFamilyTokenizer:
    """A ``tokenizers.Tokenizer`` with the checkpoint's special tokens, padding and truncation.

    ``__call__`` returns int32 arrays ``input_ids``, ``token_type_ids`` and
    ``attention_mask`` of shape ``[B, max_length]`` — the inputs of
    :class:`sam_bench.models.bert.BertEncoder` — for single sentences or pairs.
    """

    def __init__(self, tokenizer: Any, *, pad_token: str, folder: Path | None = None):
        self.tokenizer = tokenizer
        self.folder = folder
        self.pad_token = pad_token
        pad_id = tokenizer.token_to_id(pad_token)
        if pad_id is None:
            raise ConfigError(f"tokenizer in {folder}: pad token {pad_token!r} is not in the vocabulary")
        self.pad_id = int(pad_id)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    @classmethod
    def from_folder(cls, folder: str | Path, *, lowercase: bool | None = None) -> "BertFamilyTokenizer":
        tokenizers = _require_tokenizers()
        folder = Path(folder)
        if not folder.is_dir():
            raise ConfigError(f"tokenizer folder not found: {folder}")
        special = {}
        for name in ("special_tokens_map.json", "tokenizer_config.json"):
            if (folder / name).exists():
                data = json.loads((folder / name).read_text())
                for k, v in data.items():
                    if k.endswith("_token") and v is not None:
                        special.setdefault(k, v["content"] if isinstance(v, dict) else v)
                if lowercase is None and "do_lower_case" in data:
                    lowercase = bool(data["do_lower_case"])
        if (folder / "tokenizer.json").exists():
            tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
            pad = special.get("pad_token") or next(
                (t for t in ("[PAD]", "<pad>") if tok.token_to_id(t) is not None), None
            )
        elif (folder / "vocab.txt").exists():
            from tokenizers.implementations import BertWordPieceTokenizer

            wp = BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=True if lowercase is None else lowercase)
            tok, pad = wp._tokenizer, special.get("pad_token", "[PAD]")
        elif (folder / "vocab.json").exists() and (folder / "merges.txt").exists():
            from tokenizers.implementations import ByteLevelBPETokenizer
            from tokenizers.processors import RobertaProcessing

            bpe = ByteLevelBPETokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
            tok = bpe._tokenizer
            bos, eos = special.get("bos_token", "<s>"), special.get("eos_token", "</s>")
            tok.post_processor = RobertaProcessing((eos, tok.token_to_id(eos)), (bos, tok.token_to_id(bos)))
            pad = special.get("pad_token", "<pad>")
        else:
            raise ConfigError(
                f"no tokenizer in {folder}: expected tokenizer.json, vocab.txt (WordPiece) or "
                "vocab.json + merges.txt (byte-level BPE)"
            )
        if pad is None:
            raise ConfigError(f"tokenizer in {folder}: cannot tell its pad token (no special_tokens_map.json)")
        tok.no_truncation()
        tok.no_padding()
        return cls(tok, pad_token=pad, folder=folder)

    def __call__(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        *,
        max_length: int = 128,
    ) -> dict[str, np.ndarray]:
        """Encode sentences (or sentence pairs), truncated ``longest_first`` and padded to ``max_length``."""
        texts = list(texts)
        if pairs is not None:
            pairs = list(pairs)
            if len(pairs) != len(texts):
                raise ValueError(f"{len(texts)} first sentences but {len(pairs)} second sentences")
        tok = self.tokenizer
        tok.enable_truncation(max_length=max_length, strategy="longest_first")
        tok.enable_padding(pad_id=self.pad_id, pad_token=self.pad_token, length=max_length)
        try:
            batch = tok.encode_batch(list(zip(texts, pairs)) if pairs is not None else texts)
        finally:
            tok.no_truncation()
            tok.no_padding()
        return {
            "input_ids": np.asarray([e.ids for e in batch], np.int32).reshape(len(texts), max_length),
            "token_type_ids": np.asarray([e.type_ids for e in batch], np.int32).reshape(len(texts), max_length),
            "attention_mask": np.asarray([e.attention_mask for e in batch], np.int32).reshape(len(texts), max_length),
        }

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode([int(i) for i in ids], skip_special_tokens=True)

    def __repr__(self) -> str:
        return f"BertFamilyTokenizer({str(self.folder)!r}, vocab={self.vocab_size}, pad={self.pad_token!r})"


def load_tokenizer(config: ModelConfig, path: str | Path):
    """The tokenizer for ``config``'s family: a T5 ``Vocabulary`` or a :class:`BertFamilyTokenizer`.

    ``path``: for T5/mT5 the SentencePiece model (or its folder); for the BERT family the
    checkpoint folder. The tokenizer's size must fit the model's embedding.
    """
    if model_family(config) == "t5":
        vocab = t5_vocabulary(path)
        if vocab.vocab_size > config.vocab_size:
            raise ConfigError(f"vocabulary {path} has {vocab.vocab_size} ids but the model embeds only "
                              f"{config.vocab_size}")
        return vocab
    tok = BertFamilyTokenizer.from_folder(path)
    if tok.vocab_size > config.vocab_size:
        raise ConfigError(f"tokenizer in {path} has {tok.vocab_size} tokens but the model embeds only "
                          f"{config.vocab_size}")
    return tok
