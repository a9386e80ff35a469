"""Copy a checkpoint's tensors into a model's parameter paths, by rules, one tensor at a time.

Names and shapes are compared first, without reading any tensor; a mismatch fails with a
:class:`~sam_bench.errors.CheckpointError` listing the missing, unexpected and mis-shaped
tensors. Then each tensor is read, laid out as ours (transposed, 3-D kernels folded) and
converted to float32, so peak memory is the model's float32 parameters plus the largest
single tensor (T5.1.1-XL: 11.4 GB + 0.3 GB).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from sam_bench.models.checkpoints.base import TensorSource, mismatch_error
from sam_bench.models.names import PathT, Rule, dotted


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


@dataclasses.dataclass
class Plan:
    """How a checkpoint's tensors fill a model: one :class:`Rule` per parameter path."""

    rules: dict[PathT, Rule]
    available: dict[str, str]  # our name of a checkpoint tensor -> its key in the source
    ignored: set[str] = dataclasses.field(default_factory=set)  # known extras, not an error
    fillable: frozenset = frozenset()  # paths that may be initialised when the checkpoint lacks them
    hint: Callable[[list[str]], str] = lambda unexpected: ""  # a likely cause, said with a mismatch


def _convert(arr: np.ndarray, rule: Rule, shape: tuple[int, ...]) -> np.ndarray:
    """A float32, C-contiguous copy in our layout (never a view of a memory-mapped file)."""
    if rule.reshape and arr.ndim == 3:  # T5X DenseGeneral: [d, H, kv] or [H, kv, d]
        arr = arr.reshape(shape)
    if rule.transpose:
        arr = arr.T
    return np.array(arr, dtype=np.float32, order="C", copy=True)


def _planned_shape(src_shape: tuple[int, ...], rule: Rule, target: tuple[int, ...]) -> tuple[int, ...]:
    if rule.reshape and len(src_shape) == 3 and math.prod(src_shape) == math.prod(target):
        src_shape = target
    return tuple(reversed(src_shape)) if rule.transpose else tuple(src_shape)


def read_tensors(source: TensorSource, want: dict[PathT, tuple[int, ...]], plan: Plan,
                 report: ImportReport) -> tuple[dict[PathT, jax.Array], list[PathT]]:
    """``({path: float32 array}, [paths to initialise])`` for the parameter shapes ``want``."""
    missing, shapes, fill = [], [], []
    for p, shape in want.items():
        rule = plan.rules[p]
        if rule.key not in plan.available:
            if p in plan.fillable:
                fill.append(p)
            else:
                missing.append(rule.key)
            continue
        have = tuple(source.shape(plan.available[rule.key]))
        if _planned_shape(have, rule, shape) != shape:
            shapes.append(f"{rule.key}: checkpoint {have} vs model "
                          f"{shape if not rule.transpose else tuple(reversed(shape))}")
    used = {plan.rules[p].key for p in want}
    extra = sorted(n for n in plan.available if n not in used and n not in plan.ignored)
    if missing or extra or shapes:
        raise mismatch_error(source.description, sorted(missing), extra, sorted(shapes), plan.hint(extra))
    report.ignored = sorted(plan.ignored & set(plan.available))
    report.initialised = [dotted(p) for p in fill]
    out: dict[PathT, jax.Array] = {}
    for p, shape in want.items():
        if p in fill:
            continue
        rule = plan.rules[p]
        key = plan.available[rule.key]
        # one tensor at a time: the converted copy goes straight into a JAX buffer
        out[p] = jnp.asarray(_convert(source.read(key), rule, shape))
        source.release(key)
    return out, fill
