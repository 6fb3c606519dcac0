"""What one verification takes, reports while it runs, and returns (no Qt, no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from kiosk.analysis.guidance import Guidance, Oval
from kiosk.model import FaceObservation, Frame, Signal
from kiosk.vocabulary import Stage, Verdict


class FusionResultLike(Protocol):
    @property
    def score(self) -> float: ...

    @property
    def reasons(self) -> Sequence[str]: ...

    @property
    def refused(self) -> bool: ...

    @property
    def frame_rate(self) -> float | None: ...

    @property
    def strong(self) -> Sequence[str]: ...


class Fusion(Protocol):
    """Turns passive signals into a liveness score (see kiosk.analysis.fusion)."""

    def fuse(self, signals: Sequence[Signal], *, still: bool = False,
             frame_rate: float | None = None) -> FusionResultLike:
        """Return an object with ``score`` (0-100, 100 = live), ``reasons`` (codes),
        ``refused`` (not judged: a still, a capture too slow), ``frame_rate`` and
        ``strong`` (the codes of the cues that are evidence of an attack on their own)."""


class Tracker(Protocol):
    def observe(self, frame: Frame) -> FaceObservation: ...


class LightPlan(Protocol):
    """Where a session's light sequence comes from and which times judge it (see
    :mod:`kiosk.session.light`)."""

    def begin(self, t: float) -> Any:
        """The step starts at frame time ``t``: the LightSequence to show, times from 0."""

    def painted(self) -> Any:
        """The LightSequence as shown, in frame time; None until it is known."""


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
    accessible : bool
        The person chose the accessible check: longer response windows, no blink, no
        flashing light (prompts in place of the light step).
    light : LightPlan or None
        The light step's sequence source (the kiosk's screen, or a recording's sequence for
        ``kiosk verify --light``); None: no light step (a file cannot see the screen).
    assume_placed : bool
        Evaluation only (``kiosk evaluate --sessions``): the prompts' placement gate counts a
        frame with exactly one face as placed, so the kiosk's random prompts reach a
        recording that cannot follow the placement guidance. Such sessions have no light
        step. Never reachable from the kiosk UI.
    member_check_in : bool
        Search the live face among the enrolled members (``matching.collection_id``; see
        :mod:`kiosk.session.members`) instead of comparing it with ``reference``.
    stopped : callable or None
        ``stopped()`` says whether the kiosk ended the session's frames on purpose (the
        person's Stop or Escape, staff opening the panel): an end of frames is then recorded
        as STOPPED rather than SOURCE_ENDED, which would send staff to the camera.
    camera : mapping or None
        What the frames come from, as the attempt's audit row records it
        (:func:`kiosk.session.camera.camera_record`); None when not known.
    id_scan : tuple of (str, int) or None
        The scanner file ``reference`` came from (path, modification time in ns): a check
        that runs spends it, so "Use scan" does not take it for the next person.
    """

    reference: np.ndarray | None = None
    subject_number: str | None = None
    script: Sequence[tuple[str, float]] | None = None
    accessible: bool = False
    light: LightPlan | None = None
    assume_placed: bool = False
    member_check_in: bool = False
    stopped: Callable[[], bool] | None = None
    camera: Mapping[str, Any] | None = None
    id_scan: tuple[str, int] | None = None

    def __post_init__(self) -> None:
        if self.member_check_in and self.reference is not None:
            raise ValueError("a member check-in searches the members; it takes no ID photo")

    @property
    def needs_matcher(self) -> bool:
        """The session compares or searches faces (an ID photo, or a member check-in)."""
        return self.reference is not None or self.member_check_in


@dataclass(frozen=True)
class SessionProgress:
    """What the screen needs after each frame.

    ``prompt`` is the action on screen (None between prompts); ``face_box`` and ``oval`` are
    in the unmirrored frame's pixels; the screen mirrors them with the picture. ``guidance``
    is smoothed (it does not flicker); ``placed`` says whether the face is in the oval, and
    ``paused`` that the prompt's timer stands still because it is not. ``retry`` marks a
    second chance; ``ready_in`` counts down the seconds before the first prompt. ``reach`` is,
    during a head prompt, how far the head has moved toward the asked direction in thresholds
    (1.0 is enough). ``light`` is the colour sequence to show now (stage LIGHT):
    ``(start, end, (r, g, b))`` with times in seconds from the moment the screen starts it;
    None before and after.
    """

    stage: Stage
    prompt: str | None
    index: int
    total: int
    time_left: float | None
    window_s: float
    guidance: Guidance
    face_box: tuple[float, float, float, float] | None
    frame_shape: tuple[int, int] | None
    placed: bool = False
    paused: bool = False
    retry: bool = False
    ready_in: float | None = None
    oval: Oval | None = None
    reach: float | None = None
    light: tuple[tuple[float, float, tuple[int, int, int]], ...] | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome of one verification, as recorded in the audit log.

    ``liveness_score`` and ``signals`` are for staff and the audit log only; the person in
    front of the kiosk sees pass or fail and guidance, never scores. ``lockouts`` are the
    lockouts that recording this failure started, as ``(scope, until)`` with scope
    ``"subject"`` or ``"kiosk"``; ``refused_by`` the scope of the lockout that refused the
    attempt before it began (reason ``RATE_LIMITED``), None otherwise. ``member`` is the
    checked-in member's id (the external id given to ``kiosk enroll``) after a member
    check-in passed: for the site's own systems (``kiosk verify --json``), never shown to the
    person nor written to the audit log.
    """

    decision: Verdict
    reasons: tuple[str, ...]
    challenges: tuple[dict[str, Any], ...] = ()
    liveness_score: float | None = None
    signals: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    match: dict[str, Any] | None = None
    attempt_id: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    cloud_calls: tuple[str, ...] = ()
    lockouts: tuple[tuple[str, datetime], ...] = ()
    refused_by: str | None = None
    member: str | None = None

    @property
    def lockout_started(self) -> bool:
        """Recording this failure locked the subject or the kiosk."""
        return bool(self.lockouts)

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
            "lockouts": [{"scope": scope, "until": until.isoformat()}
                         for scope, until in self.lockouts],
            "member": self.member,
        }
