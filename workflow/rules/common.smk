# Validate the config before any job runs (schema, then the registries) and expand it into cells.
# Every rule logs the stderr of its command (progress, warnings, errors) to a file in the job's
# folder and still shows it: `2> >(tee {log:q} >&2)`.
import json
import sys

from sam_bench.cell_table import cell_batches, write_cell_table
from sam_bench.config import DEFAULTS, expand_cells, pretrain_id, synthetic_root, uses_pretraining, validate_config
from sam_bench.errors import ConfigError

if workflow.overwrite_configfiles:
    # Snakemake lays a --configfile over the Snakefile's `configfile:`; a sam-bench config is a whole
    # experiment, so the command line's replaces it (as --replace-workflow-config would): a key it
    # leaves out takes the schema's default, never the default reproduction's value
    config.clear()
    config.update(workflow.config_settings.overwrite_config)
try:
    CONFIG = validate_config(dict(config))
except ConfigError as err:
    sys.exit(f"sam-bench: {err}")

RESULTS = CONFIG["results_dir"]
SYNTHETIC_ROOT = synthetic_root(CONFIG)
PRETRAIN_ID = pretrain_id(CONFIG)
CELLS = {cell["cell_id"]: cell for cell in expand_cells(CONFIG)}
from sam_bench.report.targets import TARGETS, warn_unlike  # noqa: E402  (methods of one target: like for like)
warn_unlike(CONFIG["experiment"], CELLS.values(), TARGETS)
# the rules read the cells from this file (named by its content); see sam_bench/cell_table.py
CELL_TABLE = str(write_cell_table(list(CELLS.values()), f"{RESULTS}/cell_tables"))
# cells_per_job > 1: one job runs a batch of cells in turn (Snakemake spends milliseconds per job
# planning, so 50,000 one-cell jobs take minutes to plan; 5,000 ten-cell jobs, seconds)
BATCHES = cell_batches(list(CELLS), CONFIG["cells_per_job"]) if CONFIG["cells_per_job"] > 1 else {}
DONE_FILES = [f"{RESULTS}/batches/{b}.json" for b in sorted(BATCHES)] if BATCHES else \
    [f"{RESULTS}/cells/{c}/result.json" for c in sorted(CELLS)]
SUMMARY = f"{RESULTS}/summary/{CONFIG['experiment']}"
REPORT_DIR = CONFIG["report_dir"]
REPORT = f"{REPORT_DIR}/report.pdf"
JAX_CACHE = f"{RESULTS}/.jax_cache"
MESH = CONFIG.get("mesh")
MESH_ARG = f" --mesh data={MESH.get('data', 1)},fsdp={MESH.get('fsdp', 1)}" if MESH else ""
# Snakemake resources of a fine-tuning job (the executor plugins turn them into requests)
_CLUSTER = dict(CONFIG.get("cluster", {}))
_GPUS = _CLUSTER.pop("gpus", MESH.get("data", 1) * MESH.get("fsdp", 1) if MESH else 0)
CELL_RESOURCES = {**_CLUSTER, **({"gpu": _GPUS} if _GPUS else {})}

wildcard_constraints:
    cell=r"[^/]+",  # a cell id is one folder name; which ids exist is the cell table's business
    batch=r"batch-[0-9a-f]+",


def cell_inputs(cell):
    """What a fine-tuning job waits for: the pretraining output if it uses it (which itself
    waits for the synthetic suite), else the synthetic suite if it reads it. One file, not
    both: each input costs Snakemake a producer lookup per job, which adds up at 50k cells."""
    if uses_pretraining(cell, CONFIG):
        return [f"{RESULTS}/pretrain/{cell['pretrain_id']}/pretrain.json"]
    return [f"{SYNTHETIC_ROOT}/suite.json"] if cell["source"] == "synthetic" else []
