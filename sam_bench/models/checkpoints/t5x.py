"""T5X checkpoints, the format of the public T5.1.1 / mT5 checkpoints: read and written.

Legacy T5X: a ``checkpoint`` msgpack file (read with ``flax.serialization``) whose large
arrays are TensorStore specs of zarr arrays beside it (read with ``tensorstore``), as
T5X's ``checkpoints.py`` writes them; T5X checkpoints written by orbax are read with
``orbax.checkpoint``. Only ``target`` (the parameters) is read; optimizer state is skipped.
Keys are ``encoder/layers_0/...``; :meth:`sam_bench.models.t5_names.T5Names.t5x_rules`
maps them to our parameters.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import tensorstore as ts
from flax import nnx, serialization

from sam_bench.errors import CheckpointError
from sam_bench.models.checkpoints.base import PathLike, TensorSource
from sam_bench.models.names import flat
from sam_bench.models.t5 import T5Config
from sam_bench.models.t5_names import T5Names

_PLACEHOLDER = "PLACEHOLDER://"


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


def _local_spec(spec: dict, directory: Path) -> dict:
    """A zarr TensorStore spec with its (relative) path resolved in ``directory``."""
    spec = json.loads(json.dumps(spec))  # deep copy
    rel = spec["kvstore"].get("path", spec.get("path"))
    spec["kvstore"] = {"driver": "file", "path": str(directory / rel)}
    spec.pop("path", None)
    return spec


class T5XSource(TensorSource):
    """The ``target`` (parameters) of a T5X checkpoint; keys are ``encoder/layers_0/...``.

    Legacy T5X (the public T5.1.1/mT5 checkpoints): ``checkpoint`` is msgpack
    ``{"version": 3, "optimizer": {"target": ..., "state": ...}}`` whose leaves are
    small arrays or TensorStore zarr specs with paths relative to the checkpoint folder.
    Orbax-written T5X checkpoints are read with ``orbax.checkpoint``.
    """

    def __init__(self, path: PathLike):
        path = Path(path)
        self.directory, msgpack_file = _find_t5x(path)
        self.description = str(self.directory)
        if msgpack_file is not None:
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

    def _store(self, leaf):
        """The open TensorStore of a spec or placeholder leaf, or None for an inline array."""
        if _is_ts_spec(leaf):
            return ts.open(_local_spec(leaf, self.directory), open=True).result()
        if isinstance(leaf, str) and leaf.startswith(_PLACEHOLDER):
            spec = {"driver": "zarr", "kvstore": {"path": leaf[len(_PLACEHOLDER):]}}
            return ts.open(_local_spec(spec, self.directory), open=True).result()
        return None

    def shape(self, key: str) -> tuple[int, ...]:
        leaf = self._leaves[key]
        if _is_ts_spec(leaf):
            return tuple(int(s) for s in leaf["metadata"]["shape"])
        store = self._store(leaf)
        return tuple(np.shape(leaf) if store is None else store.shape)

    def read(self, key: str) -> np.ndarray:
        leaf = self._leaves[key]
        store = self._store(leaf)
        return np.asarray(leaf if store is None else store.read().result())

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
    if is_orbax_dir(path):
        return path, None
    raise CheckpointError(
        f"{path}: not a T5X checkpoint (expected a 'checkpoint' msgpack file, checkpoint_<step>/ folders, "
        "or an orbax checkpoint)"
    )


def is_orbax_dir(path: Path) -> bool:
    return path.is_dir() and any(
        (path / n).exists() for n in ("_METADATA", "_CHECKPOINT_METADATA", "manifest.ocdbt", "_sharding")
    )


def _orbax_restore_target(directory: Path) -> dict:
    import orbax.checkpoint as ocp  # on use: importing orbax takes 0.5 s, and most imports never need it

    tree = ocp.PyTreeCheckpointer().restore(directory.resolve())
    for key in ("target", "params"):
        if isinstance(tree, dict) and key in tree:
            return tree[key]
    if isinstance(tree, dict) and "optimizer" in tree and "target" in tree["optimizer"]:
        return tree["optimizer"]["target"]
    raise CheckpointError(f"{directory}: orbax checkpoint has no 'target' parameters (keys {sorted(tree)})")


def export_t5x(params: nnx.State, config: T5Config, directory: PathLike, step: int = 0,
               inline_below: int = 1 << 14) -> Path:
    """Write ``directory/checkpoint_<step>/`` in the legacy T5X layout (msgpack + zarr via TensorStore).

    Arrays with fewer than ``inline_below`` elements go into the msgpack file (as T5X does
    for unpartitioned parameters); the rest are gzip zarr arrays whose relative TensorStore
    specs stand in the msgpack. Used to test :class:`T5XSource` and to hand models to T5X.
    """
    if not isinstance(config, T5Config):
        raise ValueError("T5X export is for T5 models")
    ckpt = Path(directory) / f"checkpoint_{step}"
    ckpt.mkdir(parents=True, exist_ok=True)
    leaves = flat(nnx.to_pure_dict(params))
    target: dict[str, Any] = {}
    for p, rule in T5Names(config).t5x_rules().items():
        arr = np.asarray(leaves[p], np.float32)
        if rule.transpose:
            arr = np.ascontiguousarray(arr.T)
        if arr.size < inline_below:
            value: Any = arr
        else:
            rel = "target." + rule.key.replace("/", ".")
            value = {"driver": "zarr", "kvstore": {"driver": "file", "path": rel},
                     "metadata": {"compressor": {"id": "gzip"}, "shape": list(arr.shape),
                                  "chunks": list(arr.shape), "dtype": "<f4"}}
            store = ts.open(_local_spec(value, ckpt), create=True, open=True).result()
            store.write(arr).result()
        node = target
        *parents, leaf = rule.key.split("/")
        for k in parents:
            node = node.setdefault(k, {})
        node[leaf] = value
    blob = serialization.msgpack_serialize({"version": 3, "optimizer": {"target": target, "state": {"step": step}}})
    (ckpt / "checkpoint").write_bytes(blob)
    return ckpt
