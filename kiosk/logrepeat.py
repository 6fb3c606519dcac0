"""How often a fault that persists is logged again.

A camera unplugged all night, or an audit log whose folder is missing, is retried every few
seconds; each try once wrote a line (about 10,800 or 17,000 a day). A changed message is
logged at once, the same one again only after :data:`REPEAT_LOG_S`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["REPEAT_LOG_S", "RepeatGate"]

REPEAT_LOG_S = 600.0
"""Seconds before the same message is logged again."""


class RepeatGate:
    """Says whether a fault's message is due to be logged.

    Parameters
    ----------
    every_s : float
        Seconds before the same message is due again.
    clock : callable
        Monotonic seconds.
    """

    def __init__(self, every_s: float = REPEAT_LOG_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._every_s = every_s
        self._clock = clock
        self._last: tuple[str, float] | None = None

    @property
    def last(self) -> str | None:
        """The last message logged since the fault began, None when there is no fault."""
        return self._last[0] if self._last is not None else None

    def due(self, message: str) -> bool:
        """True when ``message`` should be logged now (and note that it is)."""
        now = self._clock()
        if self._last is not None and self._last[0] == message \
                and now - self._last[1] < self._every_s:
            return False
        self._last = (message, now)
        return True

    def clear(self) -> str | None:
        """The fault is over: the next message is due at once. Returns the last message
        logged, for a line that says what ended (None when nothing was logged)."""
        last, self._last = self.last, None
        return last
