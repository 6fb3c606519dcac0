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
