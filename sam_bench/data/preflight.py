"""Pre-flight data checks: would every file the cells of a task or mixture read be there?

Checked without reading any records, so that ``sam-bench validate`` (and the workflow, which
validates its config first) refuses a config before any compute, with one line per missing
file per task and where to get it (the task's manifest in ``data_manifests/``).

These checks take one task's source and the splits to check; ``sam_bench.tasks.preflight``
runs them over the splits a cell reads of each task of a mixture.

* local: that split's file, or an accepted alternative, and the companion files its reader
  opens with it (``SourceSpec.missing_files``);
* tfds: the task needs a tfds builder, TensorFlow where its builder needs it, and, with
  ``archives``, the release files the builder would read for those splits (found by running its
  ``_split_generators`` without extracting anything). Without ``archives`` tfds downloads them
  on first use, so there is nothing to check beforehand;
* synthetic: the workflow writes the data; nothing to check.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from sam_bench.data.pins import load_manifest
from sam_bench.data.spec import SourceSpec
import sam_bench.data.sources as sources  # looked up at call time (tests stand in for TensorFlow)

__all__ = ["local_problems", "tfds_problems"]


def _manifest(task) -> dict | None:
    try:
        return load_manifest(task.dataset)
    except FileNotFoundError:
        return None


def _where_to_get(task, tfds_hint: bool = True) -> str:
    m = _manifest(task)
    if m is None:
        return f"See docs/data.md (task {task.name!r} has no manifest)."
    text = "Get it: " + "; ".join(m["get"])
    urls = [d["url"] for d in m.get("downloads", [])]
    if urls and not any(u in text for u in urls):
        text += f" (URLs: {', '.join(urls)})"
    if tfds_hint and m.get("tfds"):
        text += f"; or use source tfds ({m['tfds']['name']}:{m['tfds']['version']}"
        text += ", needs TensorFlow)" if m["tfds"].get("needs_tensorflow") else ")"
    return text + f". See data_manifests/{task.dataset}.json."


def _excerpts_present(task, root: Path, split: str) -> list[str]:
    """Files of the manifest's variants that hold an excerpt of ``split`` (FewGLUE's train32/dev32):
    present, but not the split, so a user seeing them should know why they are not used."""
    m = _manifest(task)
    prefix = {"train": "train", "validation": "dev"}.get(split)
    if m is None or prefix is None:
        return []
    return [f"{v['path']} ({v['note']})" for v in m.get("variants", [])
            if re.fullmatch(rf"{prefix}\d+", v["split"]) and (root / v["path"]).exists()]


def local_problems(task: SourceSpec, root: str | Path, splits) -> list[str]:
    """The files of ``splits`` that ``task`` (a task's source) needs under the local data root
    ``root`` and lacks: one line naming each, and where to get them (empty when all are there)."""
    root = Path(root)
    if not root.is_dir():
        return [f"{task.name}: the data root {root} is not a directory (source local: the official release "
                f"files, laid out as in docs/data.md)"]
    # (missing file, the present file it is read with, or None for a split's own file) -> splits
    by_file: dict[tuple[str, str | None], list[str]] = {}
    for split in splits:
        for rel in task.missing_files(root, split):
            own = rel == task.candidates(split)[0]
            present = None if own else task.path(root, split).relative_to(root).as_posix()
            by_file.setdefault((rel, present), []).append(split)
    if not by_file:
        return []
    parts = []
    for (rel, present), needed in by_file.items():
        which = f"{'/'.join(needed)} split{'s' if len(needed) > 1 else ''}"
        if present is None:
            part = f"{rel} ({which}"
            others = task.candidates(needed[0])[1:]
            if others:
                part += f"; also accepted: {', '.join(others)}"
            excerpts = _excerpts_present(task, root, needed[0])
            if excerpts:
                part += f"; present, but not used in its place: {'; '.join(excerpts)}"
            parts.append(part + ")")
        else:
            parts.append(f"{rel} (read together with {present} for the {which})")
    return [f"{task.name}: missing under {root}: {', '.join(parts)}. {_where_to_get(task)}"]


def tfds_problems(task: SourceSpec, splits, data_dir=None, archives=None) -> list[str]:
    """Why the tfds source could not give the records of ``splits`` of ``task`` (a task's source);
    empty if nothing is known to be missing."""
    spec = task.tfds
    if spec is None:
        return [f"{task.name}: has no tensorflow-datasets builder; use source local (files: {task.layout})"]
    if importlib.util.find_spec("tensorflow_datasets") is None:
        return [f"{task.name}: the tfds source needs tensorflow-datasets: pip install tensorflow-datasets"]
    if spec.needs_tensorflow and not sources.tensorflow_available():
        return [f"{task.name}: the tfds builder {spec.name} calls tf.io.gfile and needs TensorFlow: "
                f"pip install tensorflow-cpu, or use source local. {_where_to_get(task, tfds_hint=False)}"]
    if archives is None:
        return []
    if not Path(archives).is_dir():
        return [f"{task.name}: data.archives {archives} is not a directory (the release files tfds "
                f"downloads, named as it registers them). See data_manifests/{task.dataset}.json."]
    source = sources.resolve_source(data_dir, "tfds", archives=archives)
    missing: dict[str, list[str]] = {}
    for split in splits:
        try:
            lines = source.missing_release_files(task, split)
        except (RuntimeError, ValueError) as err:  # e.g. another builder version than the records were checked on
            return [f"{task.name}: {err}"]
        for line in lines:
            missing.setdefault(line, []).append(split)
    builder = spec.name.split("/")[0]
    return [f"{task.name}: missing release file {line} for the {'/'.join(needed)} split (tfds {spec.name}), "
            f"expected in {archives}/{builder}/ or {archives}/. See data_manifests/{task.dataset}.json."
            for line, needed in missing.items()]
