"""One session's wall times: the wall clock read once, when the session starts, and every later
time of the session that start plus the monotonic time elapsed since.

The system clock may be stepped while a person is in front of the kiosk (an NTP correction
soon after boot, a technician setting the date). Read afresh for each frame and at the end,
it would record a session that ends before it started, which the audit log refuses (the
honest person's check then fails as interrupted and counts toward a lockout), or a response
before its prompt. Times derived from one reading stay in order, lie within the session, and
differ by the time that really passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class SessionClock:
    """Wall times of one session, in order whatever the system clock does meanwhile.

    Calling it gives now: ``started_at`` plus the monotonic time elapsed since the start.

    Parameters
    ----------
    started_at : datetime
        Timezone-aware wall time at the start: the session's only reading of the wall clock.
    monotonic : callable
        ``monotonic() -> float``, seconds that never go back (``time.monotonic``).
    origin : float
        ``monotonic()`` at the start.
    """

    started_at: datetime
    monotonic: Callable[[], float]
    origin: float

    @classmethod
    def start(cls, wall: Callable[[], datetime],
              monotonic: Callable[[], float]) -> SessionClock:
        """Read both clocks now, once."""
        return cls(wall(), monotonic, monotonic())

    def __call__(self) -> datetime:
        return self.started_at + timedelta(seconds=self.monotonic() - self.origin)
