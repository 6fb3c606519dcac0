"""A clock that went wrong and was put right (a dead clock battery until NTP answers, a year
typed by mistake): times recorded under the wrong clock are read on the right one, so the
lockouts, failure counts, lists and purges made meanwhile keep their real length."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from keyring.backends import fail

from kiosk.audit import AuditConfig, AuditLog, RateLimitPolicy, SubjectHasher, open_kiosk_log
from kiosk.audit import clock as audit_clock
from kiosk.settings import Settings
from tests.audit.conftest import FakeClock, Monotonic, make_record

LIMITS = AuditConfig(limits=RateLimitPolicy(max_failures=3, kiosk_max_failures=100))
Y2K = datetime(2000, 1, 1, 0, 5, tzinfo=UTC)


def fail_as(audit: AuditLog, clock: FakeClock, ref: str, *, seconds: float = 20) -> list:
    clock.advance(seconds=seconds)
    return list(audit.record_attempt(make_record(clock, decision="fail", subject_ref=ref))
                .lockouts)


def test_a_run_under_a_dead_clock_keeps_its_lockout_after_the_corrected_restart(
        tmp_path: Path, clock: FakeClock) -> None:
    """Before, the lockout ended in 2000: the corrected restart admitted the person at once."""
    settings = Settings().replace("audit", max_failures=3)
    data = tmp_path / "data"
    with open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring()) as audit:
        audit.record_attempt(make_record(clock))
    real = clock.now + timedelta(hours=1)
    clock.now = Y2K  # the kiosk boots an hour later with a dead clock battery
    with open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring()) as audit:
        assert audit.clock_report is not None and audit.clock_report.gap_s < 0
        ref = audit.subject_ref("A1")
        for _ in range(3):
            lockouts = fail_as(audit, clock, ref)
        assert lockouts and lockouts[0].until.year == 2000
    clock.now = real + timedelta(minutes=5)  # NTP put the date right; the kiosk restarts
    with open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring()) as audit:
        report = audit.clock_report
        assert report is not None and report.kind == "start" and report.gap_s > 0
        lockout = audit.active_lockout(ref)
        assert lockout is not None
        # The lockout resumes for what was left of it: the time the kiosk was off, unknown
        # to it, is not counted.
        assert lockout.until == pytest.approx(clock.now + timedelta(minutes=30),
                                              abs=timedelta(seconds=5))
        # The newest attempts, stamped 2000, are still listed first.
        assert [a.subject_ref for a in audit.list_attempts(limit=3)] == [ref] * 3
        # and the automatic purge does not take them for 26 years old.
        audit.purge_expired()
        assert len(audit.list_attempts(limit=None)) == 4


def test_a_year_typed_by_mistake_and_put_right_does_not_lock_for_a_year(
        db_path: Path, clock: FakeClock, hasher: SubjectHasher) -> None:
    mono = Monotonic(clock)
    with AuditLog.open(db_path, LIMITS, clock=clock, subject_hasher=hasher,
                       monotonic=mono) as audit:
        audit.record_attempt(make_record(clock))
        mono.jump(days=365)  # the date is typed a year ahead
        ref = audit.subject_ref("A1")
        for _ in range(3):
            lockouts = fail_as(audit, clock, ref)
        assert lockouts
        clock.advance(minutes=10)
        mono.jump(days=-365)  # and put right
        assert audit.active_lockout(ref) is not None  # 10 of its 30 minutes have passed
        clock.advance(minutes=19)
        assert audit.active_lockout(ref) is not None
        clock.advance(minutes=2)
        assert audit.active_lockout(ref) is None  # before: in force for a year


def test_failures_under_a_year_typed_by_mistake_stop_counting_once_it_is_put_right(
        db_path: Path, clock: FakeClock, hasher: SubjectHasher) -> None:
    """Before, failures stamped a year ahead counted for a year: with one more, weeks
    later, they locked the person (and, counted per kiosk, the whole kiosk)."""
    mono = Monotonic(clock)
    with AuditLog.open(db_path, LIMITS, clock=clock, subject_hasher=hasher,
                       monotonic=mono) as audit:
        audit.record_attempt(make_record(clock))
        mono.jump(days=365)
        ref = audit.subject_ref("A1")
        for _ in range(2):
            fail_as(audit, clock, ref)
        mono.jump(days=-365)
        clock.advance(minutes=16)  # the 15-minute window has passed
        assert fail_as(audit, clock, ref) == []  # the first that counts
        assert fail_as(audit, clock, ref) == []
        assert len(fail_as(audit, clock, ref)) == 1  # three within the window do lock


def test_a_clock_change_noticed_by_a_read_is_recorded_at_close(
        db_path: Path, clock: FakeClock, hasher: SubjectHasher) -> None:
    """Before, a jump that no write followed was lost with the process; the next start could
    only guess at it from the last recorded time."""
    mono = Monotonic(clock)
    with AuditLog.open(db_path, LIMITS, clock=clock, subject_hasher=hasher,
                       monotonic=mono) as audit:
        audit.record_attempt(make_record(clock))
        mono.jump(hours=-5)
        assert audit.active_lockout(None) is None  # a read notices the jump
    with AuditLog.open(db_path, LIMITS, clock=clock, subject_hasher=hasher,
                       monotonic=Monotonic(clock)) as audit:
        jumps = [(a.details["kind"], a.details["gap_s"])
                 for a in audit.operator_actions(action="clock")]
        assert jumps == [("jump", -5 * 3600)]
        assert audit.verify().ok


def test_the_newest_attempts_stay_first_when_the_clock_went_back(
        db_path: Path, clock: FakeClock, hasher: SubjectHasher) -> None:
    with AuditLog.open(db_path, LIMITS, clock=clock, subject_hasher=hasher) as audit:
        first = audit.record_attempt(make_record(clock)).attempt_id
        clock.advance(days=-30)
        second = audit.record_attempt(make_record(clock)).attempt_id
        assert [a.id for a in audit.list_attempts()] == [second, first]


def test_suspend_is_time_that_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLOCK_MONOTONIC stops while the machine is suspended: a night of suspend read as a
    14-hour jump of the date, and lockouts lasted that much longer."""
    read: list[int] = []
    real = time.clock_gettime

    def clock_gettime(which: int) -> float:
        read.append(which)
        return real(which)

    monkeypatch.setattr(time, "clock_gettime", clock_gettime)
    audit_clock.since_boot()
    assert read == [time.CLOCK_BOOTTIME]
    watch = audit_clock.ClockWatch(lambda: datetime.now(UTC))
    assert watch.monotonic is audit_clock.since_boot
