"""Shared fixtures: the developer data set beside the project, skipped when absent."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real third-party face media (see its PROVENANCE.md)."""
    if not (SHARED_DATA / "manifest.csv").is_file():
        pytest.skip(f"developer data set not found at {SHARED_DATA} (it sits beside the "
                    "project in ../shared/data; a fresh clone without it skips these tests)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def manifest_rows(shared_data: Path) -> list[dict[str, str]]:
    """Rows of ``../shared/data/manifest.csv`` as dictionaries."""
    with (shared_data / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
