"""This kiosk's own lockouts, unlocks and failures against the fleet's, across a change of this
kiosk's clock that its log recorded (no server: a RemoteView built by hand, its times on this
kiosk's clock as it is now, as the fleet's lookup hands them over).

Before, the rate limit compared the local times as recorded with the fleet's: a lockout
written an hour before the clock was put right an hour ahead was lifted by an unlock made
before it, an unlock written under a fast clock lifted a lockout made after it, and failures
counted or not by the recorded time against a restart elsewhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kiosk.audit import AuditConfig, AuditLog, RateLimited
from kiosk.audit.remote import RemoteEvent, RemoteView
from tests.audit.conftest import FakeClock, Monotonic, make_record
from tests.audit.test_remote import StaticFleet, fail, open_


@pytest.fixture
def mono(clock: FakeClock) -> Monotonic:
    return Monotonic(clock)


@pytest.fixture
def audit(db_path, clock, hasher, chain_key, mono):
    log = AuditLog.open(db_path, AuditConfig(kiosk_id="east"), clock=clock,
                        subject_hasher=hasher, chain_key=chain_key, monotonic=mono)
    yield log
    log.close()


def put_right(audit: AuditLog, clock: FakeClock, mono: Monotonic, hours: float, *,
              record: bool) -> None:
    """The clock, ``hours`` off, is set right; the log records the jump at its next write
    (``record``), or has only noticed it."""
    mono.jump(hours=hours)
    if record:
        audit.record_attempt(make_record(clock, subject_ref=audit.subject_ref("OTHER"),
                                         kiosk_id="east"))
        assert [a.details["kind"] for a in audit.operator_actions(action="clock")] == ["jump"]


def unlock_at(ref: str, at: datetime) -> RemoteEvent:
    return RemoteEvent("unlock", "west", "subject", ref, at)


@pytest.mark.parametrize("record", [True, False])
def test_an_unlock_elsewhere_before_a_lockout_here_does_not_lift_it(audit, clock, mono,
                                                                    record):
    """This kiosk was an hour slow when it locked the person out; the unlock at west came
    10 minutes before that (before, it lifted the lockout once the clock was put right)."""
    ref = audit.subject_ref("D-1")
    for _ in range(5):
        fail(audit, clock, ref)
    (lockout,) = [lk for lk in audit.lockouts() if lk.target == ref]
    really_started = lockout.started_at + timedelta(hours=1)
    put_right(audit, clock, mono, 1, record=record)
    audit.fleet = StaticFleet(RemoteView.of([unlock_at(ref, really_started
                                                       - timedelta(minutes=10))]))
    found = audit.active_lockout(ref)
    assert found is not None and found.id == lockout.id
    with pytest.raises(RateLimited):
        open_(audit, clock, ref)


def test_an_unlock_elsewhere_after_a_lockout_here_lifts_it(audit, clock, mono):
    """The other way round: an hour fast when it locked out, and the unlock came after."""
    ref = audit.subject_ref("D-1")
    for _ in range(5):
        fail(audit, clock, ref)
    (lockout,) = [lk for lk in audit.lockouts() if lk.target == ref]
    clock.advance(minutes=2)
    put_right(audit, clock, mono, -1, record=True)
    audit.fleet = StaticFleet(RemoteView.of([unlock_at(ref, lockout.started_at
                                                       - timedelta(minutes=59))]))
    assert audit.active_lockout(ref) is None


def test_an_unlock_here_does_not_lift_a_lockout_elsewhere_made_after_it(audit, clock, mono):
    """Staff unlocked here while the clock was an hour fast; west locked the person out
    3 minutes later (before, the local unlock, read as recorded, lifted it)."""
    ref = audit.subject_ref("D-2")
    audit.unlock("subject", ref, actor="staff", reason="badge checked")
    unlocked = clock.now - timedelta(hours=1)  # when it really happened
    clock.advance(minutes=1)
    put_right(audit, clock, mono, -1, record=True)
    clock.advance(minutes=5)
    lockout = RemoteEvent("lockout", "west", "subject", ref, unlocked + timedelta(minutes=3),
                          until=unlocked + timedelta(minutes=33), failures=5)
    audit.fleet = StaticFleet(RemoteView.of([lockout]))
    found = audit.active_lockout(ref)
    assert found is not None and found.kiosk_id == "west"


def test_failures_here_before_an_unlock_elsewhere_no_longer_count(audit, clock, mono):
    """Failures recorded under a clock an hour fast, then put right; west unlocked the
    person after them: the count starts again (before, they still counted)."""
    ref = audit.subject_ref("D-3")
    for _ in range(4):
        fail(audit, clock, ref)
    last = clock.now - timedelta(hours=1)
    put_right(audit, clock, mono, -1, record=True)
    audit.fleet = StaticFleet(RemoteView.of([unlock_at(ref, last + timedelta(seconds=30))]))
    clock.advance(minutes=1)
    assert fail(audit, clock, ref).lockouts == ()


def test_failures_here_after_an_unlock_elsewhere_still_count(audit, clock, mono):
    """Failures recorded under a clock an hour slow, then put right; west's unlock came
    10 minutes before them: they count (before, they were read as older than the unlock)."""
    ref = audit.subject_ref("D-4")
    first = clock.now + timedelta(hours=1)
    for _ in range(4):
        fail(audit, clock, ref)
    put_right(audit, clock, mono, 1, record=True)
    audit.fleet = StaticFleet(RemoteView.of([unlock_at(ref, first - timedelta(minutes=10))]))
    assert [lk.failures for lk in fail(audit, clock, ref).lockouts] == [5]


def test_failures_elsewhere_after_an_unlock_here_count(audit, clock, mono):
    """Staff unlocked here under a clock an hour fast, then put right; west's four failures
    came after the unlock and add up with one here (before, the unlock read as recorded
    seemed to come after them)."""
    ref = audit.subject_ref("D-5")
    audit.unlock("subject", ref, actor="staff", reason="badge checked")
    unlocked = clock.now - timedelta(hours=1)
    clock.advance(minutes=1)
    put_right(audit, clock, mono, -1, record=True)
    failures = [RemoteEvent("failure", "west", "subject", ref, unlocked + timedelta(minutes=m))
                for m in (2, 3, 4, 5)]
    clock.advance(minutes=5)
    audit.fleet = StaticFleet(RemoteView.of(failures))
    assert [lk.failures for lk in fail(audit, clock, ref).lockouts] == [5]


def test_failures_elsewhere_older_than_the_window_do_not_count_after_a_jump_here(
        audit, clock, mono):
    """A jump here widens how far back this log looks for its own failures, whose times it
    moves; west's times are on the clock as it is now and keep the window's bounds (before,
    failures 20-40 minutes old counted)."""
    ref = audit.subject_ref("D-6")
    put_right(audit, clock, mono, 1, record=True)
    old = [RemoteEvent("failure", "west", "subject", ref, clock.now - timedelta(minutes=m))
           for m in (40, 30, 25, 20)]
    audit.fleet = StaticFleet(RemoteView.of(old))
    assert fail(audit, clock, ref).lockouts == ()
