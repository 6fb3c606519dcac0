"""Kiosk mode's keyboard rules and the operator escape (PIN dialog, then the operator panel),
by the keys (:data:`OPERATOR_ESCAPE`) or, on a touch screen, a long press on the top-left
corner (:class:`CornerHoldFilter`).

The operator panel and its PIN dialog belong to :mod:`kiosk.ui.operator`, their logic to
:class:`kiosk.operator.OperatorContext`; this module only opens them, and keeps one context
between openings so that its count of wrong PINs survives a closed dialog.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence, QMouseEvent, QTouchEvent, QWindow
from PySide6.QtWidgets import QWidget

from kiosk.ui.gesture import CornerHold
from kiosk.wording import STAFF_LOG

log = logging.getLogger(__name__)

OPERATOR_ESCAPE = "Ctrl+Alt+O"
#: Shown on the public screens: why is for the log (an exception's text tells a passer-by
#: how the kiosk is built).
PANEL_UNAVAILABLE = f"Operator panel unavailable; the reason is in {STAFF_LOG}."
_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
              | Qt.KeyboardModifier.MetaModifier)
#: What counts as a person's activity for the screens' timeouts: a key, a click, the wheel,
#: a touch screen (its touches come as touch events where it sends them) and a pen.
ACTIVITY = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel,
                      QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
                      QEvent.Type.TabletPress})


class KioskKeys(QObject):
    """Application event filter.

    Any key, click, wheel turn or touch (:data:`ACTIVITY`) calls ``touch`` (activity for
    the screens' timeouts). While
    ``swallow()`` is true (kiosk mode, outside the staff's screens), key combinations with
    Ctrl, Alt or Meta are dropped, except the operator escape.
    """

    def __init__(self, parent: QObject, *, touch: Callable[[], None],
                 swallow: Callable[[], bool]) -> None:
        super().__init__(parent)
        self._touch = touch
        self._swallow = swallow
        self._escape = QKeySequence(OPERATOR_ESCAPE)[0].toCombined()  # type: ignore[index]

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind in ACTIVITY:
            self._touch()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and self._swallow():
            assert isinstance(event, QKeyEvent)  # both kinds are key events
            combined = event.keyCombination().toCombined()
            if event.modifiers() & _MODIFIERS and combined != self._escape:
                return True
        return False


class CornerHoldFilter(QObject):
    """Application event filter: emits ``held()`` when a finger (or the left mouse button)
    has stayed on the kiosk window's top-left corner for the hold's time (the staff's touch
    gesture for the operator escape; see :mod:`kiosk.ui.gesture`).

    It reads the touches and the presses the window receives, before any widget: the
    widget under the corner does not matter, and nothing is taken from it. Mouse events Qt
    makes from unhandled touches are not counted twice.

    Parameters
    ----------
    window : QWidget
        The kiosk window (its native window's events are read).
    hold : CornerHold, optional
        The gesture's state (a default one: 5 s on a 96 px corner).
    clock : callable
        Monotonic seconds.
    """

    held = Signal()

    def __init__(self, window: QWidget, hold: CornerHold | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(window)
        self._window = window
        self.hold = hold if hold is not None else CornerHold()
        self._clock = clock
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(int(self.hold.hold_s * 1000))
        self.timer.timeout.connect(self._on_timeout)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind not in _HOLD_EVENTS or not isinstance(obj, QWindow) \
                or obj is not self._window.windowHandle():
            return False
        if isinstance(event, QTouchEvent):
            points = event.points()
            if kind in (QEvent.Type.TouchEnd, QEvent.Type.TouchCancel):
                self._end()
            elif len(points) != 1:
                self._end()  # two fingers: a pinch or a swipe, not the hold
            elif kind == QEvent.Type.TouchBegin:
                self._begin(points[0].position().x(), points[0].position().y())
            else:
                self.hold.move(points[0].position().x(), points[0].position().y())
        elif isinstance(event, QMouseEvent) and \
                event.source() == Qt.MouseEventSource.MouseEventNotSynthesized:
            if kind == QEvent.Type.MouseButtonPress and \
                    event.button() == Qt.MouseButton.LeftButton:
                self._begin(event.position().x(), event.position().y())
            elif kind == QEvent.Type.MouseMove:
                self.hold.move(event.position().x(), event.position().y())
            elif kind == QEvent.Type.MouseButtonRelease:
                self._end()
        if not self.hold.holding:
            self.timer.stop()
        return False

    def _begin(self, x: float, y: float) -> None:
        if self.hold.press(x, y, self._clock()):
            self.timer.start()

    def _end(self) -> None:
        self.hold.release()
        self.timer.stop()

    @Slot()
    def _on_timeout(self) -> None:
        if self.hold.due(self._clock()):
            self.held.emit()
        elif self.hold.holding:
            self.timer.start(100)  # the timer ran early: look again shortly


_HOLD_EVENTS = frozenset({
    QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd,
    QEvent.Type.TouchCancel, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
    QEvent.Type.MouseButtonRelease})


def load_operator() -> tuple[Any, Any, Any]:
    """The operator panel, its context and its PIN dialog classes."""
    from kiosk.operator import OperatorContext
    from kiosk.ui.operator import OperatorPanel, PinDialog

    return OperatorPanel, OperatorContext, PinDialog


class OperatorEscape(QObject):
    """Opens the operator's PIN dialog and, once the PIN is accepted, the panel.

    Signals: ``opened(panel)`` when the panel is ready to show, ``closed()`` when the
    operator left it, ``said(text)`` with a status line for the public screens (e.g. the
    panel is unavailable). Failures never propagate: the kiosk keeps running.

    Parameters
    ----------
    parent : QWidget
        The kiosk window (parent of the dialog).
    settings, audit, camera_health, camera_source : callable
        Current settings, the open audit log (None while unavailable), the camera's health,
        what the kiosk reads frames from (:class:`~kiosk.camera.SourceInfo`, or None).
    apply_settings : callable
        Receives settings the operator changed (from any thread).
    audit_fault : callable
        Receives why the panel's audit check found the log unusable (from any thread): the
        kiosk goes out of service.
    loader : callable
        ``() -> (OperatorPanel, OperatorContext, PinDialog)`` classes.
    """

    opened = Signal(object)
    closed = Signal()
    said = Signal(str)

    def __init__(self, parent: QWidget, *, settings: Callable[[], Any],
                 audit: Callable[[], Any], camera_health: Callable[[], Any],
                 camera_source: Callable[[], Any] = lambda: None,
                 apply_settings: Callable[[Any], None],
                 audit_fault: Callable[[str], None] = lambda reason: None,
                 loader: Callable[[], tuple[Any, Any, Any]] = load_operator) -> None:
        super().__init__(parent)
        self._parent = parent
        self._settings = settings
        self._audit = audit
        self._camera_health = camera_health
        self._camera_source = camera_source
        self._apply_settings = apply_settings
        self._audit_fault = audit_fault
        self._loader = loader
        self._context: Any = None
        self.dialog: Any = None
        self.panel: QWidget | None = None

    def activate(self) -> None:
        """Show the PIN dialog (nothing when it or the panel is already open)."""
        if self.dialog is not None or self.panel is not None:
            return
        try:
            panel_class, context_class, dialog_class = self._loader()
            context = self._context_for(context_class)
            dialog = dialog_class(context, self._parent)
        except Exception as exc:  # the panel must never take the kiosk down
            log.exception("operator panel unavailable: %s", exc)
            self.said.emit(PANEL_UNAVAILABLE)
            return
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._open_panel(panel_class, context))
        dialog.finished.connect(self._on_dialog_finished)
        dialog.open()

    def _context_for(self, context_class: Any) -> Any:
        audit = self._audit()
        if audit is None:
            raise RuntimeError("the audit log is not open")
        if self._context is None or self._context.audit is not audit:
            self._context = context_class(settings=self._settings(), audit=audit,
                                          camera_health=self._camera_health,
                                          camera_source=self._camera_source,
                                          apply_settings=self._apply_settings,
                                          audit_fault=self._audit_fault,
                                          clock=lambda: datetime.now(UTC))
        return self._context

    def _open_panel(self, panel_class: Any, context: Any) -> None:
        try:
            panel = panel_class(context, parent=None)
        except Exception as exc:
            log.exception("operator panel unavailable: %s", exc)
            self.said.emit(PANEL_UNAVAILABLE)
            return
        self.panel = panel
        panel.closed.connect(self._on_panel_closed)
        self.said.emit("")
        self.opened.emit(panel)

    @Slot()
    def _on_dialog_finished(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
        # Without a window manager (a bare X session) nobody hands the keyboard back to the
        # kiosk window: the operator shortcut then did nothing until someone clicked.
        self._parent.window().activateWindow()

    @Slot()
    def _on_panel_closed(self) -> None:
        panel, self.panel = self.panel, None
        if panel is not None:
            self.closed.emit()
            panel.deleteLater()
