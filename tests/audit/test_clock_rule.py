"""One rule reads a recorded time on the clock as it is now (``kiosk.audit.clock.shift_after``):
the log judges a span (a lockout's length, the failure window, a day for the automatic purge),
the fleet a single time (the clock offset a row ships with, ``ClockTrail``). Side by side, over
the same recorded gaps, they differ only by a start ahead shorter than the span."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from keyring.backends import fail
from sqlite_utils import Database

from kiosk.audit import open_kiosk_log
from kiosk.audit.clock import FAR, INSTANT, ClockEvent, clock_events, shift_after
from kiosk.audit.fleet.trail import ClockTrail
from kiosk.audit.outbox import Outbox
from kiosk.settings import Settings
from tests.audit.conftest import T0, FakeClock, make_record

LOCKOUT = timedelta(minutes=30)

GAPS = [
    ClockEvent(5, T0, "start", timedelta(minutes=20)),  # ahead: maybe time the kiosk was off
    ClockEvent(7, T0, "jump", timedelta(hours=-1)),  # a clock set back while running
    ClockEvent(9, T0, "start", timedelta(days=-2)),  # behind: time does not run backwards
    ClockEvent(11, T0, "start", timedelta(hours=2)),  # ahead by more than a lockout
]


def test_a_span_leaves_out_a_shorter_start_ahead_and_an_instant_counts_every_gap() -> None:
    changes = timedelta(hours=-1) + timedelta(days=-2) + timedelta(hours=2)
    # The log: 20 minutes ahead at a start may be 20 minutes the kiosk was off, which a
    # 30-minute lockout really spent; two hours cannot be.
    assert shift_after(GAPS, 3, LOCKOUT) == changes
    # The fleet: a row's offset wants the clock's whole change since the row.
    assert shift_after(GAPS, 3, INSTANT) == changes + timedelta(minutes=20)
    # Past the short start, the two agree; past every gap, nothing moves.
    assert shift_after(GAPS, 5, LOCKOUT) == shift_after(GAPS, 5, INSTANT) == changes
    assert shift_after(GAPS, 11, LOCKOUT) == shift_after(GAPS, 11, INSTANT) == timedelta(0)


def test_the_trail_ships_the_logs_own_shift_over_an_instant(tmp_path: Path) -> None:
    """The same rule on a real log: a start 31 minutes ahead (a lockout was in force) is
    taken whole by the offsets the fleet ships, and left out by the automatic purge, whose
    span is a day."""
    clock = FakeClock()
    settings = Settings().replace("audit", max_failures=3)
    with open_kiosk_log(settings, tmp_path, clock=clock,
                        keyring_backend=fail.Keyring()) as audit:
        ref = audit.subject_ref("A1")
        for _ in range(3):
            clock.advance(seconds=20)
            audit.record_attempt(make_record(clock, decision="fail", subject_ref=ref))
    clock.advance(minutes=31)
    with open_kiosk_log(settings, tmp_path, clock=clock,
                        keyring_backend=fail.Keyring()) as audit:
        assert audit.clock_report is not None and audit.clock_report.kind == "start"
        audit.record_attempt(make_record(clock))
        path = audit.path
    outbox = Outbox(path)
    trail = ClockTrail(path, clock=clock, monotonic=None)
    try:
        _, rows = outbox.batch(0, 100)
        shifts = trail.shifts(rows)
    finally:
        trail.close()
        outbox.close()
    with Database(path) as db:
        events = clock_events(db)
    (start,) = events
    assert shifts == [shift_after(events, row.seq, INSTANT) for row in rows]
    before = [row.seq for row in rows if row.seq < start.seq]
    assert before and all(shifts[i] == timedelta(minutes=31) for i in range(len(before)))
    assert all(shift_after(events, seq, FAR) == timedelta(0) for seq in before)
