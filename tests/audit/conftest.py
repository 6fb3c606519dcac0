"""Fixtures for the audit tests: a settable clock, record factories, open logs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.audit import AttemptRecord, AuditConfig, AuditLog, SubjectHasher

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DIGEST = "ab" * 32
SUBJECT_KEY = bytes(range(32))


class FakeClock:
    """A clock the test moves by hand; returns aware UTC datetimes."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


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
