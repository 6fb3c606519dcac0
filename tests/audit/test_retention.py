"""Retention: purges keep the chain verifiable and never shorten a rate limit."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.audit import AuditConfig, AuditLog, FrameCipher, RateLimitPolicy, SubjectHasher, writer
from tests.audit.conftest import DIGEST, FakeClock, Monotonic, make_record

JPEG = b"\xff\xd8\xff\xe0" + b"frame-pixels" * 50


def test_purge_removes_old_rows_and_the_chain_still_verifies(memory_log: AuditLog,
                                                             clock: FakeClock) -> None:
    for _day in range(10):
        for decision in ["pass", "fail"]:
            memory_log.record_attempt(make_record(clock, decision=decision))
            clock.advance(hours=1)
        clock.advance(hours=22)
    result = memory_log.purge(timedelta(days=4))
    assert (result.attempts, result.lockouts, result.operator_actions) == (12, 0, 0)
    assert result.anchor_seq == 12 and result.action_id is not None
    assert [a.id for a in memory_log.iter_attempts()] == list(range(13, 21))
    report = memory_log.verify()
    assert (report.ok, report.anchor_seq, report.rows, report.head_seq) == (True, 12, 9, 21)
    purge = memory_log.operator_actions()[0]
    assert (purge.action, purge.actor, purge.details["anchor_seq"]) == ("purge", "operator", 12)
    # A second purge moves the anchor again, removing the first purge's record too.
    clock.advance(days=3)
    second = memory_log.purge(timedelta(days=2))
    assert second.operator_actions == 1 and memory_log.verify().ok


def test_nothing_to_purge_records_nothing(memory_log: AuditLog, clock: FakeClock) -> None:
    memory_log.record_attempt(make_record(clock))
    result = memory_log.purge(timedelta(days=30))
    assert (result.removed, result.action_id, result.anchor_seq) == (0, None, 0)
    assert memory_log.operator_actions() == []
    with pytest.raises(ValueError, match="positive"):
        memory_log.purge(timedelta(0))


def test_purge_keeps_failures_in_the_window_and_lockouts_in_force(
        clock: FakeClock, hasher: SubjectHasher) -> None:
    config = AuditConfig(limits=RateLimitPolicy(max_failures=3, lockout=timedelta(hours=2),
                                                kiosk_max_failures=100))
    with AuditLog.open(":memory:", config, clock=clock, subject_hasher=hasher) as audit:
        locked, counting = audit.subject_ref("L1"), audit.subject_ref("C1")
        for _ in range(3):
            audit.record_attempt(make_record(clock, decision="fail", subject_ref=locked))
        clock.advance(minutes=40)
        for _ in range(2):
            audit.record_attempt(make_record(clock, decision="fail", subject_ref=counting))
        clock.advance(minutes=5)
        result = audit.purge(timedelta(minutes=1))
        # The lockout (seq 4) is in force, so only the three failures before it may go;
        # the window (15 min) protects the two recent failures in any case.
        assert result.cutoff == clock.now - timedelta(minutes=15)
        assert (result.attempts, result.lockouts, result.anchor_seq) == (3, 0, 3)
        assert audit.active_lockout(locked) is not None
        assert len(audit.record_attempt(make_record(clock, decision="fail",
                                                    subject_ref=counting)).lockouts) == 1
        assert audit.verify().ok


def test_purge_removes_frames_and_stale_unfinished_attempts(tmp_path: Path,
                                                            clock: FakeClock) -> None:
    cipher = FrameCipher(bytes(range(32)))
    config = AuditConfig(store_best_frame=True)
    path = tmp_path / "k.db"
    with AuditLog.open(path, config, clock=clock, frame_cipher=cipher) as audit:
        audit.record_attempt(make_record(clock), best_frame=JPEG)
        audit.open_attempt(started_at=clock.now, subject_ref=None, app_version="0.1.0",
                            settings_digest=DIGEST)
        clock.advance(days=40)
        result = audit.purge(timedelta(days=30))
        assert (result.attempts, result.frames, result.incomplete) == (1, 1, 1)
        assert audit.verify().ok and audit.verify().incomplete == 0
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT count(*) FROM frames").fetchone()[0] == 0
    finally:
        raw.close()


def test_automatic_purge_follows_retention_days(db_path: Path, clock: FakeClock) -> None:
    # The kiosk runs through the 31 days: its monotonic clock moved with the wall clock.
    mono = Monotonic(clock)
    config = AuditConfig(retention_days=30)
    with AuditLog.open(db_path, config, clock=clock, auto_purge=True, monotonic=mono) as audit:
        audit.record_attempt(make_record(clock))
        clock.advance(days=31)
        audit.record_attempt(make_record(clock))
        assert [a.id for a in audit.list_attempts()] == [2]
        action = audit.operator_actions()[0]
        assert (action.action, action.actor, action.reason) == (
            "purge", "retention", "audit.retention_days = 30")
        # Runs again after writes once the interval has passed, not before.
        clock.advance(days=31)
        audit.record_attempt(make_record(clock))
        assert [a.id for a in audit.list_attempts()] == [3]
        assert audit.verify().ok
    clock.advance(days=400)
    with AuditLog.open(db_path, AuditConfig(retention_days=0), clock=clock,
                       auto_purge=True) as audit:
        audit.record_attempt(make_record(clock))
        assert len(audit.list_attempts()) == 2


def test_purge_anchor_tampering_is_detected(clock: FakeClock,
                                            db_path: Path, hasher: SubjectHasher) -> None:
    with AuditLog.open(db_path, clock=clock, subject_hasher=hasher) as audit:
        for _ in range(4):
            audit.record_attempt(make_record(clock))
            clock.advance(days=1)
        audit.purge(timedelta(days=2))
        assert audit.verify().ok
    raw = sqlite3.connect(db_path)
    try:
        raw.execute("DROP TRIGGER attempts_purge_only")
        raw.execute("DROP TRIGGER chain_state_forward")
        anchor = raw.execute("SELECT prev_hash FROM attempts ORDER BY seq LIMIT 1 OFFSET 1"
                             ).fetchone()[0]
        raw.execute("DELETE FROM attempts WHERE seq = 3")
        raw.execute("UPDATE chain_state SET anchor_seq = 3, anchor_hash = ?", [anchor])
        raw.commit()
    finally:
        raw.close()
    with AuditLog.open(db_path, read_only=True) as audit:
        report = audit.verify()
    assert not report.ok and report.first_break is not None
    assert "differs from the one the last recorded purge set" in report.first_break.problem


def test_a_large_purge_lets_a_kiosk_record_between_its_steps(
        db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """One transaction held the write lock for the whole purge (12-16 s for 10,000 best
    frames): a kiosk finishing a check meanwhile waited busy_timeout_s, lost the person's
    decision and went out of service (concurrency audit, F1). Each step now holds it about
    PURGE_STEP_S, with a pause between steps for a waiting writer."""
    with AuditLog.open(db_path, clock=clock) as audit:
        for _ in range(250):
            audit.record_attempt(make_record(clock))
    clock.advance(days=40)

    # Deleting costs time in proportion to the rows, as secure_delete's page writes do.
    original = writer.purge_rows

    def slow(db, signer, **kwargs):
        result = original(db, signer, **kwargs)
        time.sleep(0.01 * (result.attempts + result.operator_actions))
        return result

    monkeypatch.setattr(writer, "PURGE_STEP_S", 0.2, raising=False)
    monkeypatch.setattr(writer, "purge_rows", slow)
    recorded: list = []
    kiosk = AuditLog.open(db_path, AuditConfig(busy_timeout_s=1.0), clock=clock)
    with AuditLog.open(db_path, clock=clock) as staff:
        purging = threading.Thread(target=lambda: recorded.append(
            staff.purge(timedelta(days=30))))
        purging.start()
        time.sleep(0.3)  # well inside the purge (250 rows: 2.5 s of deleting)
        try:
            # A check finishing now waits at most a step, never the whole purge.
            kiosk.record_attempt(make_record(clock))
        finally:
            purging.join()
            kiosk.close()
        (result,) = recorded
        assert result.attempts == 250
        purges = staff.operator_actions(action="purge", limit=None)
        assert len(purges) == result.steps > 3  # each step says how far it went
        assert result.action_id == purges[0].id
        assert staff.verify().ok
        assert [a.id for a in staff.list_attempts()] == [251]


def test_a_failed_automatic_purge_waits_before_it_tries_again(
        db_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    """The idle loop asks every 0.1 s: on a log another program held, each ask waited the
    busy time-out and warned again (20 warnings in 2 s)."""
    config = AuditConfig(retention_days=3, busy_timeout_s=0.05)
    with AuditLog.open(db_path, config, clock=clock, auto_purge=True,
                       monotonic=Monotonic(clock)) as audit:
        audit.record_attempt(make_record(clock))
        clock.advance(days=4)
        blocker = sqlite3.connect(db_path)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            for _ in range(10):
                audit.purge_if_due()
        finally:
            blocker.rollback()
            blocker.close()
        assert caplog.text.count("automatic purge failed, will retry in 5 min") == 1
        audit.purge_if_due()
        assert len(audit.list_attempts()) == 1  # not before its time
        clock.advance(minutes=5)
        audit.purge_if_due()
        assert audit.list_attempts() == []
