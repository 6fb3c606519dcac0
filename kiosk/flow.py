"""The kiosk's screens as a plain state machine: which screen shows, and when it changes.

No Qt here: the window calls these methods from its slots and timers and redraws on each
transition; the tests drive the same object with a fake clock::

    idle -> consent -> [identity (staffed desk only)] -> live -> processing -> result -> idle

Out of service is entered from any screen while any cause is active (camera, audit log,
configuration, ...) and left, to idle, when the last cause clears. The operator panel is
entered only between verifications. Every screen a person can leave unattended has a timeout,
so the kiosk always finds its way back to idle. After repeated checks in a row that ended
before they could be judged, an unattended kiosk's next check waits (:mod:`kiosk.pacing`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.cloud.timing import comparison_limit_s
from kiosk.pacing import StartPacer
from kiosk.session import SessionRequest
from kiosk.session.members import checks_members
from kiosk.session.unjudged import ended_unjudged
from kiosk.vocabulary import FaultCause, FlowState, Stage
from kiosk.wording import RESULT_ERROR, ResultMessage, result_message

log = logging.getLogger(__name__)

STATES = tuple(FlowState)

#: States during which a session runs in the worker.
BUSY = frozenset({FlowState.LIVE, FlowState.PROCESSING})

Listener = Callable[[str, str], None]

#: The accessible check's result stays this many times longer (its person chose more time).
ACCESSIBLE_RESULT_FACTOR = 2.0

#: Seconds the idle screen keeps the notice that the last person is locked out, from when it
#: first shows (times :data:`ACCESSIBLE_RESULT_FACTOR` after the accessible check). The notice
#: is for that person: they read it on their result, and again here if they pressed Done at
#: once or look back on their way out. 25 s is the result screen's own default time
#: (``kiosk.result_seconds``: the longest result read slowly, plus a few seconds to look up),
#: more than twice the notice's own 16 words at a slow reading pace (about 10 s). Longer, and
#: it tells the queue about someone who has gone (the auditor saw it still there 90 s on);
#: the next person's way into a check (Start, stepping up, the accessible choice) clears it
#: earlier. The whole kiosk's lockout is about no one person and stays while it holds.
SUBJECT_NOTICE_S = 25.0

#: Seconds a well-placed face held at idle, while it cannot start the kiosk by itself, waits
#: before the idle screen tells it to press Start. Auto-start is disarmed when the kiosk
#: returns to idle (the person just served is probably still there) and re-arms only once
#: nobody is in view, which a queue never gives: the next person replaces the last with no
#: gap, or someone behind stays in view. The kiosk cannot tell the person just served from the
#: next one by their face at idle, so neither may start a check by standing still, and
#: re-arming when the face leaves the oval and comes back would restart the served person who
#: shifts their weight; instead the screen says plainly what to do. 3 s: an armed kiosk would
#: have opened the consent screen after ``kiosk.approach_s`` (1 s by default), so whoever
#: still stands there waiting has waited three times that; sooner, the line would flash at
#: everyone who passes the oval.
START_HINT_S = 3.0


@dataclass(frozen=True)
class FlowConfig:
    """Timing and mode of the flow.

    Attributes
    ----------
    staffed : bool
        Show the identity step (settings ``kiosk.mode == "staffed"``).
    approach_s : float
        A well-placed face (guidance OK) for this long starts the kiosk from idle.
    consent_timeout_s, identity_timeout_s : float
        Inactivity after which these screens give up and return to idle.
    warning_s : float
        The consent screen warns this long before it gives up (half its time when that is
        shorter): 20 s, the least WCAG 2.2.1 allows to ask for more time.
    result_s : float
        How long the result stays without input (settings ``kiosk.result_seconds``;
        :data:`ACCESSIBLE_RESULT_FACTOR` times this after the accessible check).
    stall_s : float
        A session that reports nothing for this long puts the kiosk out of service (the
        worker is stuck); it must exceed the matcher's worst case (time-outs x attempts).
    processing_s : float
        The processing screen shows at least this long, so a person sees that the check is
        being decided (it takes 30-50 ms without a cloud call).
    """

    staffed: bool = False
    member_check_in: bool = False
    approach_s: float = 1.0
    consent_timeout_s: float = 60.0
    identity_timeout_s: float = 180.0
    warning_s: float = 20.0
    result_s: float = 25.0
    stall_s: float = 90.0
    processing_s: float = 0.8

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> FlowConfig:
        """Mode and result time from the settings; the stall limit comes after the longest
        a comparison may take (every call's time-outs and the local fallback), with a
        margin: the matcher gives up first, and the session ends in its own words."""
        worst_match = comparison_limit_s(settings.matching)
        values = dict(staffed=settings.kiosk.mode == "staffed",
                      member_check_in=checks_members(settings),
                      approach_s=float(settings.kiosk.approach_s),
                      consent_timeout_s=float(settings.kiosk.consent_timeout_s),
                      identity_timeout_s=float(settings.kiosk.identity_timeout_s),
                      result_s=float(settings.kiosk.result_seconds),
                      stall_s=max(90.0, worst_match + 30.0))
        values.update(overrides)
        return cls(**values)


class KioskFlow:
    """The screen state machine.

    Parameters
    ----------
    config : FlowConfig
    clock : callable
        Monotonic seconds (``time.monotonic``; tests inject a fake).

    Notes
    -----
    Methods return True when they changed the state (or, for inputs that do not, when the
    input was accepted). Listeners added with :meth:`add_listener` are called as
    ``listener(old, new)`` after every change. Session ids tie the worker's reports to the
    session the flow started: reports of an older session are ignored.
    """

    def __init__(self, config: FlowConfig = FlowConfig(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._state = FlowState.IDLE
        self._listeners: list[Listener] = []
        self._faults: dict[str, str] = {}
        self._since = clock()
        self._face_ok_since: float | None = None
        self._armed = True
        self._session_id = 0
        self._last_report = self._since
        self._request = SessionRequest()
        self._result: ResultMessage | None = None
        self._pending: ResultMessage | None = None   # decided, processing still showing
        self._kiosk_locked = False
        self._subject_locked = False   # the idle screen's notice about the last person
        self._subject_reported = False  # the runtime's last report: a subject is locked
        self._subject_dismissed = False  # that reported lockout's notice has been taken down
        self._notice_until: float | None = None  # when the notice goes (set once it shows)
        self._accessible = False
        self._pacer = StartPacer(clock)

    # -- reading --------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def busy(self) -> bool:
        """True while a session runs (live check or processing)."""
        return self._state in BUSY

    @property
    def session_id(self) -> int:
        """Id of the latest session started (0 before the first)."""
        return self._session_id

    @property
    def request(self) -> SessionRequest:
        """What the identity step supplied for the current session (empty when unattended)."""
        return self._request

    @property
    def result(self) -> ResultMessage | None:
        """The message of the last result (None before the first)."""
        return self._result

    @property
    def faults(self) -> dict[str, str]:
        """Active causes of being out of service, with their reasons for staff."""
        return dict(self._faults)

    @property
    def fault_reason(self) -> str:
        """All active reasons in one line for the out-of-service screen ('' when none)."""
        return "; ".join(f"{cause}: {reason}" for cause, reason in self._faults.items())

    @property
    def kiosk_locked(self) -> bool:
        """This kiosk is locked out: self-service is paused until staff or time lift it."""
        return self._kiosk_locked

    @property
    def subject_locked(self) -> bool:
        """The person just served was locked out by their last failure, and the idle screen
        tells them so: until the next person starts a check, or for
        :data:`SUBJECT_NOTICE_S` from when the idle screen first shows it."""
        return self._subject_locked

    @property
    def start_hint(self) -> bool:
        """The idle screen should tell the face in view to press Start: it has been well
        placed for :data:`START_HINT_S` and cannot start the kiosk by itself (auto-start is
        disarmed until nobody is in view; see :data:`START_HINT_S` for why)."""
        return (self._state == FlowState.IDLE and not self._armed and not self._kiosk_locked
                and self.start_wait_s() == 0.0 and self._face_ok_since is not None
                and self._clock() - self._face_ok_since >= START_HINT_S)

    def start_wait_s(self) -> float:
        """Seconds until a check may start, after repeated checks in a row that ended
        unjudged at an unattended kiosk (0 when one may start now): see :mod:`kiosk.pacing`.
        """
        return self._pacer.wait_s()

    @property
    def accessible(self) -> bool:
        """The person chose the accessible check (more time for each prompt, no blink, no
        flashing; prompts in place of the light step, so possibly more of them)."""
        return self._accessible

    @property
    def auto_start_armed(self) -> bool:
        """Whether an approaching face may start the kiosk (re-armed once nobody is in view)."""
        return self._armed

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(old, new)`` after every state change."""
        self._listeners.append(listener)

    # -- person inputs --------------------------------------------------------------------

    def start(self) -> bool:
        """The Start button: idle -> consent (refused while the kiosk is locked out, or
        while the next check must wait: :meth:`start_wait_s`)."""
        if self._kiosk_locked or self.start_wait_s() > 0.0:
            return False
        return self._state == FlowState.IDLE and self._go(FlowState.CONSENT)

    def set_accessible(self, on: bool) -> bool:
        """The choice of the accessible check, on the idle or the consent screen, for the
        next session."""
        if self._state not in (FlowState.IDLE, FlowState.CONSENT):
            return False
        if self._state == FlowState.IDLE:
            self._dismiss_subject()  # the next person is choosing their check
        self._accessible = bool(on)
        return True

    def lockouts(self, *, kiosk: bool, subject: bool) -> None:
        """The runtime's report of the lockouts in force (shown on the idle screen). A
        subject's lockout whose notice was taken down (the next person began, or its time
        ran out) is not shown again however often it is reported; one that ends and a new
        one are."""
        self._kiosk_locked = bool(kiosk)
        self._subject_reported = bool(subject)
        if not subject:
            self._subject_locked = self._subject_dismissed = False
            self._notice_until = None
        elif not self._subject_dismissed and not self._subject_locked:
            self._subject_locked = True
            self._time_notice()

    def face_seen(self, ok: bool, present: bool = True) -> bool:
        """Live guidance outside a session: ``ok`` when a face is well placed, ``present``
        when any face is in view. A well-placed face held for ``approach_s`` starts the kiosk.
        """
        if not present:
            self._armed = True
        if (self._state != FlowState.IDLE or not ok or not present or self._kiosk_locked
                or self.start_wait_s() > 0.0):
            self._face_ok_since = None
            return False
        now = self._clock()
        if self._face_ok_since is None:
            self._face_ok_since = now  # also while disarmed: see start_hint
        if self._armed and now - self._face_ok_since >= self.config.approach_s:
            return self._go(FlowState.CONSENT)
        return False

    def touch(self) -> None:
        """Any key, click, wheel or touch: restarts the current screen's timeout (consent,
        identity, result)."""
        if self._state in (FlowState.CONSENT, FlowState.IDENTITY, FlowState.RESULT):
            self._since = self._clock()

    def accept(self) -> bool:
        """Consent given: to the identity step (staffed) or straight to the live check."""
        if self._state != FlowState.CONSENT:
            return False
        if self.config.staffed:
            return self._go(FlowState.IDENTITY)
        return self._start_session(SessionRequest(accessible=self._accessible,
                                                  member_check_in=self.config.member_check_in))

    def decline(self) -> bool:
        """No consent, or the identity step cancelled: back to idle."""
        return self._state in (FlowState.CONSENT, FlowState.IDENTITY) and self._go(FlowState.IDLE)

    def identity_ready(self, reference: Any, subject_number: str | None = None, *,
                       id_scan: tuple[str, int] | None = None) -> bool:
        """Staff supplied the ID photo (ndarray (H, W, 3) uint8 BGR), from the scanner file
        ``id_scan`` names when it is a scan: start the live check."""
        if self._state != FlowState.IDENTITY:
            return False
        if reference is None:
            raise ValueError("the identity step needs a reference photo")
        number = (subject_number or "").strip() or None
        return self._start_session(SessionRequest(reference=reference, subject_number=number,
                                                  accessible=self._accessible,
                                                  id_scan=id_scan))

    def finish(self) -> bool:
        """The Done button on the result screen."""
        return self._state == FlowState.RESULT and self._go(FlowState.IDLE)

    def stop(self) -> bool:
        """The Stop button (or Escape) during the live check: back to idle; the window
        cancels the session, which the runtime records as a failure (STOPPED, unjudged)."""
        if self._state != FlowState.LIVE:
            return False
        self._paced(unjudged=True)  # before the idle screen shows: it shows the wait
        return self._go(FlowState.IDLE)

    # -- worker reports -------------------------------------------------------------------

    def progress(self, session_id: int, stage: str) -> bool:
        """A progress report of a session; analysing or matching shows the processing screen."""
        if session_id != self._session_id or self._state not in BUSY:
            return False
        self._last_report = self._clock()
        if self._state == FlowState.LIVE and stage in (Stage.ANALYSING, Stage.MATCHING):
            self._go(FlowState.PROCESSING)
        return True

    def decided(self, session_id: int, decision: Any) -> bool:
        """The session's :class:`~kiosk.session.Decision`: show the result."""
        if session_id != self._session_id:
            return False
        if self.clear(FaultCause.SESSION) or self._state not in BUSY:
            # Out of service meanwhile: the attempt is recorded, but the person has been
            # told to ask staff; the result is not shown.
            return False
        message = result_message(decision)
        self._paced(unjudged=ended_unjudged(decision.reasons))
        if any(scope == "subject" for scope, _ in getattr(decision, "lockouts", ())):
            # This person's own lockout: the idle screen tells them after their result.
            self._subject_locked, self._subject_dismissed = True, False
            self._notice_until = None
        # The processing screen shows for its minimum time first (see tick).
        self._go(FlowState.PROCESSING)
        self._pending = message
        self._show_pending()
        return True

    def _show_pending(self) -> bool:
        """Show the decided result once the processing screen has had its time."""
        if self._state != FlowState.PROCESSING or self._pending is None or (
                self._clock() - self._since < self.config.processing_s):
            return False
        self._result, self._pending = self._pending, None
        return self._go(FlowState.RESULT)

    def session_failed(self, session_id: int) -> bool:
        """The session ended without a decision (an unexpected error in the worker)."""
        if session_id != self._session_id:
            return False
        if self.clear(FaultCause.SESSION) or self._state not in BUSY:
            return False  # as for a late decision: the worker answers again
        self._result = RESULT_ERROR
        return self._go(FlowState.RESULT)

    # -- faults ---------------------------------------------------------------------------

    def fault(self, cause: str, reason: str) -> bool:
        """``cause`` is failing: out of service (the operator panel, if open, stays; a
        decision already made is shown first, and the kiosk goes out of service when its
        result screen ends)."""
        self._faults[cause] = reason
        if self._state in (FlowState.OUT_OF_SERVICE, FlowState.OPERATOR):
            return False
        if self._state == FlowState.RESULT or (self._state == FlowState.PROCESSING
                                               and self._pending is not None):
            return False  # the person learns their result (a camera or disk that failed
            # after it was made does not change it); see _go for what follows
        return self._go(FlowState.OUT_OF_SERVICE)

    def clear(self, cause: str) -> bool:
        """``cause`` works again; idle once no cause is left."""
        if self._faults.pop(cause, None) is None:
            return False
        if self._state == FlowState.OUT_OF_SERVICE and not self._faults:
            return self._go(FlowState.IDLE)
        return False

    # -- operator -------------------------------------------------------------------------

    def open_operator(self) -> bool:
        """The operator escape; refused while a session runs (it would abandon a person)."""
        if self._state in BUSY or self._state == FlowState.OPERATOR:
            return False
        return self._go(FlowState.OPERATOR)

    def close_operator(self) -> bool:
        if self._state != FlowState.OPERATOR:
            return False
        return self._go(FlowState.OUT_OF_SERVICE if self._faults else FlowState.IDLE)

    # -- time -----------------------------------------------------------------------------

    def tick(self) -> bool:
        """Apply the timeouts; call a few times a second. (The last person's notice going
        is not a change of screen: read :attr:`subject_locked`.)"""
        now = self._clock()
        if self._notice_until is not None and now >= self._notice_until:
            self._dismiss_subject()
        if self.seconds_left() == 0.0:
            return self._go(FlowState.IDLE)
        if self._show_pending():
            return True
        silent = now - self._last_report
        if self._state in BUSY and silent >= self.config.stall_s:
            log.error("session %d reported nothing for %.0f s", self._session_id, silent)
            return self.fault(FaultCause.SESSION, "the verification stopped responding")
        if (FaultCause.SESSION in self._faults and FaultCause.INTERNAL not in self._faults
                and silent >= 2 * self.config.stall_s):
            # Twice the worst case and still nothing: the worker is hung, only a restart helps.
            log.error("session %d has reported nothing for %.0f s: the worker is hung",
                      self._session_id, silent)
            self.fault(FaultCause.INTERNAL,
                       f"the verification has not responded for {silent:.0f} s")
            return True
        return False

    def _timeout(self) -> float | None:
        """The current screen's inactivity limit (None for screens without one)."""
        config = self.config
        result_s = config.result_s * (ACCESSIBLE_RESULT_FACTOR if self._accessible else 1.0)
        limits = {FlowState.CONSENT: config.consent_timeout_s,
                  FlowState.IDENTITY: config.identity_timeout_s, FlowState.RESULT: result_s}
        return limits.get(self._state)

    def seconds_left(self) -> float | None:
        """Time until the current screen's timeout (None for screens without one)."""
        limit = self._timeout()
        if limit is None:
            return None
        return max(limit - (self._clock() - self._since), 0.0)

    def warning_left(self) -> float | None:
        """Seconds left while the consent screen warns that it will give up, else None."""
        left = self.seconds_left()
        warn = min(self.config.warning_s, self.config.consent_timeout_s / 2)
        if self._state != FlowState.CONSENT or left is None or left > warn:
            return None
        return left

    # -- internals ------------------------------------------------------------------------

    def _dismiss_subject(self) -> None:
        """Take down the notice about the last person (the runtime's reports of the same
        lockout then leave it down)."""
        self._subject_locked = False
        self._subject_dismissed = self._subject_reported
        self._notice_until = None

    def _time_notice(self) -> None:
        """Start the notice's time once the idle screen shows it."""
        if self._subject_locked and self._state == FlowState.IDLE and self._notice_until is None:
            factor = ACCESSIBLE_RESULT_FACTOR if self._accessible else 1.0
            self._notice_until = self._clock() + SUBJECT_NOTICE_S * factor

    def _paced(self, *, unjudged: bool) -> None:
        """A session ended: count it toward the pause before the next start (not at a
        staffed desk, where staff start every check: see :mod:`kiosk.pacing`)."""
        if not self.config.staffed:
            self._pacer.ended(unjudged=unjudged)

    def _start_session(self, request: SessionRequest) -> bool:
        self._session_id += 1
        self._request = request
        self._last_report = self._clock()
        return self._go(FlowState.LIVE)

    def _go(self, new: FlowState) -> bool:
        if new == FlowState.IDLE and self._faults:
            new = FlowState.OUT_OF_SERVICE  # a fault that came while a result was shown
        old = self._state
        if new == old:
            return False
        self._state = new
        self._since = self._clock()
        self._face_ok_since = None
        if new == FlowState.IDLE and old in (FlowState.CONSENT, FlowState.IDENTITY,
                                             FlowState.LIVE, FlowState.RESULT,
                                             FlowState.OPERATOR):
            # Whoever was just served is probably still in view: wait until nobody is.
            self._armed = False
        if new == FlowState.CONSENT:
            self._dismiss_subject()  # Start or stepping up: the next person's check
        if new == FlowState.IDLE:
            self._time_notice()  # before the choice below goes: its person's own time
            self._accessible = False  # each person chooses for themselves
        if new != FlowState.PROCESSING:
            self._pending = None
        if new not in BUSY:
            self._request = SessionRequest()  # drop the ID photo as soon as it is not needed
        log.info("screen: %s -> %s", old, new)
        for listener in list(self._listeners):
            listener(old, new)
        return True
