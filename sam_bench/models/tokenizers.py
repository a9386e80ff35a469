"""Tokenizers for the model families.

* T5.1.1 / mT5: SentencePiece through :class:`sam_bench.data.tokenizer.Vocabulary`
  (pad 0, eos 1, unk 2, 100 sentinels at the top); the path comes from the config
  (a ``spiece.model`` file or a folder holding one).
* BERT family: the Hugging Face ``tokenizers`` library, read from the checkpoint
  folder: ``tokenizer.json`` when present, else ``vocab.txt`` (WordPiece: BERT,
  ELECTRA, MiniLM) or ``vocab.json`` + ``merges.txt`` (byte-level BPE: RoBERTa).
  ALBERT's SentencePiece model is read from its ``tokenizer.json``.
* BART: byte-level BPE through ``tokenizers``, from the checkpoint folder's
  ``tokenizer.json`` or ``vocab.json`` + ``merges.txt``, with BART's specials
  (``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3), in the text-to-text interface
  T5's ``Vocabulary`` has (``encode_batch``, ``decode``, ``pad_id``, ``eos_id``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sam_bench.data.tokenizer import Vocabulary
from sam_bench.errors import ConfigError
from sam_bench.models.registry import ModelConfig, model_family

__all__ = ["BartTokenizer", "BertFamilyTokenizer", "load_tokenizer", "t5_vocabulary"]


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


class BartTokenizer:
    """BART's byte-level BPE for text-to-text cells.

    As Hugging Face's ``BartTokenizer``, a text is ``<s> pieces </s>``: ``encode_batch`` gives
    ``<s>`` and the pieces, and :func:`sam_bench.data.batching.pack_ids` appends ``</s>``
    (``eos_id``) and pads with ``<pad>`` (``pad_id``), truncating before the ``</s>``. No prefix
    space is added (BART's ``add_prefix_space=False``). ``decode`` stops at the first ``</s>``
    and drops special tokens.
    """

    SPECIALS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>"}

    def __init__(self, tokenizer: Any, folder: Path | None = None):
        self.tokenizer, self.folder = tokenizer, folder
        ids = {k: tokenizer.token_to_id(t) for k, t in self.SPECIALS.items()}
        missing = [self.SPECIALS[k] for k, i in ids.items() if i is None]
        if missing:
            raise ConfigError(f"BART tokenizer in {folder}: special tokens {missing} are not in the vocabulary")
        self.bos_id, self.pad_id, self.eos_id, self.unk_id = (int(ids[k]) for k in ("bos", "pad", "eos", "unk"))
        tokenizer.add_special_tokens(list(self.SPECIALS.values()))  # in the vocabulary already: marks them only

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    @classmethod
    def from_folder(cls, folder: str | Path) -> "BartTokenizer":
        tokenizers = _require_tokenizers()
        folder = Path(folder)
        if (folder / "tokenizer.json").exists():
            tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
        elif (folder / "vocab.json").exists() and (folder / "merges.txt").exists():
            from tokenizers.implementations import ByteLevelBPETokenizer

            tok = ByteLevelBPETokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))._tokenizer
        else:
            raise ConfigError(f"no BART tokenizer in {folder}: expected tokenizer.json or vocab.json + merges.txt "
                              "(byte-level BPE), as the Hugging Face BART folders ship them")
        tok.no_truncation()
        tok.no_padding()
        return cls(tok, folder)

    def encode(self, text: str) -> list[int]:
        return [self.bos_id] + self.tokenizer.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts) -> list[list[int]]:
        return [[self.bos_id] + e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids) -> str:
        ids = [int(i) for i in ids]
        if self.eos_id in ids:
            ids = ids[: ids.index(self.eos_id)]
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def __repr__(self) -> str:
        return f"BartTokenizer({str(self.folder)!r}, vocab={self.vocab_size})"


def load_tokenizer(config: ModelConfig, path: str | Path):
    """The tokenizer for ``config``'s family: a T5 ``Vocabulary``, a :class:`BartTokenizer` or a
    :class:`BertFamilyTokenizer`.

    ``path``: for T5/mT5 the SentencePiece model (or its folder); for BART and the BERT family the
    checkpoint folder. The tokenizer's size must fit the model's embedding (and BART's special
    ids must be the model's).
    """
    if model_family(config) == "bart":
        bart = BartTokenizer.from_folder(path)
        theirs = {"bos": bart.bos_id, "pad": bart.pad_id, "eos": bart.eos_id}
        ours = {"bos": config.bos_token_id, "pad": config.pad_token_id, "eos": config.eos_token_id}
        if theirs != ours or bart.vocab_size > config.vocab_size:
            raise ConfigError(f"BART tokenizer in {path} (ids {theirs}, {bart.vocab_size} tokens) does not fit the "
                              f"model (ids {ours}, {config.vocab_size} embeddings)")
        return bart
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
