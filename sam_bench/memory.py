"""Accelerator memory needed to fine-tune a model, per size: a planning aid.

Counted exactly from shapes (nothing is allocated): parameters (float32 master
weights), gradients (float32), the base optimizer's state (``jax.eval_shape`` of the
real optax optimizer's ``init``: Adafactor's factored second moments, Adam's two
moments, ...), and SAM's extra copy: the perturbed weights ``w + ε`` held while the
second gradient is taken (one float32 copy of the parameters; the ascent gradient's
buffer is reused for the descent gradient). With bf16 compute the matmuls read
bfloat16 casts of the weights; XLA fuses most casts, so a full bf16 copy is shown as an
upper bound apart from the total.

With a mesh (``--mesh data=2,fsdp=4``) every figure is per device: weights, gradients,
optimizer state and SAM's copy split over ``fsdp`` as ``sam_bench.parallel`` lays them out
(each tensor's largest axis that fsdp divides; small tensors replicated), replicated over
``data``.

Activations depend on batch size, sequence lengths and rematerialisation and are not
included: measure them with a short run.

``python -m sam_bench.memory t5.1.1-xl --optimizer adafactor`` prints the table.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from dataclasses import dataclass

import jax

from sam_bench import parallel
from sam_bench.models.registry import MODEL_CONFIGS, ModelConfig, abstract_model, model_config
from sam_bench.optim.base import make_base_optimizer

GIB = 1024**3


@dataclass(frozen=True)
class MemoryEstimate:
    model: str
    optimizer: str
    num_params: int
    params_bytes: int  # float32 master weights
    grads_bytes: int  # float32 gradients
    optimizer_bytes: int  # optimizer state
    sam_extra_bytes: int  # w + ε, the perturbed copy (SAM only)
    bf16_copy_bytes: int  # upper bound of a materialised bf16 weight copy (bf16 compute only)
    mesh: str | None = None  # set: the byte counts are per device of this mesh

    @property
    def total_bytes(self) -> int:
        """Parameters + gradients + optimizer state (+ SAM's copy): the training state, no activations."""
        return self.params_bytes + self.grads_bytes + self.optimizer_bytes + self.sam_extra_bytes

    def as_row(self) -> dict:
        return {
            "model": self.model, "optimizer": self.optimizer, "params": self.num_params,
            "params_gib": self.params_bytes / GIB, "grads_gib": self.grads_bytes / GIB,
            "optimizer_gib": self.optimizer_bytes / GIB, "sam_extra_gib": self.sam_extra_bytes / GIB,
            "total_gib": self.total_bytes / GIB, "bf16_copy_gib": self.bf16_copy_bytes / GIB,
        }


def _nbytes(tree) -> int:
    return int(sum(math.prod(x.shape) * x.dtype.itemsize for x in jax.tree_util.tree_leaves(tree)
                   if hasattr(x, "shape") and hasattr(x, "dtype")))


@functools.lru_cache(maxsize=64)
def _state_sizes(config: ModelConfig, optimizer: str, hparams: tuple, fsdp: int = 1) -> tuple[int, int, int]:
    """(parameters, bytes of the weights, bytes of the optimizer state), the bytes per device
    when split over `fsdp` devices."""
    _, params = abstract_model(config)
    opt_state = jax.eval_shape(make_base_optimizer(optimizer, **dict(hparams)).init, params)
    n = int(sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(params)))
    if fsdp == 1:
        return n, _nbytes(params), _nbytes(opt_state)
    return n, parallel.bytes_per_device(params, fsdp), parallel.bytes_per_device(opt_state, fsdp)


def estimate_memory(
    model: str | ModelConfig,
    *,
    optimizer: str = "adafactor",
    sam: bool = False,
    dtype: str | None = None,
    mesh=None,
    **optimizer_hparams,
) -> MemoryEstimate:
    """Memory of the training state of ``model`` (a name or a config).

    ``optimizer`` is a base optimizer of ``sam_bench.optim`` (adafactor, adam, adamw,
    amsgrad, adagrad, sgd) with its default hyper-parameters unless overridden. ``mesh``
    ("data=2,fsdp=4" or a mapping) gives the bytes per device of that mesh.
    """
    name = model if isinstance(model, str) else type(model).__name__
    config = model_config(model) if isinstance(model, str) else model
    if dtype is not None:
        config = config.replace(dtype=dtype)
    shape = parallel.parse_mesh(mesh)
    fsdp = shape.fsdp if shape else 1
    n, p_bytes, opt_bytes = _state_sizes(config, optimizer, tuple(sorted(optimizer_hparams.items())), fsdp)
    return MemoryEstimate(
        model=name, optimizer=optimizer + (" + SAM" if sam else ""), num_params=n,
        params_bytes=p_bytes, grads_bytes=p_bytes, optimizer_bytes=opt_bytes,
        sam_extra_bytes=p_bytes if sam else 0,
        bf16_copy_bytes=(n * 2 + fsdp - 1) // fsdp if config.dtype == "bfloat16" else 0,
        mesh=str(shape) if shape else None,
    )


def memory_table(models: list[str], optimizers: list[str], dtype: str = "bfloat16", mesh=None) -> str:
    """A plain-text table: one row per (model, optimizer), without and with SAM."""
    shape = parallel.parse_mesh(mesh)
    unit = f"GiB per device on {shape.devices} devices ({shape})" if shape else "GiB"
    lines = [f"{'model':<28} {'optimizer':<18} {'params':>8} {'weights':>8} {'grads':>8} {'opt':>8} "
             f"{'SAM +':>8} {'total':>8}  ({unit}; activations not included)"]
    for m in models:
        for o in optimizers:
            for sam in (False, True):
                e = estimate_memory(m, optimizer=o, sam=sam, dtype=dtype, mesh=shape)
                r = e.as_row()
                lines.append(
                    f"{m:<28} {e.optimizer:<18} {e.num_params / 1e6:>7.0f}M {r['params_gib']:>8.2f} "
                    f"{r['grads_gib']:>8.2f} {r['optimizer_gib']:>8.2f} {r['sam_extra_gib']:>8.2f} "
                    f"{r['total_gib']:>8.2f}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sam-bench memory",
        description="Memory of the training state (fp32 weights, grads, optimizer state, SAM's extra copy)",
    )
    parser.add_argument("models", nargs="*", help=f"model names (default: all); valid: {', '.join(MODEL_CONFIGS)}")
    parser.add_argument("--optimizer", action="append",
                        help="base optimizer (repeatable; default adafactor and adamw)")
    parser.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16"], help="compute dtype")
    parser.add_argument("--mesh", default=None, help="per-device memory on a mesh, e.g. data=2,fsdp=4")
    args = parser.parse_args(argv)
    try:
        mesh = parallel.parse_mesh(args.mesh)
    except ValueError as err:
        parser.error(str(err))
    models = args.models or [m for m in MODEL_CONFIGS if m not in ("t5.1.1-tiny", "bart-tiny", "bert-tiny")]
    unknown = [m for m in models if m not in MODEL_CONFIGS]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; valid: {', '.join(MODEL_CONFIGS)}")
    print(memory_table(models, args.optimizer or ["adafactor", "adamw"], args.dtype, mesh))
    return 0


if __name__ == "__main__":
    sys.exit(main())
