"""Which format a checkpoint file or folder is in: Hugging Face, T5X or sam-bench."""

from __future__ import annotations

from pathlib import Path

from sam_bench.errors import CheckpointError
from sam_bench.models.checkpoints.base import PathLike
from sam_bench.models.checkpoints.sources import HF_FILES
from sam_bench.models.checkpoints.t5x import is_orbax_dir

FORMATS = ("hf", "t5x", "sam-bench")


def _orbax_holds_t5x(path: Path) -> bool:
    """An orbax folder whose tree has T5X's ``target``/``optimizer`` at the top."""
    import orbax.checkpoint as ocp  # on use: importing orbax takes 0.5 s

    try:
        meta = ocp.PyTreeCheckpointer().metadata(path.resolve())
    except Exception:  # noqa: BLE001 - unreadable metadata: not T5X, fall through to our own format
        return False
    tree = getattr(meta, "item_metadata", meta)
    tree = getattr(tree, "tree", tree)
    return isinstance(tree, dict) and bool({"target", "optimizer"} & set(tree))


def detect_format(path: PathLike) -> str:
    """``"hf"``, ``"t5x"`` or ``"sam-bench"`` for a checkpoint file or folder."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    if path.is_file():
        if path.suffix in (".safetensors", ".bin", ".pt", ".pth") or path.name.endswith(".index.json"):
            return "hf"
        if path.name == "checkpoint":
            return "t5x"
        raise CheckpointError(f"{path}: unknown checkpoint file (expected .safetensors, .bin or a T5X 'checkpoint')")
    if any((path / name).exists() for name in HF_FILES):
        return "hf"
    if (path / "model.json").exists() or (path / "pretrain.json").exists():
        return "sam-bench"
    if (path / "checkpoint").is_file() or any(path.glob("checkpoint_*/checkpoint")):
        return "t5x"
    if is_orbax_dir(path):
        return "t5x" if _orbax_holds_t5x(path) else "sam-bench"
    raise CheckpointError(
        f"{path}: no checkpoint found; expected one of: model.safetensors[.index.json], "
        "pytorch_model.bin[.index.json] (Hugging Face), a T5X 'checkpoint' file or checkpoint_<step>/ folders, "
        "or a sam-bench checkpoint (model.json + params/)"
    )
