"""A kiosk's own lockouts against the fleet's unlocks after its clock was put right and its log
recorded the jump (real PostgreSQL; the site's time stands for the server's clock).

Before, the lockout check and the local ``kiosk audit lockouts`` compared the lockout's start
as recorded, under the clock that was an hour slow, with the fleet's unlock read on the clock
as it is now: an unlock made at another kiosk 10 minutes before the lockout lifted it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.audit import RateLimited
from kiosk.audit.timeutil import utc_now
from tests.audit.fleet.skewed import KioskClock, since_start
from tests.audit.fleet.test_clock_skew import lock_out, try_
from tests.audit.fleet.test_shared_lockouts import staff


def locked_before_a_jump(open_kiosk, clock):
    """West unlocks S-1; 10 minutes later east, an hour slow, locks S-1 out; then east's clock
    is put right and its log records the jump. Returns east, its clock and the lockout."""
    right, slow = KioskClock(clock), KioskClock(clock, timedelta(hours=-1))
    west = open_kiosk("west", kiosk_clock=right)
    east = open_kiosk("east", kiosk_clock=slow, monotonic=since_start(clock))
    west.unlock("subject", west.subject_ref("S-1"), actor="anna", reason="badge ok")
    assert west.fleet is not None and west.fleet.sender.flush(10)
    clock.advance(minutes=10)
    lockout = lock_out(east, slow, "S-1")
    clock.advance(minutes=1)
    slow.error = timedelta(0)  # NTP puts east's clock right
    try_(east, slow, "OTHER")  # its next write records the jump
    assert [a.details["kind"] for a in east.operator_actions(action="clock")] == ["jump"]
    assert east.fleet is not None and east.fleet.sender.flush(10)
    return east, slow, lockout


def test_an_earlier_unlock_elsewhere_does_not_lift_a_lockout_here(open_kiosk, clock):
    east, slow, lockout = locked_before_a_jump(open_kiosk, clock)
    found = east.active_lockout(lockout.target)
    assert found is not None and found.id == lockout.id and found.kiosk_id == "east"
    with pytest.raises(RateLimited):
        try_(east, slow, "S-1")


def test_the_local_lockouts_do_not_show_it_lifted_by_the_earlier_unlock(open_kiosk, clock,
                                                                        site_key, fleet_url):
    clock.now = utc_now() - timedelta(minutes=30)  # the command runs on the real clock
    east, _, lockout = locked_before_a_jump(open_kiosk, clock)
    db = east.path
    east.close()
    status, text = staff(["audit", "lockouts", "--all", "--db", db], fleet_url, site_key,
                         "east")
    assert status == 0, text
    (line,) = [row for row in text.splitlines() if row.startswith(f"{lockout.id:>6}  subject")]
    assert line.endswith("  active"), text
    _, text = staff(["audit", "lockouts", "--db", db], fleet_url, site_key, "east")
    assert "\n1 lockout(s) in force\n" in text, text
