"""Hugging Face weight files as lazy tensor sources: safetensors (through the ``safetensors``
library), sharded ``*.index.json`` folders, and PyTorch ``pytorch_model.bin`` where torch is
installed; and the safetensors writer of the exporter.

The safetensors library memory-maps the file and copies out one tensor per ``read``, so an
import holds the model's float32 parameters plus the largest single tensor.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from sam_bench.errors import CheckpointError
from sam_bench.io import atomic_write
from sam_bench.models.checkpoints.base import PathLike, TensorSource, read_json

#: Hugging Face weight files of a folder, in the order they are looked for.
HF_FILES = ("model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin")


def _safetensors_error(path: Path, err: Exception) -> CheckpointError:
    """The library's error, said in terms of what to do about the file."""
    text = str(err)
    if "incomplete metadata" in text or "file not fully covered" in text:
        return CheckpointError(f"{path}: truncated: its header describes more bytes than the file has; "
                               f"copy or download it again ({text})")
    return CheckpointError(f"{path}: not a readable safetensors file ({text})")


class SafetensorsFile(TensorSource):
    """One ``.safetensors`` file; opening it validates the header against the file size."""

    def __init__(self, path: PathLike):
        self.path = Path(path)
        self.description = str(self.path)
        try:
            self._file = safe_open(self.path, framework="np")
        except (SafetensorError, OSError) as err:
            raise _safetensors_error(self.path, err) from None
        self.metadata = self._file.metadata() or {}
        self._bf16 = None  # numpy has no bfloat16: such tensors are read through the flax view

    def keys(self) -> list[str]:
        return list(self._file.keys())

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self._file.get_slice(key).get_shape())

    def read(self, key: str) -> np.ndarray:
        try:
            if self._file.get_slice(key).get_dtype() == "BF16":
                if self._bf16 is None:
                    self._bf16 = safe_open(self.path, framework="flax")
                return np.asarray(self._bf16.get_tensor(key))
            return self._file.get_tensor(key)
        except (SafetensorError, TypeError) as err:
            raise CheckpointError(f"{self.path}: tensor {key}: {err}") from None

    def close(self) -> None:
        self._file = self._bf16 = None


class ShardedSource(TensorSource):
    """A Hugging Face ``*.index.json`` (``weight_map``: tensor name -> shard file)."""

    def __init__(self, index_path: PathLike, opener):
        self.path = Path(index_path)
        self.description = str(self.path)
        weight_map = read_json(self.path).get("weight_map")
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

    def __init__(self, path: PathLike):
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


def open_tensors(path: PathLike) -> TensorSource:
    """A lazy tensor source for a Hugging Face checkpoint file or folder."""
    path = Path(path)
    if path.is_dir():
        for name in HF_FILES:
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


def write_safetensors(path: Path, tensors: Iterable[tuple[str, np.ndarray]], shapes: dict[str, tuple]) -> None:
    """Write float32 ``tensors`` to one safetensors file (atomically); ``shapes`` are checked."""
    arrays = {}
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr, dtype="<f4")
        if arr.shape != tuple(shapes[name]):
            raise ValueError(f"{name}: shape {arr.shape} != {shapes[name]}")
        arrays[name] = arr
    atomic_write(path, lambda tmp: save_file(arrays, tmp, metadata={"format": "pt"}))
