"""How far this kiosk's clock has moved since each of its rows was written.

The sender measures the clock offset to the server when it ships (see
:mod:`kiosk.audit.fleet.skew`), but a row written before a change of the kiosk's clock was
stamped by the clock as it read then: NTP stepping a slow clock right while the rows of an
outage wait, or a kiosk that came up in 2000 and was corrected later. The offset that puts
such a row on the server's clock is the one measured now plus every change since the row:

- the changes the log recorded after the row (``clock`` actions), read by the log's own rule
  for a single time (:func:`kiosk.audit.clock.shift_after` over
  :data:`~kiosk.audit.clock.INSTANT`): a jump while running, measured against the monotonic
  clock, so exact; a gap found at a start, which may also hold time the kiosk was switched
  off: rows queued across it are then read later by that time, towards refusing a person
  rather than admitting one;
- a change since the log's latest write in this run, which no write has recorded yet (the log
  records a jump at its next write, before that write's rows), seen against the monotonic
  clock when there is one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from sqlite_utils import Database

from kiosk.audit.clock import INSTANT, TOLERANCE, clock_events, shift_after
from kiosk.audit.outbox import ShippedRow
from kiosk.audit.timeutil import Clock

__all__ = ["ClockTrail"]


class ClockTrail:
    """See the module docstring.

    Parameters
    ----------
    path : path-like
        The kiosk's audit database (read through a read-only connection of its own).
    clock : callable
        The log's wall clock (aware datetimes).
    monotonic : callable or None
        Seconds of a clock that a change of the date does not move; None (an injected wall
        clock) leaves only the recorded changes.
    """

    def __init__(self, path: str | Path, *, clock: Clock,
                 monotonic: Callable[[], float] | None) -> None:
        self._db = Database(sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True,
                                            check_same_thread=False))
        self._clock = clock
        self._monotonic = monotonic
        self._at_write = self._reading()

    def close(self) -> None:
        self._db.close()

    def _reading(self) -> float | None:
        """The wall clock minus the monotonic one, in seconds: it moves only when the wall
        clock is changed."""
        if self._monotonic is None:
            return None
        return self._clock().timestamp() - self._monotonic()

    def written(self) -> None:
        """The log committed a write: a change of the clock before it is recorded there."""
        self._at_write = self._reading()

    def unrecorded(self) -> timedelta:
        """A change of the clock since the latest write, larger than the log's tolerance (the
        log would record it as a jump at its next write)."""
        now, then = self._reading(), self._at_write
        if now is None or then is None:
            return timedelta(0)
        moved = timedelta(seconds=now - then)
        return moved if abs(moved) > TOLERANCE else timedelta(0)

    def shifts(self, rows: Sequence[ShippedRow]) -> list[timedelta]:
        """For each row, how far the clock moved after it was written (add it to the offset
        measured now)."""
        events = clock_events(self._db)
        pending = self.unrecorded()
        return [pending + shift_after(events, row.seq, INSTANT) for row in rows]
