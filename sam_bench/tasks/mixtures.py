"""Mixtures: named lists of tasks trained together, and the data of a (mixture, rate, seed).

A mixture's training set is the concatenation of its tasks' (subsampled) training pairs,
so tasks are sampled in proportion to their training-set sizes, as in Bahri et al. 2022
(T5's examples-proportional mixing without a cap). ``task_index`` is the position of
the task in the mixture. A single task name is accepted wherever a mixture is, meaning
the one-task mixture. Evaluation-only tasks (MNLI-mismatched, AX-b, AX-g) contribute no
training pairs; they are evaluated with the model the mixture trains.

Mixtures (the papers'):

* ``superglue``: BoolQ, CB, COPA, MultiRC, ReCoRD, RTE, WiC, WSC (+ AX-b, AX-g evaluated), as
  T5's ``super_glue_v102_proportional`` minus its extra DPR data (not one of the issue's tasks);
* ``glue``: CoLA, SST-2, MRPC, STS-B, QQP, MNLI (matched; mismatched evaluated), QNLI, RTE, as
  T5's ``glue_v002_proportional`` (no WNLI, which T5 and Bahri Table 2 leave out);
* ``cbqa``: Natural Questions, WebQuestions, TriviaQA (Bahri Table 4 trains on this mixture);
* ``tydiqa``: the 9 TyDiQA-GoldP languages (= the whole GoldP train set);
* ``mnli``: MNLI trained once, evaluated on matched and mismatched;
* ``tiny_suite``: CB + STS-B + NQ (the synthetic CPU-scale default).

Where the data come from is a *source* (``sam_bench.data.sources.resolve_source``): ``root`` may
be a source object, or a directory (the synthetic suite if it holds ``synthetic_world.json``,
else a directory of official files). Subsamples of official data are the lists pinned in
data_manifests/ (``sam_bench.data.pins.subsample_for_task``); a training set that
differs from the pinned one is refused. The synthetic suite's subsamples are generated.
"""

from __future__ import annotations

import dataclasses
import types

import numpy as np

from sam_bench.data.pins import subsample_for_task
from sam_bench.data.sources import resolve_source
from sam_bench.data.subsample import dataset_fingerprint
from sam_bench.tasks.registry import REGISTRY, get_task

__all__ = [
    "MIXTURES",
    "DEFAULT_MIXTURE",
    "get_mixture",
    "task_names",
    "MixtureTrainingData",
    "load_training_pairs",
    "load_eval_sets",
]

DEFAULT_MIXTURE = "tiny_suite"

#: mixture name -> task names (read-only).
MIXTURES = types.MappingProxyType(
    {
        "tiny_suite": ("cb", "stsb", "natural_questions"),
        "superglue": ("boolq", "cb", "copa", "multirc", "record", "rte", "wic", "wsc", "axb", "axg"),
        "glue": ("cola", "sst2", "mrpc", "stsb", "qqp", "mnli_m", "mnli_mm", "qnli", "glue_rte"),
        "cbqa": ("natural_questions", "web_questions", "trivia_qa"),
        "tydiqa": ("tydiqa_en", "tydiqa_ar", "tydiqa_bn", "tydiqa_fi", "tydiqa_id", "tydiqa_ko", "tydiqa_ru",
                   "tydiqa_sw", "tydiqa_te"),
        "mnli": ("mnli_m", "mnli_mm"),
    }
)


def get_mixture(name: str) -> list[str]:
    try:
        return list(MIXTURES[name])
    except KeyError:
        raise ValueError(f"unknown mixture {name!r}; valid mixtures: {sorted(MIXTURES)}") from None


def task_names(name: str) -> list[str]:
    """Tasks of a mixture name, or [name] for a task name."""
    if name in MIXTURES:
        return get_mixture(name)
    if name in REGISTRY:
        return [name]
    raise ValueError(
        f"{name!r} is neither a task nor a mixture; tasks: {sorted(REGISTRY)}, mixtures: {sorted(MIXTURES)}"
    )


@dataclasses.dataclass(frozen=True)
class MixtureTrainingData:
    """Text-to-text training pairs of a mixture at one subsample (rate, seed).

    pairs: [{"inputs", "targets", "task_index"}], tasks concatenated in mixture order (for
      ``form="encoder"``: the examples' encoder forms with ``task_index``).
    tasks: the mixture's task names (task_index indexes this).
    indices: task -> the kept example indices into that task's full training file.
    full_sizes: task -> number of examples in the full training file.
    fingerprints: task -> sha256 of the full training records (detects a changed dataset).
    subsamples: task -> how the indices were obtained (pinned manifest or generated, their sha256).
    source: the data source, described.
    """

    pairs: list[dict]
    tasks: tuple[str, ...]
    indices: dict[str, np.ndarray]
    full_sizes: dict[str, int]
    fingerprints: dict[str, str]
    subsamples: dict[str, dict] = dataclasses.field(default_factory=dict)
    source: str = ""


FORMS = ("text_to_text", "encoder")


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise ValueError(f"unknown example form {form!r}; valid: {FORMS}")


def load_training_pairs(
    name: str, root, rate: float = 1.0, subsample_seed: int = 0, *, source=None, form: str = "text_to_text"
) -> MixtureTrainingData:
    """Load, subsample (nested, per task, pinned in data_manifests/ for official data) and
    preprocess the training data of a task or mixture.

    ``form="encoder"`` gives each kept example's classification/regression form
    (``Task.encoder_example``, with ``task_index``) instead of text-to-text pairs; the
    subsample is the same."""
    _check_form(form)
    src = resolve_source(root, source)
    tasks = tuple(task_names(name))
    pairs: list[dict] = []
    indices, sizes, prints, provenance = {}, {}, {}, {}
    for t_idx, t_name in enumerate(tasks):
        task = get_task(t_name)
        if not task.trains:
            continue
        records = src.load(task, "train")
        fp = dataset_fingerprint(records)
        keep, info = subsample_for_task(task, records, rate, subsample_seed, policy=src.subsamples, fingerprint=fp)
        indices[t_name] = keep
        sizes[t_name] = len(records)
        prints[t_name] = fp
        provenance[t_name] = info
        for i in keep:
            if form == "encoder":
                pairs.append({**task.encoder_example(records[i]), "task_index": t_idx})
                continue
            for pair in task.training_pairs(records[i]):
                pairs.append({"inputs": pair["inputs"], "targets": pair["targets"], "task_index": t_idx})
    if not indices:
        raise ValueError(f"{name!r} has no task with a training split (evaluation-only tasks: "
                         f"{[t for t in tasks if not get_task(t).trains]}); train them through a mixture, "
                         "e.g. 'superglue' (AX-b/AX-g) or 'mnli' (MNLI-mismatched)")
    if not pairs:
        raise ValueError(f"{name!r} at rate {rate}, seed {subsample_seed}: the subsample holds no training pairs")
    return MixtureTrainingData(pairs, tasks, indices, sizes, prints, provenance, src.describe())


def load_eval_sets(name: str, root, split: str | None = None, *, source=None,
                   form: str = "text_to_text") -> dict[str, tuple[list[dict], list[dict]]]:
    """task -> (raw examples, text-to-text pairs with task_index) for evaluation; never subsampled.
    ``form="encoder"`` gives the examples' classification/regression forms instead of pairs.

    ``split`` None means each task's own evaluation split (``Task.eval_split``: "validation",
    "test" for WebQuestions and the AX diagnostics); a named split applies to every task that
    has it (AX-b/AX-g, which only have "test", are then evaluated on it).
    """
    _check_form(form)
    src = resolve_source(root, source)
    out = {}
    for t_idx, t_name in enumerate(task_names(name)):
        task = get_task(t_name)
        use = task.eval_split if split is None or split not in task.splits else split
        records = src.load(task, use)
        convert = task.encoder_example if form == "encoder" else task.preprocess
        pairs = [dict(convert(r), task_index=t_idx) for r in records]
        out[t_name] = (records, pairs)
    return out
