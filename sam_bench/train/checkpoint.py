"""The resumable training state of a cell, checkpointed with orbax.

The training state (params and optimizer state, whatever optax structure it has) is saved
as its flat list of leaves and rebuilt with the tree structure of a freshly initialised
state, so any optimizer's state round-trips and a structure mismatch is caught with a
clear message instead of silently loading the wrong tensors. Sharded arrays are written
shard by shard (by every process of a multi-host job) and can be restored onto another mesh.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from sam_bench import parallel
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
            # named handlers let item_metadata read a checkpoint before anything is restored
            item_handlers={"state": ocp.StandardCheckpointHandler(), "meta": ocp.JsonCheckpointHandler()},
        )

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(self, step: int, state, meta: dict) -> None:
        self.manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(_leaf_dict(state)),
                                                        meta=ocp.args.JsonSave(meta)))
        self.manager.wait_until_finished()

    def restore(self, like, mesh=None):
        """Restore the latest state into the structure of `like`; returns (step, state, meta).
        With a `mesh` each tensor is read straight into the layout `sam_bench.parallel` gives
        it there, whatever mesh wrote it (a cell resumes on a different number of devices)."""
        step = self.latest_step()
        if step is None:
            return None
        leaves, treedef = jax.tree.flatten(like)
        shardings = [None] * len(leaves) if mesh is None else jax.tree.leaves(parallel.state_shardings(leaves, mesh))
        abstract = {f"{i:05d}": jax.ShapeDtypeStruct(np.shape(x), x.dtype, sharding=sharding)
                    for i, (x, sharding) in enumerate(zip(leaves, shardings))}
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
