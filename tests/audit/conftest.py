"""Fixtures for the audit tests: a settable clock, record factories, open logs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.audit import AttemptRecord, AuditConfig, AuditLog, ChainKey, KeyStore, SubjectHasher

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DIGEST = "ab" * 32
SUBJECT_KEY = bytes(range(32))
CHAIN_KEY = bytes(range(32, 64))
DATA = Path(__file__).resolve().parent / "data"


class FakeClock:
    """A clock the test moves by hand; returns aware UTC datetimes."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Monotonic:
    """A monotonic clock that follows a FakeClock: time that really passed while the kiosk
    ran. ``jump`` moves the wall clock alone, as a clock change does."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._offset = timedelta(0)

    def __call__(self) -> float:
        return (self._clock.now - self._offset - T0).total_seconds()

    def jump(self, **delta: float) -> None:
        self._clock.now += timedelta(**delta)
        self._offset += timedelta(**delta)


def make_record(clock: FakeClock, *, decision: str = "pass", subject_ref: str | None = None,
                kiosk_id: str = "kiosk-1", **overrides: Any) -> AttemptRecord:
    """A complete, realistic attempt ending at the clock's time."""
    end = clock.now
    values: dict[str, Any] = {
        "kiosk_id": kiosk_id,
        "started_at": end - timedelta(seconds=9),
        "ended_at": end,
        "subject_ref": subject_ref,
        "decision": decision,
        "app_version": "0.1.0",
        "settings_digest": DIGEST,
        "challenges": [
            {"action": "blink", "prompted_at": end - timedelta(seconds=8),
             "responded_at": end - timedelta(seconds=7, milliseconds=350),
             "outcome": "passed", "confidence": 0.93, "reason": None},
            {"action": "turn_left", "prompted_at": end - timedelta(seconds=6),
             "responded_at": None, "outcome": "timeout", "confidence": None,
             "reason": "NO_RESPONSE"},
        ],
        "signals": {
            "texture": {"score": 0.12, "confidence": 0.8, "reason": "PRINT_SUSPECTED",
                        "details": {"lbp_chi2": 0.031, "levels": 32}},
            "moire": {"score": 0.71, "confidence": 0.55, "reason": "SCREEN_SUSPECTED"},
        },
        "liveness_score": 42.5,
        "match": {"matcher": "local", "similarity": 96.25, "matched": True, "reasons": []},
        "reasons": ["SCREEN_SUSPECTED"] if decision != "pass" else [],
        "cloud_calls": ["CompareFaces"],
    }
    values.update(overrides)
    return AttemptRecord(**values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hasher() -> SubjectHasher:
    return SubjectHasher(SUBJECT_KEY)


@pytest.fixture
def chain_key() -> ChainKey:
    return ChainKey(CHAIN_KEY)


@pytest.fixture
def keyed_log(db_path: Path, clock: FakeClock, hasher: SubjectHasher,
              chain_key: ChainKey) -> Iterator[AuditLog]:
    """A file log keyed as the kiosk keys it."""
    audit = AuditLog.open(db_path, AuditConfig(), clock=clock, subject_hasher=hasher,
                          chain_key=chain_key)
    yield audit
    audit.close()


@pytest.fixture
def legacy_log(tmp_path: Path):
    """Copy a log written by an older kiosk (``tests/audit/data``) into ``tmp_path``; return
    ``(database path, KeyStore)`` as the kiosk would find its keys (no keyring)."""
    import shutil

    from keyring.backends import fail

    def copy(name: str) -> tuple[Path, KeyStore]:
        folder = tmp_path / name
        shutil.copytree(DATA / name, folder)
        (folder / "kiosk-audit.key").chmod(0o600)
        return folder / "kiosk.db", KeyStore(db_folder=folder, keyring_backend=fail.Keyring())
    return copy


@pytest.fixture
def memory_log(clock: FakeClock, hasher: SubjectHasher) -> Iterator[AuditLog]:
    audit = AuditLog.open(":memory:", AuditConfig(), clock=clock, subject_hasher=hasher)
    yield audit
    audit.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "kiosk.db"


@pytest.fixture
def file_log(db_path: Path, clock: FakeClock, hasher: SubjectHasher) -> Iterator[AuditLog]:
    audit = AuditLog.open(db_path, AuditConfig(), clock=clock, subject_hasher=hasher)
    yield audit
    audit.close()


KILLED_CHILD = r"""
import os, signal, sys
from datetime import UTC, datetime
from kiosk.audit import AuditConfig, AuditLog, ChainKey, RateLimitPolicy, SubjectHasher
path, number, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = AuditConfig(limits=RateLimitPolicy(kiosk_max_failures=int(sys.argv[4])))
audit = AuditLog.open(path, config, subject_hasher=SubjectHasher(bytes(range(32))),
                      chain_key=ChainKey(bytes(range(32, 64))))
ref = audit.subject_ref(number) if number else None
for _ in range(count):
    print(audit.open_attempt(started_at=datetime.now(UTC), subject_ref=ref, app_version="0.1.0",
                             settings_digest="ab" * 32), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_child(path: Path, number: str | None, count: int = 1, kiosk_limit: int = 15
                 ) -> list[int]:
    """Run a process that opens ``count`` attempts (real clock, the test keys) and is then
    killed with SIGKILL; return the attempt ids it opened."""
    import os
    import signal
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", KILLED_CHILD, str(path), number or "",
                           str(count), str(kiosk_limit)], cwd=repo, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(repo)}, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    return [int(line) for line in done.stdout.split()]
