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

How gaps are counted (:func:`shift_after`, one rule for every reader). A time the log recorded
is read on the clock as it is now: moved on by every gap recorded after it that was a change
of the clock rather than time passing. That is every ``jump`` (measured against the monotonic
clock, so exactly the change), every ``start`` gap behind the last recorded time (time does
not run backwards), and a ``start`` gap ahead only when it is longer than the span being
judged (a lockout's length, the failure window, :data:`FAR` for the automatic purge): a
shorter one may be time the kiosk was off. A single time compared with another kiosk's (the
clock offset each row ships with, a local lockout against the fleet's unlocks) judges no span,
:data:`INSTANT`: every gap counts, a start ahead included, so a row queued across a restart
is read later by the time the kiosk was off, towards refusing a person rather than admitting
one. Gaps of both signs count, so a clock set a year ahead and then put right moves the
times recorded meanwhile back by that year, and a clock that came up in 2000 and was then
corrected moves the times of that run forward by as much:

- a lockout ends at its ``until`` so moved (a lockout cannot be lifted by a clock that moved
  more than its own length since the last row); a failure counts while its time so moved is
  inside the window;
- the automatic purge ages rows the same way, with :data:`FAR` as the span (it does not run
  across a jump). A manual ``kiosk audit purge`` is the operator's decision and is not
  discounted.

The start check compares the clock with the latest time the log wrote (``meta.clock_last``),
not the highest ever seen: after a run under a clock that was behind, the next start with a
corrected clock is a gap ahead of that run's times, and is recorded as one.
"""

from __future__ import annotations

import json
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

INSTANT = timedelta(0)
"""The span of a single time (:func:`shift_after`): every recorded gap after it counts as a
change of the clock, a start ahead of any length included."""


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


def clock_last(db: Database) -> datetime | None:
    """The wall time of this log's latest write, or None for a new log (a log written before
    this was kept: its highest time, the same thing unless its clock went back)."""
    found = db.execute("SELECT value FROM meta WHERE key = 'clock_last'").fetchone()
    return from_iso(found[0]) if found is not None else clock_high(db)


def remember_write_time(db: Database, now: datetime) -> None:
    """Remember ``now`` as the latest write's time, and as the highest seen if it is later
    (inside a write)."""
    db.execute("INSERT OR REPLACE INTO meta VALUES ('clock_last', ?)", [to_iso(now)])
    high = clock_high(db)
    if high is None or now > high:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('clock_high', ?)", [to_iso(now)])


def clock_event(seq: int, acted_at: str | None, details: str | None) -> ClockEvent | None:
    """The gap a ``clock`` operator action records (its chain position, ``acted_at`` and
    ``details`` as stored), or None when the record cannot be read."""
    try:
        found = json.loads(details or "")
        return ClockEvent(int(seq), from_iso(acted_at or ""), str(found["kind"]),
                          timedelta(seconds=float(found["gap_s"])))
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable record discounts nothing; verify names edited rows


def clock_events(db: Database) -> list[ClockEvent]:
    """Every recorded clock gap, oldest first (a handful in a log's life)."""
    found = (clock_event(row["seq"], row["acted_at"], row["details"])
             for row in db.query("SELECT seq, acted_at, details FROM operator_actions "
                                 "WHERE action = 'clock' ORDER BY seq"))
    return [event for event in found if event is not None]


def counted_gap(event: ClockEvent, span: timedelta) -> timedelta:
    """How far ``event`` moved the clock for a time recorded before it, judged over ``span``.

    A jump and a start behind the last recorded time are changes of the clock, of either
    sign; a start ahead counts only when longer than ``span``: a shorter one may be time the
    kiosk was switched off. With :data:`INSTANT` every gap counts.
    """
    if event.kind == "jump" or event.gap < timedelta(0) or event.gap > span:
        return event.gap
    return timedelta(0)


def shift_after(events: Iterable[ClockEvent], seq: int, span: timedelta) -> timedelta:
    """What to add to a time chained at ``seq`` to read it on the clock as it is now.

    Parameters
    ----------
    events : iterable of ClockEvent
        The log's recorded gaps (:func:`clock_events`).
    seq : int
        The chain position of the row whose time is read.
    span : timedelta
        How long the time stays relevant: a lockout's length, the failure window,
        :data:`FAR` for the automatic purge, or :data:`INSTANT` for a single time compared
        with another kiosk's (the clock offset a row ships with, a local lockout or unlock
        against the fleet's rows).
    """
    return sum((counted_gap(ev, span) for ev in events if ev.seq > seq), timedelta(0))


def on_clock_now(events: Iterable[ClockEvent], seq: int, at: datetime,
                 pending: timedelta = timedelta(0)) -> datetime:
    """``at``, a single time chained at ``seq``, on the clock as it is now (:data:`INSTANT`),
    moved as well by ``pending``, a jump noticed but not recorded yet: how it compares with
    another kiosk's time read on this clock."""
    return at + shift_after(events, seq, INSTANT) + pending


def lockout_discount(events: Iterable[ClockEvent], after_seq: int,
                     length: timedelta) -> timedelta:
    """Time a lockout chained at ``after_seq`` (of ``length``) is moved by (negative when
    the clock has gone back since)."""
    return shift_after(events, after_seq, length)


def window_discount(events: Iterable[ClockEvent], now: datetime, window: timedelta) -> timedelta:
    """How much further back a window ending at ``now`` may hold failures whose times moved
    forward since (an upper bound: each failure is then judged by :func:`shift_after`)."""
    chosen = [ev for ev in events if counted_gap(ev, window) > timedelta(0)]
    extra = timedelta(0)
    for _ in range(3):  # gaps found inside a widened window widen it again; rarely > 1 step
        wider = sum((ev.gap for ev in chosen if ev.acted_at > now - window - extra),
                    timedelta(0))
        if wider == extra:
            break
        extra = wider
    return extra


def retention_gaps(events: Iterable[ClockEvent]) -> list[tuple[int, timedelta]]:
    """``(seq, gap)`` of the gaps the automatic purge counts as clock changes, of either sign
    (spans of :data:`FAR`)."""
    return [(ev.seq, counted_gap(ev, FAR)) for ev in events if counted_gap(ev, FAR)]


def since_boot() -> float:
    """Seconds of a clock that a change of the date does not move and that runs on while the
    machine is suspended (``CLOCK_BOOTTIME``; ``time.monotonic`` where there is none): a
    night of suspend is time that passed, not a jump of the wall clock."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boottime) if boottime is not None else time.monotonic()


class ClockWatch:
    """Notices wall-clock jumps while the process runs, against the monotonic clock.

    Parameters
    ----------
    clock : callable
        The log's wall clock (aware datetimes).
    monotonic : callable or None
        Seconds of a clock that jumps do not move (:func:`since_boot`); None turns the check
        off (tests that move an injected wall clock by hand).
    """

    def __init__(self, clock: Callable[[], datetime],
                 monotonic: Callable[[], float] | None = since_boot) -> None:
        self._clock = clock
        self.monotonic = monotonic
        self._base: tuple[datetime, float] | None = None
        self.pending: list[tuple[datetime, datetime, timedelta]] = []
        """Jumps noticed and not yet recorded: ``(expected wall time, wall time, gap)``."""

    def observe(self, now: datetime) -> None:
        """Compare ``now`` with the monotonic clock; remember a jump larger than TOLERANCE."""
        if self.monotonic is None:
            return
        mono = self.monotonic()
        if self._base is not None:
            expected = self._base[0] + timedelta(seconds=mono - self._base[1])
            gap = now - expected
            if abs(gap) > TOLERANCE:
                self.pending.append((expected, now, gap))
        self._base = (now, mono)

    def pending_gap(self) -> timedelta:
        """Jumps noticed and not recorded yet, of either sign (judging lockouts before the
        next write)."""
        return sum((gap for _, _, gap in self.pending), timedelta(0))
