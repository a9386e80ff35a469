"""The resumable training state of a cell, checkpointed with orbax.

The training state (params and optimizer state, whatever optax structure it has) is saved
as its flat list of leaves and rebuilt with the tree structure of a freshly initialised
state, so any optimizer's state round-trips and a structure mismatch is caught with a
clear message instead of silently loading the wrong tensors. Sharded arrays are written
shard by shard (by every process of a multi-host job) and can be restored onto another mesh.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

import jax
import numpy as np
import orbax.checkpoint as ocp

from sam_bench import parallel
from sam_bench.errors import ConfigError
from sam_bench.io import atomic_write


def _leaf_dict(tree) -> dict[str, Any]:
    return {f"{i:05d}": leaf for i, leaf in enumerate(jax.tree.leaves(tree))}


INTEGRITY = "sam_bench_files.json"  # size and sha256 of every file of a saved step, to name a damaged one
FIX = "nothing to do: the cell resumes from an earlier checkpoint or from scratch, as its log says"


def _file_digests(step_dir: Path) -> dict[str, list]:
    out = {}
    for f in sorted(p for p in step_dir.rglob("*") if p.is_file() and p.name != INTEGRITY):
        h = hashlib.sha256()
        with open(f, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
        out[str(f.relative_to(step_dir))] = [f.stat().st_size, h.hexdigest()]
    return out


def damaged_files(step_dir: Path) -> list[str]:
    """What differs from the sizes and hashes recorded when the step was saved, one line per
    file; empty when all match (or nothing was recorded: a step saved by an older version)."""
    record = step_dir / INTEGRITY
    if not record.exists():
        return []
    try:
        expected = json.loads(record.read_text())
    except ValueError:
        return [f"{record}: not valid JSON (truncated?)"]
    found = _file_digests(step_dir)
    problems = []
    for name, (size, digest) in expected.items():
        if name not in found:
            problems.append(f"{step_dir / name}: missing")
        elif found[name][0] != size:
            problems.append(f"{step_dir / name}: {found[name][0]} bytes, saved as {size} (truncated?)")
        elif found[name][1] != digest:
            problems.append(f"{step_dir / name}: contents changed since it was saved (sha256 {found[name][1][:12]}, "
                            f"saved {digest[:12]})")
    return problems


class TrainStateCheckpoints:
    """The last ``keep`` (two) training states of one cell: if the latest cannot be restored (a
    damaged file, a truncated write), the cell falls back to the one before, or starts over."""

    def __init__(self, directory: str | Path, say: Callable[[str], None] = print, keep: int = 2):
        self.directory = Path(directory).resolve()
        self.say = say
        self.keep = keep
        self.manager = self._manager()

    def _manager(self):
        return ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=self.keep, enable_async_checkpointing=False),
            # named handlers let item_metadata read a checkpoint before anything is restored
            item_handlers={"state": ocp.StandardCheckpointHandler(), "meta": ocp.JsonCheckpointHandler()},
        )

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(self, step: int, state, meta: dict) -> None:
        if step in self.manager.all_steps():  # saved before an interruption; the state is recomputed
            self.manager.delete(step)
        self.manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(_leaf_dict(state)),
                                                        meta=ocp.args.JsonSave(meta)))
        self.manager.wait_until_finished()
        step_dir = self.directory / str(step)
        atomic_write(step_dir / INTEGRITY, json.dumps(_file_digests(step_dir), indent=0))

    def restore(self, like, mesh=None):
        """Restore the newest restorable state into the structure of `like`; returns (step,
        state, meta), or None when there is none (nothing saved, or every saved step damaged).
        With a `mesh` each tensor is read straight into the layout `sam_bench.parallel` gives
        it there, whatever mesh wrote it (a cell resumes on a different number of devices)."""
        for step in sorted(self.manager.all_steps(), reverse=True):
            step_dir = self.directory / str(step)
            problems = damaged_files(step_dir)
            if not problems:
                try:
                    return self._restore(step, like, mesh)
                except ConfigError:
                    raise
                except Exception as err:  # orbax/tensorstore/JSON errors of a damaged step
                    problems = [f"{step_dir}: cannot be restored: {type(err).__name__}: {str(err).splitlines()[0][:300]}"]
            self._set_aside(step, problems)
        return None

    def _set_aside(self, step: int, problems: list[str]) -> None:
        step_dir = self.directory / str(step)
        aside = self.directory.parent / "checkpoint-damaged" / str(step)
        aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(aside, ignore_errors=True)
        os.replace(step_dir, aside)  # out of the manager's way: the step is saved afresh when reached again
        self.manager = self._manager()
        earlier = self.manager.latest_step()
        then = f"resuming from step {earlier}" if earlier is not None else "starting the cell over"
        self.say(f"checkpoint step {step} is damaged: " + "; ".join(problems) + f". Moved it to {aside}; {then}. "
                 f"Fix: {FIX}")

    def _restore(self, step: int, like, mesh=None):
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
