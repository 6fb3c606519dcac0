"""The other kiosks' facts in this kiosk's rate limit (no server: a RemoteView built by hand)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.audit import AuditConfig, AuditLog, RateLimited
from kiosk.audit.remote import RemoteEvent, RemoteView
from tests.audit.conftest import FakeClock, make_record


class StaticFleet:
    """A fleet hook that answers with a fixed view (what the server would have said)."""

    def __init__(self, view: RemoteView | None) -> None:
        self.remote = view
        self.woken = 0

    def view(self, subject_ref, *, admission):
        return self.remote

    def written(self):
        self.woken += 1

    def shipped_seq(self):
        return None

    def refusal(self):
        return None

    def start(self):
        pass

    def close(self):
        pass


@pytest.fixture
def audit(db_path, clock, hasher, chain_key):
    log = AuditLog.open(db_path, AuditConfig(kiosk_id="east"), clock=clock,
                        subject_hasher=hasher, chain_key=chain_key)
    yield log
    log.close()


def failure_at(clock: FakeClock, ref: str, minutes_ago: float, kiosk: str = "west"):
    return RemoteEvent("failure", kiosk, "subject", ref, clock.now - timedelta(
        minutes=minutes_ago))


def open_(audit, clock, ref):
    return audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                              settings_digest="ab" * 32)


def fail(audit, clock, ref):
    attempt = open_(audit, clock, ref)
    clock.advance(seconds=5)
    return audit.finish_attempt(attempt, make_record(clock, decision="fail", subject_ref=ref,
                                                     kiosk_id="east"))


def test_remote_failures_add_to_local_ones(audit, clock):
    ref = audit.subject_ref("D-1")
    audit.fleet = StaticFleet(RemoteView.of(failure_at(clock, ref, m) for m in (3, 2, 1)))
    assert fail(audit, clock, ref).lockouts == ()
    started = fail(audit, clock, ref).lockouts
    assert [(lk.scope, lk.failures) for lk in started] == [("subject", 5)]
    assert audit.fleet.woken >= 2


def test_remote_failures_outside_the_window_do_not_count(audit, clock):
    ref = audit.subject_ref("D-1")
    audit.fleet = StaticFleet(RemoteView.of(failure_at(clock, ref, m) for m in (20, 19, 18)))
    for _ in range(4):
        assert fail(audit, clock, ref).lockouts == ()


def test_a_lockout_elsewhere_refuses_and_counts_here_as_an_attack(audit, clock):
    ref = audit.subject_ref("D-1")
    lockout = RemoteEvent("lockout", "west", "subject", ref, clock.now - timedelta(minutes=1),
                          until=clock.now + timedelta(minutes=29), failures=5, row_id=7, seq=9)
    audit.fleet = StaticFleet(RemoteView.of([lockout]))
    with pytest.raises(RateLimited) as refused:
        open_(audit, clock, ref)
    assert refused.value.lockout is not None and refused.value.lockout.kiosk_id == "west"
    assert "at kiosk west" in refused.value.reason and refused.value.attempt_id is not None
    assert audit.active_lockout(ref).kiosk_id == "west"


def test_an_expired_lockout_elsewhere_still_restarts_the_count(audit, clock):
    ref = audit.subject_ref("D-1")
    events = [failure_at(clock, ref, m) for m in (14, 13, 12, 11, 10)]
    events.append(RemoteEvent("lockout", "west", "subject", ref,
                              clock.now - timedelta(minutes=10),
                              until=clock.now - timedelta(minutes=1), failures=5))
    audit.fleet = StaticFleet(RemoteView.of(events))
    for _ in range(4):
        assert fail(audit, clock, ref).lockouts == ()


def test_an_unlock_elsewhere_lifts_a_local_lockout_and_restarts_the_count(audit, clock):
    ref = audit.subject_ref("D-1")
    for _ in range(5):
        fail(audit, clock, ref)
    assert audit.active_lockout(ref) is not None
    clock.advance(minutes=1)
    unlock = RemoteEvent("unlock", "west", "subject", ref, clock.now)
    audit.fleet = StaticFleet(RemoteView.of([unlock]))
    clock.advance(seconds=1)
    assert audit.active_lockout(ref) is None
    for _ in range(4):
        assert fail(audit, clock, ref).lockouts == ()


def test_a_local_unlock_lifts_a_lockout_recorded_elsewhere(audit, clock):
    ref = audit.subject_ref("D-1")
    lockout = RemoteEvent("lockout", "west", "subject", ref, clock.now - timedelta(minutes=1),
                          until=clock.now + timedelta(minutes=29), failures=5)
    audit.fleet = StaticFleet(RemoteView.of([lockout]))
    assert audit.active_lockout(ref) is not None
    audit.unlock("subject", ref, actor="staff", reason="badge checked")
    assert audit.active_lockout(ref) is None


def test_without_an_answer_the_local_view_decides(audit, clock):
    ref = audit.subject_ref("D-1")
    audit.fleet = StaticFleet(None)
    for _ in range(4):
        assert fail(audit, clock, ref).lockouts == ()
    assert [lk.scope for lk in fail(audit, clock, ref).lockouts] == ["subject"]


def test_the_remote_view_checks_its_events():
    with pytest.raises(ValueError, match="kind"):
        RemoteEvent("purge", "west", "subject", "x", FakeClock().now)
    with pytest.raises(ValueError, match="until"):
        RemoteEvent("lockout", "west", "subject", "x", FakeClock().now)
