"""Kiosk mode keeps its window in front: full screen, on top and with the keyboard.

Staying on top is only a hint to a window manager, and without one nobody acts on it. The
audit of the unattended kiosk mapped a second window over it (as a notification or a file
manager opened on a USB stick would be): it kept the top and the keyboard, and the person's
Return went to it. A kiosk minimised or unmapped stayed away, and a check already started ran
on unseen into a failure nobody saw. :class:`FrontGuard` looks every second, and at once when
the window is minimised, hidden or loses the keyboard, and brings it back.

It stands aside while the kiosk's own dialogs or popups are up (the PIN dialog, the ID photo's
file dialog, a message box of the operator panel: modal, so its window is not for the person
meanwhile) and while staff are in the operator panel, who may need another window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.logrepeat import RepeatGate
from kiosk.ui.xstack import XStacking

log = logging.getLogger(__name__)

#: How often the guard looks (ms): what nothing tells the window (another window stacked
#: over it, an unmapping Qt does not count as hidden) is mended within this.
WATCH_MS = 1000


class Lapse(StrEnum):
    """How the window left the front, as the log says it ("the kiosk window ...")."""

    MINIMISED = "was minimised"
    HIDDEN = "was hidden"
    WINDOWED = "left full screen"
    UNFOCUSED = "lost the keyboard"
    COVERED = "was covered by another window"


#: Lapses that take a check from the person: they can neither see nor answer it. A window
#: stacked over the kiosk is not one of them: it may be a corner's notification, and the
#: kiosk is on top again within :data:`WATCH_MS`.
UNSEEN = frozenset({Lapse.MINIMISED, Lapse.HIDDEN, Lapse.UNFOCUSED})

#: The window's events after which the guard looks at once.
_WATCHED = frozenset({QEvent.Type.WindowStateChange, QEvent.Type.ActivationChange,
                      QEvent.Type.Hide})


class FrontGuard(QObject):
    """Brings the kiosk window back to the front whenever it leaves it.

    Signals: ``lapsed(lapse)`` each time the window is found out of the front (a
    :class:`Lapse`), before it is brought back: the window stops a live check the person
    could not see (:data:`UNSEEN`).

    Parameters
    ----------
    window : QWidget
        The kiosk window, shown full screen.
    stand_aside : callable
        True while staff have the screen (the operator panel): the guard does nothing.
    interval_ms : int
        How often it looks (:data:`WATCH_MS`).
    """

    lapsed = Signal(str)

    def __init__(self, window: QWidget, *, stand_aside: Callable[[], bool],
                 interval_ms: int = WATCH_MS) -> None:
        super().__init__(window)
        self._window = window
        self._stand_aside = stand_aside
        self._stacking: XStacking | None = None
        self._logged = RepeatGate()  # a window that fights for the top is not a log flood
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self._soon = QTimer(self)  # once the event that called for a look is handled
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self.check)

    def start(self) -> None:
        """Keep the window in front from now on (kiosk mode, once it is shown)."""
        if self.timer.isActive():
            return
        if QGuiApplication.platformName() == "xcb":
            self._stacking = XStacking.open()
        # Watched only while guarding: a filter left on a window that the garbage collector
        # destroys later met this object with its attributes already cleared.
        self._window.installEventFilter(self)
        self.timer.start()

    def stop(self) -> None:
        """Leave the window alone (it is closing)."""
        self._window.removeEventFilter(self)
        self.timer.stop()
        self._soon.stop()
        stacking, self._stacking = self._stacking, None
        if stacking is not None:
            stacking.close()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in _WATCHED and self.timer.isActive():  # the window: the one watched
            self._soon.start()
        return False

    @Slot()
    def check(self) -> Lapse | None:
        """Bring the window back if it left the front; how it had left, or None."""
        if self._stand_aside() or _own_window_up():
            return None
        lapse = self._lapse()
        if lapse is None:
            return None
        if self._logged.due(lapse):
            log.warning("the kiosk window %s: bringing it back to the front", lapse)
        self.lapsed.emit(lapse)
        self._bring_back()
        return lapse

    def _lapse(self) -> Lapse | None:
        window = self._window
        handle = window.windowHandle()
        if window.isMinimized():
            return Lapse.MINIMISED
        if not window.isVisible() or handle is None or not handle.isExposed():
            return Lapse.HIDDEN
        if not window.isFullScreen():
            return Lapse.WINDOWED
        # The platform's focus window, not QApplication.activeWindow(), which lags behind it
        # when the window's flags changed while it was shown.
        if QGuiApplication.focusWindow() is not handle:
            return Lapse.UNFOCUSED
        if self._covered():
            return Lapse.COVERED
        return None

    def _covered(self) -> bool:
        if self._stacking is None:
            return False  # not on X: the window's own events are all there is
        handle = self._window.windowHandle()
        own = [int(w.winId()) for w in QGuiApplication.allWindows()
               if w.isVisible() and w is not handle]
        return self._stacking.cover(int(self._window.winId()), own) is not None

    def _bring_back(self) -> None:
        window = self._window
        handle = window.windowHandle()
        if window.isVisible() and handle is not None and not handle.isExposed():
            # Unmapped by another client: Qt still counts it shown, and would not map it.
            window.hide()
        window.showFullScreen()
        window.raise_()
        window.activateWindow()


def _own_window_up() -> bool:
    """One of the kiosk's own dialogs or popups is up (its window is not for the person
    meanwhile, and raising the kiosk's would hide it where no window manager keeps it on
    top)."""
    return (QApplication.activeModalWidget() is not None
            or QApplication.activePopupWidget() is not None)
