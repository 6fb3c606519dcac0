"""Shared fixtures: the developer data set beside the project, skipped when absent."""

from __future__ import annotations

import copyreg
import csv
import fcntl
import hashlib
import pickle
from pathlib import Path
from types import MappingProxyType

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


def _proxy(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


# A face's blendshapes are a read-only mapping, which pickle cannot rebuild by itself.
copyreg.pickle(MappingProxyType, lambda proxy: (_proxy, (dict(proxy),)))


@pytest.fixture(scope="session")
def track_clip(shared_data: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str):
    """Track a clip of the data set once per test run; returns its FaceObservations.

    Tracking is the slow part of many tests (about 12 ms a frame), so every test that needs
    the observations of a clip shares one pass over it: within a process, and across the
    xdist workers of one run through a folder they share (under a lock, so the worker that
    comes second waits for the first pass instead of making its own: a quarter of the
    tracking time these tests took was such repeats). ``step`` > 1 tracks every step-th
    frame only (a slower camera), or takes them from a whole pass already made.
    """
    from kiosk.analysis.face import FaceTracker
    from kiosk.camera import open_source

    cache: dict[tuple[str, int], list] = {}
    # Each run's workers share the parent of their base folders; a run without workers has no
    # such folder of its own (the parent holds every run's), so it keeps its passes in memory.
    shared = None if worker_id == "master" else tmp_path_factory.getbasetemp().parent

    def tracked(relpath: str, step: int) -> list:
        with open_source(str(shared_data / relpath), paced=False) as source, \
                FaceTracker() as tracker:
            return [tracker.observe(frame) for frame in source if frame.seq % step == 0]

    def shared_pass(relpath: str, step: int) -> list:
        if shared is None:
            return tracked(relpath, step)
        name = hashlib.sha256(f"{relpath}@{step}".encode()).hexdigest()[:16]
        path = shared / f"tracked-{name}.pickle"
        with (shared / f"tracked-{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if path.exists():
                return pickle.loads(path.read_bytes())
            observations = tracked(relpath, step)
            path.write_bytes(pickle.dumps(observations))
            return observations

    def track(relpath: str, step: int = 1) -> list:
        if (relpath, 1) in cache:
            return cache[relpath, 1][::step]
        if (relpath, step) not in cache:
            cache[relpath, step] = shared_pass(relpath, step)
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
