"""The kiosk's loop without Qt: sessions one after another, and everything around them.

:class:`KioskRuntime` runs in one thread of its own (:meth:`run` loops until :meth:`stop`).
Everything slow or blocking happens there: building the tracker, the fusion model and the
face matcher (dlib, about a second, in a child process), opening the audit log and opening it
again after a failure, the whole session generator (tracking, challenges, passive analysis,
the lockout check, the matcher call and the audit write), loading ID photos
(:class:`~kiosk.runtime.identity.IdentityJobs`), tracking faces between sessions, and taking
new settings. Other threads call the request methods
(``start_session``, ``cancel_session``, ``load_id_photo`` ...), which only queue work; the
runtime answers through its :class:`~kiosk.runtime.events.EventSink`.

The camera preview does not pass through here: the capture thread tees every frame into a
preview slot (see :mod:`kiosk.feed`) that the UI polls, so the preview keeps the camera's
rate however long an analysis step takes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.analysis.guidance import guidance
from kiosk.audit import AuditUnavailable
from kiosk.camera import CameraHealth, SourceInfo
from kiosk.errors import KioskError
from kiosk.feed import FrameFeed
from kiosk.logrepeat import RepeatGate
from kiosk.model import Frame
from kiosk.reasons import Reason
from kiosk.runtime import events as ev
from kiosk.runtime.identity import IdentityJobs
from kiosk.runtime.parts import FaceCheck, RuntimeParts
from kiosk.runtime.record import RecordingError, keep
from kiosk.session import SessionRequest, Verifier
from kiosk.session.camera import camera_record
from kiosk.session.light import ScreenLight
from kiosk.session.members import checks_members
from kiosk.settings import Settings

log = logging.getLogger(__name__)

# How long the loop waits for a frame before it looks at its requests again.
POLL_S = 0.1
# Outside a session, faces are tracked this often (approach detection, guidance): enough to
# react within a fraction of a second without spending a core on an empty hall.
IDLE_INTERVAL_S = 0.1
# `kiosk record`'s free space is looked at this often between sessions: a full disk takes
# the kiosk out of service before the next person starts, and room made brings it back.
RECORDING_CHECK_S = 5.0
# A failed audit log is opened again this often.
AUDIT_RETRY_S = 5.0
# The staffed desk's matcher that could not be built is built again this often (each attempt
# starts a child process that loads the models for a second or two).
MATCHER_RETRY_S = 60.0
# The lockouts in force are read this often between sessions (they expire, staff lift them).
LOCKOUT_CHECK_S = 5.0


@dataclass
class _Ticket:
    session_id: int
    request: SessionRequest = field(default_factory=SessionRequest)


class KioskRuntime:
    """See the module docstring.

    Parameters
    ----------
    settings : Settings
    feed : FrameFeed
        The camera feed; started and stopped by the runtime.
    parts : RuntimeParts
    sink : EventSink
        Receives every event, in the runtime's thread.
    source_factory : callable, optional
        ``(settings) -> FrameSource``: when given, a change of the camera settings switches
        the feed to the new camera.
    idle_interval_s : float
        Outside sessions, track a face at most this often.
    audit_retry_s : float
        Wait between attempts to open an unavailable audit log.
    matcher_retry_s : float
        Wait between attempts to build the staffed desk's matcher after a failure.
    """

    def __init__(self, settings: Settings, feed: FrameFeed, parts: RuntimeParts,
                 sink: ev.EventSink, *, source_factory: Callable[[Settings], Any] | None = None,
                 idle_interval_s: float = IDLE_INTERVAL_S,
                 audit_retry_s: float = AUDIT_RETRY_S,
                 matcher_retry_s: float = MATCHER_RETRY_S) -> None:
        self._settings = settings
        self._feed = feed
        self._parts = parts
        self._sink = sink
        self._source_factory = source_factory
        self._idle_interval_s = float(idle_interval_s)
        self._audit_retry_s = float(audit_retry_s)
        self._matcher_retry_s = float(matcher_retry_s)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ticket: _Ticket | None = None
        self._cancelled = 0
        self._new_settings: Settings | None = None
        self._identity = IdentityJobs(feed, parts, sink)
        self._tracker: Any = None
        self._fusion: Any = None
        self._matcher: Any = None
        self._matcher_retry_at = 0.0
        self._audit: Any = None
        self._audit_retry_at = 0.0
        # Both are retried every few seconds while they fail, all night if need be: the same
        # error is logged again only every REPEAT_LOG_S.
        self._audit_logged = RepeatGate()
        self._matcher_logged = RepeatGate()
        self._camera_failing: str | None = None
        self._refusal_recorded: dict[str, Any] | None = None  # the refused camera last recorded
        self._recording_failing: str | None = None
        self._recording_checked_at = -math.inf
        self._last_check = 0.0
        self._lockouts: ev.LockoutState | None = None
        self._lockouts_checked = -LOCKOUT_CHECK_S
        self._subject_until: datetime | None = None
        self._subject_ref: str | None = None  # whose lockout the idle notice is about
        self._light: tuple[int, ScreenLight] | None = None  # the running session's screen

    # -- requests (any thread) ------------------------------------------------------------

    @property
    def feed(self) -> FrameFeed:
        return self._feed

    @property
    def audit(self) -> Any:
        """The audit log once open (None while unavailable)."""
        return self._audit

    def camera_health(self) -> CameraHealth:
        """The camera's current health."""
        return self._feed.health

    def camera_source(self) -> SourceInfo:
        """What the feed reads now, and whether a camera setting would switch it."""
        source = self._feed.source
        return SourceInfo(source.description, source.is_live, self._source_factory is not None)

    def start_session(self, session_id: int, request: SessionRequest) -> None:
        """Run a verification as soon as the runtime is free (a newer request replaces an
        older one not yet started)."""
        with self._lock:
            self._ticket = _Ticket(session_id, request)
            self._subject_until = self._subject_ref = None  # the next person

    def cancel_session(self, session_id: int) -> None:
        """End the frames of session ``session_id`` (and older): it finishes at once as a
        failure and is recorded; a person cannot avoid the record by walking off."""
        with self._lock:
            self._cancelled = max(self._cancelled, session_id)
            if self._ticket is not None and self._ticket.session_id <= session_id:
                self._ticket = None

    def light_painted(self, session_id: int,
                      colours: Sequence[tuple[float, float, tuple[int, int, int]]]) -> None:
        """The window's report of the light sequence it painted: ``(start, end, rgb)`` with
        monotonic times (the camera frames' clock). Any thread; ignored unless it is the
        running session's."""
        with self._lock:
            light = self._light
        if light is not None and light[0] == session_id:
            light[1].deliver_colours(colours)

    def load_id_photo(self, path: str) -> None:
        """Load and check an ID photo file; answers IdentityLoaded or IdentityFailed."""
        self._identity.put("file", str(path))

    def load_newest_scan(self, folder: str) -> None:
        """Like :meth:`load_id_photo` for the newest image of a scanner folder."""
        self._identity.put("scan", str(folder))

    def capture_id_card(self) -> None:
        """Take the ID card's photo from the next camera frame."""
        self._identity.put("card", None)

    def apply_settings(self, settings: Settings) -> None:
        """Use ``settings`` from the next session on."""
        with self._lock:
            self._new_settings = settings

    def stop(self) -> None:
        """Ask the loop to end (a running session ends as a recorded failure)."""
        self._stop.set()

    # -- the loop (the runtime's thread) --------------------------------------------------

    def run(self) -> None:
        """Build everything, then serve until :meth:`stop`; always reports Stopped."""
        try:
            self._feed.start()
            if self._build():
                if self._ready():
                    self._sink.report(ev.Started())
                self._loop()
        except Exception:  # a bug must not leave the kiosk silently dead
            log.exception("kiosk runtime failed")
            self._sink.report(ev.RuntimeFailed("internal error in the kiosk; see the log"))
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
            self._sink.report(ev.Stopped())

    def _build(self) -> bool:
        try:
            self._tracker = self._parts.tracker()
            self._fusion = self._parts.fusion()
        except KioskError as exc:
            log.error("kiosk cannot start: %s", exc)
            self._sink.report(ev.StartupFailed(str(exc)))
            return False
        self._open_audit()
        return True

    def _ready(self) -> bool:
        """The staffed desk compares every person with an ID, and a member check-in searches
        every face: no matcher, no service. A matcher that cannot be built is reported
        (StartupFailed); the loop runs on and builds it again every ``matcher_retry_s`` and
        after new settings, so a failure that passes (a child process that could not start)
        does not need a restart."""
        return not self._needs_matcher() or self._ensure_matcher()

    def _needs_matcher(self) -> bool:
        """Every session compares or searches faces: the staffed desk, member check-in."""
        return self._settings.kiosk.mode == "staffed" or checks_members(self._settings)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._take_settings()
            self._identity.run()
            with self._lock:
                ticket, self._ticket = self._ticket, None
            if ticket is not None:
                self._run_session(ticket)
                continue
            frame = self._feed.next_frame(POLL_S)
            self._check_camera()
            if self._audit is None and time.monotonic() >= self._audit_retry_at:
                self._open_audit()
            if (self._matcher is None and self._needs_matcher()
                    and time.monotonic() >= self._matcher_retry_at and self._ensure_matcher()):
                self._sink.report(ev.Started())  # the matcher that failed works now
            self._check_lockouts()
            self._check_recording()
            if self._audit is not None:
                self._audit.purge_if_due()
            now = time.monotonic()
            if frame is not None and now - self._last_check >= self._idle_interval_s:
                self._last_check = now
                obs = self._tracker.observe(frame)
                self._sink.report(ev.FaceChecked(FaceCheck(guidance(obs),
                                                           obs.face is not None)))

    # -- parts ----------------------------------------------------------------------------

    def _ensure_matcher(self) -> bool:
        if self._matcher is not None:
            return True
        if self._parts.matcher is None:
            self._matcher_retry_at = math.inf  # nothing to build, ever
            self._sink.report(ev.StartupFailed("no face matcher is configured for the "
                                               "staffed desk or member check-in"))
            return False
        try:
            self._matcher = self._parts.matcher(self._settings)
        except KioskError as exc:
            if self._matcher_logged.due(str(exc)):
                log.error("face matcher unavailable: %s", exc)
            self._matcher_retry_at = time.monotonic() + self._matcher_retry_s
            self._sink.report(ev.StartupFailed(f"face matcher unavailable: {exc}"))
            return False
        if self._matcher_logged.clear() is not None:
            log.warning("face matcher available again")
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
            if self._audit_logged.due(str(exc)):
                log.error("audit log unavailable: %s", exc)
            self._audit = None
            self._audit_retry_at = time.monotonic() + self._audit_retry_s
            self._sink.report(ev.AuditFailed(str(exc)))
            return
        # The fleet's sender (store-and-forward to fleet.url) runs while the log is open;
        # closing the log stops it after a short flush.
        start_fleet = getattr(self._audit, "start_fleet", None)
        if start_fleet is not None:
            start_fleet()
        if self._audit_logged.clear() is not None:
            log.warning("audit log open again")
        self._sink.report(ev.AuditRecovered())

    def _drop_audit(self, reason: str) -> None:
        """The audit log failed: close it, report it, and open it again later."""
        audit, self._audit = self._audit, None
        self._audit_retry_at = time.monotonic() + self._audit_retry_s
        if audit is not None:
            audit.close()
        self._sink.report(ev.AuditFailed(reason))

    def _check_lockouts(self, *, force: bool = False) -> None:
        """Report the lockouts the idle screen shows, when they changed."""
        now = time.monotonic()
        if self._audit is None or (not force and now - self._lockouts_checked
                                   < LOCKOUT_CHECK_S):
            return
        self._lockouts_checked = now
        wall = self._parts.clock()
        with self._lock:
            subject = self._subject_until if self._subject_until and (
                self._subject_until > wall) else None
            ref = self._subject_ref if subject is not None else None
        try:
            kiosk = self._audit.active_lockout(None)
            # Read again: staff may have unlocked the person, or a clock gap extended it.
            found = self._audit.active_lockout(ref) if ref is not None else None
            paused = self._audit.fleet_refusal()  # after the question that measures silence
        except AuditUnavailable as exc:
            log.error("audit log failed while reading lockouts: %s", exc)
            self._drop_audit(str(exc))
            return
        if ref is not None and (found is None or found.scope == "subject"):
            subject = found.until if found is not None else None
            with self._lock:
                self._subject_until = subject
        state = ev.LockoutState(kiosk_until=kiosk.until if kiosk is not None else None,
                                subject_until=subject, fleet_paused=paused is not None)
        was_paused = self._lockouts is not None and self._lockouts.fleet_paused
        if paused is not None and not was_paused:
            log.warning("the idle screen shows the kiosk paused: %s", paused)
        elif paused is None and was_paused:
            log.warning("the fleet server answers again: sessions may start")
        if state != self._lockouts:
            self._lockouts = state
            self._sink.report(state)

    def _check_camera(self) -> None:
        status = self._feed.status()
        if not status.ok and status.reason != self._camera_failing:
            self._camera_failing = status.reason
            self._sink.report(ev.CameraFailed(status.reason))
        elif status.ok and self._camera_failing is not None:
            self._camera_failing = None
            self._sink.report(ev.CameraRecovered())
        if status.refused:
            self._record_refusal()
        elif status.ok:
            self._refusal_recorded = None

    def _record_refusal(self) -> None:
        """Write a refused virtual camera into the audit log, once for as long as the same
        device stays refused (the capture thread tries it again every few seconds), and
        once the log is open when it was not."""
        camera = camera_record(self._feed.source)
        if camera is None or camera == self._refusal_recorded or self._audit is None:
            return
        try:
            recorded = self._audit.record_camera_refused(camera)
        except AuditUnavailable as exc:
            log.error("audit log failed while recording a refused camera: %s", exc)
            self._drop_audit(str(exc))
            return
        self._refusal_recorded = camera
        log.warning("refused camera recorded in the audit log (operator action %d)",
                    recorded.id)

    def _check_recording(self, failure: str | None = None) -> None:
        """Out of service while ``kiosk record`` has no room for a session (``failure``: a
        session just found so), back once room is made; looked at every
        :data:`RECORDING_CHECK_S`."""
        plan = self._parts.record
        if plan is None:
            return
        now = time.monotonic()
        if failure is None:
            if now - self._recording_checked_at < RECORDING_CHECK_S:
                return
            try:
                plan.check_room()
            except RecordingError as exc:
                failure = str(exc)
        self._recording_checked_at = now
        if failure is not None and failure != self._recording_failing:
            if self._recording_failing is None:  # not again each time the free MB change
                log.error("out of service: %s", failure)
            self._sink.report(ev.RecordingFailed(failure))
        elif failure is None and self._recording_failing is not None:
            log.warning("room for the recordings again")
            self._sink.report(ev.RecordingRecovered())
        self._recording_failing = failure

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
                self._sink.report(ev.CameraFailed(str(exc)))
        if new.matching != old.matching:
            self._close_matcher()  # rebuilt when next needed
        if new.audit != old.audit or new.kiosk.kiosk_id != old.kiosk.kiosk_id or \
                new.fleet != old.fleet:
            audit, self._audit = self._audit, None
            if audit is not None:
                audit.close()
            self._open_audit()
        if self._ready():
            self._sink.report(ev.Started())  # clears a matcher fault these settings put right

    # -- sessions -------------------------------------------------------------------------

    def _run_session(self, ticket: _Ticket) -> None:
        sid, request = ticket.session_id, ticket.request
        if self._audit is None:
            self._sink.report(ev.SessionFailed(sid, "the audit log is unavailable"))
            return
        if request.needs_matcher and not self._ensure_matcher():
            # Never run a comparison-less session for someone who presented an ID.
            self._sink.report(ev.SessionFailed(sid, "the face matcher is unavailable"))
            return
        settings = self._settings
        # This person's scan, never the next one's; removed unless the site keeps ID copies.
        self._identity.spend(request.id_scan, delete=settings.kiosk.used_scans == "delete")
        source = self._feed.source
        # The attempt's row says which device served it (the camera as last connected).
        request = dataclasses.replace(request, camera=camera_record(source))
        # A camera sees the screen: the light step runs unless this person chose the
        # accessible check; a recording given at start-up cannot see it.
        light = None
        if settings.liveness.light_challenge and not request.accessible and source.is_live:
            light = ScreenLight()
            request = dataclasses.replace(request, light=light)
        with self._lock:
            self._light = (sid, light) if light is not None else None
        lock = getattr(source, "lock_light_controls", None) if light is not None else None
        if lock is not None:
            lock(True)  # exposure and white balance hold still while the colours play
        try:
            self._verify(sid, request, settings)
        finally:
            if lock is not None:
                lock(False)
            with self._lock:
                self._light = None
            # A session's video may have taken the last room: look before the next person.
            self._recording_checked_at = -math.inf

    def _verify(self, sid: int, request: SessionRequest, settings: Settings) -> None:
        verifier = Verifier(
            settings, tracker=self._tracker, fusion=self._fusion,
            analyzers=lambda: self._parts.analyzers(settings),
            matcher=self._matcher if request.needs_matcher else None,
            audit=self._audit, clock=self._parts.clock, rng=self._parts.rng)
        stopped = threading.Event()
        request = dataclasses.replace(request, stopped=stopped.is_set)
        frames = self._session_frames(sid, stopped)
        plan = self._parts.record
        try:
            recording = (plan.session(self._parts.clock(), accessible=request.accessible)
                         if plan is not None else None)
        except RecordingError as exc:
            # `kiosk record` with no room left: refused before the attempt opens, so nobody
            # is charged a failure for the kiosk's full disk.
            log.error("session %d not started: %s", sid, exc)
            self._sink.report(ev.SessionFailed(sid, str(exc)))
            self._check_recording(str(exc))
            return
        if recording is not None:
            frames = recording.tee(frames)
        session = verifier.session(frames, request)
        decision = None
        try:
            while True:
                self._sink.report(ev.ProgressMade(sid, next(session)))
        except StopIteration as stop:
            decision = stop.value
            keep(recording, decision, request.light)
            self._sink.report(ev.DecisionMade(sid, decision))
            subject = [until for scope, until in decision.lockouts if scope == "subject"]
            ref = self._lockout_ref(request) if subject else None
            with self._lock:
                self._subject_until = max(subject) if subject else None
                self._subject_ref = ref
            self._check_lockouts(force=True)
            if Reason.CAPTURE_TOO_SLOW in decision.reasons and self._feed.note_slow_analysis():
                log.error("session %d: frames analysed too slowly while the camera delivers "
                          "enough; out of service for a pause", sid)
                self._check_camera()  # before the next person can start
        except AuditUnavailable as exc:
            log.error("audit log failed during session %d: %s", sid, exc)
            self._drop_audit(str(exc))
            self._sink.report(ev.SessionFailed(sid, str(exc)))
        except KioskError as exc:
            log.error("session %d failed: %s", sid, exc)
            self._sink.report(ev.SessionFailed(sid, str(exc)))
        except Exception:
            log.exception("session %d failed", sid)
            self._sink.report(ev.SessionFailed(sid, "internal error; see the log"))
        if decision is None:
            keep(recording, None, request.light)

    def _lockout_ref(self, request: SessionRequest) -> str | None:
        """The subject reference of the person a session locked out (None without one)."""
        if self._audit is None or not request.subject_number:
            return None
        try:
            return self._audit.subject_ref(request.subject_number)
        except ValueError:
            return None

    def _session_frames(self, sid: int, stopped: threading.Event) -> Iterator[Frame]:
        """Frames for one session; they end when the session is cancelled (``stopped`` is
        then set), the runtime stops, or the camera fails (the session then fails and is
        recorded)."""
        while not self._stop.is_set():
            with self._lock:
                if self._cancelled >= sid:
                    log.info("session %d cancelled", sid)
                    stopped.set()
                    return
            frame = self._feed.next_frame(POLL_S)
            self._check_camera()
            if self._camera_failing is not None:
                log.warning("session %d ends: %s", sid, self._camera_failing)
                return
            if frame is not None:
                yield frame
