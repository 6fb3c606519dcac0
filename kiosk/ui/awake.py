"""Keep the display awake while the kiosk window is up.

Nobody touches the keyboard or mouse of an unattended kiosk: people only stand in front of its
camera. Without this, the X server's own screen saver (600 s by default, and DPMS power-off)
blanks the screen and a desktop session (GNOME, KDE Plasma) locks it, and the light challenge,
which paints colours on this very screen, cannot work. Two standard mechanisms, each one used
when it is there:

- X11: MIT-SCREEN-SAVER 1.1's Suspend, on a connection of its own (xcffib,
  :mod:`kiosk.ui.xclient`), open as long as the hold. The X server lifts the suspension by
  itself when that connection closes, so a crashed kiosk leaves nothing behind; Xorg suspends
  DPMS with it. On a server without the extension (or one older than 1.1) the screen saver is
  reset on a timer instead.
- The desktop session bus: wakepy's ``keep.presenting`` (org.gnome.SessionManager or
  org.freedesktop.ScreenSaver inhibit), which also keeps the session from locking. A bare X
  session has neither service: that is normal.

Nothing here stops the kiosk: a mechanism that fails is logged and skipped. Qt-free.
"""

from __future__ import annotations

import logging
import re
import threading
from types import TracebackType
from typing import Any

from kiosk.ui.xclient import open_display, xcb

log = logging.getLogger(__name__)

SCREEN_SAVER_EXTENSION = "MIT-SCREEN-SAVER"
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
    extension : str
        The X extension whose Suspend request is used (:data:`SCREEN_SAVER_EXTENSION`; a name
        the server does not have makes the fallback happen).
    reset_every_s : float
        Without ``XScreenSaverSuspend``, how often the X screen saver is reset; shorter than
        any idle time a site would set.
    """

    def __init__(self, x_display: str | None, *, session: bool = True,
                 extension: str = SCREEN_SAVER_EXTENSION, reset_every_s: float = RESET_EVERY_S) -> None:
        if reset_every_s <= 0:
            raise ValueError(f"reset_every_s must be positive, got {reset_every_s}")
        self.x_display = x_display
        self.session = session
        self.extension = extension
        self.reset_every_s = reset_every_s
        self.held: list[str] = []
        self._x: Any = None  # the xcffib connection that holds the suspension
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
        if self._x is not None:
            self._x.disconnect()
            self._x = None
        self.held = []

    def __enter__(self) -> DisplayAwake:
        self.hold()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def _hold_x(self, display: str) -> None:
        if xcb() is None:
            log.warning("cannot load libxcb (Debian package libxcb1): the X screen saver is "
                        "left alone")
            return
        connection, why = open_display(display)
        if connection is None:
            log.warning("cannot open the X display %s (%s): the X screen saver is left alone",
                        display, why)
            return
        self._x = connection
        why_not = self._suspend(connection)
        if why_not is None:
            self.held.append("X screen saver suspended")
            return
        # Without the suspension, an idle timer that keeps being reset never fires.
        log.warning("%s: resetting the X screen saver every %g s instead", why_not,
                    self.reset_every_s)
        _reset(connection)  # now: the screen may be blank already
        self._stop.clear()
        self._resetter = threading.Thread(target=self._reset_until_stopped,
                                          args=(connection,), name="x-screensaver-reset",
                                          daemon=True)
        self._resetter.start()
        self.held.append(f"X screen saver reset every {self.reset_every_s:g} s")

    def _suspend(self, connection: Any) -> str | None:
        """Suspend the screen saver; why it cannot be done, or None when done."""
        import xcffib.screensaver

        name = self.extension
        if not connection.core.QueryExtension(len(name.encode()), name).reply().present:
            # A request to a missing extension would close the connection.
            return f"the X server has no {name} extension"
        saver = connection(xcffib.screensaver.key)
        version = saver.QueryVersion(1, 1).reply()
        found = (version.server_major_version, version.server_minor_version)
        # Suspend is new in 1.1: an older server answers it with a protocol error.
        if found < (1, 1):
            return f"the X server's {name} is {found[0]}.{found[1]}, older than 1.1"
        saver.SuspendChecked(1).check()
        # The suspension only stops the idle timer: a screen already blank (a kiosk restarted
        # after a crash on an idle desktop) stays blank until reset.
        _reset(connection)
        return None

    def _reset_until_stopped(self, connection: Any) -> None:
        # The only user of this connection while it runs; release() joins it before closing.
        while not self._stop.wait(self.reset_every_s):
            try:
                _reset(connection)
            except Exception as exc:  # the X server went away: nothing left to keep awake
                log.warning("the X screen saver can no longer be reset: %s", exc)
                return

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


def _reset(connection: Any) -> None:
    """Reset the X screen saver (as a key press would) and wait until the server did."""
    from xcffib.xproto import ScreenSaver

    connection.core.ForceScreenSaverChecked(ScreenSaver.Reset).check()


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
