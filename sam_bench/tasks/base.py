"""The ``Task`` record: where a task's files live, how they become text-to-text, how it is scored.

A task is the unit of the registry (in the style of seqio/t5 tasks). It never knows
where the data came from: a *data root* is a directory laid out like the official
releases (the real files, or the synthetic suite written in the same formats), and
``Task.load(root, split)`` reads ``root / split_files[split]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Task", "SPLITS"]

# Split names used across the harness (tfds/seqio spelling).
SPLITS = ("train", "validation")


@dataclasses.dataclass(frozen=True)
class Task:
    """One text-to-text task.

    Attributes:
      name: the paper's task key ("cb", "stsb", "natural_questions"), as in ../shared/papers/tables.
      benchmark: "superglue" | "glue" | "cbqa".
      metric_names: the metrics ``score`` returns, named as in the paper tables.
      split_files: (split, path relative to the data root) pairs, e.g. ("validation", "super_glue/CB/val.jsonl").
      layout: one line describing the expected files, used in error messages.
      reader: ``reader(path) -> list[dict]``; validates every record and names file/line/field on error.
      preprocessor: example -> {"inputs": str, "targets": str} (T5 conventions).
      postprocessor: decoded model text -> value compared by the metrics.
      scorer: (examples, predictions as decoded strings) -> {metric: value on the 0-100 scale}.
      label_names: the closed label set of a classification task (empty otherwise).
    """

    name: str
    benchmark: str
    metric_names: tuple[str, ...]
    split_files: tuple[tuple[str, str], ...]
    layout: str
    reader: Callable[[Path], list[dict]]
    preprocessor: Callable[[dict], dict]
    postprocessor: Callable[[str], Any]
    scorer: Callable[[Sequence[dict], Sequence[str]], dict]
    label_names: tuple[str, ...] = ()

    # ------------------------------------------------------------------ files
    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.split_files)

    def path(self, root: str | Path, split: str) -> Path:
        """The file that holds ``split`` under data root ``root``."""
        files = dict(self.split_files)
        if split not in files:
            raise ValueError(
                f"task {self.name!r}: unknown split {split!r}; valid splits: {sorted(files)}"
            )
        return Path(root) / files[split]

    def load(self, root: str | Path, split: str) -> list[dict]:
        """Read and validate every example of ``split`` from the data root ``root``."""
        path = self.path(root, split)
        if not path.is_file():
            raise FileNotFoundError(
                f"task {self.name!r}, split {split!r}: missing file {path}. "
                f"Expected layout under the data root {Path(root)}: {self.layout}"
            )
        records = self.reader(path)
        if not records:
            raise ValueError(f"task {self.name!r}, split {split!r}: {path} holds no examples")
        return records

    # ---------------------------------------------------------- text-to-text
    def preprocess(self, example: dict) -> dict:
        """Example -> {"inputs": str, "targets": str}."""
        return self.preprocessor(example)

    def postprocess(self, text: str) -> Any:
        """Decoded model output -> the value the metrics compare."""
        return self.postprocessor(text)

    def score(self, examples: Sequence[dict], predictions: Sequence[str]) -> dict[str, float]:
        """Metrics on the 0-100 scale from raw examples and decoded prediction strings."""
        if len(examples) != len(predictions):
            raise ValueError(
                f"task {self.name!r}: {len(examples)} examples but {len(predictions)} predictions"
            )
        if not examples:
            raise ValueError(f"task {self.name!r}: cannot score zero examples")
        return self.scorer(examples, predictions)
