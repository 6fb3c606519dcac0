"""The kiosk window: composes the screens, routes the worker's signals to the flow, draws.

The window does no computer vision, no SQL and no network: the :class:`KioskWorker` in its
own QThread does all of that and reports through signals; :class:`kiosk.flow.KioskFlow`
decides which screen shows. Two UI-thread timers run: the preview timer, which paints the
newest camera frame from the feed's preview slot (independent of analysis speed), and the
flow timer, which applies the screens' timeouts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QRect, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from kiosk.flow import BUSY, FlowConfig, KioskFlow
from kiosk.settings import Settings
from kiosk.speech import Narrator
from kiosk.ui.escape import (
    OPERATOR_ESCAPE,
    CornerHoldFilter,
    KioskKeys,
    OperatorEscape,
    load_operator,
)
from kiosk.ui.front import UNSEEN, FrontGuard
from kiosk.ui.reports import WorkerReports
from kiosk.ui.screens.stack import ScreenStack
from kiosk.ui.widgets import STYLE_SHEET, announce
from kiosk.ui.worker import KioskWorker
from kiosk.vocabulary import FaultCause, FlowState
from kiosk.wording import consent_text, result_sentence, timeout_warning

log = logging.getLogger(__name__)

STARTING = "the kiosk is starting"
PREVIEW_INTERVAL_MS = 15   # faster than the camera, so a frame waits at most ~15 ms
FLOW_INTERVAL_MS = 200
# An internal error under a service manager: out of service this long (staff nearby can read
# why; the log keeps it), then exit for a fresh start.
RESTART_PAUSE_MS = 10_000


class KioskWindow(QMainWindow):
    """The kiosk's main window.

    Parameters
    ----------
    settings : Settings or None
        None when the configuration could not be read (``failure`` says why).
    worker : KioskWorker or None
        Started in its own thread by :meth:`start`; None when the kiosk cannot run at all.
    failure : str
        Reason for staff when there is no worker (e.g. the configuration error).
    scan_folder : str or None
        Scanner drop folder for the identity step (``--id-folder``).
    kiosk_mode : bool
        Ignore close requests and swallow shortcuts (see :class:`kiosk.ui.escape.KioskKeys`).
    clock : callable
        Monotonic seconds for the flow's timeouts.
    operator_loader : callable, optional
        ``() -> (OperatorPanel, OperatorContext, PinDialog)`` classes; imports
        :mod:`kiosk.ui.operator` and :mod:`kiosk.operator` by default.
    speak : callable, optional
        ``speak(text)`` says a sentence aloud (:class:`kiosk.speech.Speaker`); None for
        silence. Used when ``kiosk.sound`` is on; screen readers are told the same sentences
        (see :attr:`narrator`) whatever the setting.
    hush : callable, optional
        ``hush()`` cuts the sentence still being said: called when the kiosk returns to
        idle (Stop, Done, a time-out), so the last person's sentence does not play on.
    recording : bool
        Every session is filmed and kept (``kiosk record``): the consent notice says so.
    restart : callable, optional
        ``restart()`` ends the application for a service manager to start it again
        (``--supervised``); called :data:`RESTART_PAUSE_MS` after an internal error, never
        while staff are in the operator panel. None: an internal error waits for staff.
    sees_screen : bool
        The frames come from a camera, so the light step runs; False for a recording given
        with ``--source``, and the consent notice then promises no colours.
    """

    # Settings applied by the operator context, possibly from a task thread.
    settings_received = Signal(object)
    # The operator panel's audit check found the log altered (from a task thread).
    audit_fault_received = Signal(str)

    def __init__(self, settings: Settings | None, worker: KioskWorker | None, *,
                 failure: str = "", scan_folder: str | None = None, kiosk_mode: bool = False,
                 clock: Callable[[], float] = time.monotonic,
                 operator_loader: Callable[[], tuple[Any, Any, Any]] | None = None,
                 speak: Callable[[str], None] | None = None,
                 hush: Callable[[], None] | None = None, recording: bool = False,
                 restart: Callable[[], None] | None = None, sees_screen: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("Identity check")
        self.setStyleSheet(STYLE_SHEET)
        self.settings = settings if settings is not None else Settings()
        self.kiosk_mode = kiosk_mode
        self._worker = worker
        self._thread: QThread | None = None
        self._allow_close = not kiosk_mode
        self._speak = speak
        self._hush = hush
        self._recording = recording
        self._sees_screen = sees_screen  # a camera: the light step runs (not a --source file)
        self._follows_screen = False
        # When each active fault began (local time): the out-of-service screen shows it.
        self._fault_since: dict[str, datetime] = {}
        self.flow = KioskFlow(FlowConfig.from_settings(self.settings), clock=clock)
        self.narrator = Narrator(self._say, clock=clock)

        self.stack = ScreenStack(self.settings, scan_folder)
        self.setCentralWidget(self.stack)
        self.idle, self.consent = self.stack.idle, self.stack.consent
        self.identity, self.live = self.stack.identity, self.stack.live
        self.processing, self.result = self.stack.processing, self.stack.result
        self.out_of_service = self.stack.out_of_service
        self._scan_folder = scan_folder

        self.idle.start_requested.connect(self._on_start_requested)
        self.idle.accessible_toggled.connect(self._on_accessible_toggled)
        # The idle screen counts down the pause before the next check (kiosk.pacing).
        self.idle.follow_wait(self.flow.start_wait_s)
        self.consent.accessible_toggled.connect(self._on_accessible_toggled)
        self.consent.accepted.connect(self._on_consent_accepted)
        self.consent.declined.connect(self._on_consent_declined)
        self.identity.file_chosen.connect(self._on_file_chosen)
        self.identity.scan_requested.connect(self._on_scan_requested)
        self.identity.card_requested.connect(self._on_card_requested)
        self.identity.confirmed.connect(self._on_identity_confirmed)
        self.identity.cancelled.connect(self._on_consent_declined)
        self.result.done.connect(self._on_result_done)
        self.live.stop_requested.connect(self._on_stop_requested)
        self.live.told.connect(self.narrator.notice)
        self.live.guided.connect(self.narrator.guidance)
        self.settings_received.connect(self._on_settings_received)
        self.audit_fault_received.connect(self._on_audit_fault_received)
        self.flow.add_listener(self._on_flow_changed)

        self._keys = KioskKeys(self, touch=self.flow.touch, swallow=self._swallow_keys)
        app = QApplication.instance()
        assert app is not None  # the window needs a running QApplication
        app.installEventFilter(self._keys)
        self.operator = OperatorEscape(
            self, settings=lambda: self.settings,
            audit=lambda: self._worker.audit if self._worker is not None else None,
            camera_health=self._camera_health, camera_source=self._camera_source,
            apply_settings=self.apply_settings, audit_fault=self.audit_fault_received.emit,
            loader=operator_loader or load_operator)
        self.operator.opened.connect(self._on_operator_opened)
        self.operator.closed.connect(self._on_operator_closed)
        self.operator.said.connect(self._on_operator_said)
        self.escape = QShortcut(QKeySequence(OPERATOR_ESCAPE), self)
        self.escape.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.escape.activated.connect(self._on_escape_activated)
        # The same for a touch screen without a keyboard: a long press on the top-left corner.
        self.corner_hold = CornerHoldFilter(self)
        app.installEventFilter(self.corner_hold)
        self.corner_hold.held.connect(self._on_escape_activated)
        # Kiosk mode's window stays in front (started by show_kiosk); staff in the panel
        # may use another window.
        self.front = FrontGuard(self, stand_aside=lambda: self.flow.state == FlowState.OPERATOR)
        self.front.lapsed.connect(self._on_front_lapsed)

        self.preview_timer = QTimer(self)
        self.preview_timer.setInterval(PREVIEW_INTERVAL_MS)
        self.preview_timer.timeout.connect(self._on_preview_timeout)
        self.flow_timer = QTimer(self)
        self.flow_timer.setInterval(FLOW_INTERVAL_MS)
        self.flow_timer.timeout.connect(self._on_flow_timeout)
        self._restart = restart
        self._restart_armed = False
        self.restart_timer = QTimer(self)
        self.restart_timer.setSingleShot(True)
        self.restart_timer.setInterval(RESTART_PAUSE_MS)
        self.restart_timer.timeout.connect(self._on_restart_due)

        if worker is None:
            self.flow.fault(FaultCause.CONFIG, failure or "the kiosk could not start")
        else:
            self.flow.fault(FaultCause.STARTUP, STARTING)
            self.reports = WorkerReports(self, worker)
        self._show(self.flow.state)

    # -- lifetime -------------------------------------------------------------------------

    @property
    def worker(self) -> KioskWorker | None:
        return self._worker

    def start(self) -> None:
        """Start the worker thread and the timers."""
        self.flow_timer.start()
        if self._worker is None or self._thread is not None:
            return
        self._thread = QThread(self)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.stopped.connect(self._thread.quit)
        self._thread.start()
        self.preview_timer.start()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop the worker (a running session ends as a recorded failure) and its thread;
        False when the thread did not stop within ``timeout_ms`` (a hung worker)."""
        self.front.stop()  # a closing window is not brought back
        self.preview_timer.stop()
        self.flow_timer.stop()
        if self._worker is not None:
            self._worker.stop()
        stopped = True
        if self._thread is not None:
            self._thread.quit()
            stopped = self._thread.wait(timeout_ms)
            if not stopped:
                log.error("the kiosk worker did not stop within %d ms", timeout_ms)
            self._thread = None
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._keys)
            app.removeEventFilter(self.corner_hold)
        return stopped

    def show_kiosk(self) -> None:
        """Fullscreen without decorations, on top, and kept there (:attr:`front`). The
        geometry is set as well because fullscreen is only a hint to the window manager, and
        a kiosk may run without one."""
        self.setWindowFlags(self.windowFlags() | Qt.WindowType.FramelessWindowHint
                            | Qt.WindowType.WindowStaysOnTopHint)
        screen = QApplication.primaryScreen()
        if screen is not None:
            # The screen's size, whatever the screens' minimums: Qt grows a window to its
            # layout's minimum, and a page wider than a portrait screen (or taller than a
            # scaled small one) put Stop and Close past its edge. The pages fit 768x614
            # (tests/ui/test_small_screens.py); below that one is squeezed, not cut off.
            self.setMinimumSize(1, 1)
            self.setGeometry(screen.geometry())
            if not self._follows_screen:
                self._follows_screen = True
                screen.geometryChanged.connect(self._on_screen_geometry_changed)
        self.showFullScreen()
        self.front.start()

    @Slot(QRect)
    def _on_screen_geometry_changed(self, geometry: QRect) -> None:
        """The screen turned or changed its mode: the kiosk follows it."""
        self.setGeometry(geometry)

    def allow_close(self) -> None:
        """Let the next close request through (kiosk mode ignores them otherwise)."""
        self._allow_close = True

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not self._allow_close:
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)

    def _swallow_keys(self) -> bool:
        # Staff type in the identity step and the operator panel; nobody else needs shortcuts.
        return self.kiosk_mode and self.flow.state not in (FlowState.OPERATOR, FlowState.IDENTITY)

    def _say(self, text: str) -> None:
        """The narrator's output: screen readers hear ``text``; so does everyone when the
        kiosk has sound."""
        announce(self.stack.currentWidget() or self, text)
        if self.settings.kiosk.sound and self._speak is not None:
            self._speak(text)

    # -- screens --------------------------------------------------------------------------

    def current_screen(self) -> QWidget | None:
        return self.stack.currentWidget()

    def _show(self, state: str) -> None:
        if state == FlowState.OUT_OF_SERVICE:
            self._refresh_out_of_service()
        self.stack.show_state(state)

    def _refresh_out_of_service(self) -> None:
        self._track_faults()
        faults = self.flow.faults
        self.out_of_service.set_reason(self.flow.fault_reason,
                                       starting=faults == {FaultCause.STARTUP: STARTING},
                                       causes=frozenset(faults),
                                       restarting=self._restart is not None,
                                       since=min(self._fault_since.values(), default=None))

    def _track_faults(self) -> None:
        """Note when each fault began, and log its detail then: the public screen names only
        its class and that time. (A detail that changes later, a camera's next retry, is
        logged by the part that reports it.)"""
        faults = {cause: reason for cause, reason in self.flow.faults.items()
                  if (cause, reason) != (FaultCause.STARTUP, STARTING)}  # loading, not a fault
        for cause in self._fault_since.keys() - faults.keys():
            del self._fault_since[cause]
        for cause in faults.keys() - self._fault_since.keys():
            self._fault_since[cause] = datetime.now().astimezone()
            log.warning("out of service (%s): %s", cause, faults[cause])

    def _on_flow_changed(self, old: str, new: str) -> None:
        worker = self._worker
        if old in BUSY and new not in BUSY and new != FlowState.RESULT and worker is not None:
            worker.cancel_session(self.flow.session_id)
        if old == FlowState.LIVE:
            self.live.light.stop()  # stopped mid-sequence: no colours for a session gone
        if new == FlowState.IDLE and self._hush is not None:
            self._hush()  # the person has gone: their last sentence is not for the next
        self.narrator.reset()
        self.consent.set_warning("")
        if FlowState.IDENTITY in (old, new):
            self.identity.reset()  # the previous person's photo and number go
        if new == FlowState.LIVE:
            self.live.reset()
            if worker is not None:
                worker.start_session(self.flow.session_id, self.flow.request)
        elif new == FlowState.RESULT and self.flow.result is not None:
            self.result.show_result(self.flow.result)
        elif new == FlowState.CONSENT:
            self._show_consent()
        if new == FlowState.IDLE:
            self.idle.set_hint("")
            self.idle.set_accessible(self.flow.accessible)
            self.idle.set_lockouts(kiosk=self.flow.kiosk_locked, subject=self.flow.subject_locked)
        self._show(new)
        if new == FlowState.RESULT and self.flow.result is not None:
            self.narrator.notice(result_sentence(self.flow.result))  # from the result screen

    # -- person's inputs ------------------------------------------------------------------

    @Slot()
    def _on_start_requested(self) -> None:
        self.flow.start()

    @Slot(bool)
    def _on_accessible_toggled(self, on: bool) -> None:
        """The accessible check chosen or dropped on the idle or the consent screen: both
        screens show the choice, and the notice describes the check that will run."""
        if self.flow.set_accessible(on):
            self.idle.set_accessible(on)
            self._refresh_idle_notice()  # a choice on the idle screen is the next person's
            self._show_consent()

    def _show_consent(self) -> None:
        self.consent.set_accessible(self.flow.accessible)
        self.consent.set_text(consent_text(self.settings, accessible=self.flow.accessible,
                                           recording=self._recording,
                                           scanner=self._scan_folder is not None,
                                           sees_screen=self._sees_screen))

    @Slot()
    def _on_consent_accepted(self) -> None:
        self.flow.accept()

    @Slot()
    def _on_consent_declined(self) -> None:
        self.flow.decline()

    @Slot()
    def _on_result_done(self) -> None:
        self.flow.finish()

    @Slot()
    def _on_stop_requested(self) -> None:
        """Stop or Escape on the live screen: the session is cancelled (and recorded as a
        failure by the runtime) as the flow leaves the live check."""
        self.flow.stop()

    @Slot(str)
    def _on_front_lapsed(self, lapse: str) -> None:
        """The window left the front. A live check the person could no longer see or
        answer is stopped as their Stop would: recorded as stopped, not as prompts they
        missed."""
        if lapse in UNSEEN and self.flow.state == FlowState.LIVE:
            log.warning("live check %d stopped: the kiosk window %s, so the person could "
                        "neither see nor answer it", self.flow.session_id, lapse)
            self.flow.stop()

    @Slot(str)
    def _on_file_chosen(self, path: str) -> None:
        if self._worker is not None:
            self._worker.load_id_photo(path)

    @Slot()
    def _on_scan_requested(self) -> None:
        if self._worker is not None and self._scan_folder is not None:
            self._worker.load_newest_scan(self._scan_folder)

    @Slot()
    def _on_card_requested(self) -> None:
        if self._worker is not None:
            self._worker.capture_id_card()

    @Slot()
    def _on_identity_confirmed(self) -> None:
        photo = self.identity.photo
        if photo is not None:
            self.flow.identity_ready(photo.image, self.identity.number, id_scan=photo.scan)

    # -- timers ---------------------------------------------------------------------------

    @Slot()
    def _on_preview_timeout(self) -> None:
        if self._worker is None:
            return
        frame = self._worker.feed.preview.get_nowait()
        if frame is None:
            return
        state = self.flow.state
        if state == FlowState.LIVE:
            self.live.show_frame(frame.image)
        elif state == FlowState.IDENTITY:
            self.identity.show_frame(frame.image)

    @Slot()
    def _on_flow_timeout(self) -> None:
        self.flow.tick()
        self._track_faults()  # also those that came while a result or the panel showed
        self._refresh_idle_notice()
        self._refresh_warning()
        self.narrator.tick()
        if FaultCause.INTERNAL in self.flow.faults:
            self._arm_restart()  # a hung worker, found by the flow's stall check
        if self.flow.state == FlowState.OUT_OF_SERVICE:
            self._refresh_out_of_service()

    def _refresh_idle_notice(self) -> None:
        """The idle screen's notice about the last person, once the flow takes it down (its
        time ran out, or the next person made a choice there)."""
        if self.idle.subject_notice and not self.flow.subject_locked:
            self.idle.set_lockouts(kiosk=self.flow.kiosk_locked, subject=False)

    def _refresh_warning(self) -> None:
        """The consent screen's warning: shown (and said) once it is about to give up,
        gone when the person does something."""
        left = self.flow.warning_left()
        shown = self.consent.warning.isVisibleTo(self.consent)
        if left is None and shown:
            self.consent.set_warning("")
            self.narrator.reset()  # a later warning is said again
        elif left is not None:
            text = timeout_warning(left)
            self.consent.set_warning(text)  # its seconds count down
            if not shown:
                self.narrator.notice(text)  # said once, when it appears

    def fault(self, cause: str, reason: str) -> None:
        """``cause`` is failing: out of service with ``reason`` for staff. An internal error
        (a bug) does not clear by itself: under a service manager the kiosk exits shortly
        after, for a fresh start."""
        self.flow.fault(cause, reason)
        if cause == FaultCause.INTERNAL:
            self._arm_restart()
        if self.flow.state == FlowState.OUT_OF_SERVICE:
            self._refresh_out_of_service()

    def _arm_restart(self) -> None:
        """Under a service manager, exit :data:`RESTART_PAUSE_MS` from now (once)."""
        if self._restart is None or self._restart_armed:
            return
        self._restart_armed = True
        log.error("internal error: the kiosk exits in %g s for its service manager to "
                  "start it again", RESTART_PAUSE_MS / 1000)
        self.restart_timer.start()

    @Slot()
    def _on_restart_due(self) -> None:
        if self.flow.state == FlowState.OPERATOR:
            self.restart_timer.start()  # not from under staff's hands: once they close it
            return
        if self._restart is not None:
            self.allow_close()
            self._restart()

    # -- operator -------------------------------------------------------------------------

    @Slot(str)
    def _on_operator_said(self, text: str) -> None:
        """A status line on the idle and out-of-service screens."""
        self.idle.set_status(text)
        self.out_of_service.set_status(text)

    @Slot()
    def _on_escape_activated(self) -> None:
        """The operator escape; ignored during a session (it would abandon a person)."""
        if not self.flow.busy and self.flow.state != FlowState.OPERATOR:
            self.operator.activate()

    @Slot(object)
    def _on_operator_opened(self, panel: Any) -> None:
        self.stack.set_panel(panel)
        if not self.flow.open_operator():
            panel.closed.emit()  # cannot show it now (never expected: the dialog is modal)

    @Slot()
    def _on_operator_closed(self) -> None:
        self.stack.set_panel(None)
        self.flow.close_operator()

    @Slot(str)
    def _on_audit_fault_received(self, reason: str) -> None:
        """Out of service as when the log fails its check at start (the same cause clears
        it: the runtime opening the log again)."""
        self.fault(FaultCause.AUDIT, reason)

    def _camera_health(self):
        return self._worker.camera_health() if self._worker is not None else None

    def _camera_source(self):
        return self._worker.camera_source() if self._worker is not None else None

    def apply_settings(self, settings: Settings) -> None:
        """New settings from the operator panel: the screens, the flow and the worker.

        Called by the operator context, from whichever thread runs its task: the signal
        queues the change to the UI thread.
        """
        self.settings_received.emit(settings)

    @Slot(object)
    def _on_settings_received(self, settings: Settings) -> None:
        self.settings = settings
        self.flow.config = FlowConfig.from_settings(settings)
        self.idle.set_settings(settings)
        self._show_consent()
        if self._worker is not None:
            self._worker.apply_settings(settings)
