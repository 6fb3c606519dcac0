"""Keep OpenCV's bundled Qt 5 away from PySide6.

``opencv-contrib-python`` (the OpenCV that mediapipe requires) sets QT_QPA_PLATFORM_PLUGIN_PATH
and QT_QPA_FONTDIR to its own Qt 5 folders when ``cv2`` is imported. PySide6 (Qt 6) would then
try to load Qt 5 platform plugins and fail to start a window. This module does not import Qt:
the composition root calls :func:`drop_opencv_qt_paths` after importing cv2 and before creating
the QApplication.

It also tells, before Qt starts, why no window could open (:func:`missing_display`,
:func:`silent_display`): Qt aborts the whole process instead, with a misleading hint.
"""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path

from kiosk.ui.xclient import open_display

QT_PATH_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR", "QT_PLUGIN_PATH")


def drop_opencv_qt_paths(environ: MutableMapping[str, str]) -> list[str]:
    """Remove the Qt path variables that point into the cv2 package.

    Parameters
    ----------
    environ : MutableMapping[str, str]
        The process environment (``os.environ``), changed in place.

    Returns
    -------
    list of str
        The names of the variables removed. Variables set by the user to other folders stay.
    """
    removed = []
    for name in QT_PATH_VARIABLES:
        value = environ.get(name)
        if value and any(part == "cv2" for part in Path(value).parts):
            del environ[name]
            removed.append(name)
    return removed


#: Qt platforms that draw without a display server.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "linuxfb", "eglfs", "vnc", "vkkhrdisplay")


def missing_display(environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """Why no window can open on this machine, in one line, or None when one can.

    Qt aborts the whole process (after several lines about xcb plugins) when it has no display
    to connect to; the composition root asks first and says so plainly instead.
    """
    if not platform.startswith("linux"):
        return None
    chosen = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if chosen in HEADLESS_PLATFORMS:
        return None
    if chosen.startswith("wayland"):
        return None if environ.get("WAYLAND_DISPLAY") else (
            "no Wayland display (WAYLAND_DISPLAY is not set)")
    if environ.get("DISPLAY") or (not chosen and environ.get("WAYLAND_DISPLAY")):
        return None
    return ("no display to show the kiosk on (DISPLAY is not set): start it in a desktop "
            "session, or under Xvfb (xvfb-run)")


def _x_endpoints(display: str) -> list[tuple[int, str | tuple[str, int]]] | None:
    """The sockets an X display name (``[host]:N[.S]``) is served on: for a local display its
    Unix socket (and the abstract one Linux servers also listen on), else TCP port 6000+N;
    None when the name cannot be read (Qt then says what it thinks of it)."""
    found = re.fullmatch(r"(?:(?:unix)?|([^:]+)):(\d+)(?:\.\d+)?", display.strip())
    if found is None:
        return None
    host, number = found.group(1), int(found.group(2))
    if host is None:
        path = f"/tmp/.X11-unix/X{number}"
        return [(socket.AF_UNIX, path), (socket.AF_UNIX, "\0" + path)]
    return [(socket.AF_INET, (host, 6000 + number))]


def _connects(family: int, address: str | tuple[str, int], timeout_s: float = 2.0) -> bool:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(address)
        return True
    except OSError:
        return False


def xcb_refusal(display: str) -> str | None:
    """Why libxcb, which Qt's xcb platform opens the display with, cannot open ``display``
    although its socket answers: the X server's reason (e.g. "Authorization required", from
    a process without the session's ``XAUTHORITY``), or None when it opens (or libxcb is not
    there to ask: Qt then says so itself). See :func:`kiosk.ui.xclient.open_display`.
    """
    connection, reason = open_display(display)
    if connection is not None:
        connection.disconnect()
        return None
    return reason


def silent_display(environ: Mapping[str, str], platform: str = sys.platform,
                   connects: Callable[[int, str | tuple[str, int]], bool] = _connects,
                   refuses: Callable[[str], str | None] = xcb_refusal
                   ) -> str | None:
    """Why the X display named by DISPLAY takes no connection, in one line, or None.

    Set but not up (an X server still starting at boot, or gone), or up but refusing this
    process (a unit started without ``XAUTHORITY``), it made Qt abort the process (exit 134,
    a stack dump, and a misleading hint about xcb-cursor libraries) where a display that is
    not set fails plainly; it now fails the same way. Only X is asked, and only when Qt would
    use it (Wayland and the headless platforms are left to Qt).

    Parameters
    ----------
    environ : Mapping[str, str]
        The process environment (DISPLAY, QT_QPA_PLATFORM, XAUTHORITY, HOME).
    platform : str
        ``sys.platform``; nothing is asked elsewhere than on Linux.
    connects : callable
        ``(family, address) -> bool``: whether a socket of the display takes a connection.
    refuses : callable
        ``display -> reason or None``: why an answering server will not let this process
        open it (:func:`xcb_refusal`, which reads this process's own environment).
    """
    if not platform.startswith("linux") or missing_display(environ, platform) is not None:
        return None
    chosen = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if chosen not in ("", "xcb") or (not chosen and environ.get("WAYLAND_DISPLAY")):
        return None
    display = environ.get("DISPLAY", "")
    endpoints = _x_endpoints(display)
    if endpoints is None:
        return None
    if any(connects(*endpoint) for endpoint in endpoints):
        reason = refuses(display)
        if reason is None:
            return None
        return ("the X server refused the connection: set XAUTHORITY (or `systemctl --user "
                f"import-environment DISPLAY XAUTHORITY`); the display {display} said: "
                f"{reason}")
    return (f"the display {display} takes no connection (no X server is listening there "
            "yet): start the kiosk once the desktop session is up, or under Xvfb (xvfb-run)")
