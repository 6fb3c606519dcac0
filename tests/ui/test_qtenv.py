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


@pytest.mark.parametrize("environ, asked", [
    ({"DISPLAY": ":55"}, ["/tmp/.X11-unix/X55", "\0/tmp/.X11-unix/X55"]),
    ({"DISPLAY": "unix:7.0", "QT_QPA_PLATFORM": "xcb"}, ["/tmp/.X11-unix/X7", "\0/tmp/.X11-unix/X7"]),
    ({"DISPLAY": "desk-host:1"}, [("desk-host", 6001)]),
    # Qt would not use X here, or there is nothing to ask: left to Qt and missing_display.
    ({"DISPLAY": ":55", "QT_QPA_PLATFORM": "offscreen"}, []),
    ({"DISPLAY": ":55", "WAYLAND_DISPLAY": "wayland-0"}, []),
    ({}, []),
])
def test_an_x_display_that_takes_no_connection_is_named(environ, asked):
    tried = []

    def refused(family, address):
        tried.append(address)
        return False

    from kiosk.ui.qtenv import silent_display
    said = silent_display(environ, platform="linux", connects=refused)
    assert tried == asked
    assert (said is not None) is bool(asked)
    if said is not None:
        assert f"the display {environ['DISPLAY']} takes no connection" in said
    # The same display answering: nothing to say.
    assert silent_display(environ, platform="linux", connects=lambda f, a: True,
                          refuses=lambda display: None) is None


def test_main_with_a_display_that_is_not_up_says_so_in_one_line(tmp_path):
    """Before, Qt aborted the process: exit 134, a stack dump and a hint about xcb-cursor."""
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY",)}
    env.update(HOME=str(tmp_path), DISPLAY=":87", QT_QPA_PLATFORM="xcb")
    result = subprocess.run([sys.executable, str(REPO / "main.py"), "--windowed"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "kiosk: the display :87 takes no connection")
    assert "Fatal Python error" not in result.stderr
