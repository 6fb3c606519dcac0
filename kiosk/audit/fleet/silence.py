"""How long the fleet server has been silent, for ``fleet.unreachable_policy = "refuse"``.

Within a run the silence is measured on a monotonic clock that runs on while the machine is
suspended (``CLOCK_BOOTTIME``, :func:`kiosk.audit.clock.since_boot`): a wall clock set back
(a dead real-time clock, and no network for NTP to correct it) would otherwise keep the
silence at zero and the kiosk admitting people for as long as the outage lasts. Across a
restart only the wall clock links this run to the last answer recorded in the local log: when
it reads earlier than that answer, the clock is wrong and the time between is unknown, so
the silence counts from that answer as at least this run's own silence (never as none).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from kiosk.audit.timeutil import Clock

__all__ = ["Silence", "forward_only"]


def forward_only(clock: Clock) -> Callable[[], float]:
    """Seconds of ``clock`` counted only forward: a monotonic stand-in for an injected wall
    clock (tests; a step back adds nothing, it never takes time away)."""
    last = clock()
    total = 0.0
    lock = threading.Lock()

    def elapsed() -> float:
        nonlocal last, total
        with lock:
            now = clock()
            total += max((now - last).total_seconds(), 0.0)
            last = now
            return total

    return elapsed


class Silence:
    """The server's silence since its last answer (see the module docstring).

    Parameters
    ----------
    last_answer : datetime
        The last answer recorded in the local log (or when the fleet was configured).
    now : datetime
        The wall clock at this run's start.
    monotonic : callable
        Seconds of a clock that a change of the date does not move.
    """

    def __init__(self, last_answer: datetime, now: datetime,
                 monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        # The silence before this run, as far as the wall clock can tell: none when it reads
        # earlier than the last answer (wrong, so unknown: this run's own silence is a floor).
        before = max((now - last_answer).total_seconds(), 0.0)
        self._since = monotonic() - before  # when the silence began, on the monotonic clock

    def answered(self) -> None:
        """The server answered just now."""
        now = self._monotonic()
        with self._lock:
            self._since = max(self._since, now)

    def length(self) -> timedelta:
        """How long the server has not answered (zero right after an answer)."""
        now = self._monotonic()
        with self._lock:
            since = self._since
        return timedelta(seconds=max(now - since, 0.0))
