"""Checkpoint import and export: Hugging Face, T5X, and our own orbax checkpoints.

One module per job:

* :mod:`.loader`: :func:`load_initial_params`, the one entry point a cell uses, and
  :func:`import_params` (spec -> family names -> reader -> parameters, one way);
* :mod:`.sources`: Hugging Face safetensors (through the ``safetensors`` library), sharded
  ``*.index.json`` and PyTorch ``pytorch_model.bin`` files as lazy tensor sources;
* :mod:`.t5x`: T5X checkpoints (msgpack + TensorStore zarr, or orbax), read and written;
* :mod:`.native`: sam-bench checkpoints (``model.json`` + orbax ``params/``);
* :mod:`.formats`: which of these a path holds;
* :mod:`.convert`: the name/shape check and the tensor-by-tensor copy;
* :mod:`.hf`: Hugging Face ``config.json`` both ways and the export;
* :mod:`.named`: named public checkpoints.

Each family's parameter names live beside its model (:mod:`sam_bench.models.t5_names`,
:mod:`sam_bench.models.bert_names`).
"""

from sam_bench.errors import CheckpointError
from sam_bench.models.checkpoints.convert import ImportReport
from sam_bench.models.checkpoints.formats import FORMATS, detect_format
from sam_bench.models.checkpoints.hf import config_from_hf, export_hf, hf_config_dict
from sam_bench.models.checkpoints.loader import import_params, load_initial_params
from sam_bench.models.checkpoints.named import (
    CHECKPOINT_ROOT_ENV,
    NAMED_CHECKPOINTS,
    checkpoint_root,
    minilm_dir,
    resolve_named_checkpoint,
)
from sam_bench.models.checkpoints.native import load_checkpoint, save_checkpoint
from sam_bench.models.checkpoints.sources import SafetensorsFile, TorchFile, open_tensors, write_safetensors
from sam_bench.models.checkpoints.t5x import T5XSource, export_t5x

__all__ = [
    "CHECKPOINT_ROOT_ENV",
    "CheckpointError",
    "FORMATS",
    "ImportReport",
    "NAMED_CHECKPOINTS",
    "SafetensorsFile",
    "T5XSource",
    "TorchFile",
    "checkpoint_root",
    "config_from_hf",
    "detect_format",
    "export_hf",
    "export_t5x",
    "hf_config_dict",
    "import_params",
    "load_checkpoint",
    "load_initial_params",
    "minilm_dir",
    "open_tensors",
    "resolve_named_checkpoint",
    "save_checkpoint",
    "write_safetensors",
]
