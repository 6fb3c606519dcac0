"""The stand-in kiosk of :mod:`kiosk.lab.standin` behind the real Qt worker, for UI tests.

The session code under test is the real one (kiosk.session.Verifier in the real runtime);
only the camera, the face tracker, the passive analyzers' fusion and the matcher are
replaced, so each test sets exactly one thing that decides the outcome.
"""

from __future__ import annotations

import dataclasses

from kiosk.feed import FrameFeed
from kiosk.lab.standin import (  # noqa: F401  (re-exported for the UI tests)
    FRAME_SHAPE,
    CountingAnalyzer,
    FixedFusion,
    FixedMatcher,
    OneFaceDetector,
    Responder,
    SyntheticCamera,
    match,
    members_found,
    standin_parts,
)
from kiosk.ui.worker import KioskWorker


def open_real_panel(qtbot, window, pin: str, *, timeout_ms: int = 10000):
    """The operator escape and the PIN, as staff open the panel in a kiosk window; returns
    the panel once its first loads are done."""
    from kiosk.vocabulary import FlowState

    window.escape.activated.emit()
    dialog = window.operator.dialog
    assert dialog is not None, window.idle.status.text()
    dialog.pin_edit.setText(pin)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: window.flow.state == FlowState.OPERATOR, timeout=timeout_ms)
    panel = window.current_screen()
    qtbot.waitUntil(lambda: not panel.runner.busy, timeout=timeout_ms)
    return panel


def make_worker(settings, *, camera: SyntheticCamera, responder: Responder, audit_factory,
                fusion=None, matcher=None, seed: int = 7, idle_interval_s: float = 0.05,
                audit_retry_s: float = 0.3, stall_s: float = 3.0, record=None) -> KioskWorker:
    """A real KioskWorker over the synthetic camera and person; the person watches the
    runtime's events in the worker thread. ``record``: a RecordPlan (``kiosk record``)."""
    parts = dataclasses.replace(
        standin_parts(responder=responder, audit_factory=audit_factory, fusion=fusion,
                      matcher=matcher, seed=seed), record=record)
    return KioskWorker(settings, FrameFeed(camera, stall_s=stall_s, restart_s=0.2), parts,
                       observer=responder, idle_interval_s=idle_interval_s,
                       audit_retry_s=audit_retry_s)
