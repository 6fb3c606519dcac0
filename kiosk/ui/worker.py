"""The kiosk worker: face tracking, sessions, the audit log and the matcher, off the UI thread.

:class:`KioskWorker` lives in its own QThread; :meth:`KioskWorker.run` loops until
:meth:`KioskWorker.stop`. Everything slow or blocking happens here: building the tracker,
the fusion model and the face matcher (dlib, about a second), opening the audit log, the
whole session generator (tracking, challenges, passive analysis, the audit lockout check, the
matcher call and the audit write), and loading ID photos. The UI thread calls the thread-safe
request methods (``start_session``, ``cancel_session``, ``load_id_photo`` ...), which only
queue work, and receives the results as signals.

The camera preview does not pass through here: the capture thread tees every frame into a
preview slot (see :mod:`kiosk.feed`) that the UI polls, so the preview keeps the camera's
rate however long an analysis step takes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from kiosk.analysis.guidance import guidance
from kiosk.audit import AuditUnavailable
from kiosk.errors import KioskError
from kiosk.feed import FrameFeed
from kiosk.identity import IdPhotoError, capture_id_card, load_id_photo, load_newest_scan
from kiosk.session import SessionRequest, Verifier
from kiosk.ui.parts import FaceCheck, WorkerParts

log = logging.getLogger(__name__)

# How long the loop waits for a frame before it looks at its requests again.
POLL_S = 0.1
# Outside a session, faces are tracked this often (approach detection, guidance): enough to
# react within a fraction of a second without spending a core on an empty hall.
IDLE_INTERVAL_S = 0.1
# A failed audit log is opened again this often.
AUDIT_RETRY_S = 5.0


@dataclass
class _Ticket:
    session_id: int
    request: SessionRequest = field(default_factory=SessionRequest)


class KioskWorker(QObject):
    """Runs in a QThread; see the module docstring.

    Parameters
    ----------
    settings : kiosk.settings.Settings
    feed : FrameFeed
        The camera feed; started and stopped by the worker.
    parts : WorkerParts
    source_factory : callable, optional
        ``(settings) -> FrameSource``: when given, a change of the camera settings switches
        the feed to the new camera.
    idle_interval_s : float
        Outside sessions, track a face at most this often.
    audit_retry_s : float
        Wait between attempts to open an unavailable audit log.
    """

    face_checked = Signal(object)          # FaceCheck
    progress_made = Signal(int, object)    # session id, SessionProgress
    decision_made = Signal(int, object)    # session id, Decision
    session_failed = Signal(int, str)      # session id, reason (no decision was made)
    camera_failed = Signal(str)
    camera_recovered = Signal()
    audit_failed = Signal(str)
    audit_recovered = Signal()
    startup_failed = Signal(str)
    started = Signal()                     # everything is built; sessions may start
    identity_loaded = Signal(object)       # kiosk.identity.IdPhoto
    identity_failed = Signal(str)
    stopped = Signal()

    def __init__(self, settings: Any, feed: FrameFeed, parts: WorkerParts, *,
                 source_factory: Callable[[Any], Any] | None = None,
                 idle_interval_s: float = IDLE_INTERVAL_S,
                 audit_retry_s: float = AUDIT_RETRY_S) -> None:
        super().__init__()
        self._idle_interval_s = float(idle_interval_s)
        self._audit_retry_s = float(audit_retry_s)
        self._settings = settings
        self._feed = feed
        self._parts = parts
        self._source_factory = source_factory
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ticket: _Ticket | None = None
        self._cancelled = 0
        self._new_settings: Any = None
        self._jobs: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._tracker: Any = None
        self._fusion: Any = None
        self._matcher: Any = None
        self._audit: Any = None
        self._audit_retry_at = 0.0
        self._camera_failing: str | None = None
        self._last_check = 0.0
        self._id_detector: Any = None
        self._card_detector: Any = None

    # -- thread-safe requests (from the UI thread) ----------------------------------------

    @property
    def feed(self) -> FrameFeed:
        return self._feed

    @property
    def audit(self) -> Any:
        """The audit log once open (None while unavailable)."""
        return self._audit

    def camera_health(self):
        """The camera's current :class:`~kiosk.camera.CameraHealth`."""
        return self._feed.health

    def start_session(self, session_id: int, request: SessionRequest) -> None:
        """Run a verification as soon as the worker is free (a newer request replaces an
        older one not yet started)."""
        with self._lock:
            self._ticket = _Ticket(session_id, request)

    def cancel_session(self, session_id: int) -> None:
        """End the frames of session ``session_id`` (and older): it finishes at once as a
        failure and is recorded; a person cannot avoid the record by walking off."""
        with self._lock:
            self._cancelled = max(self._cancelled, session_id)
            if self._ticket is not None and self._ticket.session_id <= session_id:
                self._ticket = None

    def load_id_photo(self, path: str) -> None:
        """Load and check an ID photo file; answers with identity_loaded/identity_failed."""
        self._jobs.put(("file", str(path)))

    def load_newest_scan(self, folder: str) -> None:
        """Like :meth:`load_id_photo` for the newest image of a scanner folder."""
        self._jobs.put(("scan", str(folder)))

    def capture_id_card(self) -> None:
        """Take the ID card's photo from the next camera frame."""
        self._jobs.put(("card", None))

    def apply_settings(self, settings: Any) -> None:
        """Use ``settings`` from the next session on."""
        with self._lock:
            self._new_settings = settings

    def stop(self) -> None:
        """Ask the loop to end (a running session ends as a recorded failure)."""
        self._stop.set()

    # -- the loop (worker thread) ---------------------------------------------------------

    @Slot()
    def run(self) -> None:
        try:
            self._feed.start()
            if self._build():
                self.started.emit()
                self._loop()
        except Exception:  # a bug must not leave the kiosk silently dead
            log.exception("kiosk worker failed")
            self.startup_failed.emit("internal error in the kiosk worker; see the log")
        finally:
            self._feed.stop()
            self._close_matcher()
            for part in (self._tracker, self._audit):
                close = getattr(part, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception:
                        log.exception("closing %s failed", type(part).__name__)
            self.stopped.emit()

    def _build(self) -> bool:
        try:
            self._tracker = self._parts.tracker()
            self._fusion = self._parts.fusion()
        except KioskError as exc:
            log.error("kiosk cannot start: %s", exc)
            self.startup_failed.emit(str(exc))
            return False
        self._open_audit()
        # The staffed desk compares every person with an ID: no matcher, no service.
        return self._settings.kiosk.mode != "staffed" or self._ensure_matcher()

    def _ensure_matcher(self) -> bool:
        if self._matcher is not None:
            return True
        if self._parts.matcher is None:
            self.startup_failed.emit("no face matcher is configured for the staffed desk")
            return False
        try:
            self._matcher = self._parts.matcher(self._settings)
        except KioskError as exc:
            log.error("face matcher unavailable: %s", exc)
            self.startup_failed.emit(f"face matcher unavailable: {exc}")
            return False
        return True

    def _close_matcher(self) -> None:
        matcher, self._matcher = self._matcher, None
        close = getattr(matcher, "close", None)
        if close is not None:
            close()

    def _open_audit(self) -> None:
        try:
            self._audit = self._parts.audit(self._settings)
        except AuditUnavailable as exc:
            log.error("audit log unavailable: %s", exc)
            self._audit = None
            self._audit_retry_at = time.monotonic() + self._audit_retry_s
            self.audit_failed.emit(str(exc))
            return
        self.audit_recovered.emit()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._take_settings()
            self._run_jobs()
            with self._lock:
                ticket, self._ticket = self._ticket, None
            if ticket is not None:
                self._run_session(ticket)
                continue
            frame = self._feed.next_frame(POLL_S)
            self._check_camera()
            if self._audit is None and time.monotonic() >= self._audit_retry_at:
                self._open_audit()
            now = time.monotonic()
            if frame is not None and now - self._last_check >= self._idle_interval_s:
                self._last_check = now
                obs = self._tracker.observe(frame)
                self.face_checked.emit(FaceCheck(guidance(obs), obs.face is not None))

    def _check_camera(self) -> None:
        status = self._feed.status()
        if not status.ok and status.reason != self._camera_failing:
            self._camera_failing = status.reason
            self.camera_failed.emit(status.reason)
        elif status.ok and self._camera_failing is not None:
            self._camera_failing = None
            self.camera_recovered.emit()

    def _take_settings(self) -> None:
        with self._lock:
            new, self._new_settings = self._new_settings, None
        if new is None:
            return
        old, self._settings = self._settings, new
        if new.camera != old.camera and self._source_factory is not None:
            try:
                self._feed.replace_source(self._source_factory(new))
            except KioskError as exc:
                self.camera_failed.emit(str(exc))
        if new.matching != old.matching:
            self._close_matcher()  # rebuilt when next needed
        if new.audit != old.audit or new.kiosk.kiosk_id != old.kiosk.kiosk_id:
            audit, self._audit = self._audit, None
            if audit is not None:
                audit.close()
            self._open_audit()
        if new.kiosk.mode == "staffed":
            self._ensure_matcher()

    # -- sessions -------------------------------------------------------------------------

    def _run_session(self, ticket: _Ticket) -> None:
        sid, request = ticket.session_id, ticket.request
        if self._audit is None:
            self.session_failed.emit(sid, "the audit log is unavailable")
            return
        if request.reference is not None and not self._ensure_matcher():
            # Never run a comparison-less session for someone who presented an ID.
            self.session_failed.emit(sid, "the face matcher is unavailable")
            return
        settings = self._settings
        verifier = Verifier(
            settings, tracker=self._tracker, fusion=self._fusion,
            analyzers=lambda: self._parts.analyzers(settings),
            matcher=self._matcher if request.reference is not None else None,
            audit=self._audit, clock=self._parts.clock, rng=self._parts.rng)
        session = verifier.session(self._session_frames(sid), request)
        try:
            while True:
                self.progress_made.emit(sid, next(session))
        except StopIteration as stop:
            self.decision_made.emit(sid, stop.value)
        except AuditUnavailable as exc:
            log.error("audit log failed during session %d: %s", sid, exc)
            audit, self._audit = self._audit, None
            self._audit_retry_at = time.monotonic() + self._audit_retry_s
            if audit is not None:
                audit.close()
            self.audit_failed.emit(str(exc))
            self.session_failed.emit(sid, str(exc))
        except KioskError as exc:
            log.error("session %d failed: %s", sid, exc)
            self.session_failed.emit(sid, str(exc))
        except Exception:
            log.exception("session %d failed", sid)
            self.session_failed.emit(sid, "internal error; see the log")

    def _session_frames(self, sid: int) -> Iterator[Any]:
        """Frames for one session; they end when the session is cancelled, the worker
        stops, or the camera fails (the session then fails and is recorded)."""
        while not self._stop.is_set():
            with self._lock:
                if self._cancelled >= sid:
                    log.info("session %d cancelled", sid)
                    return
            frame = self._feed.next_frame(POLL_S)
            self._check_camera()
            if self._camera_failing is not None:
                log.warning("session %d ends: %s", sid, self._camera_failing)
                return
            if frame is not None:
                yield frame

    # -- identity -------------------------------------------------------------------------

    def _run_jobs(self) -> None:
        while True:
            try:
                kind, arg = self._jobs.get_nowait()
            except queue.Empty:
                return
            try:
                if kind == "file":
                    photo = load_id_photo(arg, self._detector())
                elif kind == "scan":
                    photo = load_newest_scan(arg, self._detector())
                else:
                    frame = self._feed.next_frame(1.0)
                    if frame is None:
                        raise IdPhotoError("the camera gives no picture; check the camera")
                    if self._card_detector is None:
                        self._card_detector = self._parts.card_detector()
                    photo = capture_id_card(frame.image, self._card_detector)
            except IdPhotoError as exc:
                self.identity_failed.emit(str(exc))
            except Exception:
                log.exception("loading the ID photo failed")
                self.identity_failed.emit("the ID photo could not be loaded; see the log")
            else:
                self.identity_loaded.emit(photo)

    def _detector(self) -> Any:
        if self._id_detector is None:
            self._id_detector = self._parts.id_detector()
        return self._id_detector
