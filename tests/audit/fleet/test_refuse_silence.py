"""``fleet.unreachable_policy = "refuse"`` when the wall clock goes back: the server's silence
is measured on a monotonic clock within a run, and a clock behind the last answer is no
reason to count no silence at all (before, the silence was ``max(now - last answer, 0)`` on
the wall clock: with a dead real-time clock and no network the kiosk admitted people for as
long as the outage lasted)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.audit import RateLimited
from tests.audit.fleet.conftest import kiosk_settings
from tests.audit.fleet.skewed import KioskClock, relink, since_start
from tests.audit.fleet.test_clock_skew import try_
from tests.audit.fleet.test_link import nowhere

REFUSE = {"unreachable_policy": "refuse", "refuse_after_min": 10.0}
DOWN = {"query_timeout_s": 0.2, "flush_timeout_s": 0.0}


def test_a_restart_with_the_clock_behind_the_last_answer_counts_this_runs_silence(
        open_kiosk, clock, tmp_path):
    east = open_kiosk("east", **REFUSE)
    try_(east, clock, "P-1")
    assert east.fleet is not None and east.fleet.sender.flush(10)
    east.close()
    clock.now = datetime(2000, 1, 1, tzinfo=UTC)  # a dead real-time clock, and no network
    again = open_kiosk("east", url=nowhere(tmp_path), **REFUSE, **DOWN)
    clock.advance(minutes=5)
    try_(again, clock, "P-2")  # within the policy's allowance
    clock.advance(minutes=15)
    with pytest.raises(RateLimited) as refused:
        try_(again, clock, "P-3")
    assert refused.value.scope == "kiosk"
    assert "has not answered for 20.2 min" in refused.value.reason


def test_a_clock_set_back_during_an_outage_does_not_shorten_the_silence(open_kiosk, clock,
                                                                        tmp_path, site_key):
    wall = KioskClock(clock)
    east = open_kiosk("east", url=nowhere(tmp_path), kiosk_clock=wall, start=False, **REFUSE,
                      **DOWN)
    settings = kiosk_settings(tmp_path, "east", nowhere(tmp_path), site_key, **REFUSE, **DOWN)
    relink(east, settings, clock, wall, since_start(clock))
    east.start_fleet()
    clock.advance(minutes=5)
    try_(east, wall, "P-1")
    wall.error = timedelta(hours=-1)  # someone sets the clock back an hour
    clock.advance(minutes=6)
    with pytest.raises(RateLimited) as refused:
        try_(east, wall, "P-2")
    assert "has not answered for 11.2 min" in refused.value.reason
