"""Process set-up that must happen before JAX starts its CPU backend.

XLA sizes its CPU thread pool from the process's CPU affinity when the backend is
created and ignores thread-count flags. To give a job exactly the threads Snakemake
granted it, we narrow the affinity to `threads` CPUs, start the backend, and then widen
the affinity again: the pool keeps its size, and the OS may still place those threads
on any core, so concurrent jobs do not fight over the same CPU.
"""
from __future__ import annotations

import os
from pathlib import Path


def limit_cpu_threads(threads: int | None) -> int:
    """Start JAX's CPU backend with `threads` worker threads; returns the count used."""
    available = sorted(os.sched_getaffinity(0))
    if not threads or threads >= len(available):
        return len(available)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.sched_setaffinity(0, available[:threads])
    import jax

    jax.devices()  # creates the backend and its thread pool under the narrowed affinity
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), available)
        except OSError:  # a thread that exited meanwhile
            pass
    return threads


def enable_compilation_cache(directory: str | Path | None) -> None:
    """Share compiled XLA programs between cells of identical shapes (saves ~10 s per job)."""
    if not directory:
        return
    import jax

    Path(directory).mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
