"""The randomized challenge sequence: drawing it, and running it as a state machine.

:func:`draw_sequence` draws the prompts with an unpredictable source (``secrets``): a recorded
video cannot answer prompts it could not predict. :class:`ChallengeEngine` is driven by
observations and their timestamps alone (it never reads a clock), so the same code runs a live
camera, a replayed recording (scripted mode, :mod:`~kiosk.lab.scripted`) and a
synthetic stream in tests; :attr:`ChallengeEngine.progress` is what the screen shows.

The drawn sequence is never logged: each prompt is logged when it is shown, not before.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence

from kiosk.analysis.challenges.actions import (
    CHALLENGE_ACTIONS,
    HEAD_ACTIONS,
    SPONTANEOUS,
    check_action,
    contradicts,
)
from kiosk.analysis.challenges.continuity import FaceContinuity
from kiosk.analysis.challenges.events import ActionDetector
from kiosk.analysis.challenges.results import ChallengeOutcome, Progress, SequenceResult
from kiosk.model import Event, FaceObservation
from kiosk.reasons import Reason
from kiosk.vocabulary import ChallengeStatus, EngineState

log = logging.getLogger(__name__)

def draw_sequence(n: int, actions: Sequence[str] = CHALLENGE_ACTIONS, rng=None) -> tuple[str, ...]:
    """Draw ``n`` prompts, uniformly over all sequences without immediate repeats.

    The first action is uniform over ``actions`` and each next one uniform over the others,
    so each allowed sequence has probability ``1 / (k (k-1)^(n-1))``.

    Parameters
    ----------
    n : int
        Number of prompts (settings ``liveness.challenge_count``), at least 1.
    actions : sequence of str
        Distinct known actions to draw from; at least 2 when ``n >= 2``.
    rng : object with ``choice``, optional
        The randomness source; ``secrets.SystemRandom()`` when None. Tests inject a seeded
        ``random.Random``.
    """
    pool = tuple(actions)
    for action in pool:
        check_action(action)
    if len(set(pool)) != len(pool):
        raise ValueError("actions must be distinct")
    if n < 1 or (n >= 2 and len(pool) < 2) or not pool:
        raise ValueError(f"cannot draw {n} prompts without repeats from {len(pool)} actions")
    rng = secrets.SystemRandom() if rng is None else rng
    drawn = [rng.choice(pool)]
    while len(drawn) < n:
        drawn.append(rng.choice([a for a in pool if a != drawn[-1]]))
    return tuple(drawn)


class ChallengeEngine:
    """Runs a sequence of prompts over an observation stream.

    Parameters
    ----------
    actions : sequence of str
        The prompts, in order (from :func:`draw_sequence`, or a script).
    response_window_s : float
        Time allowed to answer each prompt (settings ``liveness.response_window_s``).
    min_reaction_ms : float
        Answers that start sooner after the prompt are not human (``liveness.min_reaction_ms``).
    schedule : sequence of float, optional
        Scripted mode: the time at which each prompt is shown. A prompt is shown at its time,
        or when the previous challenge is over if that is later. When None (live mode) the
        first prompt follows the baseline and each next one follows the previous answer after
        ``settle_s``, once the head is back near rest (at most ``max_settle_s`` later).
    settle_s, max_settle_s : float
        Live mode pause between an answer and the next prompt.
    completion_grace_s : float
        An answer that started inside the window but is still in progress when it closes (a
        head still turned) may finish this much later.
    baseline_timeout_s : float
        Live mode: fail with ``NO_BASELINE`` if no steady baseline is found in this time.
    detector : ActionDetector, optional
        Defaults to one built from ``detector_options``.
    continuity : FaceContinuity, optional
        Defaults to :class:`FaceContinuity` with its defaults.
    **detector_options :
        Passed to :class:`ActionDetector` (``turn_angle_deg``, ``baseline_s``, ...).
    """

    def __init__(self, actions: Sequence[str], *, response_window_s: float = 4.0,
                 min_reaction_ms: float = 150.0, schedule: Sequence[float] | None = None,
                 settle_s: float = 0.5, max_settle_s: float = 2.0,
                 completion_grace_s: float = 1.0, baseline_timeout_s: float = 10.0,
                 detector: ActionDetector | None = None,
                 continuity: FaceContinuity | None = None, **detector_options) -> None:
        self.actions = tuple(check_action(a) for a in actions)
        if not self.actions:
            raise ValueError("actions must not be empty")
        if schedule is not None:
            schedule = tuple(float(t) for t in schedule)
            if len(schedule) != len(self.actions) or any(
                    b < a for a, b in zip(schedule, schedule[1:], strict=False)):
                raise ValueError("schedule must give one non-decreasing time per action")
        if response_window_s <= 0 or min_reaction_ms < 0:
            raise ValueError("response_window_s must be > 0 and min_reaction_ms >= 0")
        self.schedule = schedule
        self.window_s = float(response_window_s)
        self.min_reaction_s = float(min_reaction_ms) / 1000.0
        self.settle_s = float(settle_s)
        self.max_settle_s = float(max_settle_s)
        self.grace_s = float(completion_grace_s)
        self.baseline_timeout_s = float(baseline_timeout_s)
        self.detector = detector if detector is not None else ActionDetector(**detector_options)
        self.continuity = continuity if continuity is not None else FaceContinuity()
        self._state = EngineState.BASELINE
        self._index = 0
        self._start_t: float | None = None
        # Set when a prompt is shown (PROMPT) and when it is answered (SETTLE); read only then.
        self._prompt_t = 0.0
        self._done_t = 0.0
        self._last_t: float | None = None
        self._outcomes: list[ChallengeOutcome] = []
        self._events: list[Event] = []
        self._result: SequenceResult | None = None

    @classmethod
    def from_settings(cls, actions: Sequence[str], liveness, **kwargs) -> ChallengeEngine:
        """Build from ``settings.liveness`` (window, reaction time, turn angle, baseline)."""
        kwargs.setdefault("response_window_s", float(liveness.response_window_s))
        kwargs.setdefault("min_reaction_ms", float(liveness.min_reaction_ms))
        kwargs.setdefault("turn_angle_deg", float(liveness.turn_angle_deg))
        kwargs.setdefault("pitch_angle_deg", float(liveness.pitch_angle_deg))
        kwargs.setdefault("settle_s", float(liveness.settle_s))
        kwargs.setdefault("baseline_s", float(liveness.baseline_s))
        return cls(actions, **kwargs)

    # -- what callers read ---------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> SequenceResult | None:
        """The outcome once :attr:`done`, None before."""
        return self._result

    @property
    def progress(self) -> Progress:
        total = len(self.actions)
        if self._result is not None:
            return Progress(EngineState.DONE, min(self._index, total - 1), total,
                            passed=self._result.passed, reason=self._result.reason)
        if self._state == EngineState.PROMPT:
            left = max(self._prompt_t + self.window_s - (self._last_t or self._prompt_t), 0.0)
            return Progress(EngineState.PROMPT, self._index, total, action=self.actions[self._index],
                            time_left=left)
        return Progress(self._state, self._index, total)

    # -- driving it ----------------------------------------------------------------------

    def update(self, obs: FaceObservation) -> Progress:
        """Take the next observation (``obs.t`` increasing) and return the new progress."""
        if self._result is not None:
            return self.progress
        if self._last_t is not None and obs.t <= self._last_t:
            raise ValueError(f"observation times must increase ({obs.t} after {self._last_t})")
        self._last_t = obs.t
        if self._start_t is None:
            self._start_t = obs.t
        reason = self.continuity.update(obs)
        if reason is not None:
            if self._state == EngineState.BASELINE and reason != Reason.MULTIPLE_FACES:
                # Nobody has been asked anything yet: wait for a steady face again.
                self.continuity.reset()
                self.detector.estimator.reset()
            else:
                self._fail(reason, obs.t, self.continuity.detail)
                return self.progress
        events = self.detector.update(obs)
        self._events.extend(events)
        if self._state == EngineState.BASELINE:
            self._baseline_step(obs)
        if self._state == EngineState.SETTLE:
            self._settle_step(obs)
        if self._state == EngineState.PROMPT:
            self._prompt_step(obs, events)
        return self.progress

    def finish(self) -> SequenceResult:
        """The stream has ended: decide what is still open and return the result."""
        if self._result is None:
            events = self.detector.finish()
            self._events.extend(events)
            if self._state == EngineState.PROMPT and self._last_t is not None:
                self._judge(events, self._last_t)
            if self._result is None:
                t = self._last_t if self._last_t is not None else 0.0
                reason = Reason.NO_BASELINE if self._state == EngineState.BASELINE else Reason.CHALLENGE_TIMEOUT
                self._fail(reason, t, "the stream ended before the sequence was complete")
        assert self._result is not None
        return self._result

    # -- states --------------------------------------------------------------------------

    def _baseline_step(self, obs: FaceObservation) -> None:
        start_t = self._start_t if self._start_t is not None else obs.t
        if self.schedule is not None:
            if obs.t >= self.schedule[0]:
                if self.detector.ready or self.detector.freeze_baseline():
                    self._show(obs, max(self.schedule[0], start_t))
                else:
                    self._fail(Reason.NO_BASELINE, obs.t, "too few steady frames before the first prompt")
            return
        if self.detector.ready:
            self._show(obs, obs.t)
        elif obs.t - start_t > self.baseline_timeout_s:
            self._fail(Reason.NO_BASELINE, obs.t, f"no steady face in {self.baseline_timeout_s:.0f} s")

    def _settle_step(self, obs: FaceObservation) -> None:
        if self.schedule is not None:
            at = max(self.schedule[self._index], self._done_t)
            if obs.t >= at:
                self._show(obs, at)
            return
        waited = obs.t - self._done_t
        if waited >= self.settle_s and (
                not self.detector.active(HEAD_ACTIONS) or waited >= self.max_settle_s):
            self._show(obs, obs.t)

    def _show(self, obs: FaceObservation, prompt_t: float) -> None:
        self._state = EngineState.PROMPT
        self._prompt_t = prompt_t
        log.info("challenge %d/%d shown: %s at %.2f s", self._index + 1, len(self.actions),
                 self.actions[self._index], prompt_t)

    def _prompt_step(self, obs: FaceObservation, events: list[Event]) -> None:
        asked = self.actions[self._index]
        held = [e for e in self.detector.ongoing() if e.action == asked]
        pending = self.detector.pending()
        # A contradicting movement already past its threshold is a wrong action now; there is
        # no need to wait for the head to come back.
        wrong = [e for e in pending if contradicts(asked, e.action)]
        self._judge(events + held + wrong, obs.t)
        if self._state != EngineState.PROMPT or self._result is not None:
            return
        deadline = self._prompt_t + self.window_s
        if obs.t <= deadline:
            return
        answering = [e for e in pending if e.action == asked and e.start >= self._prompt_t]
        if answering and obs.t <= deadline + self.grace_s:
            return
        self._fail(Reason.CHALLENGE_TIMEOUT, obs.t, f"no {asked} within {self.window_s:.1f} s")

    def _judge(self, events: list[Event], t: float) -> None:
        """Decide the current prompt from these events, if they decide it."""
        asked = self.actions[self._index]
        prompt_t = self._prompt_t
        for event in sorted(events, key=lambda e: e.start):
            if event.action == asked:
                reaction = event.start - prompt_t
                if reaction < 0 or reaction < self.min_reaction_s:
                    if asked in SPONTANEOUS:
                        continue  # an involuntary blink that happened to fall there
                    reason = Reason.ACTION_BEFORE_PROMPT if reaction < 0 else Reason.RESPONSE_TOO_FAST
                    self._fail(reason, t, f"{asked} started {reaction * 1000:.0f} ms after "
                               "the prompt", event)
                    return
                self._pass(event, t)
                return
            if contradicts(asked, event.action) and event.end >= prompt_t:
                self._fail(Reason.WRONG_ACTION, t, f"{event.action} while {asked} was asked", event)
                return

    def _pass(self, event: Event, t: float) -> None:
        self._outcomes.append(self._outcome(ChallengeStatus.PASSED, None, event, ""))
        log.info("challenge %d/%d passed (%s, reaction %.0f ms)", self._index + 1,
                 len(self.actions), event.action, (event.start - self._prompt_t) * 1000)
        self._index += 1
        self._done_t = max(t, event.end)
        if self._index == len(self.actions):
            self._complete(True, None)
        else:
            self._state = EngineState.SETTLE

    def _fail(self, reason: str, t: float, detail: str, event: Event | None = None) -> None:
        if self._index < len(self.actions):
            status = ChallengeStatus.FAILED if self._state == EngineState.PROMPT else ChallengeStatus.NOT_SHOWN
            if status == ChallengeStatus.FAILED:
                self._outcomes.append(self._outcome(ChallengeStatus.FAILED, reason, event, detail))
            else:
                self._outcomes.append(ChallengeOutcome(self._index, self.actions[self._index],
                                                       ChallengeStatus.NOT_SHOWN, reason, detail=detail))
            log.info("challenge %d/%d %s: %s (%s)", self._index + 1, len(self.actions),
                     status, reason, detail)
        self._complete(False, reason)

    def _outcome(self, status: str, reason: str | None, event: Event | None,
                 detail: str) -> ChallengeOutcome:
        prompt_t = self._prompt_t
        return ChallengeOutcome(
            index=self._index, action=self.actions[self._index], outcome=status, reason=reason,
            prompt_t=prompt_t, deadline_t=prompt_t + self.window_s,
            response_t=event.start if event is not None else None,
            reaction_s=event.start - prompt_t if event is not None else None,
            event=event, detail=detail)

    def _complete(self, passed: bool, reason: str | None) -> None:
        shown = len(self._outcomes)
        rest = [ChallengeOutcome(i, a, ChallengeStatus.NOT_SHOWN) for i, a in enumerate(self.actions)
                if i >= shown]
        self._result = SequenceResult(
            passed=passed, reason=reason, challenges=tuple(self._outcomes + rest),
            baseline=self.detector.baseline, events=tuple(self._events))
        self._state = EngineState.DONE
