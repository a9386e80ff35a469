"""The cell table: every cell of a config in one file the workflow's rules read.

One line per cell, ``<cell_id>\\t<cell spec as JSON>``. The file is named by the hash of its
content, so it is written once per distinct config and two workflows with different configs
on one `results_dir` never overwrite each other's table. Rules pass the table and a cell id
instead of a wildcard constraint listing every id (a regex of 50,000 alternatives made
`snakemake -n` take minutes) or a cell's JSON on the command line.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sam_bench.errors import ConfigError
from sam_bench.io import atomic_write


def table_text(cells: list[dict]) -> str:
    return "".join(f"{c['cell_id']}\t{json.dumps(c, sort_keys=True)}\n" for c in cells)


def write_cell_table(cells: list[dict], directory: str | Path) -> Path:
    """Write the table under ``directory`` (unless this exact table is there) and return its path."""
    text = table_text(cells)
    path = Path(directory) / f"cells-{hashlib.sha256(text.encode()).hexdigest()[:16]}.tsv"
    if not path.exists():
        atomic_write(path, text)
    return path


def cell_batches(cell_ids: list[str], size: int) -> dict[str, list[str]]:
    """Consecutive groups of ``size`` cells, each named by the hash of its ids (so a batch
    whose cells change is a new batch; its finished cells are found and not rerun)."""
    groups = [cell_ids[i:i + size] for i in range(0, len(cell_ids), size)]
    return {f"batch-{hashlib.sha256(' '.join(g).encode()).hexdigest()[:16]}": g for g in groups}


def cell_ids(path: str | Path) -> list[str]:
    with open(path) as table:
        return [line.split("\t", 1)[0] for line in table if line.strip()]


def read_cell(path: str | Path, cell_id: str) -> dict:
    prefix = f"{cell_id}\t"
    with open(path) as table:
        for line in table:
            if line.startswith(prefix):
                return json.loads(line[len(prefix):])
    raise ConfigError(f"cell {cell_id!r} is not in the cell table {path}")
