"""Keep the display awake while the kiosk window is up.

Nobody touches the keyboard or mouse of an unattended kiosk: people only stand in front of its
camera. Without this, the X server's own screen saver (600 s by default, and DPMS power-off)
blanks the screen and a desktop session (GNOME, KDE Plasma) locks it, and the light challenge,
which paints colours on this very screen, cannot work. Two standard mechanisms, each one used
when it is there:

- X11: ``XScreenSaverSuspend`` (MIT-SCREEN-SAVER 1.1) on a connection of its own, open as long
  as the hold. The X server lifts the suspension by itself when that connection closes, so a
  crashed kiosk leaves nothing behind; Xorg suspends DPMS with it. Without libXss (or an
  extension older than 1.1) the screen saver is reset on a timer instead.
- The desktop session bus: wakepy's ``keep.presenting`` (org.gnome.SessionManager or
  org.freedesktop.ScreenSaver inhibit), which also keeps the session from locking. A bare X
  session has neither service: that is normal.

Nothing here stops the kiosk: a mechanism that fails is logged and skipped. Qt-free.
"""

from __future__ import annotations

import ctypes
import logging
import re
import threading
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

X11_LIBRARY = "libX11.so.6"
XSS_LIBRARY = "libXss.so.1"
RESET_EVERY_S = 30.0
NONE_HOLDS = ("the display may blank or lock after the desktop's idle time: turn off screen "
              "blanking and the lock screen for this user")


class DisplayAwake:
    """Hold the display awake between :meth:`hold` and :meth:`release` (or as a context
    manager). Enter and leave on one thread (wakepy's modes are not thread-safe).

    Parameters
    ----------
    x_display : str or None
        The X display to suspend the screen saver of (``":0"``); None when the window is not
        on X (Wayland, a headless Qt platform).
    session : bool
        Whether to ask the desktop session bus for an inhibit as well.
    xss_library, x11_library : str
        The shared libraries to load (a name that does not exist makes the fallback happen).
    reset_every_s : float
        Without ``XScreenSaverSuspend``, how often the X screen saver is reset; shorter than
        any idle time a site would set.
    """

    def __init__(self, x_display: str | None, *, session: bool = True,
                 xss_library: str = XSS_LIBRARY, x11_library: str = X11_LIBRARY,
                 reset_every_s: float = RESET_EVERY_S) -> None:
        if reset_every_s <= 0:
            raise ValueError(f"reset_every_s must be positive, got {reset_every_s}")
        self.x_display = x_display
        self.session = session
        self.xss_library = xss_library
        self.x11_library = x11_library
        self.reset_every_s = reset_every_s
        self.held: list[str] = []
        self._x11: Any = None
        self._dpy: int | None = None
        self._stop = threading.Event()
        self._resetter: threading.Thread | None = None
        self._mode: Any = None

    def hold(self) -> list[str]:
        """Start every mechanism that is available; what holds, in words (empty: none does,
        which is logged as a warning). Never raises for a mechanism that fails."""
        if self.x_display:
            try:
                self._hold_x(self.x_display)
            except Exception as exc:  # a broken library must not stop the kiosk
                log.warning("cannot keep the X screen saver off: %s", exc)
        if self.session:
            try:
                self._hold_session()
            except Exception as exc:  # as above: wakepy, jeepney, an odd bus
                log.warning("cannot ask the desktop session to stay awake: %s", exc)
        if self.held:
            log.info("display kept awake: %s", "; ".join(self.held))
        else:
            log.warning(NONE_HOLDS)
        return list(self.held)

    def release(self) -> None:
        """Undo :meth:`hold`: leave the session inhibit, stop the resets, close the X
        connection (which lifts the suspension). Safe to call twice."""
        mode, self._mode = self._mode, None
        if mode is not None:
            try:
                mode.__exit__(None, None, None)
            except Exception as exc:  # the session may already be gone at shutdown
                log.warning("the desktop session inhibit was not left cleanly: %s", exc)
        if self._resetter is not None:
            self._stop.set()
            self._resetter.join(timeout=5)
            self._resetter = None
        if self._dpy is not None:
            self._x11.XCloseDisplay(self._dpy)
            self._dpy = None
        self.held = []

    def __enter__(self) -> DisplayAwake:
        self.hold()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def _hold_x(self, display: str) -> None:
        try:
            x11 = ctypes.CDLL(self.x11_library)
        except OSError as exc:
            log.warning("cannot load %s (%s): the X screen saver is left alone",
                        self.x11_library, exc)
            return
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        for name in ("XCloseDisplay", "XResetScreenSaver", "XFlush"):
            getattr(x11, name).argtypes = [ctypes.c_void_p]
        x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        dpy = x11.XOpenDisplay(display.encode())
        if not dpy:
            log.warning("cannot open the X display %s: the X screen saver is left alone",
                        display)
            return
        self._x11, self._dpy = x11, dpy
        why_not = self._suspend(dpy)
        if why_not is None:
            self.held.append("X screen saver suspended")
            return
        # Without the suspension, an idle timer that keeps being reset never fires.
        log.warning("%s: resetting the X screen saver every %g s instead", why_not,
                    self.reset_every_s)
        x11.XResetScreenSaver(dpy)  # now: the screen may be blank already
        x11.XSync(dpy, 0)
        self._stop.clear()
        self._resetter = threading.Thread(target=self._reset_until_stopped, args=(dpy,),
                                          name="x-screensaver-reset", daemon=True)
        self._resetter.start()
        self.held.append(f"X screen saver reset every {self.reset_every_s:g} s")

    def _suspend(self, dpy: int) -> str | None:
        """``XScreenSaverSuspend(dpy, True)``; why it cannot be done, or None when done."""
        try:
            xss = ctypes.CDLL(self.xss_library)
        except OSError as exc:
            return f"cannot load {self.xss_library} ({exc}; Debian package libxss1)"
        int_p = ctypes.POINTER(ctypes.c_int)
        xss.XScreenSaverQueryExtension.argtypes = [ctypes.c_void_p, int_p, int_p]
        xss.XScreenSaverQueryVersion.argtypes = [ctypes.c_void_p, int_p, int_p]
        xss.XScreenSaverSuspend.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xss.XScreenSaverSuspend.restype = None
        first, second = ctypes.c_int(), ctypes.c_int()
        if not xss.XScreenSaverQueryExtension(dpy, ctypes.byref(first), ctypes.byref(second)):
            return "the X server has no MIT-SCREEN-SAVER extension"
        if not xss.XScreenSaverQueryVersion(dpy, ctypes.byref(first), ctypes.byref(second)):
            return "the X server did not say its MIT-SCREEN-SAVER version"
        # Suspend is new in 1.1; sent to an older server it is a protocol error, which
        # Xlib's default handler answers by ending the process.
        if (first.value, second.value) < (1, 1):
            return (f"the X server's MIT-SCREEN-SAVER is {first.value}.{second.value}, "
                    "older than 1.1")
        xss.XScreenSaverSuspend(dpy, 1)
        # The suspension only stops the idle timer: a screen already blank (a kiosk restarted
        # after a crash on an idle desktop) stays blank until reset.
        self._x11.XResetScreenSaver(dpy)
        self._x11.XSync(dpy, 0)
        return None

    def _reset_until_stopped(self, dpy: int) -> None:
        # The only user of this connection while it runs; release() joins it before closing.
        while not self._stop.wait(self.reset_every_s):
            self._x11.XResetScreenSaver(dpy)
            self._x11.XFlush(dpy)

    def _hold_session(self) -> None:
        from wakepy import keep  # imported here: ~150 ms, and only a window needs it

        mode = keep.presenting(on_fail="pass")
        mode.__enter__()
        if mode.active and mode.active_method is not None:
            self._mode = mode
            self.held.append(f"session inhibit {mode.active_method.name}")
            return
        mode.__exit__(None, None, None)
        # No session bus, or one without the services: a bare X session, not a fault.
        tried = {result.method.name: _short(result.failure_reason)
                 for result in mode.result.list_methods()}
        if len(set(tried.values())) == 1:  # the same reason for each: say it once
            why = f"{', '.join(tried)}: {next(iter(tried.values()))}"
        else:
            why = "; ".join(f"{name}: {reason}" for name, reason in tried.items())
        log.info("no desktop session inhibit (%s)", why or "no method for this platform")


def _short(reason: str, limit: int = 160) -> str:
    """wakepy's reason in a log line's room: the bus's answer without the call repeated
    (jeepney explains at length that there is no session bus)."""
    if "DBUS_SESSION_BUS_ADDRESS is not set" in reason:
        return "no session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    # "DBus call of method 'Inhibit' ... failed with message: [error.Name] ('text',)"
    answer = re.search(r"failed with message: \[([^\]]+)\] \((['\"])(.*?)\2,?\)", reason)
    if answer is not None:
        reason = f"{answer.group(1)}: {answer.group(3)}"
    return reason if len(reason) <= limit else reason[:limit - 3] + "..."
