"""Shared lockouts between kiosks whose clocks disagree: every time is judged on the fleet
server's clock (real PostgreSQL; the site's time stands for the server's clock).

Before, the kiosks compared each other's wall-clock times directly: a kiosk 31 minutes or more
ahead admitted a person locked out elsewhere, failures at a kiosk 16 minutes slow did not add
up, an unlock at a desk 10 minutes slow lifted nothing, and a lockout shipped by a slow kiosk
ended early everywhere else once the kiosk's clock was put right.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.audit import RateLimited
from tests.audit.conftest import make_record
from tests.audit.fleet.conftest import kiosk_settings
from tests.audit.fleet.skewed import KioskClock, relink, since_start
from tests.audit.fleet.test_shared_lockouts import fail


def try_(audit, clock, subject: str, decision: str = "pass"):
    """One session of ``subject``; RateLimited when the lockout check refuses it."""
    ref = audit.subject_ref(subject)
    opened = audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                settings_digest="ab" * 32)
    if audit.fleet is not None:
        # The sender measures the skew at each contact, reading the kiosk's clock on either
        # side of the server's: the site's time must not jump 10 s between those reads.
        audit.fleet.sender.flush(10)
    clock.advance(seconds=10)
    return audit.finish_attempt(opened, make_record(clock, decision=decision, subject_ref=ref,
                                                    kiosk_id=audit.config.kiosk_id))


def lock_out(audit, clock, subject: str):
    for _ in range(audit.config.limits.max_failures):
        result = fail(audit, clock, subject)
    assert result.lockouts, "the last failure starts the lockout"
    return result.lockouts[0]


@pytest.mark.parametrize("minutes", [31, 45, -45])
def test_a_lockout_refuses_the_person_at_a_kiosk_whose_clock_is_off(open_kiosk, clock,
                                                                   minutes):
    here, ahead = KioskClock(clock), KioskClock(clock, timedelta(minutes=minutes))
    a = open_kiosk("a", kiosk_clock=here)
    b = open_kiosk("b", kiosk_clock=ahead)
    lockout = lock_out(a, here, "S-1")
    clock.advance(minutes=1)
    with pytest.raises(RateLimited) as refused:
        try_(b, ahead, "S-1")
    assert refused.value.scope == "subject" and refused.value.lockout.kiosk_id == "a"
    # b tells the person the end on its own clock
    assert refused.value.lockout.until == lockout.until + timedelta(minutes=minutes)


@pytest.mark.parametrize("minutes", [-16, 16])
def test_failures_at_a_kiosk_whose_clock_is_off_add_up_elsewhere(open_kiosk, clock, minutes):
    off, right = KioskClock(clock, timedelta(minutes=minutes)), KioskClock(clock)
    a, b = open_kiosk("a", kiosk_clock=off), open_kiosk("b", kiosk_clock=right)
    for _ in range(3):
        assert fail(a, off, "S-2").lockouts == ()
    assert fail(b, right, "S-2").lockouts == ()
    assert [lk.failures for lk in fail(b, right, "S-2").lockouts] == [5]
    with pytest.raises(RateLimited):
        try_(b, right, "S-2")


def test_failures_out_of_the_window_on_the_servers_clock_do_not_count(open_kiosk, clock):
    """The other way round: a kiosk 16 minutes ahead does not make old failures recent."""
    right, ahead = KioskClock(clock), KioskClock(clock, timedelta(minutes=16))
    a, b = open_kiosk("a", kiosk_clock=right), open_kiosk("b", kiosk_clock=ahead)
    for _ in range(3):
        fail(b, ahead, "S-3")
    clock.advance(minutes=16)
    for _ in range(2):
        assert fail(a, right, "S-3").lockouts == ()


def test_an_unlock_at_a_desk_whose_clock_is_slow_lifts_the_lockout_everywhere(open_kiosk,
                                                                             clock):
    right, slow = KioskClock(clock), KioskClock(clock, timedelta(minutes=-10))
    a, b = open_kiosk("a", kiosk_clock=right), open_kiosk("b", kiosk_clock=right)
    desk = open_kiosk("desk", kiosk_clock=slow)
    lockout = lock_out(a, right, "S-4")
    clock.advance(minutes=5)
    desk.unlock("subject", lockout.target, actor="staff", reason="identity checked")
    assert desk.fleet is not None and desk.fleet.sender.flush(10)
    clock.advance(seconds=30)
    assert a.active_lockout(lockout.target) is None
    try_(a, right, "S-4")
    try_(b, right, "S-4")


def test_an_unlock_before_a_lockout_on_the_servers_clock_does_not_lift_it(open_kiosk, clock):
    """A desk 10 minutes ahead unlocks first; the lockout that follows stands."""
    right, fast = KioskClock(clock), KioskClock(clock, timedelta(minutes=10))
    a, desk = open_kiosk("a", kiosk_clock=right), open_kiosk("desk", kiosk_clock=fast)
    desk.unlock("subject", a.subject_ref("S-5"), actor="staff", reason="identity checked")
    assert desk.fleet is not None and desk.fleet.sender.flush(10)
    clock.advance(minutes=2)
    lock_out(a, right, "S-5")
    with pytest.raises(RateLimited):
        try_(desk, fast, "S-5")


def test_a_lockout_shipped_by_a_slow_kiosk_keeps_its_end_after_its_clock_is_put_right(
        open_kiosk, clock):
    slow, right = KioskClock(clock, timedelta(minutes=-45)), KioskClock(clock)
    a, b = open_kiosk("a", kiosk_clock=slow), open_kiosk("b", kiosk_clock=right)
    lock_out(a, slow, "S-6")
    clock.advance(minutes=1)
    slow.error = timedelta(0)  # NTP puts a's clock right
    try_(a, slow, "OTHER")  # a writes (and ships) under its corrected clock
    assert a.fleet is not None and a.fleet.sender.flush(10)
    with pytest.raises(RateLimited):
        try_(b, right, "S-6")


def test_rows_queued_across_a_correction_of_the_clock_keep_their_times(open_kiosk, clock,
                                                                      tmp_path, site_key,
                                                                      fleet_url):
    """The network is down while a slow kiosk locks a person out; its clock is put right
    (recorded as a jump by its log) before the rows ship, with the offset of the corrected
    clock: the rows written before need the offset of the clock that wrote them."""
    slow, right = KioskClock(clock, timedelta(minutes=-45)), KioskClock(clock)
    b = open_kiosk("b", kiosk_clock=right)
    a = open_kiosk("a", kiosk_clock=slow, monotonic=since_start(clock), start=False)
    for _ in range(5):
        try_(a, slow, "S-7", decision="fail")
    clock.advance(minutes=1)
    slow.error = timedelta(0)
    try_(a, slow, "OTHER")  # records the jump before its own row
    assert [x.details["kind"] for x in a.operator_actions(action="clock")] == ["jump"]
    a.start_fleet()
    assert a.fleet is not None and a.fleet.sender.flush(10)
    with pytest.raises(RateLimited):
        try_(b, right, "S-7")


def test_a_correction_no_write_has_recorded_yet_is_seen_against_the_monotonic_clock(
        open_kiosk, clock, tmp_path, site_key, fleet_url):
    """The same, but the rows ship before the log's next write records the jump."""
    slow, right = KioskClock(clock, timedelta(minutes=-45)), KioskClock(clock)
    b = open_kiosk("b", kiosk_clock=right)
    a = open_kiosk("a", kiosk_clock=slow, monotonic=since_start(clock), start=False)
    link = relink(a, kiosk_settings(tmp_path, "a", fleet_url, site_key), clock, slow,
                  since_start(clock))
    for _ in range(5):
        try_(a, slow, "S-8", decision="fail")
    clock.advance(minutes=1)
    slow.error = timedelta(0)
    a.start_fleet()
    assert link.sender.flush(10)
    assert a.operator_actions(action="clock") == []  # nothing recorded the jump yet
    with pytest.raises(RateLimited):
        try_(b, right, "S-8")


def test_failures_queued_offline_at_a_slow_kiosk_count_once_shipped(open_kiosk, clock):
    slow, right = KioskClock(clock, timedelta(minutes=-20)), KioskClock(clock)
    b = open_kiosk("b", kiosk_clock=right)
    a = open_kiosk("a", kiosk_clock=slow, start=False)  # the server is out of reach
    for _ in range(3):
        try_(a, slow, "S-9", decision="fail")
    clock.advance(minutes=2)
    a.start_fleet()  # it answers again
    assert a.fleet is not None and a.fleet.sender.flush(10)
    assert fail(b, right, "S-9").lockouts == ()
    assert [lk.failures for lk in fail(b, right, "S-9").lockouts] == [5]
