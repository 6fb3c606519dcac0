"""The operator PIN: constant-time check (of the PIN or its salted hash), and a pause after
repeated wrong entries that a restart does not clear (the count is read back from the audit
log's ``pin_refused`` / ``pin_accepted`` records)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.settings import pin_matches

MAX_WRONG = 5
"""Wrong PINs in a row that start a refusal."""

REFUSAL = timedelta(minutes=5)
"""How long every entry is refused after :data:`MAX_WRONG` wrong PINs."""

EMPTY_HINT = "Type the PIN."
"""The answer to an empty entry, which is not counted."""


@dataclass(frozen=True)
class PinResult:
    """The outcome of one PIN entry.

    Attributes
    ----------
    accepted : bool
        The PIN was right and the panel may open.
    message : str
        What to tell the person at the keypad (never the PIN).
    wrong : bool
        This entry was compared and was wrong (False when the panel is disabled or the entry
        was refused without comparing).
    wrong_in_a_row : int
        Wrong entries since the last right one or the last refusal.
    refused_until : datetime or None
        While set, every entry is refused without being compared.
    """

    accepted: bool
    message: str
    wrong: bool = False
    wrong_in_a_row: int = 0
    refused_until: datetime | None = None


PinState = tuple[int, datetime | None]
"""``(wrong entries in a row, refused until)`` as stored."""


class PinGate:
    """Checks entered PINs against the configured one; thread-safe.

    Parameters
    ----------
    clock : callable
        Returns the current aware datetime.
    max_wrong : int
        Wrong entries in a row that start a refusal.
    refusal : timedelta
        Length of the refusal.
    stored : callable, optional
        Returns the :data:`PinState` kept in the audit log, read at every entry, so a restart
        of the kiosk does not clear the count (the caller records each outcome). The count
        in memory is used when it is ahead (a record that failed); its end is read on the
        clock as it is now (the log moves it by the clock changes recorded since).
    monotonic : callable, optional
        Seconds of a clock that a change of the date does not move: a refusal lasts its
        length whatever the wall clock does meanwhile. None reads ``clock`` (an injected
        clock the caller moves by hand).
    """

    def __init__(self, clock: Callable[[], datetime], *, max_wrong: int = MAX_WRONG,
                 refusal: timedelta = REFUSAL,
                 stored: Callable[[], PinState] | None = None,
                 monotonic: Callable[[], float] | None = None) -> None:
        if max_wrong < 1 or refusal <= timedelta(0):
            raise ValueError("max_wrong must be at least 1 and refusal positive")
        self._clock = clock
        self._monotonic = monotonic if monotonic is not None else (
            lambda: clock().timestamp())
        self._max_wrong = max_wrong
        self._refusal = refusal
        self._stored = stored
        self._lock = threading.Lock()
        self._wrong = 0
        self._deadline: float | None = None  # end of the refusal, on the monotonic clock

    @property
    def refusal(self) -> timedelta:
        return self._refusal

    def refused_until(self, *, stored: bool = False) -> datetime | None:
        """The end of the refusal in force, else None.

        Without ``stored``, the refusal this process knows of (no log read: safe on the UI
        thread). With it, the state kept in the audit log is read first, so a refusal from
        before a restart of the kiosk counts too.
        """
        with self._lock:
            if stored:
                self._load()
            return self._left()[1]

    def _left(self) -> tuple[timedelta, datetime | None]:
        """``(time left, its end on the wall clock)`` of the refusal in force, else
        ``(0, None)``."""
        if self._deadline is None:
            return timedelta(0), None
        left = timedelta(seconds=self._deadline - self._monotonic())
        return (left, self._clock() + left) if left > timedelta(0) else (timedelta(0), None)

    def _load(self) -> None:
        if self._stored is None:
            return
        wrong, until = self._stored()
        if wrong > self._wrong or (wrong == 0 and until is None and self._deadline is None):
            self._wrong = wrong
        if until is not None:
            deadline = self._monotonic() + (until - self._clock()).total_seconds()
            if self._deadline is None or deadline > self._deadline:
                self._deadline = deadline

    def check(self, entered: str, expected: str) -> PinResult:
        """Compare ``entered`` with ``expected`` (``settings.kiosk.operator_pin``).

        An empty ``expected`` means the panel is disabled: nothing is accepted. An empty
        ``entered`` is no entry (Enter pressed on an empty field): it is not compared, and
        does not count as a wrong PIN.
        """
        if not isinstance(entered, str):
            raise ValueError(f"entered must be a string, not {type(entered).__name__}")
        if not expected:
            return PinResult(False, "The operator panel is disabled: no operator PIN is set "
                             "(kiosk.operator_pin).")
        with self._lock:
            self._load()
            if self._deadline is not None:
                wait, until = self._left()
                if until is not None:
                    return PinResult(False, _wait_message(wait), wrong_in_a_row=self._wrong,
                                     refused_until=until)
                self._deadline, self._wrong = None, 0
            if not entered:
                return PinResult(False, EMPTY_HINT, wrong_in_a_row=self._wrong)
            if pin_matches(entered, expected):
                self._wrong = 0
                return PinResult(True, "PIN accepted.")
            self._wrong += 1
            left = self._max_wrong - self._wrong
            if left > 0:
                return PinResult(False, f"Wrong PIN. {left} more wrong "
                                 f"{'entry' if left == 1 else 'entries'} and the panel locks "
                                 f"for {_duration(self._refusal)}.", wrong=True,
                                 wrong_in_a_row=self._wrong)
            self._deadline = self._monotonic() + self._refusal.total_seconds()
            return PinResult(False, f"Wrong PIN. {_wait_message(self._refusal)}", wrong=True,
                             wrong_in_a_row=self._wrong,
                             refused_until=self._clock() + self._refusal)


def _duration(delta: timedelta) -> str:
    seconds = max(1, round(delta.total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    if minutes and seconds:
        return f"{minutes} min {seconds} s"
    if minutes:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    return f"{seconds} s"


def _wait_message(left: timedelta) -> str:
    return f"Too many wrong PINs: try again in {_duration(left)}."
