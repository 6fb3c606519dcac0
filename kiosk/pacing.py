"""How soon an unattended kiosk may start another check after checks that ended unjudged.

A check stopped at once costs whoever stops it a second or two, and the kiosk a recorded
attempt (about 5 kB of audit log): a lock-down audit started 73 checks in 2 minutes, with
Start, I agree and Stop 0.3 s into each, and nothing slowed it down. So after repeated checks
in a row that ended before the person could be judged (Stop, a camera or recording that
ended, a face never placed: :func:`kiosk.session.unjudged.ended_unjudged`), the next one may
start only after a pause, counted from the end of the last; the idle screen says to wait,
with a countdown and no reason. Any other decision ends the run: the check was judged (a
pass, or a failure on the person's answers, liveness or the match) or failed for the kiosk's
own reason. A check that ended without a decision (an error, the kiosk out of service
meanwhile) neither adds to the run nor ends it.

The numbers:

- :data:`FREE_RUN` (2): the first two unjudged checks in a row cost no wait, so a person who
  presses Stop by mistake and starts over, and the next person after someone who walked
  away from the check, start at once.
- :data:`FIRST_PAUSE_S` (10 s) after the third, about one honest check from consent to its
  result (7.4 s without the light check, 10.4 s with it: ``benchmarks/ui.py``): stopping at
  once then starts checks no faster than running them through would, so a stop buys no
  extra attempts.
- Each further one in a row doubles the pause, up to :data:`LONGEST_PAUSE_S` (60 s), the
  default limit of one whole check (``liveness.session_limit_s``): a queue already waits that
  long behind one person whose check runs to its limit, so nobody waits longer behind the
  pause than behind a slow person. At the cap a loop of stops starts at most one check a
  minute (the audit's loop: 36 a minute).

A staffed desk is not paced: a member of staff starts every check there (the identity step),
so nobody at the desk can loop checks alone, and staff stop checks for their own reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Unjudged checks in a row that cost no wait.
FREE_RUN = 2
#: Seconds of the first pause (after the first unjudged check beyond :data:`FREE_RUN`).
FIRST_PAUSE_S = 10.0
#: Seconds of the longest pause.
LONGEST_PAUSE_S = 60.0


def pause_after(run: int) -> float:
    """Seconds before the next start after ``run`` unjudged checks in a row (see the module
    docstring): 0 up to :data:`FREE_RUN`, then :data:`FIRST_PAUSE_S` doubling each time, at
    most :data:`LONGEST_PAUSE_S`."""
    if run < 0:
        raise ValueError(f"run must be >= 0, got {run}")
    if run <= FREE_RUN:
        return 0.0
    doublings = min(run - FREE_RUN - 1, 32)  # the cap is reached long before: no overflow
    return min(FIRST_PAUSE_S * 2.0 ** doublings, LONGEST_PAUSE_S)


class StartPacer:
    """Counts the unjudged checks in a row and says how long the next start must wait.

    Parameters
    ----------
    clock : callable
        Monotonic seconds (the flow's clock).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._run = 0
        self._until = clock()

    @property
    def run(self) -> int:
        """Unjudged checks in a row so far."""
        return self._run

    def ended(self, *, unjudged: bool) -> None:
        """A check ended: before it could be judged, or judged (which ends the run)."""
        if not unjudged:
            self._run = 0
            self._until = self._clock()
            return
        self._run += 1
        pause = pause_after(self._run)
        self._until = self._clock() + pause
        if pause > 0:
            log.info("%d checks in a row ended unjudged: the next may start in %.0f s",
                     self._run, pause)

    def wait_s(self) -> float:
        """Seconds until the next check may start (0 when it may now)."""
        return max(self._until - self._clock(), 0.0)
