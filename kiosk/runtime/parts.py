"""What the kiosk runtime is built from, and what it reports outside sessions (no Qt)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kiosk.analysis.guidance import Guidance
from kiosk.cloud.detect import HogFaceDetector
from kiosk.identity import card_detector


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FaceCheck:
    """Guidance for one tracked frame outside a session (idle screen, approach detection)."""

    guidance: Guidance
    present: bool

    @property
    def ok(self) -> bool:
        return self.guidance.ok


@dataclass
class RuntimeParts:
    """How the runtime builds what it needs, in its own thread.

    Attributes
    ----------
    tracker : callable
        ``() -> tracker`` with ``observe(frame) -> FaceObservation``
        (:class:`kiosk.analysis.face.FaceTracker`).
    fusion : callable
        ``() -> fusion`` with ``fuse(signals, still=False)`` (``Fusion.load``).
    analyzers : callable
        ``(settings) -> list of analyzers``, fresh for each session.
    audit : callable
        ``(settings) -> AuditLog``; raises :class:`AuditUnavailable` (retried).
    matcher : callable or None
        ``(settings) -> FaceMatcher``; None when the kiosk never compares faces. Built at
        start in staffed mode, otherwise on the first session with a reference photo.
    id_detector, card_detector : callable
        ``() -> HogFaceDetector`` for ID photo files and for ID cards held to the camera.
    clock : callable
        Aware UTC now, for the session's timestamps.
    rng : object with ``choice`` or None
        The challenge draw's randomness (None: ``secrets.SystemRandom``; tests seed one).
    record : RecordPlan or None
        ``kiosk record``: every session's frames, light sequence and prompts are saved
        (:mod:`kiosk.runtime.record`); None at a kiosk in service.
    """

    tracker: Callable[[], Any]
    fusion: Callable[[], Any]
    analyzers: Callable[[Any], list]
    audit: Callable[[Any], Any]
    matcher: Callable[[Any], Any] | None = None
    id_detector: Callable[[], Any] = HogFaceDetector
    card_detector: Callable[[], Any] = card_detector
    clock: Callable[[], datetime] = _utc_now
    rng: Any = None
    record: Any = None
