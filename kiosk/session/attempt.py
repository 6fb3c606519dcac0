"""One verification's state as it moves through the phases, and how its parts are written
down (challenge times on the wall clock, the audit's challenge entries, the light signal with
its sequence, the cloud operations)."""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.analysis.challenges import ChallengeEngine, ChallengeOutcome
from kiosk.analysis.guidance import PlacementTracker
from kiosk.analysis.quality import BestFrame
from kiosk.analysis.signals import Analyzer
from kiosk.cloud.results import MatchResult
from kiosk.model import Signal
from kiosk.session.clock import SessionClock
from kiosk.session.light import LightOutcome, sequence_detail
from kiosk.session.types import SessionRequest
from kiosk.settings import LivenessSettings
from kiosk.vocabulary import Verdict


@dataclass
class Attempt:
    """The state of one verification as it moves through the phases."""

    request: SessionRequest
    # The session's wall times: every one after the start derives from it.
    clock: SessionClock
    liveness: LivenessSettings
    subject_ref: str | None = None
    attempt_id: int | None = None
    engine: ChallengeEngine | None = None
    total: int = 0
    analyzers: list[Analyzer] = field(default_factory=list)
    best: BestFrame = field(default_factory=BestFrame)
    # Observation time of every frame processed (for the analysed frame rate,
    # kiosk.analysis.capture) and, in step, the session clock's time it was processed at (for
    # the audit's times).
    times: list[float] = field(default_factory=list)
    walls: list[datetime] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    challenges: tuple[dict[str, Any], ...] = ()
    signals: list[Signal] = field(default_factory=list)
    liveness_score: float | None = None
    verdict: Verdict = Verdict.FAIL
    match: dict[str, Any] | None = None
    cloud_calls: tuple[str, ...] = ()
    member: str | None = None
    light: LightOutcome | None = None
    # One placement for the whole session: a face placed for the light step stays placed for
    # the first prompt (no second hold).
    placement: PlacementTracker = field(default_factory=PlacementTracker)

    @property
    def started_at(self) -> datetime:
        return self.clock.started_at

    def wall(self, t: float | None) -> datetime | None:
        """When the frame at observation time ``t`` (or the first one after it) was processed,
        on the session clock: within the attempt's start and end whatever the source's pace
        (a recording is read faster than real time) or the system clock's steps."""
        if t is None or not self.walls:
            return None
        i = bisect.bisect_left(self.times, t)
        return self.walls[min(i, len(self.walls) - 1)]



#: The most prompts a session asks (``liveness.challenge_count``'s maximum).
MAX_CHALLENGES = 6


def effective_liveness(liveness: LivenessSettings, request: SessionRequest) -> LivenessSettings:
    """The liveness settings of one session: the accessible check answers with longer windows
    within twice the session bound, with ``accessible_challenge_count`` prompts plus
    ``accessible_light_prompts``.

    The added prompts stand for the light check the accessible check never has, and are
    added at sites with the light check off too: there its two prompts alone would let a
    recording through by chance three times as often as the standard check's three (3.7-4.2 %
    against 1.2 %, ``chance_pass`` at the measured rates); with four, 0.10-0.15 %.
    """
    if not request.accessible:
        return liveness
    # accessible_challenge_count is at most challenge_count (settings check).
    count = min(liveness.accessible_challenge_count + liveness.accessible_light_prompts,
                MAX_CHALLENGES)
    return dataclasses.replace(
        liveness, response_window_s=max(liveness.response_window_s,
                                        liveness.accessible_window_s),
        challenge_count=count, session_limit_s=2.0 * liveness.session_limit_s)


def cloud_calls(result: MatchResult) -> tuple[str, ...]:
    """The Rekognition operations behind a result, in order (none for the local matcher)."""
    if result.operations:
        return tuple(result.operations)
    if result.matcher == "rekognition":  # a matcher that does not list its operations
        return ("CompareFaces",) + (("DetectFaces",) if result.quality is not None else ())
    return ()


def with_sequence(signal: Signal, shown: Any) -> Signal:
    """The light signal with the sequence as shown, for the audit row (after the fact)."""
    if shown is None:
        return signal
    detail = sequence_detail(shown, shown.segments[0].start)
    return dataclasses.replace(signal, details={**signal.details, "sequence": detail})


def challenge_record(outcome: ChallengeOutcome, attempt: Attempt) -> dict[str, Any]:
    """A challenge outcome with wall-clock times for the log and the operator's timeline."""
    data = outcome.as_dict()
    if attempt.walls:
        data["prompted_at"] = attempt.wall(outcome.prompt_t)
        data["responded_at"] = attempt.wall(outcome.response_t)
    return data


def audit_challenge(challenge: Mapping[str, Any]) -> dict[str, Any]:
    return {"action": challenge["action"], "prompted_at": challenge.get("prompted_at"),
            "responded_at": challenge.get("responded_at"), "outcome": challenge["outcome"],
            "confidence": challenge.get("confidence"), "reason": challenge.get("reason"),
            "paused_s": challenge.get("paused_s"), "retry": bool(challenge.get("retry"))}

