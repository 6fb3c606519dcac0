"""Qt tests run offscreen; OpenCV's Qt 5 paths are dropped before the QApplication exists."""

from __future__ import annotations

import os

import cv2  # noqa: F401  (the import that sets OpenCV's Qt paths, done first on purpose)
import pytest

from kiosk.ui.qtenv import drop_opencv_qt_paths

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
drop_opencv_qt_paths(os.environ)


@pytest.fixture(autouse=True)
def _collect_on_the_ui_thread(qapp):
    """Garbage collection only on the UI thread while Qt tests run worker threads.

    A collection triggered in a worker thread can free a Qt object there and crash the
    process (seen about once in eight runs of the operator panel tests).
    """
    from kiosk.ui.operator import UiThreadGarbageCollector

    collector = UiThreadGarbageCollector()
    yield
    collector.stop()


@pytest.fixture
def window_for(qtbot, tmp_path):
    """``build(settings, ...)``: a shown kiosk window over the stand-in worker, idle; shut
    down after the test."""
    from kiosk.audit import open_kiosk_log
    from kiosk.ui.app import KioskWindow
    from kiosk.vocabulary import FlowState
    from tests.ui.harness import Responder, SyntheticCamera, make_worker

    windows = []

    def build(settings, *, kiosk_mode=False, operator_loader=None, speak=None, matcher=None,
              responder=None, restart=None, **window_options):
        worker = make_worker(settings, camera=SyntheticCamera(speed=3.0),
                             responder=responder or Responder(present=False),
                             audit_factory=lambda s: open_kiosk_log(s, tmp_path),
                             matcher=matcher)
        options = ({"speak": speak} if speak is not None else {}) | window_options
        window = KioskWindow(settings, worker, kiosk_mode=kiosk_mode,
                             operator_loader=operator_loader, restart=restart, **options)
        qtbot.addWidget(window)
        window.resize(1024, 768)
        window.show()
        window.start()
        windows.append(window)
        qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=10000)
        return window

    yield build
    for window in windows:
        window.allow_close()
        window.shutdown()
