"""Hugging Face ``config.json`` both ways, the architecture check, and the export.

Each family says its own names (:meth:`~sam_bench.models.names.HFNames.hf_config`,
``config_from_hf``, ``export_key``); this module picks the family and does the file work.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from flax import nnx

from sam_bench.errors import CheckpointError
from sam_bench.models.checkpoints.base import PathLike, check_architecture, read_json
from sam_bench.models.checkpoints.sources import write_safetensors
from sam_bench.models.names import flat
from sam_bench.models.registry import FAMILIES, ModelConfig, checkpoint_names


def hf_config_dict(config: ModelConfig) -> dict:
    """A Hugging Face ``config.json`` for this architecture."""
    return checkpoint_names(config).hf_config()


def config_from_hf(hf: dict, **overrides: Any) -> ModelConfig:
    """Our config from a Hugging Face ``config.json`` dict (T5.1.1/mT5 or the BERT family)."""
    kind = hf.get("model_type")
    for family in FAMILIES.values():
        if kind in family.names.MODEL_TYPES:
            return family.names.config_from_hf(hf, **overrides)
    supported = [t for family in FAMILIES.values() for t in family.names.MODEL_TYPES]
    raise CheckpointError(f"unsupported Hugging Face model_type {kind!r}; supported: {', '.join(supported)}")


def check_against_hf_config(folder: Path, config: ModelConfig) -> None:
    """Compare the architecture in ``folder/config.json`` with ``config``; list the differences."""
    path = folder / "config.json"
    if not path.exists():
        return
    try:
        theirs = config_from_hf(read_json(path))
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"{path}: cannot read the architecture ({type(e).__name__}: {e})") from None
    if type(theirs) is not type(config) or getattr(theirs, "family", None) != getattr(config, "family", None):
        raise CheckpointError(f"{folder} holds a {getattr(theirs, 'family', 't5')} model, "
                              f"but the cell's model is a {getattr(config, 'family', 't5')} model")
    check_architecture(folder, theirs, config)


def export_hf(params: nnx.State, config: ModelConfig, directory: PathLike) -> Path:
    """Write ``model.safetensors`` + ``config.json`` that Hugging Face ``from_pretrained`` loads.

    T5 exports as ``T5ForConditionalGeneration``; a BERT-family model as
    ``<Family>ForSequenceClassification`` (or ``<Family>Model`` with ``num_labels=0``).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = checkpoint_names(config)
    tensors, shapes = [], {}
    for path, value in flat(nnx.to_pure_dict(params)).items():
        arr = np.asarray(value, np.float32)
        arr = arr.T if names.rule(path).transpose else arr
        key = names.export_key(path)
        tensors.append((key, arr))
        shapes[key] = arr.shape
    write_safetensors(directory / "model.safetensors", tensors, shapes)
    (directory / "config.json").write_text(json.dumps(hf_config_dict(config), indent=1) + "\n")
    return directory
