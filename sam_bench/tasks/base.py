"""The ``Task`` record: how a task's records become text-to-text, and how it is scored.

A task is the unit of the registry (in the style of seqio/t5 tasks): preprocessing,
postprocessing and metrics over the records of its ``source``, a
``sam_bench.data.spec.SourceSpec`` (the data layer's: the official files of each split under a
*data root*, a directory laid out like the official releases, and how tensorflow-datasets
yields the same records). ``Task.load(root, split)`` is ``task.source.load(root, split)``.
Where the data come from (local files, tfds, the synthetic suite) is a data source
(``sam_bench.data.sources``); all yield the same records.

Records are plain dicts of JSON values, named like the tensorflow-datasets features of the
dataset; a class label is its *name* (``"entailment"``, ``"True"``), or None in splits
published without labels.

Scoring works on *values*: ``postprocess(text, example)`` turns a decoded prediction into
the value the metrics compare (a class id, a float, the text itself), and ``metric_fn(examples,
values)`` returns the metrics on the papers' 0-100 scale. Encoder models (the FSAM
experiments) predict class ids or floats; ``score_encoder`` maps them into the same values, so
both model families are scored by the same code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sam_bench.data.spec import SourceSpec, TfdsSpec

__all__ = ["Task", "SPLITS", "EncoderSpec", "UnlabeledSplitError"]

# Split names used across the harness (tfds/seqio spelling).
SPLITS = ("train", "validation")


class UnlabeledSplitError(ValueError):
    """Scoring examples of a split that was published without labels."""


@dataclasses.dataclass(frozen=True)
class EncoderSpec:
    """The classification/regression form of a task for encoder models (BERT-family).

    kind: "classification" (``label`` is a class id into ``label_names``), "regression"
      (``label`` is a float) or "multiple_choice" (``choices`` is a list of (text_a, text_b)
      pairs and ``label`` the index of the correct one, or for ReCoRD the list of correct ones).
    convert: example -> {"text_a": str, "text_b": str | None, "label": ...} or
      {"choices": [(a, b), ...], "label": ...}; label None where the split has no labels.
    to_value: (model output, example) -> the value ``Task.metric_fn`` compares (the same
      domain as ``Task.postprocess`` returns for the text-to-text form).
    """

    kind: str
    label_names: tuple[str, ...]
    convert: Callable[[dict], dict]
    to_value: Callable[[Any, dict], Any]

    @property
    def num_labels(self) -> int:
        return 1 if self.kind == "regression" else len(self.label_names)


def _default_postprocess(text: str, example: dict | None = None):
    return text


@dataclasses.dataclass(frozen=True)
class Task:
    """One text-to-text task.

    Attributes:
      name: the registry key ("cb", "stsb", "glue_rte", "tydiqa_en").
      benchmark: "superglue" | "glue" | "cbqa" | "tydiqa" | "summarization" | "gec".
      metric_names: the metrics ``score`` returns, named as in the paper tables.
      source: where the records come from (files, reader, tfds); its ``name`` is set to the task's.
      preprocessor: example -> {"inputs": str, "targets": str} (T5 conventions).
      postprocessor: (decoded model text, example) -> value compared by the metrics.
      metric_fn: (examples, values) -> {metric: value on the 0-100 scale}.
      label_names: the closed label set of a classification task (empty otherwise).
      paper_task: the task key in ../shared/papers/tables ("" means ``name``).
      eval_split: the split evaluated by default; paper_split: what the papers call it ("dev"/"test").
      unlabeled_splits: splits published without labels (loadable, not scorable).
      trains: False for evaluation-only tasks (MNLI-mismatched, AX-b, AX-g).
      expand_training: example -> training pairs (default: ``[preprocess(example)]``); ReCoRD
        trains on one pair per answer, WSC only on examples whose candidate is the referent.
      oracle: example -> the prediction text that scores the maximum (default: the target).
      encoder: the classification/regression form for encoder models, or None (generation tasks).
      language: ISO code for multilingual tasks (TyDiQA).
    """

    name: str
    benchmark: str
    metric_names: tuple[str, ...]
    source: SourceSpec
    preprocessor: Callable[[dict], dict]
    postprocessor: Callable[..., Any] = _default_postprocess
    metric_fn: Callable[[Sequence[dict], Sequence[Any]], dict] | None = None
    label_names: tuple[str, ...] = ()
    paper_task: str = ""
    eval_split: str = "validation"
    paper_split: str = "dev"
    unlabeled_splits: tuple[str, ...] = ("test",)
    trains: bool = True
    expand_training: Callable[[dict], list[dict]] | None = None
    oracle: Callable[[dict], str] | None = None
    encoder: EncoderSpec | None = None
    language: str | None = None

    def __post_init__(self):
        if self.source.name != self.name:  # the source serves this task: named so in errors and the catalog
            object.__setattr__(self, "source", dataclasses.replace(self.source, name=self.name))

    @property
    def paper_name(self) -> str:
        return self.paper_task or self.name

    # ------------------------------------------------- the records (the source's)
    @property
    def dataset(self) -> str:
        return self.source.dataset

    @property
    def tfds(self) -> TfdsSpec | None:
        return self.source.tfds

    @property
    def splits(self) -> tuple[str, ...]:
        return self.source.splits

    def candidates(self, split: str) -> tuple[str, ...]:
        return self.source.candidates(split)

    def path(self, root: str | Path, split: str) -> Path:
        return self.source.path(root, split)

    def missing_files(self, root: str | Path, split: str) -> list[str]:
        return self.source.missing_files(root, split)

    def load(self, root: str | Path, split: str) -> list[dict]:
        return self.source.load(root, split)

    # ---------------------------------------------------------- text-to-text
    def preprocess(self, example: dict) -> dict:
        """Example -> {"inputs": str, "targets": str}."""
        return self.preprocessor(example)

    def training_pairs(self, example: dict) -> list[dict]:
        """The text-to-text pairs one training example contributes (usually one)."""
        if self.expand_training is not None:
            return self.expand_training(example)
        return [self.preprocess(example)]

    def postprocess(self, text: str, example: dict | None = None) -> Any:
        """Decoded model output -> the value the metrics compare."""
        return self.postprocessor(text, example)

    def oracle_prediction(self, example: dict) -> str:
        """A prediction that is right for ``example`` (the target, unless the task says otherwise)."""
        if self.oracle is not None:
            return self.oracle(example)
        return self.preprocess(example)["targets"]

    def _check_scorable(self, examples: Sequence[dict], n: int) -> None:
        if len(examples) != n:
            raise ValueError(f"task {self.name!r}: {len(examples)} examples but {n} predictions")
        if not examples:
            raise ValueError(f"task {self.name!r}: cannot score zero examples")

    def score(self, examples: Sequence[dict], predictions: Sequence[str]) -> dict[str, float]:
        """Metrics on the 0-100 scale from raw examples and decoded prediction strings."""
        self._check_scorable(examples, len(predictions))
        values = [self.postprocess(p, ex) for p, ex in zip(predictions, examples)]
        return self.metric_fn(examples, values)

    # --------------------------------------------------------------- encoder
    def encoder_example(self, example: dict) -> dict:
        """The classification/regression form of ``example`` for encoder models."""
        if self.encoder is None:
            raise ValueError(
                f"task {self.name!r} ({self.benchmark}) is a generation task and has no "
                "classification/regression form for encoder models"
            )
        return self.encoder.convert(example)

    def score_encoder(self, examples: Sequence[dict], outputs: Sequence) -> dict[str, float]:
        """Metrics from encoder outputs: class ids (classification, multiple choice) or floats."""
        if self.encoder is None:
            self.encoder_example({})  # raises the explanatory error
        self._check_scorable(examples, len(outputs))
        values = [self.encoder.to_value(o, ex) for o, ex in zip(outputs, examples)]
        return self.metric_fn(examples, values)
