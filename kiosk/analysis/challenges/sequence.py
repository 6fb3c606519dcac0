"""The challenge sequence as a state machine over observations.

:class:`ChallengeEngine` is driven by observations and their timestamps alone (it never reads
a clock), so the same code runs a live camera, a replayed recording (scripted mode,
:mod:`kiosk.lab.scripted`) and a synthetic stream in tests; :attr:`ChallengeEngine.progress`
is what the screen shows.

Live mode, for a real person::

    placement -> baseline -> prompt -> settle -> prompt -> ... -> done

- Nothing starts before the face is placed (the caller says so with ``placed``, from
  :class:`kiosk.analysis.guidance.PlacementTracker`); the baseline is measured after that,
  and taken again from each later steady second until the first prompt (a held engine, or a
  scripted one waiting for its first prompt's time, measures the rest the person holds just
  before that prompt, as a live session's first prompt follows its baseline at once).
- A prompt's timer runs only while the face is placed: when the face leaves the oval the
  timer pauses and the screen says why, for at most :data:`PAUSE_LIMIT` response windows a
  prompt, after which the prompt has timed out; the whole session keeps a hard bound
  (``session_limit_s``, reason ``SESSION_TIMEOUT``).
- A second chance: a prompt that times out, or during which the face is lost, is replaced by a
  fresh prompt of another action (:func:`~.draw.draw_retry`, from the prompts already shown
  only), at most ``retries`` times per session and never for a second chance itself. A face
  lost goes back to placement first.
- Immediate failures, never retried: a clear, deliberate wrong movement (see
  :func:`~.actions.is_wrong`), an action before the prompt, an answer faster than human
  reaction, a changed face, several faces once the prompts have started.
- During an asked head movement the face may drop out of tracking near profile: up to
  ``head_gap_s`` is bridged and the turn counts when the same face comes back.

Scripted mode (``schedule`` given; evaluation only) shows each prompt at its media time: no
placement gate, no pause, no second chance, so a recording is judged exactly on the times it
was given. Placement is still reported in the progress.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from kiosk.analysis.challenges.actions import (
    CHALLENGE_ACTIONS,
    HEAD_ACTIONS,
    SPONTANEOUS,
    check_action,
    excursion_of,
    is_wrong,
)
from kiosk.analysis.challenges.continuity import FaceContinuity
from kiosk.analysis.challenges.draw import askable, draw_retry
from kiosk.analysis.challenges.events import ActionDetector
from kiosk.analysis.challenges.results import ChallengeOutcome, Progress, SequenceResult
from kiosk.model import Event, FaceObservation
from kiosk.reasons import Reason
from kiosk.vocabulary import ChallengeStatus, EngineState

log = logging.getLogger(__name__)

#: Failures that earn a second chance (when the budget allows).
RETRYABLE = frozenset({Reason.CHALLENGE_TIMEOUT, Reason.FACE_LOST})

#: How long a prompt's timer may stand still while the face is not placed, in response windows
#: (6 s at the kiosk's 4 s window, 18 s at the accessible check's 12 s); a prompt paused longer
#: has timed out. A person who drifts out of the oval and back, or turns to someone beside them,
#: is back well within it (a 5 s drift against the 4 s window still passes). Without a limit an
#: operator could dim a replay or move it out of the oval for as long as it took to queue the
#: clip that answers, and then answer the prompt as if it had just appeared.
PAUSE_LIMIT = 1.5


class ChallengeEngine:
    """Runs a sequence of prompts over an observation stream (see the module docstring).

    Parameters
    ----------
    actions : sequence of str
        The prompts, in order (from :func:`~.draw.draw_sequence`, or a script).
    response_window_s : float
        Time allowed to answer each prompt while the face is placed
        (settings ``liveness.response_window_s``); while it is not, the timer stands still
        for at most :data:`PAUSE_LIMIT` times as long.
    min_reaction_ms : float
        Answers that start sooner after the prompt are not human (``liveness.min_reaction_ms``).
    schedule : sequence of float, optional
        Scripted mode: the time at which each prompt is shown, or when the previous challenge
        is over if that is later.
    settle_s, max_settle_s : float
        Live mode pause between an answer and the next prompt: at least ``settle_s``, and
        until the head is back near rest (at most ``max_settle_s``) and the next prompt's own
        action is not under way (at most ``settle_s`` plus one response window).
    completion_grace_s : float
        An answer that started inside the window but is still in progress when it closes (a
        head still turned) may finish this much later.
    retries : int
        Second chances per session (live mode only).
    retry_actions : sequence of str
        The actions a second chance is drawn from.
    session_limit_s : float, optional
        Live mode hard bound from the first observation; None for no bound.
    face_lost_s, head_gap_s : float
        Longest time without a face before a prompt fails with ``FACE_LOST``; during an asked
        head movement the longer ``head_gap_s`` (faces drop out near profile).
    rng : object with ``choice``, optional
        Draws second chances (``secrets`` when None).
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
                 completion_grace_s: float = 1.0, retries: int = 0,
                 retry_actions: Sequence[str] = CHALLENGE_ACTIONS,
                 session_limit_s: float | None = None, face_lost_s: float = 1.0,
                 head_gap_s: float = 1.6, rng: Any = None,
                 detector: ActionDetector | None = None,
                 continuity: FaceContinuity | None = None, **detector_options: Any) -> None:
        self.actions = [check_action(a) for a in actions]
        if not self.actions:
            raise ValueError("actions must not be empty")
        if schedule is not None:
            schedule = tuple(float(t) for t in schedule)
            if len(schedule) != len(self.actions) or any(
                    b < a for a, b in zip(schedule, schedule[1:], strict=False)):
                raise ValueError("schedule must give one non-decreasing time per action")
        if response_window_s <= 0 or min_reaction_ms < 0 or retries < 0:
            raise ValueError("response_window_s must be > 0, min_reaction_ms and retries >= 0")
        self.schedule = schedule
        self.window_s = float(response_window_s)
        self.max_paused_s = PAUSE_LIMIT * self.window_s
        self.min_reaction_s = float(min_reaction_ms) / 1000.0
        self.settle_s = float(settle_s)
        self.max_settle_s = float(max_settle_s)
        self.grace_s = float(completion_grace_s)
        self.retries = 0 if schedule is not None else int(retries)
        self.retry_actions = tuple(check_action(a) for a in retry_actions)
        self.session_limit_s = None if schedule is not None else session_limit_s
        self.face_lost_s = float(face_lost_s)
        self.head_gap_s = float(head_gap_s)
        self.rng = rng
        self.detector = detector if detector is not None else ActionDetector(**detector_options)
        self.continuity = continuity if continuity is not None else FaceContinuity(
            max_missing_s=self.face_lost_s)
        self._fixed_baseline = self.detector.ready
        self._hold = False
        self._state = EngineState.BASELINE if schedule is not None else EngineState.PLACEMENT
        self._index = 0
        self._start_t: float | None = None
        self._last_t: float | None = None
        # Set when a prompt is shown (PROMPT) and when it is answered (SETTLE); read only then.
        self._prompt_t = 0.0
        self._done_t = 0.0
        self._answer_s = 0.0     # placed time since the prompt was shown
        self._paused_s = 0.0
        self._placed = False
        self._retry = False      # the prompt on screen (or next) is a second chance
        self._retries_used = 0
        self._prompted = False   # a prompt has been shown
        self._outcomes: list[ChallengeOutcome] = []
        self._events: list[Event] = []
        self._result: SequenceResult | None = None

    @classmethod
    def from_settings(cls, actions: Sequence[str], liveness: Any,
                      **kwargs: Any) -> ChallengeEngine:
        """Build from ``settings.liveness`` (window, reaction time, angles, baseline, retries,
        session bound); ``kwargs`` override."""
        kwargs.setdefault("response_window_s", float(liveness.response_window_s))
        kwargs.setdefault("min_reaction_ms", float(liveness.min_reaction_ms))
        kwargs.setdefault("turn_angle_deg", float(liveness.turn_angle_deg))
        kwargs.setdefault("pitch_angle_deg", float(liveness.pitch_angle_deg))
        kwargs.setdefault("settle_s", float(liveness.settle_s))
        kwargs.setdefault("baseline_s", float(liveness.baseline_s))
        kwargs.setdefault("retries", int(liveness.retries))
        kwargs.setdefault("session_limit_s", float(liveness.session_limit_s))
        # A second chance follows the draw's rule too: no action chance answers too often.
        kwargs.setdefault("retry_actions", askable(CHALLENGE_ACTIONS,
                                                   kwargs["response_window_s"]))
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
    def prompting(self) -> str | None:
        """The action on screen, None outside a prompt."""
        return self.actions[self._index] if self._state == EngineState.PROMPT else None

    @property
    def progress(self) -> Progress:
        total = len(self.actions)
        if self._result is not None:
            return Progress(EngineState.DONE, min(self._index, total - 1), total,
                            passed=self._result.passed, reason=self._result.reason)
        if self._state == EngineState.PROMPT:
            action = self.actions[self._index]
            return Progress(EngineState.PROMPT, self._index, total, action=action,
                            time_left=max(self.window_s - self._answer_s, 0.0),
                            paused=self._paused, retry=self._retry,
                            reach=self.detector.reach(action))
        ready_in = None
        if self._state == EngineState.BASELINE and not self._prompted:
            ready_in = max(self.detector.estimator.duration_s
                           - self.detector.estimator.collected_s, 0.0)
        return Progress(self._state, self._index, total, retry=self._retry, ready_in=ready_in)

    @property
    def _paused(self) -> bool:
        return self.schedule is None and not self._placed

    # -- driving it ----------------------------------------------------------------------

    def update(self, obs: FaceObservation, placed: bool | None = None, *,
               hold: bool = False) -> Progress:
        """Take the next observation (``obs.t`` increasing) and return the new progress.

        ``placed`` says whether the face is well placed (debounced); None judges it from the
        observation alone (one face in view). ``hold``: measure the baseline but show no
        prompt yet (the session's light step runs: the person holds still, which is what the
        baseline needs, so the first prompt can follow the light at once).
        """
        if self._result is not None:
            return self.progress
        self._hold = hold
        if self._last_t is not None and obs.t <= self._last_t:
            raise ValueError(f"observation times must increase ({obs.t} after {self._last_t})")
        dt = 0.0 if self._last_t is None else obs.t - self._last_t
        self._last_t = obs.t
        self._start_t = obs.t if self._start_t is None else self._start_t
        self._placed = (obs.face is not None and obs.n_faces == 1) if placed is None else placed
        if self.session_limit_s is not None and obs.t - self._start_t > self.session_limit_s:
            self._fail(Reason.SESSION_TIMEOUT, obs.t,
                       f"the session took longer than {self.session_limit_s:.0f} s")
            return self.progress
        if not self._check_continuity(obs):
            return self.progress
        # Until the first prompt the rest is re-measured from each steady second, so the
        # first prompt is judged from where the person rests just before it, as in a live
        # session (where it follows the baseline at once) and not from an earlier glance.
        events = self.detector.update(obs, renew_baseline=(
            self._state == EngineState.BASELINE and not self._prompted
            and not self._fixed_baseline))
        self._events.extend(events)
        if self._state == EngineState.PLACEMENT:
            self._placement_step()
        if self._state == EngineState.BASELINE:
            self._baseline_step(obs)
        if self._state == EngineState.SETTLE:
            self._settle_step(obs)
        elif self._state == EngineState.PROMPT:
            self._prompt_step(obs, events, dt)
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
                # A prompt still open has not timed out (update() fails it when its window
                # ends): the camera or the recording stopped, the person missed nothing.
                reason = (Reason.SOURCE_ENDED if self._prompted or self._state in (
                    EngineState.PROMPT, EngineState.SETTLE) else Reason.NO_BASELINE)
                self._fail(reason, t, "the stream ended before the sequence was complete",
                           retry=False)
        assert self._result is not None
        return self._result

    def stop(self, reason: str, detail: str) -> SequenceResult:
        """End the sequence for a cause outside it (the session found the frames too slow to
        judge): the prompt in progress, or the next one, is recorded with ``reason`` rather
        than as a timeout the person did not cause; no second chance."""
        if self._result is None:
            self._fail(reason, self._last_t if self._last_t is not None else 0.0, detail,
                       retry=False)
        assert self._result is not None
        return self._result

    # -- states --------------------------------------------------------------------------

    def _check_continuity(self, obs: FaceObservation) -> bool:
        """Apply the continuity checks; False when the observation ended the state's work."""
        self.continuity.max_missing_s = (
            self.head_gap_s if self.prompting in HEAD_ACTIONS else self.face_lost_s)
        reason = self.continuity.update(obs)
        if reason is None:
            return True
        if self._state == EngineState.PROMPT or (self._prompted and reason != Reason.FACE_LOST):
            # A lost face during a prompt may earn a second chance (see _fail); several faces
            # or a changed face once the prompts have started never do.
            self._fail(reason, obs.t, self.continuity.detail)
            return False
        # Before the prompts, or between them: wait for the face to be placed again.
        self.continuity.forget_position()
        if self._state == EngineState.BASELINE and not self._fixed_baseline and (
                not self._prompted):
            self.detector.estimator.reset()
        if self.schedule is None:
            self._state = EngineState.PLACEMENT
        return True

    def _placement_step(self) -> None:
        if not self._placed:
            return
        if self._prompted:
            self._show_next(self._last_t or 0.0)
            return
        if not self._fixed_baseline:
            # Measured from the placed face, not from the approach.
            self.detector.estimator.reset()
            self.detector.reset()
        self._state = EngineState.BASELINE

    def _baseline_step(self, obs: FaceObservation) -> None:
        if self.schedule is not None:
            if obs.t >= self.schedule[0]:
                if self.detector.ready or self.detector.freeze_baseline():
                    self._show(max(self.schedule[0], self._start_t or obs.t))
                else:
                    self._fail(Reason.NO_BASELINE, obs.t,
                               "too few steady frames before the first prompt", retry=False)
            return
        if not self._placed:
            self._state = EngineState.PLACEMENT
            if not self._fixed_baseline:
                self.detector.estimator.reset()
        elif self.detector.ready and not self._hold:
            self._show(obs.t)

    def _settle_step(self, obs: FaceObservation) -> None:
        if self.schedule is not None:
            at = max(self.schedule[self._index], self._done_t)
            if obs.t >= at:
                self._show(at)
            return
        waited = obs.t - self._done_t
        if waited < self.settle_s or not self._placed:
            return
        # The next action already under way (a smile held on from the turn before) could
        # only fail as begun before its prompt: wait for it to end, up to one response window.
        asked = self.actions[self._index]
        under_way = any(e.action == asked for e in (*self.detector.ongoing(),
                                                    *self.detector.pending()))
        if under_way and waited < self.settle_s + self.window_s:
            return
        if not self.detector.active(HEAD_ACTIONS) or waited >= self.max_settle_s:
            self._show(obs.t)

    def _show_next(self, t: float) -> None:
        self._done_t = t
        self._state = EngineState.SETTLE

    def _show(self, prompt_t: float) -> None:
        self._state = EngineState.PROMPT
        self._prompt_t = prompt_t
        self._answer_s = self._paused_s = 0.0
        self._prompted = True
        log.info("challenge %d/%d shown%s: %s at %.2f s", self._index + 1, len(self.actions),
                 " (second chance)" if self._retry else "", self.actions[self._index], prompt_t)

    def _prompt_step(self, obs: FaceObservation, events: list[Event], dt: float) -> None:
        step = min(dt, max(obs.t - self._prompt_t, 0.0))  # only time since the prompt
        if self._paused:
            self._paused_s += step
        else:
            self._answer_s += step
        asked = self.actions[self._index]
        held = [e for e in self.detector.ongoing() if e.action == asked]
        pending = self.detector.pending()
        # A wrong movement already past its threshold fails now; there is no need to wait
        # for the head to come back.
        wrong = [e for e in pending if e.action != asked]
        self._judge(events + held + wrong, obs.t)
        if self._state != EngineState.PROMPT or self._result is not None:
            return
        if self._paused_s > self.max_paused_s:
            # An ordinary timeout (a second chance when one is left), not an attack: a person
            # may just have stepped away.
            self._fail(Reason.CHALLENGE_TIMEOUT, obs.t,
                       f"no {asked}: the face was out of place for more than "
                       f"{self.max_paused_s:.1f} s")
            return
        if self._answer_s <= self.window_s:
            return
        answering = [e for e in pending if e.action == asked and e.start >= self._prompt_t]
        if answering and self._answer_s <= self.window_s + self.grace_s:
            return
        self._fail(Reason.CHALLENGE_TIMEOUT, obs.t, f"no {asked} within {self.window_s:.1f} s")

    def _judge(self, events: list[Event], t: float) -> None:
        """Decide the current prompt from these events, if they decide it."""
        asked = self.actions[self._index]
        for event in sorted(events, key=lambda e: e.start):
            if event.action == asked:
                reaction = event.start - self._prompt_t
                if reaction < self.min_reaction_s:
                    if asked in SPONTANEOUS:
                        continue  # an involuntary blink that happened to fall there
                    reason = (Reason.ACTION_BEFORE_PROMPT if reaction < 0
                              else Reason.RESPONSE_TOO_FAST)
                    self._fail(reason, t, f"{asked} started {reaction * 1000:.0f} ms after "
                               "the prompt", event, retry=False)
                    return
                self._pass(event, t)
                return
            if event.end >= self._prompt_t and is_wrong(asked, event.action,
                                                         excursion_of(event.confidence)):
                self._fail(Reason.WRONG_ACTION, t, f"{event.action} while {asked} was asked",
                           event, retry=False)
                return

    def _pass(self, event: Event, t: float) -> None:
        self._outcomes.append(self._outcome(ChallengeStatus.PASSED, None, event, ""))
        log.info("challenge %d/%d passed (%s, reaction %.0f ms)", self._index + 1,
                 len(self.actions), event.action, (event.start - self._prompt_t) * 1000)
        self._index += 1
        self._retry = False
        if self._index == len(self.actions):
            self._complete(True, None)
        else:
            self._show_next(max(t, event.end))

    def _fail(self, reason: str, t: float, detail: str, event: Event | None = None, *,
              retry: bool = True) -> None:
        shown = self._state == EngineState.PROMPT and self._index < len(self.actions)
        if shown and retry and reason in RETRYABLE and not self._retry and (
                self._retries_used < self.retries):
            self._outcomes.append(self._outcome(ChallengeStatus.RETRIED, reason, event, detail))
            # Drawn from the prompts already shown only: one that avoided the next prompt
            # would tell whoever watched it what comes next.
            previous = self.actions[self._index - 1] if self._index else None
            self.actions[self._index] = draw_retry(self.actions[self._index], previous,
                                                   self.retry_actions, self.rng)
            self._retries_used += 1
            self._retry = True
            log.info("challenge %d/%d: %s (%s); a second chance follows", self._index + 1,
                     len(self.actions), reason, detail)
            if reason == Reason.FACE_LOST:
                self.continuity.forget_position()
                self.detector.reset()
                self._state = EngineState.PLACEMENT
            else:
                self._show_next(t)
            return
        if self._index < len(self.actions):
            if shown:
                self._outcomes.append(self._outcome(ChallengeStatus.FAILED, reason, event,
                                                    detail))
            else:
                self._outcomes.append(ChallengeOutcome(
                    self._index, self.actions[self._index], ChallengeStatus.NOT_SHOWN, reason,
                    detail=detail, retry=self._retry))
            log.info("challenge %d/%d %s: %s (%s)", self._index + 1, len(self.actions),
                     "failed" if shown else "not shown", reason, detail)
        self._complete(False, reason)

    def _outcome(self, status: str, reason: str | None, event: Event | None,
                 detail: str) -> ChallengeOutcome:
        prompt_t = self._prompt_t
        return ChallengeOutcome(
            index=self._index, action=self.actions[self._index], outcome=status, reason=reason,
            prompt_t=prompt_t, deadline_t=prompt_t + self.window_s + self._paused_s,
            response_t=event.start if event is not None else None,
            reaction_s=event.start - prompt_t if event is not None else None,
            event=event, detail=detail, retry=self._retry, paused_s=self._paused_s)

    def _complete(self, passed: bool, reason: str | None) -> None:
        decided = {c.index for c in self._outcomes if c.outcome != ChallengeStatus.RETRIED}
        rest = [ChallengeOutcome(i, a, ChallengeStatus.NOT_SHOWN)
                for i, a in enumerate(self.actions) if i not in decided]
        self._result = SequenceResult(
            passed=passed, reason=reason, challenges=tuple(self._outcomes + rest),
            baseline=self.detector.baseline, events=tuple(self._events))
        self._state = EngineState.DONE
