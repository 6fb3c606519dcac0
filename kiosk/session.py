"""One verification as a plain generator: frames in, progress out, a Decision returned.

No Qt here. The GUI worker and ``kiosk verify`` drive the same generator::

    verifier = Verifier(settings, tracker=..., fusion=..., analyzers=..., matcher=..., audit=...)
    session = verifier.session(frames, SessionRequest(reference=id_photo))
    try:
        while True:
            progress = next(session)          # prompt, time left, guidance, face box
    except StopIteration as stop:
        decision = stop.value

Order: rate limit -> baseline -> challenges (with passive analysis of every frame) -> liveness
fusion -> local decision -> best frame -> face matcher -> final decision -> audit row. The
attempt is recorded before the decision is returned; when the audit log fails the error
propagates and the kiosk goes out of service (no unrecorded pass).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import cv2
import numpy as np

from kiosk import __version__
from kiosk.analysis.challenges import ChallengeEngine, draw_sequence
from kiosk.analysis.challenges.actions import HEAD_ACTIONS
from kiosk.analysis.guidance import OK, Guidance, guidance
from kiosk.analysis.quality import BestFrame
from kiosk.analysis.signals import signal_dict
from kiosk.audit import AttemptRecord
from kiosk.cloud.errors import CloudError
from kiosk.cloud.fallback import match_outcome
from kiosk.model import Frame, Signal

log = logging.getLogger(__name__)

PASS, FAIL, REVIEW = "pass", "fail", "review"

# Reason codes the session itself raises.
RATE_LIMITED = "RATE_LIMITED"
LIVENESS_FAILED = "LIVENESS_FAILED"
NO_USABLE_FRAME = "NO_USABLE_FRAME"
FACE_MISMATCH = "FACE_MISMATCH"
MATCH_UNAVAILABLE = "MATCH_UNAVAILABLE"
SOURCE_ENDED = "SOURCE_ENDED"

# Stages reported in progress.
RATE_LIMIT, CHALLENGE, ANALYSING, MATCHING = "rate_limit", "challenge", "analysing", "matching"


class Fusion(Protocol):
    """Turns passive signals into a liveness score (see kiosk.analysis.fusion)."""

    def fuse(self, signals: Sequence[Signal], *, still: bool = False) -> Any:
        """Return an object with ``score`` (0-100, 100 = live) and ``reasons`` (codes)."""


class Tracker(Protocol):
    def observe(self, frame: Frame) -> Any: ...


@dataclass(frozen=True)
class SessionRequest:
    """What the person (or staff) supplied for this verification.

    Attributes
    ----------
    reference : ndarray (H, W, 3) uint8 or None
        The ID photo (BGR, EXIF orientation applied); None for member check-in or
        liveness only.
    subject_number : str or None
        Badge or ID number; only its keyed hash reaches the audit log.
    script : sequence of (action, time) or None
        Evaluation only (``kiosk verify --script``): prompts at fixed media times instead of
        a random draw. Never reachable from the kiosk UI.
    """

    reference: np.ndarray | None = None
    subject_number: str | None = None
    script: Sequence[tuple[str, float]] | None = None


@dataclass(frozen=True)
class SessionProgress:
    """What the screen needs after each frame.

    ``prompt`` is the action on screen (None between prompts); ``face_box`` is in the
    unmirrored frame's pixels; the screen mirrors it with the picture.
    """

    stage: str
    prompt: str | None
    index: int
    total: int
    time_left: float | None
    window_s: float
    guidance: Guidance
    face_box: tuple[float, float, float, float] | None
    frame_shape: tuple[int, int] | None


@dataclass(frozen=True)
class Decision:
    """The outcome of one verification, as recorded in the audit log.

    ``liveness_score`` and ``signals`` are for staff and the audit log only; the person in
    front of the kiosk sees pass or fail and guidance, never scores.
    """

    decision: str
    reasons: tuple[str, ...]
    challenges: tuple[dict, ...] = ()
    liveness_score: float | None = None
    signals: Mapping[str, dict] = field(default_factory=dict)
    match: dict | None = None
    attempt_id: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    cloud_calls: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (``kiosk verify --json``)."""
        return {
            "decision": self.decision, "reasons": list(self.reasons),
            "challenges": [{k: v.isoformat() if isinstance(v, datetime) else v
                            for k, v in c.items()} for c in self.challenges],
            "liveness_score": self.liveness_score,
            "signals": {k: dict(v) for k, v in self.signals.items()},
            "match": self.match, "attempt_id": self.attempt_id,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "cloud_calls": list(self.cloud_calls),
        }


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
        Aware UTC ``datetime`` now (injectable for tests).
    rng : object with ``choice``, optional
        Randomness for the challenge draw; ``secrets.SystemRandom()`` when None.
    """

    def __init__(self, settings: Any, *, tracker: Tracker, fusion: Fusion,
                 analyzers: Callable[[], list], matcher: Any | None = None,
                 audit: Any | None = None, clock: Callable[[], datetime] = _utc_now,
                 rng: Any | None = None) -> None:
        self.settings = settings
        self.tracker = tracker
        self.fusion = fusion
        self.analyzers = analyzers
        self.matcher = matcher
        self.audit = audit
        self.clock = clock
        self.rng = rng

    # -- the generator ------------------------------------------------------------------------

    def session(self, frames: Iterable[Frame], request: SessionRequest = SessionRequest()
                ) -> Generator[SessionProgress, None, Decision]:
        """Run one verification over ``frames``; see the module docstring."""
        if request.reference is not None and self.matcher is None:
            # A pass without comparing faces would be a silent identity bypass.
            raise ValueError("a reference photo was given but the verifier has no matcher")
        started_at = self.clock()
        liveness = self.settings.liveness
        subject_ref = None
        if self.audit is not None and request.subject_number:
            subject_ref = self.audit.subject_ref(request.subject_number)
        if self.audit is not None and self.audit.active_lockout(subject_ref) is not None:
            # Not recorded as an attempt: recording would extend the lockout for every
            # passer-by at a busy kiosk. The lockout itself is in the chained log.
            return Decision(FAIL, (RATE_LIMITED,), started_at=started_at,
                            ended_at=self.clock())

        if request.script is not None:
            actions = [a for a, _ in request.script]
            engine = ChallengeEngine.from_settings(actions, liveness,
                                                   schedule=[t for _, t in request.script])
        else:
            # Drawn here, shown one at a time; never logged before it is shown.
            actions = list(draw_sequence(liveness.challenge_count, rng=self.rng))
            engine = ChallengeEngine.from_settings(actions, liveness)
        analyzers = self.analyzers()
        best = BestFrame()
        t0: float | None = None

        for frame in frames:
            t0 = frame.t if t0 is None else t0
            obs = self.tracker.observe(frame)
            progress = engine.update(obs)
            for analyzer in analyzers:
                analyzer.update(frame, obs)
            if obs.face is not None and obs.n_faces == 1:
                best.offer(frame.image, obs.face, frame.t)
            turning = progress.action in HEAD_ACTIONS
            yield SessionProgress(
                stage=CHALLENGE, prompt=progress.action, index=progress.index,
                total=progress.total, time_left=progress.time_left,
                window_s=float(liveness.response_window_s),
                guidance=guidance(obs, frontal_required=not turning),
                face_box=obs.face.box if obs.face is not None else None,
                frame_shape=obs.frame_shape)
            if engine.done:
                break
        result = engine.result if engine.done else engine.finish()
        wall = (lambda t: started_at + timedelta(seconds=t - t0)) if t0 is not None else None
        challenges = tuple(_challenge_record(c, wall) for c in result.challenges)
        reasons: list[str] = []
        if not result.passed:
            reasons.append(result.reason or SOURCE_ENDED)

        yield SessionProgress(ANALYSING, None, len(actions), len(actions), None,
                              float(liveness.response_window_s), OK, None, None)
        signals = [a.result() for a in analyzers]
        fused = self.fusion.fuse(signals, still=False)
        liveness_score = round(float(fused.score), 2)
        live = liveness_score >= float(liveness.confidence_threshold)
        if not live:
            reasons.append(LIVENESS_FAILED)
            reasons.extend(r for r in fused.reasons if r not in reasons)

        decision, match, calls = FAIL, None, ()
        if not reasons:
            if best.image is None:
                reasons.append(NO_USABLE_FRAME)
            elif request.reference is None:
                decision = PASS  # liveness only: no reference to compare with
            else:
                yield SessionProgress(MATCHING, None, len(actions), len(actions), None,
                                      float(liveness.response_window_s), OK,
                                      None, None)
                decision, match_reasons, match, calls = self._match(best, request.reference)
                reasons.extend(match_reasons)

        decision_obj = Decision(
            decision=decision, reasons=tuple(dict.fromkeys(reasons)), challenges=challenges,
            liveness_score=liveness_score,
            signals={s.name: signal_dict(s) for s in signals}, match=match,
            started_at=started_at, ended_at=self.clock(), cloud_calls=calls)
        return self._record(decision_obj, subject_ref, best)

    # -- steps ---------------------------------------------------------------------------------

    def _match(self, best: BestFrame, reference: np.ndarray):
        """Compare the best frame with the reference; returns (decision, reasons, match, calls)."""
        settings = self.settings
        try:
            result = self.matcher.compare(best.image, reference, live_box=best.face.box)
        except CloudError as exc:
            log.warning("face matcher unavailable: %s", exc.code)
            return REVIEW, (MATCH_UNAVAILABLE, exc.code), None, ()
        decision, reasons = match_outcome(result, mode=settings.kiosk.mode,
                                          offline_policy=settings.matching.offline_policy)
        if not result.matched:
            reasons = (FACE_MISMATCH,) + tuple(reasons)
        calls: tuple[str, ...] = ()
        if result.matcher == "rekognition":
            calls = ("CompareFaces",) + (("DetectFaces",) if result.quality is not None else ())
        match = {"matcher": result.matcher, "matched": bool(result.matched),
                 "similarity": None if result.similarity is None else round(result.similarity, 2),
                 "reasons": list(result.reasons)}
        return decision, tuple(reasons), match, calls

    def _record(self, decision: Decision, subject_ref: str | None, best: BestFrame) -> Decision:
        if self.audit is None:
            return decision
        record = AttemptRecord(
            kiosk_id=self.settings.kiosk.kiosk_id, started_at=decision.started_at,
            ended_at=decision.ended_at, subject_ref=subject_ref, decision=decision.decision,
            app_version=__version__, settings_digest=self.settings.digest(),
            # Prompts never shown (after an earlier failure) did not happen: not recorded.
            challenges=[_audit_challenge(c) for c in decision.challenges
                        if c.get("prompted_at") is not None],
            signals=dict(decision.signals), liveness_score=decision.liveness_score,
            match=decision.match, reasons=decision.reasons, cloud_calls=decision.cloud_calls)
        frame_jpeg = None
        if self.settings.audit.store_best_frame and best.image is not None:
            ok, buf = cv2.imencode(".jpg", best.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
            frame_jpeg = buf.tobytes() if ok else None
        stored = self.audit.record_attempt(record, best_frame=frame_jpeg)
        return dataclasses.replace(decision, attempt_id=stored.attempt_id)


def _challenge_record(outcome, wall) -> dict[str, Any]:
    """A challenge outcome with wall-clock times for the log and the operator's timeline."""
    data = outcome.as_dict()
    if wall is not None:
        data["prompted_at"] = wall(outcome.prompt_t) if outcome.prompt_t is not None else None
        data["responded_at"] = (wall(outcome.response_t) if outcome.response_t is not None
                                else None)
    return data


def _audit_challenge(challenge: Mapping[str, Any]) -> dict[str, Any]:
    return {"action": challenge["action"], "prompted_at": challenge.get("prompted_at"),
            "responded_at": challenge.get("responded_at"), "outcome": challenge["outcome"],
            "confidence": challenge.get("confidence"), "reason": challenge.get("reason")}
