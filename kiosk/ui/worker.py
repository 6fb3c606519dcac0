"""The Qt face of the kiosk runtime: its events as signals, its requests as methods.

:class:`KioskWorker` lives in its own QThread and runs :class:`kiosk.runtime.KioskRuntime`
there; everything the kiosk does off the UI thread is in the runtime, which knows nothing of
Qt. This adapter only turns each runtime event into a signal (queued to the UI thread) and
passes the window's requests on (they only queue work, so they are safe from any thread).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from kiosk.camera import CameraHealth, SourceInfo
from kiosk.feed import FrameFeed
from kiosk.runtime import EventSink, KioskRuntime, RuntimeEvent, RuntimeParts, TeeSink
from kiosk.runtime import events as ev
from kiosk.session import SessionRequest
from kiosk.settings import Settings


class KioskWorker(QObject):
    """Runs the kiosk runtime in a QThread and reports it as signals.

    Parameters
    ----------
    settings, feed, parts, **options :
        As for :class:`~kiosk.runtime.KioskRuntime` (``source_factory``,
        ``idle_interval_s``, ``audit_retry_s``).
    observer : EventSink, optional
        Also receives every event, synchronously in the worker thread, before the signal is
        emitted (tests use it to react to a prompt the moment it appears).
    """

    face_checked = Signal(object)          # FaceCheck
    progress_made = Signal(int, object)    # session id, SessionProgress
    decision_made = Signal(int, object)    # session id, Decision
    session_failed = Signal(int, str)      # session id, reason (no decision was made)
    camera_failed = Signal(str)
    camera_recovered = Signal()
    audit_failed = Signal(str)
    audit_recovered = Signal()
    recording_failed = Signal(str)         # `kiosk record`: no room for a session
    recording_recovered = Signal()
    startup_failed = Signal(str)
    runtime_failed = Signal(str)           # a bug stopped the runtime
    started = Signal()                     # everything is built; sessions may start
    lockouts_changed = Signal(object)      # kiosk.runtime.events.LockoutState
    identity_loaded = Signal(object)       # kiosk.identity.IdPhoto
    identity_failed = Signal(str)
    stopped = Signal()

    def __init__(self, settings: Settings, feed: FrameFeed, parts: RuntimeParts, *,
                 observer: EventSink | None = None, **options: Any) -> None:
        super().__init__()
        sink: EventSink = self if observer is None else TeeSink(observer, self)
        self.runtime = KioskRuntime(settings, feed, parts, sink, **options)
        self._emitters: dict[type, Callable[[Any], None]] = {
            ev.FaceChecked: lambda e: self.face_checked.emit(e.check),
            ev.ProgressMade: lambda e: self.progress_made.emit(e.session_id, e.progress),
            ev.DecisionMade: lambda e: self.decision_made.emit(e.session_id, e.decision),
            ev.SessionFailed: lambda e: self.session_failed.emit(e.session_id, e.reason),
            ev.CameraFailed: lambda e: self.camera_failed.emit(e.reason),
            ev.CameraRecovered: lambda e: self.camera_recovered.emit(),
            ev.AuditFailed: lambda e: self.audit_failed.emit(e.reason),
            ev.AuditRecovered: lambda e: self.audit_recovered.emit(),
            ev.RecordingFailed: lambda e: self.recording_failed.emit(e.reason),
            ev.RecordingRecovered: lambda e: self.recording_recovered.emit(),
            ev.StartupFailed: lambda e: self.startup_failed.emit(e.reason),
            ev.RuntimeFailed: lambda e: self.runtime_failed.emit(e.reason),
            ev.Started: lambda e: self.started.emit(),
            ev.LockoutState: lambda e: self.lockouts_changed.emit(e),
            ev.IdentityLoaded: lambda e: self.identity_loaded.emit(e.photo),
            ev.IdentityFailed: lambda e: self.identity_failed.emit(e.reason),
            ev.Stopped: lambda e: self.stopped.emit(),
        }

    def report(self, event: RuntimeEvent) -> None:
        """The runtime's sink: one event becomes one signal."""
        self._emitters[type(event)](event)

    @Slot()
    def run(self) -> None:
        self.runtime.run()

    # -- requests, passed on (safe from any thread) ---------------------------------------

    @property
    def feed(self) -> FrameFeed:
        return self.runtime.feed

    @property
    def audit(self) -> Any:
        """The audit log once open (None while unavailable)."""
        return self.runtime.audit

    def camera_health(self) -> CameraHealth:
        return self.runtime.camera_health()

    def camera_source(self) -> SourceInfo:
        return self.runtime.camera_source()

    def start_session(self, session_id: int, request: SessionRequest) -> None:
        self.runtime.start_session(session_id, request)

    def cancel_session(self, session_id: int) -> None:
        self.runtime.cancel_session(session_id)

    def light_painted(self, session_id: int, colours: list) -> None:
        """What the live screen painted of the light sequence (monotonic times)."""
        self.runtime.light_painted(session_id, colours)

    def load_id_photo(self, path: str) -> None:
        self.runtime.load_id_photo(path)

    def load_newest_scan(self, folder: str) -> None:
        self.runtime.load_newest_scan(folder)

    def capture_id_card(self) -> None:
        self.runtime.capture_id_card()

    def apply_settings(self, settings: Settings) -> None:
        self.runtime.apply_settings(settings)

    def stop(self) -> None:
        self.runtime.stop()
