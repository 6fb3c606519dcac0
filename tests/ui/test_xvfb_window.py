"""A real PySide6 window under Xvfb, started after cv2 and mediapipe are imported.

mediapipe requires opencv-contrib-python, whose import points Qt at its bundled Qt 5 plugins.
The window is started in a fresh process, in the order the kiosk uses, on a real X server:
a plain window, the kiosk window in fullscreen kiosk mode, and ``python main.py`` itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.xvfb import KIOSK_WINDOW, noise_kiosk, xvfb_display

ROOT = Path(__file__).resolve().parents[2]

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


KIOSK_SCRIPT = KIOSK_WINDOW + r"""
result = {}
def check():
    if window.flow.state != "idle":
        QTimer.singleShot(100, check)
        return
    screen = app.primaryScreen().grabWindow(0).toImage()
    result.update(platform=app.platformName(), state=window.flow.state,
                  fullscreen=window.isFullScreen(), exposed=window.windowHandle().isExposed(),
                  size=[window.width(), window.height()],
                  corner=QColor(screen.pixel(3, 3)).name())
    window.allow_close()
    window.close()
    app.quit()
QTimer.singleShot(300, check)
QTimer.singleShot(60000, app.quit)
app.exec()
print(json.dumps(result))
"""


@pytest.mark.xvfb
def test_the_kiosk_window_starts_fullscreen_under_xvfb(tmp_path):
    from kiosk.audit import create_key_file

    create_key_file(tmp_path / "audit.key")
    with xvfb_display() as display:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
        env["DISPLAY"] = display
        proc = subprocess.run([sys.executable, "-c", KIOSK_SCRIPT, str(tmp_path)], env=env,
                              capture_output=True, text=True, timeout=120,
                              cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["platform"] == "xcb" and result["state"] == "idle"
    assert result["fullscreen"] and result["exposed"] and result["size"] == [1280, 800]
    # The X server shows the kiosk's own background in the corner: it covers the screen.
    assert result["corner"] == "#0b0f14"


@pytest.mark.xvfb
@pytest.mark.parametrize("command", ["main.py", "kiosk record"])
def test_main_starts_and_stops_on_sigterm_under_xvfb(tmp_path, command):
    """python main.py in kiosk mode on an image folder (and ``kiosk record``, the same
    window recording its sessions): the window shows, SIGTERM ends it."""
    import signal
    import threading

    frames, config = noise_kiosk(tmp_path)
    with xvfb_display() as display:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
        env.update(DISPLAY=display, XDG_DATA_HOME=str(tmp_path / "data"))
        argv = ([str(ROOT / "main.py"), "--source", str(frames), "--config", str(config), "-v"]
                if command == "main.py" else
                ["-m", "kiosk", "--config", str(config), "-v", "record", str(tmp_path / "rec"),
                 "--source", str(frames)])
        proc = subprocess.Popen([sys.executable, *argv], env=env, cwd=str(ROOT),
                                stderr=subprocess.PIPE, text=True)
        lines, shown = [], threading.Event()

        def read():
            for line in proc.stderr:
                lines.append(line)
                if "kiosk window shown" in line:
                    shown.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert shown.wait(90), "".join(lines)[-2000:]
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        reader.join(10)
    log = "".join(lines)
    assert code == 0, log[-2000:]
    assert "kiosk window shown (fullscreen) on the xcb platform" in log
    assert "signal 15: stopping" in log
    if command == "kiosk record":
        assert (tmp_path / "rec").is_dir()
