"""Clock jumps: the log's times come from the wall clock, but a jump must not lift a lockout,
restart a failure count or make the automatic purge delete what it should keep.

What the log keeps: ``meta.clock_high``, the latest wall time any write saw, and chained
``clock`` operator actions, each recording a gap the clock made:

- ``kind = "start"``: at the kiosk's start the clock is behind the last recorded time by more
  than :data:`TOLERANCE`, or ahead of it by more than :data:`FAR`, or ahead by more than the
  length of a lockout that was in force at the last recorded time. The kiosk cannot know
  whether it was switched off that long or the clock is wrong, so the gap is reported (log,
  chained row, ``AuditLog.clock_report``) and not trusted.
- ``kind = "jump"``: while the kiosk runs, the wall clock moved more than :data:`TOLERANCE`
  away from the monotonic clock (which a clock change does not move).

How gaps are discounted (never for a clock that went back, which only makes lockouts longer
and purges shorter):

- a lockout ends ``until`` plus every recorded ``jump`` after it, plus every ``start`` gap after
  it longer than the lockout itself (a lockout cannot be lifted by a clock that moved more than
  its own length since the last row); the failure window is widened the same way;
- the automatic purge ages rows by the wall clock minus every ``jump`` and every ``start`` gap
  longer than :data:`FAR` recorded after them (it does not run across a jump). A manual
  ``kiosk audit purge`` is the operator's decision and is not discounted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from kiosk.audit.timeutil import from_iso, to_iso

TOLERANCE = timedelta(minutes=2)
"""Clock differences smaller than this are ordinary corrections (NTP), not jumps."""

FAR = timedelta(days=1)
"""A start this far beyond the last recorded time is reported, and the automatic purge does
not count that time (a kiosk closed over a weekend keeps its rows that much longer)."""


@dataclass(frozen=True)
class ClockEvent:
    """One recorded ``clock`` operator action."""

    seq: int
    acted_at: datetime
    kind: str
    gap: timedelta


def clock_high(db: Database) -> datetime | None:
    """The latest wall time a write of this log saw, or None for a new log."""
    found = db.execute("SELECT value FROM meta WHERE key = 'clock_high'").fetchone()
    return from_iso(found[0]) if found is not None else None


def raise_clock_high(db: Database, now: datetime) -> None:
    """Remember ``now`` as the latest time seen, if it is later (inside a write)."""
    high = clock_high(db)
    if high is None or now > high:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('clock_high', ?)", [to_iso(now)])


def clock_events(db: Database) -> list[ClockEvent]:
    """Every recorded clock gap, oldest first (a handful in a log's life)."""
    import json

    events = []
    for row in db.query("SELECT seq, acted_at, details FROM operator_actions "
                        "WHERE action = 'clock' ORDER BY seq"):
        try:
            details = json.loads(row["details"])
            events.append(ClockEvent(row["seq"], from_iso(row["acted_at"]), str(details["kind"]),
                                     timedelta(seconds=float(details["gap_s"]))))
        except (ValueError, KeyError, TypeError):
            continue  # an unreadable record discounts nothing; verify names edited rows
    return events


def lockout_discount(events: Iterable[ClockEvent], after_seq: int,
                     length: timedelta) -> timedelta:
    """Time a lockout chained at ``after_seq`` (of ``length``) is extended by."""
    return sum((ev.gap for ev in events if ev.seq > after_seq and ev.gap > timedelta(0)
                and (ev.kind == "jump" or ev.gap > length)), timedelta(0))


def window_discount(events: Iterable[ClockEvent], now: datetime, window: timedelta) -> timedelta:
    """How much the failure window reaches further back because of gaps inside it."""
    chosen = [ev for ev in events if ev.gap > timedelta(0)
              and (ev.kind == "jump" or ev.gap > window)]
    extra = timedelta(0)
    for _ in range(3):  # gaps found inside a widened window widen it again; rarely > 1 step
        wider = sum((ev.gap for ev in chosen if ev.acted_at > now - window - extra),
                    timedelta(0))
        if wider == extra:
            break
        extra = wider
    return extra


def retention_gaps(events: Iterable[ClockEvent]) -> list[tuple[int, timedelta]]:
    """``(seq, gap)`` of the gaps the automatic purge does not count as time passed."""
    return [(ev.seq, ev.gap) for ev in events
            if ev.gap > timedelta(0) and (ev.kind == "jump" or ev.gap > FAR)]


class ClockWatch:
    """Notices wall-clock jumps while the process runs, against the monotonic clock.

    Parameters
    ----------
    clock : callable
        The log's wall clock (aware datetimes).
    monotonic : callable or None
        Seconds of a clock that jumps do not move (``time.monotonic``); None turns the check
        off (tests that move an injected wall clock by hand).
    """

    def __init__(self, clock: Callable[[], datetime],
                 monotonic: Callable[[], float] | None = time.monotonic) -> None:
        self._clock = clock
        self._monotonic = monotonic
        self._base: tuple[datetime, float] | None = None
        self.pending: list[tuple[datetime, datetime, timedelta]] = []
        """Jumps noticed and not yet recorded: ``(expected wall time, wall time, gap)``."""

    def observe(self, now: datetime) -> None:
        """Compare ``now`` with the monotonic clock; remember a jump larger than TOLERANCE."""
        if self._monotonic is None:
            return
        mono = self._monotonic()
        if self._base is not None:
            expected = self._base[0] + timedelta(seconds=mono - self._base[1])
            gap = now - expected
            if abs(gap) > TOLERANCE:
                self.pending.append((expected, now, gap))
        self._base = (now, mono)

    def pending_gap(self) -> timedelta:
        """Forward jumps noticed and not recorded yet (judging lockouts before the next
        write)."""
        return sum((gap for _, _, gap in self.pending if gap > timedelta(0)), timedelta(0))
