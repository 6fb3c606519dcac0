"""The audit log: round trips, begin/finish, schema, reopening, refusing foreign files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.audit import (
    AuditConfig,
    AuditError,
    AuditLog,
    AuditUnavailable,
    ChainKey,
    KeyUnavailable,
    RecordNotFound,
    SubjectHasher,
)
from kiosk.audit.owner import Owner, owner_gone
from kiosk.audit.schema import APPLICATION_ID, SCHEMA_VERSION
from kiosk.reasons import Reason
from tests.audit.conftest import DIGEST, FakeClock, killed_child, make_record


@pytest.mark.parametrize("where", ["memory", "file"])
def test_record_round_trip(where: str, tmp_path: Path, clock: FakeClock,
                           hasher: SubjectHasher) -> None:
    path = ":memory:" if where == "memory" else tmp_path / "k.db"
    with AuditLog.open(path, clock=clock, subject_hasher=hasher) as audit:
        ref = audit.subject_ref("AB-123")
        record = make_record(clock, decision="review", subject_ref=ref)
        result = audit.record_attempt(record)
        stored = audit.get_attempt(result.attempt_id)
    assert stored.record == record
    assert (stored.status, stored.seq, stored.row_hash) == ("complete", 1, result.row_hash)
    assert stored.recorded_at == clock.now
    assert stored.subject_ref == ref
    assert not stored.has_frame


def test_the_number_itself_is_never_stored(tmp_path: Path, clock: FakeClock,
                                           hasher: SubjectHasher) -> None:
    path = tmp_path / "k.db"
    number = "X9876543210"
    with AuditLog.open(path, clock=clock, subject_hasher=hasher) as audit:
        audit.record_attempt(make_record(clock, subject_ref=audit.subject_ref(number)))
    for file in tmp_path.iterdir():
        assert number.encode() not in file.read_bytes()


def test_open_then_finish(memory_log: AuditLog, clock: FakeClock) -> None:
    start = clock.now
    attempt_id = memory_log.open_attempt(started_at=start, subject_ref=None,
                                         app_version="0.1.0", settings_digest=DIGEST)
    opened = memory_log.get_attempt(attempt_id)
    assert (opened.status, opened.decision, opened.seq) == ("incomplete", "incomplete", None)
    assert memory_log.verify().incomplete == 1
    clock.advance(seconds=10)
    result = memory_log.finish_attempt(attempt_id, make_record(clock, started_at=start))
    assert result.attempt_id == attempt_id and result.seq == 1
    assert memory_log.get_attempt(attempt_id).decision == "pass"
    with pytest.raises(AuditError, match="already closed"):
        memory_log.finish_attempt(attempt_id, make_record(clock))
    with pytest.raises(RecordNotFound):
        memory_log.finish_attempt(999, make_record(clock))
    report = memory_log.verify()
    assert (report.ok, report.rows, report.incomplete) == (True, 1, 0)


def test_finish_keeps_the_subject_it_was_opened_with(memory_log: AuditLog,
                                                      clock: FakeClock) -> None:
    ref = memory_log.subject_ref("A1")
    attempt_id = memory_log.open_attempt(started_at=clock.now, subject_ref=ref,
                                         app_version="0.1.0", settings_digest=DIGEST)
    with pytest.raises(ValueError, match="subject_ref differs"):
        memory_log.finish_attempt(attempt_id, make_record(clock, subject_ref=None))
    assert memory_log.get_attempt(attempt_id).status == "incomplete"


def test_open_attempts_of_live_sessions_are_never_closed(memory_log: AuditLog,
                                                          clock: FakeClock) -> None:
    # Two sessions of one kiosk at once (here one process): neither closes the other's row.
    ref = memory_log.subject_ref("A1")
    first = memory_log.open_attempt(started_at=clock.now, subject_ref=ref,
                                    app_version="0.1.0", settings_digest=DIGEST)
    clock.advance(seconds=30)
    second = memory_log.open_attempt(started_at=clock.now, subject_ref=None,
                                     app_version="0.1.0", settings_digest=DIGEST)
    memory_log.record_attempt(make_record(clock))
    assert memory_log.recover_interrupted() == []
    assert [memory_log.get_attempt(i).status for i in (first, second)] == ["incomplete"] * 2
    # ... unless a session outlives any real one (config.stale_after, 10 minutes).
    clock.advance(minutes=10, seconds=1)
    closed = memory_log.recover_interrupted()
    assert [r.attempt_id for r in closed] == [first, second]
    record = memory_log.get_attempt(first).record
    assert record is not None and record.reasons == (Reason.INTERRUPTED,)
    assert record.subject_ref == ref and record.decision == "fail"


def test_a_killed_sessions_attempt_is_closed_as_an_interrupted_failure(
        db_path: Path, clock: FakeClock, hasher: SubjectHasher, chain_key: ChainKey) -> None:
    AuditLog.open(db_path, chain_key=chain_key, subject_hasher=hasher).close()
    killed = killed_child(db_path, "A1", count=2)
    with AuditLog.open(db_path, clock=clock, subject_hasher=hasher,
                       chain_key=chain_key) as audit:
        ref = audit.subject_ref("A1")
        assert [audit.get_attempt(i).status for i in killed] == ["incomplete"] * 2
        closed = audit.recover_interrupted()
        assert [r.attempt_id for r in closed] == killed
        for attempt_id in killed:
            stored = audit.get_attempt(attempt_id)
            assert stored.record is not None
            assert (stored.decision, stored.subject_ref, stored.record.reasons) == \
                ("fail", ref, (Reason.INTERRUPTED,))
        assert audit.recover_interrupted() == []
        assert audit.verify().ok


def test_owner_is_gone_after_a_kill_a_reboot_or_a_reused_pid() -> None:
    here = Owner.current()
    alive = (here.host, here.boot, here.pid, here.start)
    assert not owner_gone(*alive, here)
    assert owner_gone(here.host, "another-boot-id", here.pid, here.start, here)  # rebooted
    assert owner_gone(here.host, here.boot, here.pid, "1", here)  # the pid was reused
    assert owner_gone(here.host, here.boot, None, None, here)  # written before owners
    assert not owner_gone("another-host", "x", 1, "1", here)  # cannot tell: age decides
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert owner_gone(here.host, here.boot, child.pid, "1", here)


def test_record_must_belong_to_this_kiosk(memory_log: AuditLog, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="not this log's kiosk"):
        memory_log.record_attempt(make_record(clock, kiosk_id="kiosk-2"))


def test_list_filters_and_order(memory_log: AuditLog, clock: FakeClock) -> None:
    for decision in ["pass", "fail", "review", "pass", "fail"]:
        memory_log.record_attempt(make_record(clock, decision=decision))
        clock.advance(hours=10)
    everything = memory_log.list_attempts()
    assert [a.id for a in everything] == [5, 4, 3, 2, 1]
    assert [a.id for a in memory_log.list_attempts(decision="fail")] == [5, 2]
    since = clock.now - timedelta(hours=31)
    assert [a.id for a in memory_log.list_attempts(since=since)] == [5, 4, 3]
    assert [a.id for a in memory_log.list_attempts(limit=2)] == [5, 4]
    assert [a.id for a in memory_log.iter_attempts(batch=2)] == [1, 2, 3, 4, 5]


def test_stats_by_decision_reason_and_day(memory_log: AuditLog, clock: FakeClock) -> None:
    for decision in ["pass", "fail", "fail", "review"]:
        memory_log.record_attempt(make_record(clock, decision=decision))
        clock.advance(hours=8)
    stats = memory_log.stats()
    assert stats.total == 4
    assert stats.by_decision == {"pass": 1, "fail": 2, "review": 1}
    assert stats.by_reason == {"SCREEN_SUSPECTED": 3}
    assert stats.by_day == {"2026-05-01": {"pass": 1, "fail": 1, "review": 0},
                            "2026-05-02": {"pass": 0, "fail": 1, "review": 1}}


def test_file_is_private_wal_and_versioned(file_log: AuditLog, db_path: Path) -> None:
    assert db_path.stat().st_mode & 0o077 == 0
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        raw.close()
    assert {"attempts", "lockouts", "operator_actions", "frames", "chain_state"} <= tables
    assert file_log.schema_version == SCHEMA_VERSION


def test_reopen_keeps_everything(db_path: Path, clock: FakeClock, hasher: SubjectHasher) -> None:
    with AuditLog.open(db_path, clock=clock, subject_hasher=hasher) as audit:
        for _ in range(3):
            audit.record_attempt(make_record(clock))
    with AuditLog.open(db_path, clock=clock, subject_hasher=hasher, read_only=True) as audit:
        assert len(audit.list_attempts()) == 3
        assert audit.verify().ok


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE customers (name TEXT)")
    raw.commit()
    raw.close()
    with pytest.raises(AuditUnavailable, match="not a kiosk audit database") as info:
        AuditLog.open(path)
    assert info.value.reason == "not_audit_db"


def test_newer_schema_is_refused(db_path: Path) -> None:
    AuditLog.open(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(AuditUnavailable, match="newer kiosk") as info:
        AuditLog.open(db_path)
    assert info.value.reason == "newer_schema"


def test_a_different_subject_key_is_refused(db_path: Path, hasher: SubjectHasher) -> None:
    AuditLog.open(db_path, subject_hasher=hasher).close()
    with pytest.raises(KeyUnavailable, match="not the key this audit log was written with") as info:
        AuditLog.open(db_path, subject_hasher=SubjectHasher(bytes(32)))
    assert info.value.reason == "key_mismatch"
    AuditLog.open(db_path, subject_hasher=hasher).close()


def test_missing_database_is_not_created_when_asked(tmp_path: Path) -> None:
    with pytest.raises(AuditUnavailable, match="no audit database") as info:
        AuditLog.open(tmp_path / "none.db", create=False)
    assert info.value.reason == "missing"
    assert not (tmp_path / "none.db").exists()


def test_closed_log_raises(memory_log: AuditLog, clock: FakeClock) -> None:
    memory_log.close()
    with pytest.raises(AuditError, match="closed"):
        memory_log.record_attempt(make_record(clock))
    memory_log.close()


def test_clock_must_be_aware(tmp_path: Path) -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="clock"):
        AuditLog.open(tmp_path / "k.db", clock=lambda: datetime(2026, 1, 1))


def test_settings_configure_the_log() -> None:
    from kiosk.settings import Settings

    settings = Settings().replace("audit", max_failures=3, failure_window_min=10.0,
                                  lockout_min=60.0, retention_days=7)
    settings = settings.replace("kiosk", kiosk_id="lobby")
    config = AuditConfig.from_settings(settings, busy_timeout_s=1.0)
    assert (config.kiosk_id, config.retention_days, config.busy_timeout_s) == ("lobby", 7, 1.0)
    assert config.limits.max_failures == 3
    assert config.limits.window.total_seconds() == 600
    assert config.limits.lockout.total_seconds() == 3600


def test_an_attempt_whose_session_failed_is_abandoned_as_interrupted(memory_log: AuditLog,
                                                                     clock: FakeClock) -> None:
    ref = memory_log.subject_ref("A1")
    attempt_id = memory_log.open_attempt(started_at=clock.now, subject_ref=ref,
                                         app_version="0.1.0", settings_digest=DIGEST)
    result = memory_log.abandon_attempt(attempt_id)
    stored = memory_log.get_attempt(result.attempt_id)
    assert stored.record is not None
    assert (stored.decision, stored.record.reasons) == ("fail", (Reason.INTERRUPTED,))
    with pytest.raises(RecordNotFound, match="no open attempt"):
        memory_log.abandon_attempt(attempt_id)
