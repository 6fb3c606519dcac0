"""Attempts for the operator: filtered rows for the table, and one attempt's full detail."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kiosk.audit import DECISIONS, OperatorAction, StoredAttempt, camera_text
from kiosk.errors import InputError
from kiosk.operator.zone import unknown_zone

DECISION_FILTERS: tuple[str, ...] = (*DECISIONS, "incomplete")
MAX_ROWS = 5000


@dataclass(frozen=True)
class AttemptFilter:
    """What the attempts table shows.

    Attributes
    ----------
    decision : str or None
        ``pass``, ``fail``, ``review`` or ``incomplete`` (the decision as recorded).
    reason : str or None
        A reason code the decision must carry (exact).
    since, until : datetime or None
        Aware bounds on the start of the attempt (``since`` included, ``until`` excluded).
    search : str
        Case-insensitive text that any code of the attempt must contain: decision reasons,
        match reasons, challenge reasons and outcomes, signal reasons.
    limit : int
        Most rows shown, newest first (1 to :data:`MAX_ROWS`).
    """

    decision: str | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str = ""
    limit: int = 200

    def __post_init__(self) -> None:
        if self.decision is not None and self.decision not in DECISION_FILTERS:
            raise InputError(f"decision must be one of {', '.join(DECISION_FILTERS)}, got "
                             f"{self.decision!r}")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise InputError(f"{name} must be a timezone-aware datetime")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InputError("the start of the date range must be before its end")
        if not 1 <= self.limit <= MAX_ROWS:
            raise InputError(f"limit must be from 1 to {MAX_ROWS}, got {self.limit}")

    @property
    def needs_scan(self) -> bool:
        """True when rows are filtered after reading (a text search: the database finds the
        attempts that mention the text; which of them carry it in a code is read after)."""
        return bool(self.search.strip())


@dataclass(frozen=True)
class AttemptRow:
    """One line of the attempts table."""

    id: int
    started_at: datetime
    kiosk_id: str
    subject: str
    decision: str
    overridden_to: str | None
    liveness_score: float | None
    reasons: tuple[str, ...]
    scripted: bool = False

    @property
    def effective_decision(self) -> str:
        """The decision after the latest override, if any."""
        return self.overridden_to or self.decision


@dataclass(frozen=True)
class AttemptPage:
    """Rows found, and how many attempts were read to find them.

    ``truncated`` is True when a text search stopped after reading :data:`MAX_ROWS`
    attempts that mention the text: older matches may exist (narrow the date range). ``more`` is
    True when older attempts matching the filter were left out because the rows stop at the
    filter's ``limit``.
    """

    rows: tuple[AttemptRow, ...]
    scanned: int
    truncated: bool
    more: bool = False


@dataclass(frozen=True)
class SignalLine:
    """One analysis signal: higher ``score`` means more suspicious (see kiosk.model.Signal).

    ``reason`` is the cue's code only when it moved the decision (it is among the attempt's
    reasons); a cue that stayed quiet, or whose weight is nil, shows none.
    """

    name: str
    score: float
    confidence: float
    reason: str | None
    details: str


@dataclass(frozen=True)
class TimelineStep:
    """One challenge: the prompt shown, the response seen, and how it was judged;
    ``paused_s`` how long its timer stood still while the face was not placed, ``retry``
    whether it was a second chance."""

    index: int
    prompt: str
    prompted_at: datetime
    responded_at: datetime | None
    response_s: float | None
    outcome: str
    confidence: float | None
    reason: str | None
    paused_s: float = 0.0
    retry: bool = False


@dataclass(frozen=True)
class AttemptDetail:
    """Everything the audit log holds about one attempt (no image, no ID number); ``camera``
    what its frames came from, as staff read it (:func:`kiosk.audit.camera_text`)."""

    id: int
    status: str
    kiosk_id: str
    started_at: datetime
    ended_at: datetime | None
    recorded_at: datetime | None
    subject: str
    decision: str
    reasons: tuple[str, ...]
    liveness_score: float | None
    match: str
    cloud_calls: tuple[str, ...]
    signals: tuple[SignalLine, ...]
    timeline: tuple[TimelineStep, ...]
    overrides: tuple[OperatorAction, ...]
    has_frame: bool
    seq: int | None
    row_hash: str | None
    camera: str
    scripted: bool = False
    accessible: bool = False

    @property
    def effective_decision(self) -> str:
        """The decision after the latest override (overrides are newest first)."""
        return self.overrides[0].details["to"] if self.overrides else self.decision


def fmt_time(value: datetime | None) -> str:
    """Local time to the second with its zone (the log holds UTC), ``-`` for None: how the
    panel shows every time. Under a ``TZ`` this machine does not know, the C library keeps
    UTC: it is said to be UTC (:mod:`kiosk.operator.zone`)."""
    if value is None:
        return "-"
    if unknown_zone() is not None:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def short_ref(subject_ref: str | None) -> str:
    """The first 12 hex digits of a subject reference, or ``-``."""
    return subject_ref[:12] if subject_ref else "-"


def attempt_codes(attempt: StoredAttempt) -> set[str]:
    """Every code of an attempt the text search looks in."""
    record = attempt.record
    if record is None:
        return set()
    codes = set(record.reasons)
    if record.match is not None:
        codes.update(record.match["reasons"])
    for challenge in record.challenges:
        codes.update(filter(None, (challenge["reason"], challenge["outcome"])))
    codes.update(s["reason"] for s in record.signals.values() if s["reason"])
    return codes


def matches(attempt: StoredAttempt, flt: AttemptFilter) -> bool:
    """The part of the filter applied after reading: reason and text search."""
    if flt.reason and (attempt.record is None or flt.reason not in attempt.record.reasons):
        return False
    needle = flt.search.strip().lower()
    return not needle or any(needle in code.lower() for code in attempt_codes(attempt))


def latest_overrides(actions: Iterable[OperatorAction]) -> dict[int, str]:
    """Attempt id to its overridden decision, from override actions listed newest first."""
    latest: dict[int, str] = {}
    for action in actions:
        if action.action == "override" and action.target and action.target.isdigit():
            latest.setdefault(int(action.target), action.details["to"])
    return latest


def attempt_row(attempt: StoredAttempt, overrides: Mapping[int, str]) -> AttemptRow:
    record = attempt.record
    return AttemptRow(
        id=attempt.id, started_at=attempt.started_at, kiosk_id=attempt.kiosk_id,
        subject=short_ref(attempt.subject_ref), decision=attempt.decision,
        overridden_to=overrides.get(attempt.id),
        liveness_score=record.liveness_score if record else None,
        reasons=record.reasons if record else (), scripted=attempt.scripted)


def _details_text(details: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in details.items())


def _match_text(match: Mapping[str, Any] | None) -> str:
    if match is None:
        return "not attempted"
    similarity = match["similarity"]
    shown = "-" if similarity is None else f"{similarity:.2f}"
    reasons = ", ".join(match["reasons"]) or "none"
    return (f"{'matched' if match['matched'] else 'not matched'} by {match['matcher']}, "
            f"similarity {shown}, reasons {reasons}")


def _timeline(challenges: Sequence[Mapping[str, Any]]) -> tuple[TimelineStep, ...]:
    steps = []
    for i, c in enumerate(challenges, 1):
        answered = c["responded_at"]
        delay = None if answered is None else (answered - c["prompted_at"]).total_seconds()
        steps.append(TimelineStep(
            index=i, prompt=c["action"].replace("_", " "), prompted_at=c["prompted_at"],
            responded_at=answered, response_s=delay, outcome=c["outcome"],
            confidence=c["confidence"], reason=c["reason"], paused_s=c.get("paused_s", 0.0),
            retry=c.get("retry", False)))
    return tuple(steps)


def attempt_detail(attempt: StoredAttempt,
                   overrides: Sequence[OperatorAction]) -> AttemptDetail:
    """The detail view of an attempt; ``overrides`` are its override actions, newest first."""
    record = attempt.record
    reasons = set(record.reasons) if record is not None else set()
    signals = () if record is None else tuple(
        SignalLine(name, s["score"], s["confidence"],
                   s["reason"] if s["reason"] in reasons else None, _details_text(s["details"]))
        for name, s in record.signals.items())
    return AttemptDetail(
        id=attempt.id, status=attempt.status, kiosk_id=attempt.kiosk_id,
        started_at=attempt.started_at, ended_at=record.ended_at if record else None,
        recorded_at=attempt.recorded_at, subject=attempt.subject_ref or "none given",
        decision=attempt.decision, reasons=record.reasons if record else (),
        liveness_score=record.liveness_score if record else None,
        match=_match_text(record.match) if record else "not finished",
        cloud_calls=record.cloud_calls if record else (), signals=signals,
        timeline=_timeline(record.challenges) if record else (),
        overrides=tuple(overrides), has_frame=attempt.has_frame, seq=attempt.seq,
        row_hash=attempt.row_hash, camera=camera_text(attempt.camera),
        scripted=attempt.scripted, accessible=attempt.accessible)
