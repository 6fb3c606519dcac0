"""Qt tests run offscreen; OpenCV's Qt 5 paths are dropped before the QApplication exists."""

from __future__ import annotations

import os

import cv2  # noqa: F401  (the import that sets OpenCV's Qt paths, done first on purpose)

from kiosk.ui.qtenv import drop_opencv_qt_paths

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
drop_opencv_qt_paths(os.environ)
