"""The data side of a task, as seqio separates a ``DataSource`` from a ``Task``.

A task (``sam_bench.tasks.Task``) is preprocessing, postprocessing and metrics over the records
of a :class:`SourceSpec`: the official release files of each split under a data root (and the
reader that validates them), and a :class:`TfdsSpec` saying how the dataset's tensorflow-datasets
builder yields the same records. Which dataset a task reads, and that dataset's tfds builder
(name, version, module), are the catalog's (``sam_bench.data.catalog``), written once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sam_bench.data.catalog import dataset_of_task, tfds_builder

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



@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """Where one task's records come from.

    name: the task the records are for (named in errors; the catalog maps it to its dataset,
      ``dataset``, the manifest ``data_manifests/<dataset>.json``). ``Task`` fills it in.
    split_files: (split, path relative to the data root) pairs: the official release file.
    layout: one line describing the expected files, used in error messages.
    reader: ``reader(path) -> list[dict]`` (``reader(path, split)`` if it has ``takes_split``);
      validates every record and names file/line/field on error.
    alternatives: (split, (path, ...)) other files accepted for a split when the official one
      is absent (other release layouts, e.g. the STS Benchmark files for GLUE STS-B).
    companions: (path, (path, ...)) other files the reader opens along with the file ``path``
      (a split file or an alternative), any one of the listed paths will do; what
      ``missing_files`` checks before any data is read (MRPC's dev-id list, XSUM's articles).
    tfds: how the dataset's tensorflow-datasets builder yields these records, or None.
    """

    split_files: tuple[tuple[str, str], ...]
    layout: str
    reader: Callable[..., list[dict]]
    alternatives: tuple[tuple[str, tuple[str, ...]], ...] = ()
    companions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    tfds: TfdsSpec | None = None
    name: str = ""

    def __post_init__(self):
        if self.name and self.tfds is not None and not self.tfds.dataset:  # the builder is the catalog's
            object.__setattr__(self, "tfds", self.tfds.bind(self.dataset))

    @property
    def dataset(self) -> str:
        return dataset_of_task(self.name)

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.split_files)

    def candidates(self, split: str) -> tuple[str, ...]:
        """Relative paths accepted for ``split``: the official file first, then the alternatives."""
        files = dict(self.split_files)
        if split not in files:
            raise ValueError(
                f"task {self.name!r}: unknown split {split!r}; valid splits: {sorted(files)}"
            )
        return (files[split],) + dict(self.alternatives).get(split, ())

    def path(self, root: str | Path, split: str) -> Path:
        """The file that holds ``split`` under data root ``root`` (the first candidate present,
        else the official file name)."""
        cands = self.candidates(split)
        for rel in cands:
            if (Path(root) / rel).exists():
                return Path(root) / rel
        return Path(root) / cands[0]

    def missing_files(self, root: str | Path, split: str) -> list[str]:
        """What ``load(root, split)`` would not find, checked without reading any data: the
        official file of ``split`` when no accepted file is present, else the absent companions
        of the file present (``"a or b"`` where either will do). Paths relative to ``root``."""
        root = Path(root)
        path = self.path(root, split)
        if not path.exists():
            return [self.candidates(split)[0]]
        present = path.relative_to(root).as_posix()
        return [" or ".join(options) for rel, options in self.companions
                if rel == present and not any((root / o).exists() for o in options)]

    def load(self, root: str | Path, split: str) -> list[dict]:
        """Read and validate every example of ``split`` from the data root ``root``."""
        path = self.path(root, split)
        if not path.exists():
            others = self.candidates(split)[1:]
            also = f" (also accepted: {', '.join(others)})" if others else ""
            raise FileNotFoundError(
                f"task {self.name!r}, split {split!r}: missing file {path}{also}. "
                f"Expected layout under the data root {Path(root)}: {self.layout}. "
                f"See data_manifests/{self.dataset}.json for where to get it."
            )
        if getattr(self.reader, "takes_split", False):
            records = self.reader(path, split)
        else:
            records = self.reader(path)
        if not records:
            raise ValueError(f"task {self.name!r}, split {split!r}: {path} holds no examples")
        return records
