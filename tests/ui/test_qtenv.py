"""Qt's environment: OpenCV's Qt paths dropped, and a plain line when there is no display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.ui.qtenv import missing_display

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("environ, missing", [
    ({}, True),
    ({"DISPLAY": ":99"}, False),
    ({"WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"QT_QPA_PLATFORM": "offscreen"}, False),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}, False),
    ({"QT_QPA_PLATFORM": "wayland"}, True),
    ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, True),
])
def test_missing_display(environ, missing):
    assert (missing_display(environ, platform="linux") is not None) is missing


def test_other_platforms_always_have_a_display():
    assert missing_display({}, platform="win32") is None


def test_main_without_a_display_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["HOME"] = str(tmp_path)
    result = subprocess.run([sys.executable, str(REPO / "main.py"), "--windowed"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kiosk: no display to show the kiosk on (DISPLAY is not set): start it in a desktop "
        "session, or under Xvfb (xvfb-run)"]
    assert "xcb" not in result.stderr


def test_an_error_in_a_slot_is_logged_and_puts_the_kiosk_out_of_service(tmp_path):
    import io
    import sys

    sys.path.insert(0, str(REPO))
    try:
        from main import excepthook_for
    finally:
        sys.path.remove(str(REPO))

    faults = []
    window = type("Window", (), {"fault": lambda self, cause, why: faults.append((cause, why))})()
    err = io.StringIO()
    hook = excepthook_for(window, tmp_path, stderr=err)
    try:
        raise KeyError("a slot's bug")
    except KeyError as exc:
        hook(type(exc), exc, exc.__traceback__)
    logged = tmp_path / "logs" / "kiosk.log"
    assert "a slot's bug" in logged.read_text() and "Traceback" in logged.read_text()
    assert err.getvalue() == f"kiosk: unexpected error (KeyError); the details are in {logged}\n"
    assert faults == [("internal", f"internal error in the kiosk window; see {logged}")]
