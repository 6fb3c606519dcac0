"""One verification as a plain generator: frames in, progress out, a Decision returned.

No Qt here. The kiosk runtime and ``kiosk verify`` drive the same generator::

    verifier = Verifier(settings, tracker=..., fusion=..., analyzers=..., matcher=..., audit=...)
    session = verifier.session(frames, SessionRequest(reference=id_photo))
    try:
        while True:
            progress = next(session)          # prompt, time left, guidance, face box
    except StopIteration as stop:
        decision = stop.value

:meth:`Verifier.session` is the data flow's phases composed with ``yield from``: rate limit
and opening the attempt -> placement, the light step, baseline and challenges (every frame
also goes to the passive analyzers and the best-frame choice) -> liveness fusion and the light
verdict -> best frame -> face matcher (the ID photo compared, or the members searched) ->
decision -> audit row.

The attempt's row is opened before the first frame, in the same transaction as the lockout
check (concurrent sessions cannot exceed the limit), and closed with the decision before the
decision is returned. A session that dies on the way (an error, a kill, a power cut) leaves
the row open: it is closed as an ``INTERRUPTED`` failure at once when the session sees the
error, or at the next start. When the audit log fails the error propagates and the kiosk
goes out of service (no unrecorded pass).

The wall clock is read once, when the session starts; the session's later wall times (each
frame's, hence the challenges', and its end) are that start plus monotonic elapsed time
(:mod:`kiosk.session.clock`), so a clock stepped meanwhile cannot put them out of order.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import cv2

from kiosk import __version__
from kiosk.analysis.capture import frame_rate, too_slow_so_far
from kiosk.analysis.challenges import ChallengeEngine, askable, draw_sequence
from kiosk.analysis.challenges import Progress as ChallengeProgress
from kiosk.analysis.challenges.actions import CHALLENGE_ACTIONS, HEAD_ACTIONS
from kiosk.analysis.guidance import (
    OK,
    SEVERAL_FACES,
    TOO_BRIGHT,
    TOO_DARK,
    Guidance,
    PlacementTracker,
    guidance,
    target_oval,
)
from kiosk.analysis.light import Unjudged
from kiosk.analysis.one_face import one_face
from kiosk.analysis.signals import Analyzer, signal_dict
from kiosk.audit import AttemptRecord, AuditUnavailable, FleetSilent, RateLimited
from kiosk.cloud.errors import CloudError
from kiosk.cloud.protocol import FaceMatcher, LiveFrame, MemberSearcher, compare_frames
from kiosk.errors import InputError
from kiosk.model import FaceObservation, Frame
from kiosk.reasons import Reason
from kiosk.session.attempt import (
    Attempt,
    audit_challenge,
    challenge_record,
    cloud_calls,
    effective_liveness,
    with_sequence,
)
from kiosk.session.clock import SessionClock
from kiosk.session.gate import gate_outcome
from kiosk.session.light import light_step
from kiosk.session.members import search_outcome, search_record
from kiosk.session.types import (
    Decision,
    Fusion,
    FusionResultLike,
    SessionProgress,
    SessionRequest,
    Tracker,
)
from kiosk.session.unjudged import ended_unjudged
from kiosk.session.verdict import match_outcome
from kiosk.settings import Settings
from kiosk.vocabulary import EngineState, Stage, Verdict

log = logging.getLogger(__name__)

Progress = Generator[SessionProgress, None, None]

#: What a session that ended without a placed face says, by the last instruction shown.
_PLACEMENT_REASONS = {TOO_DARK.code: Reason.TOO_DARK, TOO_BRIGHT.code: Reason.TOO_BRIGHT,
                      SEVERAL_FACES.code: Reason.SEVERAL_IN_VIEW}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Verifier:
    """Everything a verification needs that lives longer than one session.

    Parameters
    ----------
    settings : kiosk.settings.Settings
    tracker : Tracker
        A :class:`kiosk.analysis.face.FaceTracker` (VIDEO mode: timestamps must keep rising
        across sessions, which a monotonic camera clock guarantees).
    fusion : Fusion
        Liveness fusion of the passive signals.
    analyzers : callable
        ``analyzers() -> list[Analyzer]``: fresh passive analyzers for one session.
    matcher : FaceMatcher or None
        None when no reference comparison is possible (liveness only).
    audit : AuditLog or None
        None only for evaluation runs that must not touch a database.
    clock : callable
        Aware UTC ``datetime`` now (injectable for tests), read once per session: its start.
    monotonic : callable
        Seconds that never go back (injectable for tests): every later wall time of a
        session is its start plus the time elapsed on this clock
        (:class:`kiosk.session.clock.SessionClock`).
    rng : object with ``choice``, optional
        Randomness for the challenge draw; ``secrets.SystemRandom()`` when None.
    """

    def __init__(self, settings: Settings, *, tracker: Tracker, fusion: Fusion,
                 analyzers: Callable[[], list[Analyzer]], matcher: FaceMatcher | None = None,
                 audit: Any | None = None, clock: Callable[[], datetime] = _utc_now,
                 monotonic: Callable[[], float] = time.monotonic,
                 rng: Any | None = None) -> None:
        self.settings = settings
        self.tracker = tracker
        self.fusion = fusion
        self.analyzers = analyzers
        self.matcher = matcher
        self.audit = audit
        self.clock = clock
        self.monotonic = monotonic
        self.rng = rng

    # -- the generator ------------------------------------------------------------------------

    def session(self, frames: Iterable[Frame], request: SessionRequest | None = None
                ) -> Generator[SessionProgress, None, Decision]:
        """Run one verification over ``frames`` (liveness only when ``request`` is None);
        see the module docstring."""
        request = request if request is not None else SessionRequest()
        if request.needs_matcher and self.matcher is None:
            # A pass without comparing faces would be a silent identity bypass.
            raise ValueError("a reference photo or a member check-in was asked for, but the "
                             "verifier has no matcher")
        liveness = effective_liveness(self.settings.liveness, request)
        attempt = Attempt(request, clock=SessionClock.start(self.clock, self.monotonic),
                          liveness=liveness,
                          placement=PlacementTracker(hold_s=float(liveness.placement_hold_s)))
        refused = self._open(attempt)
        if refused is not None:
            return refused
        stream = iter(frames)  # the light step and the challenges share it
        try:
            attempt.analyzers = self.analyzers()
            yield from self._light(attempt, stream)
            yield from self._challenges(attempt, stream)
            yield from self._liveness(attempt)
            self._best_frame(attempt)
            yield from self._match(attempt)
            return self._record(self._decide(attempt), attempt)
        except BaseException:
            self._abandon(attempt)
            raise

    # -- phases, in the order of the data flow ----------------------------------------------

    def _open(self, attempt: Attempt) -> Decision | None:
        """Rate limit and the attempt's open row, in one transaction; the refusal's decision
        when the subject or this kiosk is locked out (or too many tries are in flight)."""
        if self.audit is None:
            return None
        if attempt.request.subject_number:
            try:
                attempt.subject_ref = self.audit.subject_ref(attempt.request.subject_number)
            except ValueError as exc:
                raise InputError(f"the badge or ID number cannot be used: {exc}") from None
        try:
            attempt.attempt_id = self.audit.open_attempt(
                started_at=attempt.started_at, subject_ref=attempt.subject_ref,
                app_version=__version__, settings_digest=self.settings.digest(),
                scripted=attempt.request.script is not None,
                accessible=attempt.request.accessible, camera=attempt.request.camera)
        except RateLimited as refusal:
            silent = isinstance(refusal, FleetSilent)
            # The server's silence is the site's to mend; a lockout is the kiosk doing its job.
            log.log(logging.WARNING if silent else logging.INFO, "attempt refused: %s",
                    refusal.reason)
            return Decision(Verdict.FAIL,
                            (Reason.FLEET_SILENT if silent else Reason.RATE_LIMITED,),
                            attempt_id=refusal.attempt_id, started_at=attempt.started_at,
                            ended_at=attempt.clock(), lockouts=tuple(
                                (lk.scope, lk.until) for lk in refusal.started),
                            refused_by=refusal.scope)
        return None

    def _abandon(self, attempt: Attempt) -> None:
        """The session failed on the way: close its row as interrupted now (the try counts)."""
        if self.audit is None or attempt.attempt_id is None:
            return
        try:
            self.audit.abandon_attempt(attempt.attempt_id)
        except AuditUnavailable as exc:  # the log's own fault (full, locked): said plainly
            log.warning("attempt %d could not be closed as interrupted: %s",
                        attempt.attempt_id, exc)
        except Exception:
            # The next start closes it; the original error is what matters.
            log.exception("attempt %d could not be closed as interrupted", attempt.attempt_id)

    def _draw(self, attempt: Attempt) -> ChallengeEngine:
        """The challenge engine with this session's prompts (drawn here, shown one at a time;
        never logged before it is shown)."""
        liveness = attempt.liveness
        script = attempt.request.script
        if script is not None:
            actions = [a for a, _ in script]
            engine = ChallengeEngine.from_settings(actions, liveness,
                                                   schedule=[t for _, t in script])
        else:
            actions = list(draw_sequence(
                liveness.challenge_count,
                askable(CHALLENGE_ACTIONS, liveness.response_window_s), rng=self.rng))
            engine = ChallengeEngine.from_settings(actions, liveness, rng=self.rng)
        attempt.engine, attempt.total = engine, len(actions)
        return engine

    def _challenges(self, attempt: Attempt, frames: Iterable[Frame]) -> Progress:
        """Baseline and challenges; every frame also feeds the passive analyzers and the
        best-frame choice."""
        engine = attempt.engine or self._draw(attempt)
        placement = attempt.placement
        for frame in frames:
            obs = self._observe(attempt, frame)
            turning = engine.prompting in HEAD_ACTIONS
            shown = placement.update(obs.t, guidance(obs, frontal_required=not turning))
            # None: the engine counts one face in view as placed (evaluation only).
            progress = engine.update(obs, placed=None if attempt.request.assume_placed
                                     else placement.placed)
            yield self._progress(attempt, progress, shown, placement, obs)
            if engine.done:
                break
            if too_slow_so_far(attempt.times):
                # Liveness could not be judged at the end: fail now, not after every prompt.
                log.warning("frames analysed too slowly to judge liveness; the session ends")
                engine.stop(Reason.CAPTURE_TOO_SLOW, "the frames came too slowly to judge")
                break
        stopped = attempt.request.stopped
        if not engine.done and stopped is not None and stopped():
            engine.stop(Reason.STOPPED, "stopped at the kiosk before the sequence was complete")
        result = engine.result if engine.done and engine.result is not None else engine.finish()
        attempt.challenges = tuple(challenge_record(c, attempt) for c in result.challenges)
        if result.reason == Reason.CAPTURE_TOO_SLOW:
            attempt.reasons.append(Reason.CAPTURE_TOO_SLOW)
            return  # the camera's failure, not a placement or a missed prompt
        if not result.passed:
            attempt.reasons.append(result.reason or Reason.SOURCE_ENDED)
            if result.reason in (Reason.SESSION_TIMEOUT, Reason.NO_BASELINE) and (
                    not placement.placed):
                attempt.reasons.append(_PLACEMENT_REASONS.get(placement.shown.code,
                                                              Reason.NOT_PLACED))

    def _observe(self, attempt: Attempt, frame: Frame) -> FaceObservation:
        """Track one frame; it also feeds the passive analyzers and the best-frame choice."""
        obs = self.tracker.observe(frame)
        attempt.times.append(obs.t)
        attempt.walls.append(attempt.clock())
        for analyzer in attempt.analyzers:
            analyzer.update(frame, obs)
        if one_face(obs):
            attempt.best.offer(frame.image, obs.face, frame.t)
        return obs

    def _light(self, attempt: Attempt, frames: Iterator[Frame]) -> Progress:
        """The light step, when this session has one (a screen to light the face, and not
        the accessible check): see :mod:`kiosk.session.light`."""
        plan = attempt.request.light
        liveness = attempt.liveness
        if plan is None or attempt.request.accessible or not liveness.light_challenge:
            return

        def progress(obs: FaceObservation, shown: Guidance, placement: PlacementTracker,
                     light: Any) -> SessionProgress:
            return SessionProgress(
                stage=Stage.LIGHT, prompt=None, index=0, total=int(liveness.challenge_count),
                time_left=None, window_s=float(liveness.response_window_s), guidance=shown,
                face_box=obs.face.box if obs.face is not None else None,
                frame_shape=obs.frame_shape, placed=placement.placed,
                ready_in=max(placement.hold_s - placement.held_s(obs.t), 0.0),
                oval=target_oval(obs.frame_shape), light=light)

        engine = self._draw(attempt)

        def observe(frame: Frame) -> FaceObservation:
            obs = self._observe(attempt, frame)
            if attempt.request.script is None:
                # The person holds still for the light: the prompts' baseline, measured now.
                engine.update(obs, placed=attempt.placement.placed, hold=True)
            return obs

        outcome = yield from light_step(
            plan, frames, observe, progress,
            placement=attempt.placement, limit_s=float(liveness.session_limit_s))
        attempt.light = outcome

    def _progress(self, attempt: Attempt, progress: ChallengeProgress, shown: Guidance,
                  placement: PlacementTracker, obs: FaceObservation) -> SessionProgress:
        """What the screen shows after one frame of the challenge phase."""
        liveness = attempt.liveness
        ready_in = progress.ready_in
        if progress.state == EngineState.PLACEMENT and progress.index == 0 and (
                not progress.retry):
            # Before the first prompt: the placement hold, then the baseline.
            ready_in = max(placement.hold_s - placement.held_s(obs.t), 0.0) + float(
                liveness.baseline_s)
        return SessionProgress(
            stage=Stage.CHALLENGE, prompt=progress.action, index=progress.index,
            total=progress.total, time_left=progress.time_left,
            window_s=float(liveness.response_window_s), guidance=shown,
            face_box=obs.face.box if obs.face is not None else None,
            frame_shape=obs.frame_shape, placed=placement.placed, paused=progress.paused,
            retry=progress.retry, ready_in=ready_in, oval=target_oval(obs.frame_shape),
            reach=progress.reach)

    def _liveness(self, attempt: Attempt) -> Progress:
        """Fuse the passive signals into the liveness score."""
        yield self._stage(Stage.ANALYSING, attempt)
        attempt.signals = [a.result() for a in attempt.analyzers]
        light = attempt.light
        if light is not None and light.signal is not None:
            attempt.signals.append(with_sequence(light.signal, light.shown))
        fused = self.fusion.fuse(attempt.signals, still=False,
                                 frame_rate=frame_rate(attempt.times))
        if fused.refused:
            # Too slow a capture to judge: no score, and the camera's failure rather than the
            # person's (a cue that is attack evidence on its own is listed after it).
            log.warning("liveness not judged: frames analysed at %.1f per second",
                        fused.frame_rate or 0.0)
            attempt.reasons.extend(r for r in fused.reasons if r not in attempt.reasons)
        else:
            attempt.liveness_score = round(float(fused.score), 2)
            failed = self._liveness_failure(attempt.liveness_score, attempt.reasons, fused)
            attempt.reasons.extend(r for r in failed if r not in attempt.reasons)
        self._light_verdict(attempt)

    def _liveness_failure(self, score: float, reasons: Iterable[str],
                          fused: FusionResultLike) -> tuple[str, ...]:
        """LIVENESS_FAILED and the cues behind it, or nothing when liveness did not fail.

        A judged session fails on a score under the threshold, with every cue that pushed
        toward an attack. One that ended before it could be judged (``reasons``: see
        :mod:`kiosk.session.unjudged`) fails on liveness only for the cues that are evidence
        of an attack on their own (``fused.strong``), and names only those.
        """
        if score >= float(self.settings.liveness.confidence_threshold):
            return ()
        if not ended_unjudged(reasons):
            return (Reason.LIVENESS_FAILED, *fused.reasons)
        if not fused.strong:
            return ()  # a few seconds showed too little life: no evidence of an attack
        return (Reason.LIVENESS_FAILED, *fused.strong)

    def _light_verdict(self, attempt: Attempt) -> None:
        """A judged light check that the face did not answer fails the session on its own,
        as an unanswered prompt does; a room too bright to judge it is for staff to see.

        A light check that ran but could not be judged never lets the session pass: a
        presentation kept out of view while the colours play, then brought back for the
        prompts, would otherwise have skipped the one check a replay cannot answer. Whose
        failure it is follows the cause: the person's placement (``LIGHT_NOT_SEEN``) or the
        kiosk's camera or screen (``LIGHT_UNAVAILABLE``); neither is an attack sign.
        """
        if attempt.light is None:
            return  # no light step in this session
        result = attempt.light.result
        if result is None:
            # The colours never started (the face never placed): the session has failed
            # already, unless its frames ended in a way nothing else caught.
            if not attempt.reasons:
                attempt.reasons.append(Reason.LIGHT_NOT_SEEN)
            return
        if result.responded:
            return
        if Reason.LIGHT_TOO_BRIGHT_AMBIENT in result.reasons:
            # The room, not the person: not judged (confidence 0), but staff should know.
            if not attempt.reasons:
                attempt.verdict = Verdict.REVIEW
            attempt.reasons.append(Reason.LIGHT_TOO_BRIGHT_AMBIENT)
            return
        if result.judged:
            attempt.reasons.extend(r for r in result.reasons if r not in attempt.reasons)
            return
        if Reason.STOPPED in attempt.reasons:
            return  # cut short at the kiosk: the colours stopped, no camera or screen fault
        kiosks = (Unjudged.NOT_SHOWN, Unjudged.FRAME_RATE)
        reason = Reason.LIGHT_UNAVAILABLE if result.cause in kiosks else Reason.LIGHT_NOT_SEEN
        if reason not in attempt.reasons:
            attempt.reasons.append(reason)

    def _best_frame(self, attempt: Attempt) -> None:
        """A live person needs a frame good enough to compare (or to keep)."""
        if not attempt.reasons and attempt.best.image is None:
            attempt.reasons.append(Reason.NO_USABLE_FRAME)

    def _match(self, attempt: Attempt) -> Progress:
        """Compare the best frames with the reference, when there is one to compare with.

        The matcher gets the session's k best frames, best first: the local matcher combines
        them, Rekognition compares the first (see :func:`kiosk.cloud.protocol.compare_frames`).
        A comparison the quality gate stopped is a review at a staffed desk and a retry at a
        kiosk (:mod:`kiosk.session.gate`), never a mismatch.
        """
        if attempt.reasons:
            return
        reference = attempt.request.reference
        if attempt.request.member_check_in:
            yield from self._search(attempt)
            return
        if reference is None:
            attempt.verdict = Verdict.PASS  # liveness only: no reference to compare with
            return
        yield self._stage(Stage.MATCHING, attempt)
        assert self.matcher is not None and attempt.best.image is not None
        frames = [LiveFrame(kept.image, kept.face.box) for kept in attempt.best.frames]
        try:
            result = compare_frames(self.matcher, frames, reference)
        except CloudError as exc:
            self._unavailable(attempt, exc)
            return
        matching = self.settings.matching
        gated = gate_outcome(result, mode=self.settings.kiosk.mode)
        if gated is not None:
            attempt.verdict, reasons = gated
        else:
            attempt.verdict, reasons = match_outcome(result, mode=self.settings.kiosk.mode,
                                                     offline_policy=matching.offline_policy)
            if not result.matched:
                reasons = (Reason.FACE_MISMATCH,) + tuple(reasons)
        attempt.reasons.extend(reasons)
        attempt.cloud_calls = cloud_calls(result)
        attempt.match = {
            "matcher": result.matcher, "matched": bool(result.matched),
            "similarity": None if result.similarity is None else round(result.similarity, 2),
            "reasons": list(result.reasons)}

    def _search(self, attempt: Attempt) -> Progress:
        """Member check-in: the best frame searched among the enrolled members' faces
        (:mod:`kiosk.session.members`)."""
        yield self._stage(Stage.MATCHING, attempt)
        assert self.matcher is not None and attempt.best.image is not None
        best = attempt.best.frames[0]
        try:
            if not isinstance(self.matcher, MemberSearcher):
                raise CloudError(f"the face matcher {self.matcher.name} cannot search members")
            result = self.matcher.search(best.image, live_box=best.face.box)
        except CloudError as exc:
            self._unavailable(attempt, exc)
            return
        attempt.verdict, reasons = search_outcome(result)
        attempt.reasons.extend(reasons)
        attempt.cloud_calls = ("SearchFacesByImage",) + (
            ("DetectFaces",) if result.quality is not None else ())
        attempt.match = search_record(result, "rekognition")  # the collection is there only
        if attempt.verdict == Verdict.PASS:
            attempt.member = result.member

    def _unavailable(self, attempt: Attempt, exc: CloudError) -> None:
        """The matcher could not answer: review, never a pass without a comparison."""
        log.warning("face matcher unavailable: %s", exc.code)
        attempt.verdict = Verdict.REVIEW
        attempt.reasons.extend((Reason.MATCH_UNAVAILABLE, exc.code))
        # The requests that may have carried the face to AWS before it failed: the audit
        # lists every one, answered or not.
        attempt.cloud_calls = tuple(exc.operations)
        # The matcher's name as an audit code ("rekognition+local" -> "rekognition-local").
        name = re.sub(r"[^A-Za-z0-9_.:-]", "-", self.matcher.name if self.matcher else "none")
        attempt.match = {"matcher": name[:64], "matched": False, "similarity": None,
                         "reasons": [exc.code]}

    def _decide(self, attempt: Attempt) -> Decision:
        """The decision: pass only when no phase left a reason against it."""
        return Decision(
            decision=attempt.verdict, reasons=tuple(dict.fromkeys(attempt.reasons)),
            challenges=attempt.challenges, liveness_score=attempt.liveness_score,
            signals={s.name: signal_dict(s) for s in attempt.signals}, match=attempt.match,
            started_at=attempt.started_at, ended_at=attempt.clock(),
            cloud_calls=attempt.cloud_calls, member=attempt.member)

    def _record(self, decision: Decision, attempt: Attempt) -> Decision:
        """The audit row, written before the decision is returned."""
        if self.audit is None:
            return decision
        record = AttemptRecord(
            kiosk_id=self.settings.kiosk.kiosk_id, started_at=attempt.started_at,
            ended_at=decision.ended_at or attempt.clock(), subject_ref=attempt.subject_ref,
            decision=decision.decision, app_version=__version__,
            settings_digest=self.settings.digest(),
            # Prompts never shown (after an earlier failure) did not happen: not recorded.
            challenges=[audit_challenge(c) for c in decision.challenges
                        if c.get("prompted_at") is not None],
            signals=dict(decision.signals), liveness_score=decision.liveness_score,
            match=decision.match, reasons=decision.reasons, cloud_calls=decision.cloud_calls,
            scripted=attempt.request.script is not None, accessible=attempt.request.accessible,
            camera=attempt.request.camera)
        assert attempt.attempt_id is not None  # opened by _open
        stored = self.audit.finish_attempt(attempt.attempt_id, record,
                                           best_frame=self._frame_jpeg(attempt))
        return dataclasses.replace(decision, attempt_id=stored.attempt_id,
                                   lockouts=tuple((lk.scope, lk.until) for lk in stored.lockouts))

    # -- helpers -------------------------------------------------------------------------------

    def _stage(self, stage: Stage, attempt: Attempt) -> SessionProgress:
        return SessionProgress(stage, None, attempt.total, attempt.total, None,
                               float(attempt.liveness.response_window_s), OK, None, None)

    def _frame_jpeg(self, attempt: Attempt) -> bytes | None:
        if not self.settings.audit.store_best_frame or attempt.best.image is None:
            return None
        ok, buf = cv2.imencode(".jpg", attempt.best.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        return buf.tobytes() if ok else None
