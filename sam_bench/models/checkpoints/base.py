"""What every checkpoint reader shares: the lazy tensor source, JSON metadata, mismatch errors."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from sam_bench.errors import CheckpointError

PathLike = str | os.PathLike

#: Config fields that do not change the parameter tree (a checkpoint may differ in them).
NOT_ARCHITECTURE = {"dropout_rate", "dtype", "num_labels", "hidden_dropout_prob", "attention_probs_dropout_prob",
                    "classifier_dropout", "initializer_range", "dropout", "attention_dropout", "activation_dropout"}


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
        """Hint that ``key`` was consumed (sources holding values in memory drop it)."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_json(path: Path) -> dict:
    """A checkpoint's JSON metadata; a truncated or damaged file is named in the error."""
    try:
        return json.loads(Path(path).read_text())
    except ValueError as e:
        raise CheckpointError(f"{path}: not valid JSON ({e}); the file is damaged or truncated: copy it again") from None


def mismatch_error(source: str, missing, extra, shapes, hint: str = "") -> CheckpointError:
    """The error listing the missing, unexpected and mis-shaped tensors of a checkpoint."""
    lines = [f"checkpoint {source} does not match the model:"]
    for label, items in (("missing", missing), ("unexpected", extra), ("wrong shape", shapes)):
        if items:
            shown = list(items)[:25]
            more = f" ... and {len(items) - 25} more" if len(items) > 25 else ""
            lines.append(f"  {label} ({len(items)}): " + ", ".join(shown) + more)
    if hint:
        lines.append("  " + hint)
    return CheckpointError("\n".join(lines))


def check_architecture(where, theirs, config) -> None:
    """Fail, naming each differing field, when a checkpoint's config has another architecture."""
    diffs = [f"{f.name}: checkpoint {getattr(theirs, f.name, None)!r} vs model {getattr(config, f.name)!r}"
             for f in dataclasses.fields(config)
             if f.name not in NOT_ARCHITECTURE and getattr(theirs, f.name, None) != getattr(config, f.name)]
    if type(theirs) is not type(config) or diffs:
        raise CheckpointError(f"checkpoint {where} has a different architecture from the model:\n  "
                              + "\n  ".join(diffs or [f"{type(theirs).__name__} vs {type(config).__name__}"]))
