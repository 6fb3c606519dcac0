"""What the kiosk runtime reports, and the small protocol it reports through (no Qt).

The runtime calls ``sink.report(event)`` from its own thread, synchronously, for every event
below. The GUI's sink (:class:`kiosk.ui.worker.KioskWorker`) turns each into a Qt signal;
tests and headless tools record them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from kiosk.runtime.parts import FaceCheck
from kiosk.session import Decision, SessionProgress


@dataclass(frozen=True)
class FaceChecked:
    """A face tracked outside a session (idle screen, approach detection)."""

    check: FaceCheck


@dataclass(frozen=True)
class ProgressMade:
    session_id: int
    progress: SessionProgress


@dataclass(frozen=True)
class DecisionMade:
    session_id: int
    decision: Decision


@dataclass(frozen=True)
class SessionFailed:
    """The session ended without a decision; ``reason`` is for staff."""

    session_id: int
    reason: str


@dataclass(frozen=True)
class CameraFailed:
    reason: str


@dataclass(frozen=True)
class CameraRecovered:
    pass


@dataclass(frozen=True)
class AuditFailed:
    reason: str


@dataclass(frozen=True)
class AuditRecovered:
    pass


@dataclass(frozen=True)
class RecordingFailed:
    """``kiosk record`` cannot keep a session (too little free space): nobody should start
    one until room is made."""

    reason: str


@dataclass(frozen=True)
class RecordingRecovered:
    pass


@dataclass(frozen=True)
class StartupFailed:
    """A part could not be built (a model, the staffed desk's matcher): staff must correct the
    installation or the settings."""

    reason: str


@dataclass(frozen=True)
class RuntimeFailed:
    """A bug stopped the runtime: nothing runs until the kiosk is started again."""

    reason: str


@dataclass(frozen=True)
class Started:
    """Everything is built; sessions may start."""


@dataclass(frozen=True)
class LockoutState:
    """The lockouts the idle screen shows: of this kiosk, and of the person just served (a
    failure that locked its subject). Reported when they change. ``fleet_paused``: no
    session may start while the fleet server stays silent (``fleet.unreachable_policy =
    refuse``); no lockout, but the idle screen shows the kiosk paused all the same, rather
    than let the next person read the consent notice to be refused after it."""

    kiosk_until: datetime | None
    subject_until: datetime | None
    fleet_paused: bool = False


@dataclass(frozen=True)
class IdentityLoaded:
    photo: Any  # kiosk.identity.IdPhoto


@dataclass(frozen=True)
class IdentityFailed:
    reason: str


@dataclass(frozen=True)
class Stopped:
    pass


RuntimeEvent = (FaceChecked | ProgressMade | DecisionMade | SessionFailed | CameraFailed
                | CameraRecovered | AuditFailed | AuditRecovered | RecordingFailed
                | RecordingRecovered | StartupFailed | RuntimeFailed
                | Started | LockoutState | IdentityLoaded | IdentityFailed | Stopped)


class EventSink(Protocol):
    """Receives the runtime's events, in the runtime's thread; must return quickly."""

    def report(self, event: RuntimeEvent) -> None: ...


class TeeSink:
    """Reports every event to several sinks, in order."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def report(self, event: RuntimeEvent) -> None:
        for sink in self.sinks:
            sink.report(event)
