"""One cell on many devices: the mesh, where each array lives, and the multi-host runtime.

A cell's devices form a `jax.sharding.Mesh` with two axes:

    data   the batch is split over it (data parallelism);
    fsdp   the batch is split over it too, and so are the parameters and the optimizer state
           (FSDP-style: each tensor's largest axis that `fsdp` divides; the rest replicated).

Everything else is XLA's SPMD partitioner: the train step is written for the global batch
and jitted with these shardings, so a step on 8 devices computes the numbers of a step on
one (up to the order of floating-point reductions). Multi-host: every process runs the same
program; `initialize_distributed` starts JAX's runtime from the environment (Slurm, a TPU
VM) when more than one process is configured, and each process hands over only the shards
of the batch that live on its own devices (`shard_batch`).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from sam_bench.errors import ConfigError

AXES = ("data", "fsdp")
BATCH_AXES = AXES  # the batch is split over every device


@dataclass(frozen=True)
class MeshShape:
    data: int = 1
    fsdp: int = 1

    @property
    def devices(self) -> int:
        return self.data * self.fsdp

    def __str__(self) -> str:
        return f"data={self.data},fsdp={self.fsdp}"


def parse_mesh(spec) -> MeshShape | None:
    """`None`, "data=2,fsdp=4" or {"data": 2, "fsdp": 4} (a missing axis is 1)."""
    if spec is None or isinstance(spec, MeshShape):
        return spec
    if isinstance(spec, str):
        sizes = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, value = part.partition("=")
            if not value.strip().isdigit():
                raise ConfigError(f"mesh {spec!r}: expected axis=size pairs such as 'data=2,fsdp=4', got {part!r}")
            sizes[name.strip()] = int(value)
    elif isinstance(spec, dict):
        sizes = dict(spec)
    else:
        raise ConfigError(f"mesh must be 'data=N,fsdp=M' or a mapping {{data: N, fsdp: M}}, got {spec!r}")
    unknown = sorted(set(sizes) - set(AXES))
    if unknown:
        raise ConfigError(f"mesh {spec!r}: unknown axis {unknown}; valid: {list(AXES)}")
    for name, size in sizes.items():
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ConfigError(f"mesh {spec!r}: {name} must be an integer >= 1, got {size!r}")
    return MeshShape(**sizes)


def make_mesh(shape: MeshShape | str | dict | None = None, devices=None) -> Mesh:
    """A mesh over `devices` (default: every device of every process); `shape` None puts
    them all on `data`."""
    devices = list(jax.devices() if devices is None else devices)
    shape = parse_mesh(shape) or MeshShape(data=len(devices))
    if shape.devices != len(devices):
        raise ConfigError(f"mesh {shape} needs {shape.devices} devices, this job has {len(devices)} "
                          f"({devices[0].platform}); set mesh so that data × fsdp = {len(devices)}")
    return Mesh(np.asarray(devices, dtype=object).reshape(shape.data, shape.fsdp), AXES)


def check_batch(mesh_shape: MeshShape, batch_size: int, ascent_size: int | None = None, m: int = 1,
                accumulation_steps: int = 1) -> list[str]:
    """What keeps a batch from splitting evenly over the mesh's devices (empty when it does)."""
    n, problems = mesh_shape.devices, []
    if batch_size % n:
        problems.append(f"batch_size={batch_size} must be a multiple of the mesh's {n} devices ({mesh_shape})")
    if ascent_size is not None and ascent_size % n:
        problems.append(f"the ascent size a={ascent_size} must be a multiple of the mesh's {n} devices "
                        f"({mesh_shape}) so that every device takes a/n ascent examples; set a={max(n, ascent_size // n * n)}")
    if accumulation_steps > 1 and (batch_size // accumulation_steps) % n:
        problems.append(f"micro-batches of batch_size/accumulation_steps={batch_size // accumulation_steps} must be "
                        f"a multiple of the mesh's {n} devices")
    return problems


# --------------------------------------------------------------------------
# where arrays live
# --------------------------------------------------------------------------

def param_spec(shape, fsdp: int) -> PartitionSpec:
    """FSDP: the largest axis that `fsdp` divides is split over `fsdp`; small tensors and
    scalars are replicated."""
    if fsdp <= 1 or not shape:
        return PartitionSpec()
    candidates = [i for i, size in enumerate(shape) if size % fsdp == 0 and size >= fsdp]
    if not candidates:
        return PartitionSpec()
    axis = max(candidates, key=lambda i: (shape[i], -i))
    return PartitionSpec(*[("fsdp" if i == axis else None) for i in range(len(shape))])


def state_shardings(tree, mesh: Mesh):
    """A NamedSharding per leaf of a params/optimizer-state tree (arrays or shape structs)."""
    fsdp = mesh.shape["fsdp"]
    return jax.tree.map(lambda x: NamedSharding(mesh, param_spec(np.shape(x), fsdp)), tree)


def batch_shardings(batch, mesh: Mesh):
    return jax.tree.map(lambda x: NamedSharding(mesh, PartitionSpec(BATCH_AXES)), batch)


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def place(tree, mesh: Mesh):
    """Put a params/optimizer-state tree on the mesh, sharded as `state_shardings` says."""
    return jax.device_put(tree, state_shardings(tree, mesh))


def shard_batch(batch: dict, mesh: Mesh) -> dict:
    """The global batch (every process computes the same one from (seed, step)) as arrays
    split over the mesh; each process transfers only the shards of its own devices."""
    def one(x, sharding):
        x = np.asarray(x)
        return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

    return jax.tree.map(one, batch, batch_shardings(batch, mesh))


def bytes_per_device(tree, fsdp: int) -> int:
    """The bytes one device holds of a tree sharded by `param_spec` (shapes suffice)."""
    total = 0
    for x in jax.tree.leaves(tree):
        shape = list(np.shape(x))
        for i, axis in enumerate(param_spec(shape, fsdp)):
            if axis is not None:
                shape[i] //= fsdp
        total += math.prod(shape) * np.dtype(x.dtype).itemsize
    return total


# --------------------------------------------------------------------------
# multi-host
# --------------------------------------------------------------------------

def _process_count_from_env() -> int:
    for var in ("JAX_NUM_PROCESSES", "SLURM_NTASKS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    hosts = os.environ.get("TPU_WORKER_HOSTNAMES") or os.environ.get("CLOUD_TPU_TASK_HOSTNAMES")
    return len(hosts.split(",")) if hosts else 1


def initialize_distributed() -> bool:
    """Start JAX's multi-process runtime when the environment configures more than one
    process (Slurm with several tasks, a multi-host TPU VM, or JAX_COORDINATOR_ADDRESS with
    JAX_NUM_PROCESSES and JAX_PROCESS_ID); a no-op for one process. Returns whether it ran.
    Must run before anything else touches JAX's devices."""
    if _process_count_from_env() <= 1:
        return False
    if os.environ.get("JAX_COORDINATOR_ADDRESS"):  # explicit: anywhere
        jax.distributed.initialize(os.environ["JAX_COORDINATOR_ADDRESS"], int(os.environ["JAX_NUM_PROCESSES"]),
                                   int(os.environ["JAX_PROCESS_ID"]))
    else:  # JAX finds the coordinator itself under Slurm and on Cloud TPU
        jax.distributed.initialize()
    return True
