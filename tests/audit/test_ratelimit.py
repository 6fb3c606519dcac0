"""Rate limiting: sliding windows, lockouts, expiry, restarts and operator unlocks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.audit import AuditConfig, AuditLog, RateLimitPolicy, SubjectHasher
from tests.audit.conftest import FakeClock, killed_child, make_record

SUBJECT_ONLY = AuditConfig(limits=RateLimitPolicy(kiosk_max_failures=1000))


@pytest.fixture
def audit(clock: FakeClock, hasher: SubjectHasher):
    with AuditLog.open(":memory:", SUBJECT_ONLY, clock=clock, subject_hasher=hasher) as log:
        yield log


def fail(audit: AuditLog, clock: FakeClock, ref: str | None, **kw):
    return audit.record_attempt(make_record(clock, decision="fail", subject_ref=ref, **kw))


def test_fifth_failure_in_the_window_locks_for_thirty_minutes(audit: AuditLog,
                                                              clock: FakeClock) -> None:
    ref = audit.subject_ref("A1")
    for _ in range(4):
        assert fail(audit, clock, ref).lockouts == ()
        clock.advance(minutes=3)
    assert audit.active_lockout(ref) is None
    started = fail(audit, clock, ref).lockouts
    assert len(started) == 1
    lockout = started[0]
    assert (lockout.scope, lockout.target, lockout.failures) == ("subject", ref, 5)
    assert lockout.until - lockout.started_at == timedelta(minutes=30)
    assert audit.active_lockout(ref) == lockout
    assert audit.active_lockout(audit.subject_ref("B2")) is None
    clock.advance(minutes=29, seconds=59)
    assert audit.active_lockout(ref) == lockout
    clock.advance(seconds=1)
    assert audit.active_lockout(ref) is None
    assert audit.lockouts(active_only=False) == [lockout]


def test_failures_spread_beyond_the_window_never_lock(audit: AuditLog, clock: FakeClock) -> None:
    ref = audit.subject_ref("A1")
    for _ in range(12):
        assert fail(audit, clock, ref).lockouts == ()
        clock.advance(minutes=3, seconds=46)  # 5 failures span 15 min 4 s > 15 min
    assert audit.lockouts(active_only=False) == []


def test_window_slides_on_the_oldest_failure(audit: AuditLog, clock: FakeClock) -> None:
    ref = audit.subject_ref("A1")
    fail(audit, clock, ref)
    clock.advance(minutes=10)
    for _ in range(3):
        fail(audit, clock, ref)
    clock.advance(minutes=5)  # the first failure is exactly 15 minutes old: outside
    assert fail(audit, clock, ref).lockouts == ()
    clock.advance(seconds=1)
    assert len(fail(audit, clock, ref).lockouts) == 1


def test_pass_and_review_do_not_count(audit: AuditLog, clock: FakeClock) -> None:
    ref = audit.subject_ref("A1")
    for decision in ["fail", "review", "fail", "pass", "fail", "review", "fail"]:
        audit.record_attempt(make_record(clock, decision=decision, subject_ref=ref))
    assert audit.active_lockout(ref) is None
    assert len(fail(audit, clock, ref).lockouts) == 1


def test_count_restarts_after_lockout_and_after_unlock(audit: AuditLog, clock: FakeClock) -> None:
    config_window = SUBJECT_ONLY.limits.window
    ref = audit.subject_ref("A1")
    for _ in range(5):
        fail(audit, clock, ref)
    lockout = audit.active_lockout(ref)
    assert lockout is not None
    result = audit.unlock("subject", ref, actor="alice", reason="checked passport")
    assert [lk.id for lk in result.lifted] == [lockout.id]
    assert result.lifted[0].lifted_by == result.action_id
    assert audit.active_lockout(ref) is None
    # Still inside the window of the old failures: only new ones count.
    assert clock.now - lockout.started_at < config_window
    for _ in range(4):
        assert fail(audit, clock, ref).lockouts == ()
    assert len(fail(audit, clock, ref).lockouts) == 1
    action = audit.operator_actions()[0]
    assert (action.action, action.actor, action.reason) == ("unlock", "alice", "checked passport")
    assert (action.scope, action.target, action.details) == ("subject", ref,
                                                            {"lifted": [lockout.id]})


def test_unlock_without_lockout_is_recorded(audit: AuditLog, clock: FakeClock) -> None:
    ref = audit.subject_ref("A1")
    result = audit.unlock("subject", ref, actor="bob", reason="preventive reset")
    assert result.lifted == ()
    assert audit.operator_actions()[0].id == result.action_id
    with pytest.raises(ValueError, match="never the ID number"):
        audit.unlock("subject", "A1", actor="bob", reason="x")
    with pytest.raises(ValueError, match="actor"):
        audit.unlock("subject", ref, actor=" ", reason="x")


def test_kiosk_lockout_counts_every_subject(clock: FakeClock, hasher: SubjectHasher) -> None:
    config = AuditConfig(limits=RateLimitPolicy(max_failures=5, kiosk_max_failures=3))
    with AuditLog.open(":memory:", config, clock=clock, subject_hasher=hasher) as audit:
        refs = [audit.subject_ref(f"N{i}") for i in range(3)]
        fail(audit, clock, refs[0])  # SCREEN_SUSPECTED: suggests an attack
        fail(audit, clock, None)
        started = fail(audit, clock, refs[2]).lockouts
        assert [(lk.scope, lk.target) for lk in started] == [("kiosk", "kiosk-1")]
        # Any subject, and no subject, is now refused at this kiosk.
        assert audit.active_lockout(audit.subject_ref("someone else")).scope == "kiosk"
        assert audit.active_lockout(None).scope == "kiosk"
        audit.unlock("kiosk", "kiosk-1", actor="carol", reason="attacker left")
        assert audit.active_lockout(None) is None


def test_lockout_survives_a_restart(db_path: Path, clock: FakeClock,
                                    hasher: SubjectHasher) -> None:
    with AuditLog.open(db_path, SUBJECT_ONLY, clock=clock, subject_hasher=hasher) as audit:
        ref = audit.subject_ref("A1")
        for _ in range(5):
            fail(audit, clock, ref)
    clock.advance(minutes=10)
    with AuditLog.open(db_path, SUBJECT_ONLY, clock=clock, subject_hasher=hasher) as audit:
        lockout = audit.active_lockout(ref)
        assert lockout is not None and lockout.failures == 5
        clock.advance(minutes=20)
        assert audit.active_lockout(ref) is None


def test_a_crash_does_not_buy_free_tries(db_path: Path, clock: FakeClock,
                                         hasher: SubjectHasher, chain_key) -> None:
    with AuditLog.open(db_path, SUBJECT_ONLY, clock=clock, subject_hasher=hasher,
                       chain_key=chain_key) as audit:
        ref = audit.subject_ref("A1")
        for _ in range(4):
            fail(audit, clock, ref)
    killed_child(db_path, "A1")  # the kiosk dies (SIGKILL) before the attempt ends
    clock.advance(seconds=20)
    with AuditLog.open(db_path, SUBJECT_ONLY, clock=clock, subject_hasher=hasher,
                       chain_key=chain_key) as audit:
        recovered = audit.recover_interrupted()
        assert len(recovered) == 1 and len(recovered[0].lockouts) == 1
        assert audit.active_lockout(ref) is not None


def test_a_clock_stepping_back_does_not_forget_failures(audit: AuditLog,
                                                        clock: FakeClock) -> None:
    ref = audit.subject_ref("A1")
    for _ in range(4):
        fail(audit, clock, ref)
    clock.advance(hours=-1)  # NTP correction
    assert len(fail(audit, clock, ref).lockouts) == 1
