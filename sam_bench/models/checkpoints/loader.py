"""The one path from a model spec to its initial parameters: random, pretrained or imported.

The flow is one-way: the registry gives the family and the abstract parameter tree once;
the family's names say where each tensor lives; a reader (:mod:`.sources`, :mod:`.t5x`,
:mod:`.native`) supplies the tensors; :mod:`.convert` lays them out. Nothing below calls
back up.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from sam_bench.errors import CheckpointError
from sam_bench.models.checkpoints.base import PathLike
from sam_bench.models.checkpoints.convert import ImportReport, Plan, read_tensors
from sam_bench.models.checkpoints.formats import FORMATS, detect_format
from sam_bench.models.checkpoints.hf import check_against_hf_config
from sam_bench.models.checkpoints.named import NAMED_CHECKPOINTS, resolve_named_checkpoint
from sam_bench.models.checkpoints.native import load_checkpoint
from sam_bench.models.checkpoints.sources import open_tensors
from sam_bench.models.checkpoints.t5x import T5XSource
from sam_bench.models.names import HFNames, PathT, dotted, flat, unflat
from sam_bench.models.registry import ModelConfig, abstract_model, checkpoint_names, init_model


def _head_init(config: ModelConfig, seed: int, paths: list[PathT]) -> dict[PathT, np.ndarray]:
    """The random initial values of a few parameters, as ``init_model(config, seed)`` gives them.

    Runs the whole initialiser under ``jit`` but returns only these leaves: XLA drops the
    rest, so nothing model-sized is allocated.
    """
    def pick():
        _, params = init_model(config, seed)
        leaves = flat(nnx.to_pure_dict(params))
        return {dotted(p): leaves[p] for p in paths}

    values = jax.jit(pick)()
    return {p: np.asarray(values[dotted(p)]) for p in paths}


def _plan(names: HFNames, fmt: str, keys: list[str], want, head: str, description: str) -> tuple[Plan, list[str]]:
    """The rules of a Hugging Face or T5X import, and the tensors the view ties."""
    if fmt == "t5x":
        rules = names.t5x_rules()
        if rules is None:
            raise CheckpointError(f"{description}: T5X checkpoints hold T5 models, not {names.config.family}")
        return Plan(rules=rules, available={k: k for k in keys}), []
    available, tied = names.view(keys)
    fillable = frozenset(p for p in want if names.is_head(p)) if head == "init" else frozenset()
    return Plan(rules={p: names.rule(p) for p in want}, available=available,
                ignored={n for n in available if names.ignored(n)}, fillable=fillable, hint=names.hint), tied


def import_params(
    path: PathLike, config: ModelConfig, *, fmt: str | None = None, seed: int = 0, head: str = "init"
) -> tuple[nnx.GraphDef, nnx.State, ImportReport]:
    """Import a checkpoint into ``config``'s parameter tree: ``(graphdef, params, report)``.

    ``fmt``: ``"hf"``, ``"t5x"``, ``"sam-bench"`` or None to detect. ``head="init"``
    initialises BERT-family head tensors (``classifier``, ``pooler``) that the
    checkpoint lacks, as when fine-tuning from a pre-trained encoder; ``head="strict"``
    requires them. Raises :class:`CheckpointError` listing missing, unexpected and
    mis-shaped tensors.
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise CheckpointError(f"unknown checkpoint format {fmt!r}; valid: {list(FORMATS)}")
    if head not in ("init", "strict"):
        raise ValueError(f"head must be 'init' or 'strict', got {head!r}")
    if fmt == "sam-bench":
        _, graphdef, params = load_checkpoint(path, config)
        return graphdef, params, ImportReport(source=str(path), format=fmt)
    names = checkpoint_names(config)
    graphdef, abstract = abstract_model(config)
    want = {p: tuple(x.shape) for p, x in flat(nnx.to_pure_dict(abstract)).items()}
    if fmt == "hf":
        check_against_hf_config(path if path.is_dir() else path.parent, config)
    with open_tensors(path) if fmt == "hf" else T5XSource(path) as source:
        plan, tied = _plan(names, fmt, source.keys(), want, head, source.description)
        report = ImportReport(source=source.description, format=fmt, tied=tied)
        leaves, fill = read_tensors(source, want, plan, report)
    if fill:
        leaves.update({p: jnp.asarray(v, jnp.float32) for p, v in _head_init(config, seed, fill).items()})
    nnx.replace_by_pure_dict(abstract, unflat(leaves))
    return graphdef, abstract, report


def load_initial_params(
    spec: str | os.PathLike,
    config: ModelConfig,
    *,
    seed: int = 0,
    pretrained_dir: PathLike | None = None,
    root: PathLike | None = None,
    head: str = "init",
) -> tuple[nnx.GraphDef, nnx.State]:
    """The initial ``(graphdef, params)`` of a cell, from its ``init`` value.

    ``spec`` is one of:

    * ``"random"``: a random initialisation from ``seed``;
    * ``"pretrained"``: the workflow-pretrained tiny model in ``pretrained_dir``
      (the pretraining output folder, with ``params/``);
    * a named checkpoint (``NAMED_CHECKPOINTS``): ``"all-minilm-l6-v2"`` (the installed
      package) or a model name such as ``"t5.1.1-small"``, looked up as
      ``<root>/<name>/`` (``root`` defaults to ``$SAM_BENCH_CHECKPOINTS`` or ``./checkpoints``);
    * a path to a checkpoint file or folder, optionally prefixed by its format
      (``hf:``, ``t5x:``, ``sam-bench:``) to skip detection.

    ``seed`` also initialises BERT-family head tensors the checkpoint lacks.
    Parameters are float32 whatever ``config.dtype`` (bf16 compute keeps fp32 master weights).
    """
    spec = os.fspath(spec)
    if spec == "random":
        return init_model(config, seed)
    if spec == "pretrained":
        if pretrained_dir is None:
            raise CheckpointError(
                "init 'pretrained' is the workflow-pretrained tiny model: pass pretrained_dir=<results>/pretrain/<id>"
            )
        _, graphdef, params = load_checkpoint(pretrained_dir, config)
        return graphdef, params
    fmt = None
    m = re.match(r"^(hf|t5x|sam-bench):(.+)$", spec)
    if m:
        fmt, spec = m.group(1), m.group(2)
    if fmt is None and spec in NAMED_CHECKPOINTS:
        path = resolve_named_checkpoint(spec, root)
    else:
        path = Path(spec).expanduser()
        if not path.exists():
            raise CheckpointError(
                f"init {spec!r} is not 'random', 'pretrained', a named checkpoint or an existing path; "
                f"named checkpoints: {', '.join(NAMED_CHECKPOINTS)}"
            )
    graphdef, params, _ = import_params(path, config, fmt=fmt, seed=seed, head=head)
    return graphdef, params
