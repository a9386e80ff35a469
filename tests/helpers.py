"""Paths and markers shared by test modules (import as ``from helpers import ...``)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"
T5_VOCAB = SHARED / "vocab" / "t5" / "spiece.model"

needs_real_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"real benchmark files not present at {SHARED_DATA} (the ../shared checkout is absent)",
)


def stand_in_local_data(config: dict, tmp_path: Path) -> None:
    """Point the grids of a paper config that read official files from a folder the user fills
    (``data: {source: local, root: data/official}``) at fixture files in that layout."""
    from sam_bench.data.fixtures import write_official_files

    for grid in config["grids"]:
        data = grid.get("data", {})
        if data.get("source") == "local" and not (REPO / data["root"]).exists():
            if not (tmp_path / "official").exists():
                write_official_files(tmp_path / "official")
            data["root"] = str(tmp_path / "official")
