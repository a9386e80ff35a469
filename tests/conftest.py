"""Fixtures shared by several test modules."""

import pytest

from sam_bench.data.fixtures import write_official_files, write_release_archives
from sam_bench.data.sources import TfdsSource


@pytest.fixture(scope="session")
def official(tmp_path_factory):
    """A data root in the official layout (generated examples in every release format), and the
    same files packed as tfds downloads them: (root, archives, TfdsSource over the archives)."""
    base = tmp_path_factory.mktemp("official")
    root = write_official_files(base / "root", seed=3)
    archives = write_release_archives(root, base / "archives")
    return root, archives, TfdsSource(base / "tfds", archives=archives)
