"""Clock jumps (issue 13 case 4): lockouts and retention use the wall clock, but a jump is
reported and neither lifts a lockout, restarts a failure count nor lets the automatic purge
delete what it must keep."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from keyring.backends import fail

from kiosk.audit import (
    AuditConfig,
    AuditLog,
    AuditUnavailable,
    RateLimitPolicy,
    SubjectHasher,
    open_kiosk_log,
    writer,
)
from kiosk.settings import Settings
from tests.audit.conftest import FakeClock, Monotonic, make_record

LIMITS = AuditConfig(limits=RateLimitPolicy(max_failures=3, kiosk_max_failures=100))


def lock(audit: AuditLog, clock: FakeClock, number: str = "A1") -> str:
    ref = audit.subject_ref(number)
    for _ in range(3):
        audit.record_attempt(make_record(clock, decision="fail", subject_ref=ref))
    assert audit.active_lockout(ref) is not None
    return ref


def test_a_jump_while_running_does_not_lift_a_lockout(db_path: Path, clock: FakeClock,
                                                      hasher: SubjectHasher) -> None:
    mono = Monotonic(clock)
    with AuditLog.open(db_path, LIMITS, clock=clock, subject_hasher=hasher,
                       monotonic=mono) as audit:
        ref = lock(audit, clock)
        mono.jump(minutes=31)  # someone sets the clock 31 minutes ahead
        assert audit.active_lockout(ref) is not None
        audit.record_attempt(make_record(clock, subject_ref=audit.subject_ref("B2")))
        jump = audit.operator_actions(action="clock")[0]
        assert jump.details["kind"] == "jump" and jump.details["gap_s"] == 31 * 60
        assert audit.clock_report is not None and audit.clock_report.gap_s == 31 * 60
        assert audit.active_lockout(ref) is not None  # still, once recorded
        clock.advance(minutes=29, seconds=59)  # real time passes
        assert audit.active_lockout(ref) is not None
        clock.advance(seconds=2)
        assert audit.active_lockout(ref) is None
        assert audit.verify().ok


def test_time_that_really_passed_lifts_a_lockout(db_path: Path, clock: FakeClock,
                                                 hasher: SubjectHasher) -> None:
    with AuditLog.open(db_path, LIMITS, clock=clock, subject_hasher=hasher,
                       monotonic=Monotonic(clock)) as audit:
        ref = lock(audit, clock)
        clock.advance(minutes=31)
        assert audit.active_lockout(ref) is None
        audit.record_attempt(make_record(clock))
        assert audit.operator_actions(action="clock") == []


def test_a_restart_after_more_than_the_lockout_keeps_it(tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings().replace("audit", max_failures=3)
    with open_kiosk_log(settings, tmp_path / "data", clock=clock,
                        keyring_backend=fail.Keyring()) as audit:
        ref = lock(audit, clock)
    clock.advance(minutes=31)  # the clock is 31 minutes ahead at the next start
    with open_kiosk_log(settings, tmp_path / "data", clock=clock,
                        keyring_backend=fail.Keyring()) as audit:
        report = audit.clock_report
        assert report is not None and (report.kind, report.gap_s) == ("start", 31 * 60)
        assert "31 minutes ahead of the last recorded time" in str(report)
        lockout = audit.active_lockout(ref)
        assert lockout is not None and lockout.until == clock.now + timedelta(minutes=30)


def test_a_manual_purge_keeps_a_lockout_a_restart_kept_in_force(tmp_path: Path,
                                                                 clock: FakeClock) -> None:
    """Before, the purge judged 'in force' by the recorded ``until`` alone: it removed the
    lockout the gap had extended, and the subject was admitted before its end."""
    settings = Settings().replace("audit", max_failures=3)
    with open_kiosk_log(settings, tmp_path / "data", clock=clock,
                        keyring_backend=fail.Keyring()) as audit:
        ref = lock(audit, clock)
    clock.advance(minutes=31)  # off for 31 minutes: the lockout runs on from the restart
    with open_kiosk_log(settings, tmp_path / "data", clock=clock,
                        keyring_backend=fail.Keyring()) as audit:
        clock.advance(minutes=20)
        result = audit.purge(timedelta(minutes=16), actor="staff", reason="tidy")
        assert result.lockouts == 0  # (the failures before it may go: it counts alone)
        assert audit.active_lockout(ref) is not None
        clock.advance(minutes=11)  # 30 minutes of time that really passed since the restart
        assert audit.active_lockout(ref) is None
        assert audit.purge(timedelta(minutes=16), actor="staff", reason="tidy").lockouts == 1


def test_a_failure_count_is_not_restarted_by_a_jump_nor_by_a_purge_after_it(
        db_path: Path, clock: FakeClock, hasher: SubjectHasher) -> None:
    mono = Monotonic(clock)
    with AuditLog.open(db_path, LIMITS, clock=clock, subject_hasher=hasher,
                       monotonic=mono) as audit:
        ref = audit.subject_ref("A1")
        for _ in range(2):
            audit.record_attempt(make_record(clock, decision="fail", subject_ref=ref))
        mono.jump(minutes=16)  # beyond the 15-minute window: counted as no time
        audit.record_attempt(make_record(clock, subject_ref=audit.subject_ref("B2")))
        # The purge keeps what the widened window counts (it once cut at 15 minutes).
        assert audit.purge(timedelta(minutes=1), actor="staff", reason="tidy").attempts == 0
        result = audit.record_attempt(make_record(clock, decision="fail", subject_ref=ref))
        assert [lk.failures for lk in result.lockouts] == [3]


def test_a_start_a_month_ahead_is_reported_and_purges_nothing(tmp_path: Path,
                                                              clock: FakeClock) -> None:
    settings = Settings()
    data = tmp_path / "data"
    with open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring()) as audit:
        for _ in range(3):
            audit.record_attempt(make_record(clock))
    clock.advance(days=31)
    mono = Monotonic(clock)
    with open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring(),
                        monotonic=mono) as audit:
        assert audit.clock_report is not None and audit.clock_report.gap_s == 31 * 86400
        assert len(audit.list_attempts()) == 3
        # Later automatic purges do not count the 31 days either ...
        clock.advance(days=2)
        audit.record_attempt(make_record(clock))
        assert len(audit.list_attempts()) == 4
        assert audit.operator_actions(action="purge") == []
        # ... until 30 days of trusted time have passed since those rows.
        clock.advance(days=29)
        audit._last_auto_purge = None
        audit.record_attempt(make_record(clock))
        assert len(audit.list_attempts()) == 2
        assert audit.verify().ok


def test_a_start_behind_the_last_row_is_reported(tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings()
    data = tmp_path / "data"
    with open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring()) as audit:
        audit.record_attempt(make_record(clock))
    clock.advance(hours=-3)
    with open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring()) as audit:
        report = audit.clock_report
        assert report is not None and report.gap_s == -3 * 3600
        assert "3.0 hours behind" in str(report)
        event = audit.operator_actions(action="clock")[0]
        assert event.details["kind"] == "start" and event.details["gap_s"] == -3 * 3600
    clock.advance(hours=3, minutes=1)
    with open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring()) as audit:
        assert audit.clock_report is None  # an ordinary restart reports nothing


def test_a_write_rolled_back_logs_nothing_it_did_not_do(
        db_path: Path, clock: FakeClock, hasher: SubjectHasher,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """On a full disk the log said 'lockout 1 ... locked until' and 'recorded as a failure
    with reason INTERRUPTED' for writes that were then rolled back."""
    with AuditLog.open(db_path, LIMITS, clock=clock, subject_hasher=hasher) as audit:
        ref = audit.subject_ref("A1")
        for _ in range(2):
            audit.record_attempt(make_record(clock, decision="fail", subject_ref=ref))
        opened = audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                    settings_digest="ab" * 32)

        def full(*_args: object) -> None:
            raise AuditUnavailable("the disk is full (test)", reason="full")

        monkeypatch.setattr(writer, "remember_write_time", full)  # fails just before the commit
        with caplog.at_level(logging.INFO), pytest.raises(AuditUnavailable):
            audit.finish_attempt(opened, make_record(clock, decision="fail", subject_ref=ref))
        with caplog.at_level(logging.INFO), pytest.raises(AuditUnavailable):
            audit.abandon_attempt(opened)
        assert "lockout" not in caplog.text and "never finished" not in caplog.text
        assert audit.active_lockout(ref) is None
        monkeypatch.undo()
        with caplog.at_level(logging.INFO):
            audit.abandon_attempt(opened)
        assert caplog.text.count("lockout 1: subject") == 1
        assert f"attempt {opened} never finished (its session ended with an error)" in (
            caplog.text)
