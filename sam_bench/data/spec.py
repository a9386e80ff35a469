"""The data side of a task: how its records come out of a tensorflow-datasets builder.

A task (``sam_bench.tasks``) is preprocessing, postprocessing and metrics over records; which
dataset it reads, and that dataset's tfds builder (name, version, module), are the catalog's
(``sam_bench.data.catalog``), written once. A :class:`TfdsSpec` adds what is the task's own: which
builder split gives each of its splits and how a builder example becomes its record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sam_bench.data.catalog import tfds_builder

__all__ = ["TfdsSpec", "SourceSpec"]


@dataclasses.dataclass(frozen=True)
class TfdsSpec:
    """How a task's records come out of its dataset's tensorflow-datasets builder.

    splits: (our split, the builder's split) pairs; convert: (key, tfds example) -> our record,
      or None to drop it (a language filter).
    The rest is the catalog entry of ``dataset``, filled in by :meth:`bind` (``Task`` binds its
    spec to the dataset the catalog maps it to): the builder ``name`` (builder/config,
    "super_glue/cb"), the ``version`` the records were checked against, its ``module`` (imported
    explicitly: without TensorFlow ``tensorflow_datasets`` does not import its legacy
    ``text``/``question_answering`` builders) and ``needs_tensorflow`` (its split generators call
    ``tf.io.gfile`` and cannot run without TensorFlow).
    """

    splits: tuple[tuple[str, str], ...]
    convert: Callable[[Any, dict], dict | None]
    dataset: str = ""
    name: str = ""
    version: str = ""
    module: str = ""
    needs_tensorflow: bool = False

    def bind(self, dataset: str) -> TfdsSpec:
        """This spec for the builder the catalog names for ``dataset``."""
        builder = tfds_builder(dataset)
        if builder is None:
            raise ValueError(f"dataset {dataset!r} has no tensorflow-datasets builder in the catalog")
        return dataclasses.replace(self, dataset=dataset, **builder)

    def split(self, split: str) -> str:
        d = dict(self.splits)
        if split not in d:
            raise ValueError(f"tfds {self.name}: no split for {split!r}; valid: {sorted(d)}")
        return d[split]


class SourceSpec(Protocol):
    """What the data layer needs of a task (``sam_bench.tasks.Task`` is one): its name, the
    catalog dataset it reads, its reader of the official files and its tfds conversion."""

    name: str
    dataset: str
    tfds: TfdsSpec | None

    def load(self, root: str | Path, split: str) -> list[dict]: ...
