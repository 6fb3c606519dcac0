"""A real PySide6 window under Xvfb, started after cv2 and mediapipe are imported.

mediapipe requires opencv-contrib-python, whose import points Qt at its bundled Qt 5 plugins.
The window is started in a fresh process, in the order the kiosk uses, on a real X server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.ui.xvfb import xvfb_display

SCRIPT = r"""
import json, os, sys
import cv2, mediapipe                      # the imports that bring OpenCV's Qt 5 paths
set_by_cv2 = sorted(k for k in os.environ if k.startswith("QT_QPA"))
from kiosk.ui.qtenv import drop_opencv_qt_paths
dropped = drop_opencv_qt_paths(os.environ)
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(sys.argv[:1])
label = QLabel("liveness kiosk")
palette = label.palette(); palette.setColor(QPalette.Window, QColor(0, 128, 255))
label.setAutoFillBackground(True); label.setPalette(palette)
label.resize(320, 200); label.show()
result = {}
def check():
    shot = label.grab().toImage()
    screen = app.primaryScreen().grabWindow(label.winId()).toImage()
    result.update(platform=app.platformName(), visible=label.isVisible(),
                  exposed=label.windowHandle().isExposed(), set_by_cv2=set_by_cv2,
                  dropped=dropped, pixel=QColor(shot.pixel(5, 5)).name(),
                  screen_pixel=QColor(screen.pixel(5, 5)).name(),
                  screen_size=[screen.width(), screen.height()])
    app.quit()
QTimer.singleShot(500, check)
app.exec()
print(json.dumps(result))
"""


@pytest.mark.xvfb
def test_pyside6_window_starts_under_xvfb_after_cv2_and_mediapipe():
    with xvfb_display() as display:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
        env["DISPLAY"] = display
        proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                              text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["platform"] == "xcb"
    assert result["visible"] and result["exposed"]
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" in result["set_by_cv2"]
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" in result["dropped"]
    assert result["pixel"] == "#0080ff"
    # The X server itself shows the window's pixels: a real window, not an offscreen buffer.
    assert result["screen_pixel"] == "#0080ff" and result["screen_size"] == [320, 200]


def test_drop_opencv_qt_paths_keeps_user_paths():
    from kiosk.ui.qtenv import drop_opencv_qt_paths

    env = {"QT_QPA_PLATFORM_PLUGIN_PATH": "/x/site-packages/cv2/qt/plugins",
           "QT_QPA_FONTDIR": "/usr/share/fonts", "PATH": "/bin"}
    assert drop_opencv_qt_paths(env) == ["QT_QPA_PLATFORM_PLUGIN_PATH"]
    assert env == {"QT_QPA_FONTDIR": "/usr/share/fonts", "PATH": "/bin"}
