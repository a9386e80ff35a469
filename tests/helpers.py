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
