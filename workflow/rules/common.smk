# Load and validate the config before any job runs; expand it into cells.
import json
import sys
from pathlib import Path

import yaml

from sam_bench.config import expand_cells, pretrain_id, synthetic_root, uses_pretraining, validate_config
from sam_bench.errors import ConfigError

if not config:  # no --configfile: the default reproduction
    config.update(yaml.safe_load(Path("config/default.yaml").read_text()))
try:
    CONFIG = validate_config(dict(config))
except ConfigError as err:
    sys.exit(f"sam-bench: {err}")

RESULTS = CONFIG["results_dir"]
SYNTHETIC_ROOT = synthetic_root(CONFIG)
PRETRAIN_ID = pretrain_id(CONFIG)
CELLS = {cell["cell_id"]: cell for cell in expand_cells(CONFIG)}
SUMMARY = f"{RESULTS}/summary/{CONFIG['experiment']}"
REPORT = f"{CONFIG['report_dir']}/report.pdf"
JAX_CACHE = f"{RESULTS}/.jax_cache"
MESH = CONFIG.get("mesh")
MESH_ARG = f" --mesh data={MESH.get('data', 1)},fsdp={MESH.get('fsdp', 1)}" if MESH else ""
# Snakemake resources of a fine-tuning job (the executor plugins turn them into requests)
_CLUSTER = dict(CONFIG.get("cluster", {}))
_GPUS = _CLUSTER.pop("gpus", MESH.get("data", 1) * MESH.get("fsdp", 1) if MESH else 0)
CELL_RESOURCES = {**_CLUSTER, **({"gpu": _GPUS} if _GPUS else {})}

wildcard_constraints:
    cell="|".join(map(lambda c: c.replace(".", r"\."), CELLS)),


def cell_inputs(cell):
    """What a fine-tuning job waits for: the pretraining output if it uses it, and the
    synthetic suite if it reads it."""
    inputs = []
    if uses_pretraining(cell, CONFIG):
        inputs.append(f"{RESULTS}/pretrain/{cell['pretrain_id']}/pretrain.json")
    if cell["source"] == "synthetic":
        inputs.append(f"{SYNTHETIC_ROOT}/suite.json")
    return inputs
