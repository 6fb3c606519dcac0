"""Shared fixtures: the developer data set beside the project, skipped when absent."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"

#: Modules that take one worker for minutes (the pair evaluation over every recording): run
#: first, so the other workers share the rest of the suite meanwhile instead of waiting at the
#: end for the one worker that drew it last (``--dist loadfile`` hands out files in order).
#: Putting the next five longest first too was tried: the run took 27 s longer.
LONGEST_FIRST = ("tests/lab/test_pairs.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = Path(str(item.path)).resolve().relative_to(REPO).as_posix()
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)  # stable: every other test keeps its place


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


@pytest.fixture(scope="session")
def track_clip(shared_data: Path):
    """Track a clip of the data set once per test session; returns its FaceObservations.

    Tracking is the slow part of many tests (about 12 ms a frame), so every test that needs
    the observations of a clip shares one pass over it. ``step`` > 1 tracks every step-th
    frame only (a slower camera), or takes them from a whole pass already made.
    """
    from kiosk.analysis.face import FaceTracker
    from kiosk.camera import open_source

    cache: dict[tuple[str, int], list] = {}

    def track(relpath: str, step: int = 1) -> list:
        if (relpath, 1) in cache:
            return cache[relpath, 1][::step]
        if (relpath, step) not in cache:
            with open_source(str(shared_data / relpath), paced=False) as source, \
                    FaceTracker() as tracker:
                cache[relpath, step] = [tracker.observe(frame) for frame in source
                                        if frame.seq % step == 0]
        return cache[relpath, step]

    return track


@pytest.fixture
def settings(tmp_path: Path):
    """Default settings with the audit log and its key file in ``tmp_path``, and no light
    challenge: the stand-in camera cannot see a screen (tests/ui/test_light_session.py runs
    the light step on purpose)."""
    from kiosk.audit import create_key_file
    from kiosk.settings import Settings

    key = tmp_path / "audit.key"
    create_key_file(key)
    return (Settings().replace("audit", db_path=str(tmp_path / "kiosk.db"), key_file=str(key))
            .replace("liveness", light_challenge=False))
