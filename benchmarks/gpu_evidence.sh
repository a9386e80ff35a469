#!/usr/bin/env bash
# The evidence study (config/evidence_minilm.yaml, 90 cells) on one GPU, unattended, in at most
# $LIMIT seconds (default 360): several cells share the GPU, each its own process, and the DAG
# resumes where it stopped if the slot ends first (run the same command again).
#
#   bash benchmarks/gpu_evidence.sh                 # from the repository root, sam-bench and jax[cuda] installed
#   JOBS=12 LIMIT=300 bash benchmarks/gpu_evidence.sh
#
# Writes results/ and reports/build/evidence_minilm/ as the CPU run does (the same cells: results
# do not depend on where they ran beyond floating-point reassociation), and timing to
# benchmarks/results/gpu_evidence.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-8}          # cells on the GPU at once: a 22.7M encoder at batch 16 leaves it mostly idle
LIMIT=${LIMIT:-360}
CONFIG=config/evidence_minilm.yaml
export XLA_PYTHON_CLIENT_PREALLOCATE=false               # share the GPU's memory between the cells
export XLA_PYTHON_CLIENT_MEM_FRACTION=$(python -c "print(round(0.9 / $JOBS, 3))")

python -c "import jax; d = jax.devices()[0]; assert d.platform == 'gpu', f'no GPU visible to JAX: {d}'; print(d.device_kind)"
sam-bench validate "$CONFIG"
mkdir -p benchmarks/results
start=$(date +%s)
status=0
timeout "$LIMIT" snakemake --cores "$JOBS" --configfile "$CONFIG" --rerun-incomplete --keep-going || status=$?
end=$(date +%s)
done_cells=$(find results/cells -name result.json -path '*all-minilm-l6-v2-sst2_sentences*' | wc -l)
{
  echo "gpu_evidence: $(python -c 'import jax; print(jax.devices()[0].device_kind)'), $JOBS cells at once"
  echo "wall seconds: $((end - start)); snakemake exit status: $status (124 = stopped at the $LIMIT s limit)"
  echo "cells with results: $done_cells of $(sam-bench validate "$CONFIG" | sed -n 's/.*valid; \([0-9]*\) cells.*/\1/p')"
} | tee benchmarks/results/gpu_evidence.txt
exit "$status"
