"""The operator PIN: constant-time check (of the PIN or its salted hash), and refusals after
repeated wrong entries, each longer than the last, that a restart does not clear (the count
is read back from the audit log's ``pin_refused`` / ``pin_accepted`` records).

What a guesser gets
-------------------
Every :data:`MAX_WRONG` wrong PINs start a refusal; the first lasts :data:`REFUSAL`, each
next one twice the last, up to :data:`MAX_REFUSAL`: 5, 10, 20, 40, 80, 160, 320, 640 and
1280 minutes, then 24 hours each. Only a right PIN starts the rounds again from 5 minutes.
Someone who types 5 PINs whenever entries are allowed gets 45 guesses on the first day
(the ninth round starts at 1275 minutes), 5 on the second (the tenth starts at 42.6 hours)
and 5 a day from then on. A 4-digit PIN (the shortest allowed: 10,000 of them, tried
without repeats) is then found in about 990 days on average (2.7 years; 5.5 years at the
most), where a fixed 5-minute refusal gave 60 guesses an hour and found it in 83 hours,
one unattended weekend. Staff who enter the right PIN every day during such an attack give
the guesser the short rounds again, 45 guesses a day (about 110 days on average): the
warning logged as each refusal starts shows the attack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from kiosk.settings import pin_matches

log = logging.getLogger(__name__)

MAX_WRONG = 5
"""Wrong PINs that start each refusal."""

REFUSAL = timedelta(minutes=5)
"""How long every entry is refused after the first :data:`MAX_WRONG` wrong PINs; each next
refusal lasts twice the last."""

MAX_REFUSAL = timedelta(hours=24)
"""The longest refusal: staff locked out by a guesser can still open the panel the next
day, and a guesser still gets no more than :data:`MAX_WRONG` guesses a day."""

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
        What to tell the person at the keypad (never the PIN, nor how many refusals came
        before: only how long to wait).
    wrong : bool
        This entry was compared and was wrong (False when the panel is disabled or the entry
        was refused without comparing).
    wrong_in_a_row : int
        Wrong entries since the last right one (refusals do not reset it: every
        :data:`MAX_WRONG` of them started one).
    refused_until : datetime or None
        While set, every entry is refused without being compared.
    """

    accepted: bool
    message: str
    wrong: bool = False
    wrong_in_a_row: int = 0
    refused_until: datetime | None = None


class PinState(NamedTuple):
    """What the audit log keeps of the PIN's entries.

    A log written before refusals grew counted from the last refusal instead (never more than
    :data:`MAX_WRONG`): read the same way, it holds at most its last refusal as a round.

    Attributes
    ----------
    wrong : int
        Wrong entries since the last right one.
    until : datetime or None
        The end of the last refusal.
    last_right : int or None
        The log's sequence number of the last right PIN, a staff reset
        (``kiosk audit pin-reset``) included; None when there is none.
    """

    wrong: int
    until: datetime | None
    last_right: int | None = None


def refusal_length(round_: int, first: timedelta = REFUSAL,
                   longest: timedelta = MAX_REFUSAL) -> timedelta:
    """The length of a refusal: ``first`` doubled at each round, never more than ``longest``.

    Parameters
    ----------
    round_ : int
        Which refusal since the last right PIN: 1 for the first.
    first : timedelta
        The first refusal's length.
    longest : timedelta
        The cap.

    Raises
    ------
    ValueError
        ``round_`` is below 1.
    """
    if round_ < 1:
        raise ValueError(f"round_ must be at least 1, not {round_}")
    length = first
    for _ in range(round_ - 1):  # doubled step by step: 2 ** round_ would overflow
        if length >= longest:
            break
        length *= 2
    return min(length, longest)


class PinGate:
    """Checks entered PINs against the configured one; thread-safe.

    Parameters
    ----------
    clock : callable
        Returns the current aware datetime.
    max_wrong : int
        Wrong entries that start each refusal.
    refusal : timedelta
        Length of the first refusal since the last right PIN; each next one is twice the
        last.
    max_refusal : timedelta
        The longest refusal.
    stored : callable, optional
        Returns the :class:`PinState` kept in the audit log, or None when the log cannot be
        read; read at every entry, so a restart of the kiosk clears neither the count nor
        the rounds it makes (the caller records each outcome, with :attr:`refusal` for a
        refusal just started). The count in memory is used when it is ahead (a record that
        failed); its end is read on the clock as it is now (the log moves it by the clock
        changes recorded since). A right PIN recorded since the last read (staff ending the
        refusals with ``kiosk audit pin-reset`` while the kiosk runs) starts the rounds
        again, as one entered here does.
    monotonic : callable, optional
        Seconds of a clock that a change of the date does not move: a refusal lasts its
        length whatever the wall clock does meanwhile. None reads ``clock`` (an injected
        clock the caller moves by hand).

    Raises
    ------
    ValueError
        ``max_wrong`` is below 1, ``refusal`` is not positive, or ``max_refusal`` is
        shorter than ``refusal``.
    """

    def __init__(self, clock: Callable[[], datetime], *, max_wrong: int = MAX_WRONG,
                 refusal: timedelta = REFUSAL, max_refusal: timedelta = MAX_REFUSAL,
                 stored: Callable[[], PinState | None] | None = None,
                 monotonic: Callable[[], float] | None = None) -> None:
        if max_wrong < 1 or refusal <= timedelta(0) or max_refusal < refusal:
            raise ValueError("max_wrong must be at least 1, refusal positive and max_refusal "
                             "no shorter than refusal")
        self._clock = clock
        self._monotonic = monotonic if monotonic is not None else (
            lambda: clock().timestamp())
        self._max_wrong = max_wrong
        self._first = refusal
        self._longest = max_refusal
        self._refusal = refusal  # the length of the refusal last started
        self._stored = stored
        self._lock = threading.Lock()
        self._wrong = 0
        self._deadline: float | None = None  # end of the refusal, on the monotonic clock
        self._read = False  # the log has been read once: _last_right is what it said
        self._last_right: int | None = None

    @property
    def refusal(self) -> timedelta:
        """The length of the refusal last started (the first one's before any): the caller
        records it with the entry that started it, so the log knows when it ends."""
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
        state = self._stored()
        if state is None:
            return  # unreadable: the count in memory stands
        wrong, until, last_right = state
        if self._read and last_right != self._last_right:
            # A right PIN recorded since the last read, by staff in another process: it ends
            # the refusals as one entered here does. Only a change counts, never the first
            # read: that right PIN may be older than entries this process counted while the
            # log could not be read.
            self._wrong, self._deadline = 0, None
        self._read, self._last_right = True, last_right
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

        Raises
        ------
        ValueError
            ``entered`` is not a string.
        """
        if not isinstance(entered, str):
            raise ValueError(f"entered must be a string, not {type(entered).__name__}")
        if not expected:
            return PinResult(False, "The operator panel is disabled: no operator PIN is set "
                             "(kiosk.operator_pin).")
        with self._lock:
            self._load()
            wait, until = self._left()
            if until is not None:
                return PinResult(False, wait_text(wait), wrong_in_a_row=self._wrong,
                                 refused_until=until)
            self._deadline = None  # over; the count stays, so the next refusal is longer
            if not entered:
                return PinResult(False, EMPTY_HINT, wrong_in_a_row=self._wrong)
            if pin_matches(entered, expected):
                self._wrong = 0
                return PinResult(True, "PIN accepted.")
            self._wrong += 1
            return self._wrong_entry()

    def _wrong_entry(self) -> PinResult:
        """The answer to a wrong PIN, counted; each :data:`MAX_WRONG` more start the next
        refusal."""
        rounds, since = divmod(self._wrong, self._max_wrong)
        if since:
            left = self._max_wrong - since
            upcoming = refusal_length(rounds + 1, self._first, self._longest)
            return PinResult(False, f"Wrong PIN. {left} more wrong "
                             f"{'entry' if left == 1 else 'entries'} and the panel locks for "
                             f"{span_text(upcoming)}.", wrong=True,
                             wrong_in_a_row=self._wrong)
        self._refusal = refusal_length(rounds, self._first, self._longest)
        self._deadline = self._monotonic() + self._refusal.total_seconds()
        # For staff reading the log: an attack shows as rounds that grow (no digits here).
        log.warning("operator PIN refusal round %d: %d wrong PINs since the last right one; "
                    "every entry refused for %s", rounds, self._wrong,
                    span_text(self._refusal))
        return PinResult(False, f"Wrong PIN. {wait_text(self._refusal)}", wrong=True,
                         wrong_in_a_row=self._wrong,
                         refused_until=self._clock() + self._refusal)


def span_text(span: timedelta) -> str:
    """``45 s``, ``3 min 29 s``, ``5 minutes``, ``2 h 5 min``, ``24 hours``: ``span``
    rounded up (to the second, to the minute from an hour on), so a wait is never said to
    be shorter than it is, nor ``0 s``."""
    seconds = max(1, int(-(-span.total_seconds() // 1)))
    if seconds >= 3600:
        hours, minutes = divmod(-(-seconds // 60), 60)
        if minutes:
            return f"{hours} h {minutes} min"
        return f"{hours} hour{'' if hours == 1 else 's'}"
    minutes, seconds = divmod(seconds, 60)
    if minutes and seconds:
        return f"{minutes} min {seconds} s"
    if minutes:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    return f"{seconds} s"


def wait_text(left: timedelta) -> str:
    """``Too many wrong PINs: try again in 3 min 29 s.`` for the time ``left``."""
    return f"Too many wrong PINs: try again in {span_text(left)}."
