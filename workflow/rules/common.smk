# Load and validate the config before any job runs; expand it into cells.
import json
import sys
from pathlib import Path

import yaml

from sam_bench.config import expand_cells, pretrain_id, synthetic_root, validate_config
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

wildcard_constraints:
    cell="|".join(map(lambda c: c.replace(".", r"\."), CELLS)),
