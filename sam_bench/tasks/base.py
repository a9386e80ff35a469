"""The ``Task`` record: where a task's files live, how they become text-to-text, how it is scored.

A task is the unit of the registry (in the style of seqio/t5 tasks). It never knows
where the data came from: a *data root* is a directory laid out like the official
releases (the real files, or the synthetic suite written in the same formats), and
``Task.load(root, split)`` reads ``root / split_files[split]`` (or one of the accepted
alternative files of that split, see ``alternatives``). Other sources (tensorflow-datasets,
the synthetic generators) live in ``sam_bench.data.sources`` and yield the same records.

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

__all__ = ["Task", "SPLITS", "EncoderSpec", "TfdsSpec", "UnlabeledSplitError"]

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


@dataclasses.dataclass(frozen=True)
class TfdsSpec:
    """How a task's records come out of a tensorflow-datasets builder.

    name: builder/config ("super_glue/cb"); version: the builder version the records were
      checked against; module: the builder's module (imported explicitly, because without
      TensorFlow ``tensorflow_datasets`` does not import its legacy ``text``/``question_answering``
      builders); splits: (our split, the builder's split) pairs; convert: (key, tfds example)
      -> our record, or None to drop it (a language filter); needs_tensorflow: the builder's
      split generators call ``tf.io.gfile`` and cannot run without TensorFlow.
    """

    name: str
    version: str
    module: str
    splits: tuple[tuple[str, str], ...]
    convert: Callable[[Any, dict], dict | None]
    needs_tensorflow: bool = False

    def split(self, split: str) -> str:
        d = dict(self.splits)
        if split not in d:
            raise ValueError(f"tfds {self.name}: no split for {split!r}; valid: {sorted(d)}")
        return d[split]


def _default_postprocess(text: str, example: dict | None = None):
    return text


@dataclasses.dataclass(frozen=True)
class Task:
    """One text-to-text task.

    Attributes:
      name: the registry key ("cb", "stsb", "glue_rte", "tydiqa_en").
      benchmark: "superglue" | "glue" | "cbqa" | "tydiqa" | "summarization" | "gec".
      metric_names: the metrics ``score`` returns, named as in the paper tables.
      split_files: (split, path relative to the data root) pairs: the official release file.
      layout: one line describing the expected files, used in error messages.
      reader: ``reader(path) -> list[dict]``; validates every record and names file/line/field on error.
      preprocessor: example -> {"inputs": str, "targets": str} (T5 conventions).
      postprocessor: (decoded model text, example) -> value compared by the metrics.
      metric_fn: (examples, values) -> {metric: value on the 0-100 scale}.
      label_names: the closed label set of a classification task (empty otherwise).
      alternatives: (split, (path, ...)) other files accepted for a split when the official one
        is absent (other release layouts, e.g. the STS Benchmark files for GLUE STS-B).
      companions: (path, (path, ...)) other files the reader opens along with the file ``path``
        (a split file or an alternative), any one of the listed paths will do; what
        ``missing_files`` checks before any data is read (MRPC's dev-id list, XSUM's articles).
      dataset: the manifest in data_manifests/ (``<dataset>.json``) describing the data.
      paper_task: the task key in ../shared/papers/tables ("" means ``name``).
      eval_split: the split evaluated by default; paper_split: what the papers call it ("dev"/"test").
      unlabeled_splits: splits published without labels (loadable, not scorable).
      trains: False for evaluation-only tasks (MNLI-mismatched, AX-b, AX-g).
      expand_training: example -> training pairs (default: ``[preprocess(example)]``); ReCoRD
        trains on one pair per answer, WSC only on examples whose candidate is the referent.
      oracle: example -> the prediction text that scores the maximum (default: the target).
      encoder: the classification/regression form for encoder models, or None (generation tasks).
      tfds: how the tensorflow-datasets builder yields this task's records, or None.
      language: ISO code for multilingual tasks (TyDiQA).
    """

    name: str
    benchmark: str
    metric_names: tuple[str, ...]
    split_files: tuple[tuple[str, str], ...]
    layout: str
    reader: Callable[[Path], list[dict]]
    preprocessor: Callable[[dict], dict]
    postprocessor: Callable[..., Any] = _default_postprocess
    metric_fn: Callable[[Sequence[dict], Sequence[Any]], dict] | None = None
    label_names: tuple[str, ...] = ()
    alternatives: tuple[tuple[str, tuple[str, ...]], ...] = ()
    companions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    dataset: str = ""
    paper_task: str = ""
    eval_split: str = "validation"
    paper_split: str = "dev"
    unlabeled_splits: tuple[str, ...] = ("test",)
    trains: bool = True
    expand_training: Callable[[dict], list[dict]] | None = None
    oracle: Callable[[dict], str] | None = None
    encoder: EncoderSpec | None = None
    tfds: TfdsSpec | None = None
    language: str | None = None

    # ------------------------------------------------------------------ files
    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.split_files)

    @property
    def paper_name(self) -> str:
        return self.paper_task or self.name

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
