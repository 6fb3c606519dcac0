"""What a challenge sequence produced: per-prompt outcomes, the verdict, screen progress.

Shared by the engine, the audit log and the operator view; every type has a plain
``as_dict()`` form for JSON output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.analysis.challenges.baseline import Baseline
from kiosk.model import Event


def _ms(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def event_dict(event: Event) -> dict:
    """An event as ``{"action", "start", "end", "confidence"}`` (times in seconds)."""
    return {"action": event.action, "start": round(event.start, 3),
            "end": round(event.end, 3), "confidence": round(event.confidence, 3)}


@dataclass(frozen=True)
class ChallengeOutcome:
    """What happened to one prompt, for the audit log and the operator's timeline.

    Attributes
    ----------
    index : int
        0-based position in the sequence.
    action : str
        The action asked for.
    outcome : str
        ``passed``, ``failed``, ``retried`` (failed, and replaced by a fresh prompt of another
        action) or ``not_shown`` (the sequence ended before this prompt).
    reason : str or None
        Reason code when failed.
    prompt_t, deadline_t : float or None
        When the prompt was shown and when its response window closed or would close
        (observation time; the window is paused while the face is not placed).
    response_t : float or None
        Start of the event that decided the challenge (the answer or the wrong action).
    reaction_s : float or None
        ``response_t - prompt_t``.
    event : Event or None
        That event; its ``confidence`` is the detector's.
    detail : str
        Plain words for the operator (never shown to the person).
    retry : bool
        This prompt was a second chance, shown after an earlier one failed.
    paused_s : float
        How long its window was paused because the face was not placed.
    """

    index: int
    action: str
    outcome: str
    reason: str | None = None
    prompt_t: float | None = None
    deadline_t: float | None = None
    response_t: float | None = None
    reaction_s: float | None = None
    event: Event | None = None
    detail: str = ""
    retry: bool = False
    paused_s: float = 0.0

    @property
    def confidence(self) -> float | None:
        return self.event.confidence if self.event is not None else None

    def as_dict(self) -> dict:
        """Plain JSON-ready form (times rounded to milliseconds)."""
        return {
            "index": self.index, "action": self.action, "outcome": self.outcome,
            "reason": self.reason, "prompt_t": _ms(self.prompt_t),
            "deadline_t": _ms(self.deadline_t), "response_t": _ms(self.response_t),
            "reaction_s": _ms(self.reaction_s),
            "event": event_dict(self.event) if self.event is not None else None,
            "confidence": self.confidence, "detail": self.detail, "retry": self.retry,
            "paused_s": _ms(self.paused_s),
        }


@dataclass(frozen=True)
class SequenceResult:
    """The whole challenge sequence.

    ``reason`` is the first failure's reason code (None when passed); ``events`` every action
    detected while the sequence ran, for the timeline.
    """

    passed: bool
    reason: str | None
    challenges: tuple[ChallengeOutcome, ...]
    baseline: Baseline | None
    events: tuple[Event, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        """Plain JSON-ready form: verdict, per-challenge outcomes, the event timeline."""
        return {
            "passed": self.passed, "reason": self.reason,
            "challenges": [c.as_dict() for c in self.challenges],
            "events": [event_dict(e) for e in self.events],
        }


@dataclass(frozen=True)
class Progress:
    """What the screen needs after each observation.

    ``action`` is the prompt on screen (None outside a prompt), ``index`` its 0-based position
    of ``total``, ``time_left`` the seconds left to answer it (its timer stands still while
    ``paused``: the face is not placed). ``retry`` marks a second chance. ``ready_in`` counts
    down the baseline before the first prompt (None when unknown). ``reach`` is, during a head
    prompt, how far the head is toward the asked direction in thresholds (the screen says "a
    little further" to someone who turns too little); None otherwise.
    """

    state: str
    index: int
    total: int
    action: str | None = None
    time_left: float | None = None
    passed: bool | None = None
    reason: str | None = None
    paused: bool = False
    retry: bool = False
    ready_in: float | None = None
    reach: float | None = None
