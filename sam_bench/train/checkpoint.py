"""Checkpoints with orbax: the resumable training state of a cell, and plain parameters.

The training state (params and optimizer state, whatever optax structure it has) is saved
as its flat list of leaves and rebuilt with the tree structure of a freshly initialised
state, so any optimizer's state round-trips and a structure mismatch is caught with a
clear message instead of silently loading the wrong tensors.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from sam_bench.errors import ConfigError


def _leaf_dict(tree) -> dict[str, Any]:
    return {f"{i:05d}": leaf for i, leaf in enumerate(jax.tree.leaves(tree))}


class TrainStateCheckpoints:
    """The latest training state of one cell (older ones are deleted)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory).resolve()
        self.manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=1, enable_async_checkpointing=False),
        )

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(self, step: int, state, meta: dict) -> None:
        self.manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(_leaf_dict(state)),
                                                        meta=ocp.args.JsonSave(meta)))
        self.manager.wait_until_finished()

    def restore(self, like):
        """Restore the latest state into the structure of `like`; returns (step, state, meta)."""
        step = self.latest_step()
        if step is None:
            return None
        leaves, treedef = jax.tree.flatten(like)
        abstract = {f"{i:05d}": jax.ShapeDtypeStruct(np.shape(x), x.dtype) for i, x in enumerate(leaves)}
        saved = self.manager.item_metadata(step)
        saved_keys = set(saved["state"].keys()) if saved is not None and saved.get("state") is not None else None
        if saved_keys is not None and saved_keys != set(abstract):
            raise ConfigError(f"checkpoint {self.directory}/{step} holds {len(saved_keys)} tensors but this cell's "
                              f"training state has {len(abstract)}: it was written by a different model or "
                              f"optimizer. Delete {self.directory} to start the cell afresh.")
        restored = self.manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()))
        state = jax.tree.unflatten(treedef, [restored.state[k] for k in sorted(restored.state)])
        return step, state, restored.meta


def save_params(directory: str | Path, params: dict) -> None:
    """Save a nested dict of arrays (e.g. nnx.to_pure_dict(params)) to a fresh directory."""
    directory = Path(directory).resolve()
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(directory, params, force=True)
    checkpointer.wait_until_finished()


def load_params(directory: str | Path, like: dict | None = None) -> dict:
    """Load parameters; with `like` (a tree of arrays), names and shapes are checked."""
    directory = Path(directory).resolve()
    if not directory.exists():
        raise ConfigError(f"no checkpoint at {directory}")
    checkpointer = ocp.StandardCheckpointer()
    if like is None:
        return checkpointer.restore(directory)
    abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(np.shape(x), x.dtype), like)
    stored = checkpointer.metadata(directory)
    stored_tree = getattr(stored, "item_metadata", stored)
    check_tree_match(stored_tree, abstract, source=str(directory))
    return checkpointer.restore(directory, abstract)


def _flat(tree) -> dict[str, tuple]:
    flat = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        flat["/".join(str(getattr(p, "key", getattr(p, "idx", p))) for p in path)] = tuple(getattr(leaf, "shape", ()))
    return flat


def check_tree_match(stored, expected, source: str) -> None:
    """Raise ConfigError listing missing, unexpected and mis-shaped tensors."""
    have, want = _flat(stored), _flat(expected)
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    shapes = sorted(f"{k}: checkpoint {have[k]} vs model {want[k]}" for k in set(have) & set(want) if have[k] != want[k])
    if missing or extra or shapes:
        lines = [f"checkpoint {source} does not match the model:"]
        if missing:
            lines.append(f"  missing ({len(missing)}): {', '.join(missing[:20])}")
        if extra:
            lines.append(f"  unexpected ({len(extra)}): {', '.join(extra[:20])}")
        if shapes:
            lines.append(f"  wrong shape ({len(shapes)}): {'; '.join(shapes[:20])}")
        raise ConfigError("\n".join(lines))
