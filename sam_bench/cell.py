"""A cell: one fine-tuning job, as a frozen, typed record.

`config.expand_cells` produces each cell as a plain mapping (what `cell.json`, the cell
table and the workflow carry); the training code takes a `Cell`, built from that mapping
once by `Cell.from_dict`, which checks every field's type and range and names any key it does
not know. `to_dict` gives the mapping back key for key (a cell's id hashes that mapping, so
the optional keys a mapping leaves out stay out).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from sam_bench.errors import ConfigError

SOURCES = ("synthetic", "local", "tfds")
DTYPES = ("float32", "bfloat16")


def _integer(lo: int) -> Callable:
    return lambda x: (isinstance(x, int) and not isinstance(x, bool) and x >= lo) or f"an integer >= {lo}"


def _number(lo: float, hi: float, lo_open: bool = False) -> Callable:
    def check(x):
        ok = isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
        ok = ok and (x > lo if lo_open else x >= lo) and x <= hi
        return ok or f"a number with {lo} {'<' if lo_open else '<='} x <= {hi}"

    return check


def _text(x):
    return (isinstance(x, str) and bool(x)) or "a non-empty string"


def _one_of(*options):
    return lambda x: x in options or f"one of {list(options)}"


def _flag(x):
    return isinstance(x, bool) or "true or false"


def _mapping(x):
    return isinstance(x, Mapping) or "a mapping"


def _texts(x):
    return (isinstance(x, (list, tuple)) and all(isinstance(t, str) for t in x)) or "a list of strings"


def _or_none(check: Callable) -> Callable:
    return lambda x: x is None or check(x)


def _fields_from(cls, data: Mapping, owner: str) -> dict:
    """The constructor arguments of `cls` from `data`, every value checked by the field's
    `check` metadata; the optional keys `data` holds are recorded in `present`."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{owner} must be a mapping, got {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls) if f.name != "present"}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{owner}: unknown key(s) {unknown}; valid: {sorted(known)}")
    required = [name for name, f in known.items() if f.default is dataclasses.MISSING]
    missing = [name for name in required if name not in data]
    if missing:
        raise ConfigError(f"{owner}: missing key(s) {missing}")
    for name, value in data.items():
        verdict = known[name].metadata["check"](value)
        if verdict is not True:
            raise ConfigError(f"{owner}: {name} must be {verdict}, got {value!r}")
    return {"present": frozenset(name for name in data if name not in required), **data}


def _as_dict(record) -> dict:
    """The mapping `record` was built from: required fields always, optional ones when given."""
    out = {}
    for f in dataclasses.fields(record):
        if f.name == "present" or (f.default is not dataclasses.MISSING and f.name not in record.present):
            continue
        value = getattr(record, f.name)
        out[f.name] = (value.to_dict() if hasattr(value, "to_dict") else dict(value) if isinstance(value, Mapping)
                       else list(value) if isinstance(value, tuple) else value)
    return out


def _key(check: Callable, **kw) -> Any:
    return field(metadata={"check": check}, **kw)


def _optional(check: Callable, default=None) -> Any:
    return field(default=default, metadata={"check": check})


@dataclass(frozen=True)
class Finetune:
    """The fine-tuning settings of a cell (the config's `finetune` section, a grid's own over it)."""
    steps: int = _key(_integer(1))
    batch_size: int = _key(_integer(1))
    eval_every: int = _key(_integer(1))
    eval_batch_size: int = _optional(_integer(1), 128)
    max_input_length: int = _optional(_integer(1), 64)
    max_target_length: int = _optional(_integer(1), 8)
    dropout_rate: float = _optional(_number(0.0, 1.0), 0.1)
    dtype: str = _optional(_one_of(*DTYPES), "float32")
    vocab: str | None = _optional(_or_none(_text))
    accumulation_steps: int = _optional(_integer(1), 1)
    dynamic_padding: bool = _optional(_flag, True)
    group_by_length: bool = _optional(_flag, False)
    model_overrides: Mapping | None = _optional(_or_none(_mapping))   # decoder LMs: architecture settings
    present: frozenset = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping, owner: str = "finetune") -> "Finetune":
        kw = _fields_from(cls, data, owner)
        if kw.get("model_overrides") is not None:
            kw["model_overrides"] = MappingProxyType(dict(kw["model_overrides"]))
        return cls(**kw)

    def to_dict(self) -> dict:
        return _as_dict(self)


@dataclass(frozen=True)
class Cell:
    """One cell: model, init, task or mixture, training-data rate and seed, optimizer recipe,
    ρ, training seed, and its fine-tuning settings."""
    cell_id: str = _key(_text)
    experiment: str = _key(_text)
    model: str = _key(_text)
    init: str = _key(_text)                  # pretrained | random | a named checkpoint or a path
    pretrain_id: str = _key(_text)
    task: str = _key(_text)                  # a task or a mixture
    source: str = _key(_one_of(*SOURCES))
    data_root: str | None = _key(_or_none(_text))
    subsample_rate: float = _key(_number(0.0, 1.0, lo_open=True))
    subsample_seed: int = _key(_integer(0))
    optimizer: str = _key(_text)             # the recipe, canonical
    method: str = _key(_text)
    base_optimizer: str = _key(_text)
    rho: float | None = _key(_or_none(_number(0.0, math.inf)))
    seed: int = _key(_integer(0))
    finetune: Finetune = _key(lambda x: isinstance(x, (Mapping, Finetune)) or "a mapping")
    results_dir: str = _key(_text)
    identity: Mapping = _optional(_mapping)  # what reports select by (config.cell_identity); derived
    data_archives: str | None = _optional(_or_none(_text))
    subsamples: str | None = _optional(_or_none(_text))
    grid: str | None = _optional(_or_none(_text))
    eval_tasks: tuple = _optional(_texts, ())
    checkpoint_root: str | None = _optional(_or_none(_text))
    init_fingerprint: str | None = _optional(_or_none(_text))
    data_fingerprint: str | None = _optional(_or_none(_text))
    present: frozenset = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping) -> "Cell":
        """The cell a mapping describes, checked (ConfigError naming the key and what is valid)."""
        name = data.get("cell_id", "<no cell_id>") if isinstance(data, Mapping) else "<not a mapping>"
        kw = _fields_from(cls, data, f"cell {name}")
        finetune = kw["finetune"]
        kw["finetune"] = finetune if isinstance(finetune, Finetune) else Finetune.from_dict(finetune,
                                                                                            f"cell {name}: finetune")
        if "identity" in kw:
            kw["identity"] = MappingProxyType(dict(kw["identity"]))
        if "eval_tasks" in kw:
            kw["eval_tasks"] = tuple(kw["eval_tasks"])
        return cls(**kw)

    def to_dict(self) -> dict:
        """The mapping this cell was built from (what `cell.json` holds)."""
        return _as_dict(self)


def as_cell(cell: Cell | Mapping) -> Cell:
    """`cell` itself, or the Cell its mapping describes."""
    return cell if isinstance(cell, Cell) else Cell.from_dict(cell)
