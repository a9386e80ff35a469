"""sam-bench's own checkpoints: ``model.json`` (the architecture) + an orbax ``params/`` folder.

Also read: the workflow's pretraining output (``pretrain.json`` + ``params/``) and a bare
orbax params folder (given the config). Names and shapes are checked before anything is
restored.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from flax import nnx

from sam_bench.errors import CheckpointError
from sam_bench.io import atomic_write
from sam_bench.models.checkpoints.base import PathLike, check_architecture, mismatch_error, read_json
from sam_bench.models.names import PathT, dotted, flat
from sam_bench.models.registry import FAMILIES, ModelConfig, abstract_model, model_family
from sam_bench.models.t5 import T5Config

_FORMAT_TAG = "sam-bench-params-v1"


def _config_json(config: ModelConfig) -> dict:
    return {"format": _FORMAT_TAG, "family": model_family(config), "config": dataclasses.asdict(config)}


def config_from_json(meta: dict) -> ModelConfig:
    """The config saved in a ``model.json``."""
    return FAMILIES[meta["family"]].config_type(**meta["config"])


def save_checkpoint(directory: PathLike, params: nnx.State, config: ModelConfig) -> Path:
    """Save ``params`` with orbax to ``directory/params`` and the architecture to ``directory/model.json``.

    The folder is replaced if it exists. ``load_checkpoint`` / ``load_initial_params`` read it back.
    """
    import orbax.checkpoint as ocp  # on use: importing orbax takes 0.5 s

    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(directory / "params", nnx.to_pure_dict(params), force=True)
    checkpointer.wait_until_finished()
    atomic_write(directory / "model.json", json.dumps(_config_json(config), indent=1) + "\n")
    return directory


def _key(k):
    return int(k) if isinstance(k, str) and k.isdigit() else k


def _orbax_leaf_shapes(directory: Path) -> dict[PathT, tuple] | None:
    import orbax.checkpoint as ocp

    try:
        meta = ocp.StandardCheckpointer().metadata(directory)
    except Exception:  # noqa: BLE001 - no readable metadata: orbax's restore names the problem
        return None
    tree = getattr(meta, "item_metadata", meta)
    tree = getattr(tree, "tree", tree)
    if not isinstance(tree, dict):
        return None
    return {tuple(_key(k) for k in p): tuple(getattr(v, "shape", ()) or ()) for p, v in flat(dict(tree)).items()}


def _saved_config(directory: Path) -> ModelConfig | None:
    if (directory / "model.json").exists():
        return config_from_json(read_json(directory / "model.json"))
    if (directory / "pretrain.json").exists():
        meta = read_json(directory / "pretrain.json")
        if "model_config" in meta:
            return T5Config(**meta["model_config"])
    return None


def load_checkpoint(directory: PathLike, config: ModelConfig | None = None) -> tuple[ModelConfig, nnx.GraphDef, nnx.State]:
    """Restore a sam-bench checkpoint: ``(config, graphdef, params)``.

    ``directory`` is a folder written by :func:`save_checkpoint`, the workflow's
    pretraining output (``pretrain.json`` + ``params/``), or a bare orbax params folder
    (then ``config`` is required). With ``config``, its architecture must match the
    saved one; names and shapes are checked before anything is restored.
    """
    import orbax.checkpoint as ocp

    directory = Path(directory).resolve()
    params_dir = directory / "params" if (directory / "params").is_dir() else directory
    saved = _saved_config(directory)
    if saved is None and config is None:
        raise CheckpointError(f"{directory}: no model.json beside the parameters; pass the model config")
    if config is None:
        config = saved
    elif saved is not None:
        check_architecture(directory, saved, config)
    if not params_dir.exists():
        raise CheckpointError(f"no checkpoint at {params_dir}")
    graphdef, abstract = abstract_model(config)
    target = nnx.to_pure_dict(abstract)
    want = {p: tuple(x.shape) for p, x in flat(target).items()}
    have = _orbax_leaf_shapes(params_dir)
    if have is not None:
        missing = sorted(dotted(p) for p in set(want) - set(have))
        extra = sorted(dotted(p) for p in set(have) - set(want))
        shapes = sorted(f"{dotted(p)}: checkpoint {have[p]} vs model {want[p]}"
                        for p in set(want) & set(have) if have[p] != want[p])
        if missing or extra or shapes:
            raise mismatch_error(str(params_dir), missing, extra, shapes)
    restored = ocp.StandardCheckpointer().restore(params_dir, target)
    nnx.replace_by_pure_dict(abstract, restored)
    return config, graphdef, abstract
