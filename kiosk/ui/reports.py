"""The runtime's reports, as they reach the window: each worker signal updates the flow and
the screen it concerns. Kept apart from the window so that it stays a composition of screens.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot

from kiosk.runtime import FaceCheck
from kiosk.runtime.events import LockoutState
from kiosk.ui.worker import KioskWorker
from kiosk.vocabulary import FaultCause, FlowState
from kiosk.wording import IDLE_START_HINT, idle_hint, prompt_for

if TYPE_CHECKING:
    from kiosk.ui.app import KioskWindow

log = logging.getLogger(__name__)


class WorkerReports(QObject):
    """Connects ``worker``'s signals to ``window``'s flow and screens (slots run on the UI
    thread)."""

    def __init__(self, window: KioskWindow, worker: KioskWorker) -> None:
        super().__init__(window)
        self.window = window
        worker.face_checked.connect(self._on_face_checked)
        worker.progress_made.connect(self._on_progress_made)
        worker.decision_made.connect(self._on_decision_made)
        worker.session_failed.connect(self._on_session_failed)
        worker.camera_failed.connect(self._on_camera_failed)
        worker.camera_recovered.connect(self._on_camera_recovered)
        worker.audit_failed.connect(self._on_audit_failed)
        worker.audit_recovered.connect(self._on_audit_recovered)
        worker.recording_failed.connect(self._on_recording_failed)
        worker.recording_recovered.connect(self._on_recording_recovered)
        worker.startup_failed.connect(self._on_startup_failed)
        worker.runtime_failed.connect(self._on_runtime_failed)
        worker.started.connect(self._on_started)
        worker.lockouts_changed.connect(self._on_lockouts_changed)
        worker.identity_loaded.connect(self._on_identity_loaded)
        worker.identity_failed.connect(self._on_identity_failed)
        self._worker = worker
        window.live.light.finished.connect(self._on_light_painted)

    @Slot(object)
    def _on_face_checked(self, check: FaceCheck) -> None:
        w = self.window
        w.flow.face_seen(check.ok, check.present)
        if w.flow.state == FlowState.IDLE:
            if check.present and not check.ok:
                w.idle.set_hint(idle_hint(check.guidance.code, check.guidance.message))
            else:  # placed but unable to start the kiosk by itself: say to press Start
                w.idle.set_hint(IDLE_START_HINT if w.flow.start_hint else "")

    @Slot(int, object)
    def _on_progress_made(self, session_id: int, progress: Any) -> None:
        w = self.window
        if not w.flow.progress(session_id, progress.stage):
            return
        if w.flow.state == FlowState.LIVE and w.live.show_progress(progress):
            w.narrator.prompt(prompt_for(progress.prompt).text)

    @Slot(object)
    def _on_light_painted(self, painted: Any) -> None:
        """The colours as the screen showed them go back to the session that asked."""
        self._worker.light_painted(self.window.flow.session_id,
                                   [(p.start, p.end, p.rgb) for p in painted])

    @Slot(int, object)
    def _on_decision_made(self, session_id: int, decision: Any) -> None:
        self.window.flow.decided(session_id, decision)

    @Slot(int, str)
    def _on_session_failed(self, session_id: int, reason: str) -> None:
        log.error("session %d ended without a decision: %s", session_id, reason)
        self.window.flow.session_failed(session_id)

    @Slot(str)
    def _on_camera_failed(self, reason: str) -> None:
        self.window.fault(FaultCause.CAMERA, reason)

    @Slot()
    def _on_camera_recovered(self) -> None:
        self.window.flow.clear(FaultCause.CAMERA)

    @Slot(str)
    def _on_audit_failed(self, reason: str) -> None:
        self.window.fault(FaultCause.AUDIT, reason)

    @Slot()
    def _on_audit_recovered(self) -> None:
        self.window.flow.clear(FaultCause.AUDIT)

    @Slot(str)
    def _on_recording_failed(self, reason: str) -> None:
        self.window.fault(FaultCause.RECORDING, reason)

    @Slot()
    def _on_recording_recovered(self) -> None:
        self.window.flow.clear(FaultCause.RECORDING)

    @Slot(str)
    def _on_startup_failed(self, reason: str) -> None:
        self.window.fault(FaultCause.STARTUP, reason)

    @Slot(str)
    def _on_runtime_failed(self, reason: str) -> None:
        self.window.fault(FaultCause.INTERNAL, reason)

    @Slot()
    def _on_started(self) -> None:
        self.window.flow.clear(FaultCause.STARTUP)

    @Slot(object)
    def _on_lockouts_changed(self, state: LockoutState) -> None:
        w = self.window
        w.flow.lockouts(kiosk=state.kiosk_until is not None or state.fleet_paused,
                        subject=state.subject_until is not None)
        w.idle.set_lockouts(kiosk=w.flow.kiosk_locked, subject=w.flow.subject_locked)

    @Slot(object)
    def _on_identity_loaded(self, photo: Any) -> None:
        if self.window.flow.state == FlowState.IDENTITY:
            self.window.identity.show_photo(photo)

    @Slot(str)
    def _on_identity_failed(self, message: str) -> None:
        if self.window.flow.state == FlowState.IDENTITY:
            self.window.identity.show_error(message)
