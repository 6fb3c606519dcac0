"""The operator panel: one widget with a page per job, and a Close button."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QHideEvent,
    QKeyEvent,
    QKeySequence,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.operator import OperatorContext
from kiosk.ui.operator.attempts_page import AttemptsPage
from kiosk.ui.operator.audit_page import AuditPage
from kiosk.ui.operator.camera_page import CameraPage
from kiosk.ui.operator.charts_page import ChartsPage
from kiosk.ui.operator.lockouts_page import LockoutsPage
from kiosk.ui.operator.settings_page import SettingsPage
from kiosk.ui.operator.tasks import TaskRunner
from kiosk.ui.operator.widgets import STYLE, message_label, named, show_message

IDLE_CLOSE_MS = 5 * 60 * 1000
"""The panel closes itself after 5 minutes without a key press or a click in it: left open,
it gave the next person at the kiosk unlocks, overrides and settings without the PIN."""

PAGES_AREA_STYLE = """
QScrollBar:vertical { width: 40px; margin: 0px; background: #262626; }
QScrollBar:horizontal { height: 40px; margin: 0px; background: #262626; }
QScrollBar::handle { background: #bdbdbd; min-height: 60px; min-width: 60px; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0px; height: 0px;
    subcontrol-origin: margin; }
"""
"""The scroll bars of the pages' area (shown only when the screen is too small for a page):
touch-sized."""

INPUT_EVENTS = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress,
                          QEvent.Type.Wheel})
"""What counts as someone at the panel."""


class PageTabs(QTabWidget):
    """Tabs as narrow as the page shown allows: Qt's are as wide as the widest of all the
    pages (the attempts' with an attempt open), so on a narrow screen every page scrolled
    sideways for the attempts' sake. (Their height stays the tallest page's: some pages ask
    for less than their word-wrapped rows take.)"""

    def __init__(self) -> None:
        super().__init__()
        self.currentChanged.connect(self._on_current_changed)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        whole = super().minimumSizeHint()
        stack = self.findChild(QStackedWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
        page = self.currentWidget()
        if stack is None or page is None:
            return whole
        every, shown = stack.minimumSizeHint(), page.minimumSizeHint().expandedTo(
            page.minimumSize())
        return QSize(max(whole.width() - every.width() + shown.width(),
                         self.tabBar().minimumSizeHint().width()), whole.height())

    def _on_current_changed(self, _index: int) -> None:
        self.updateGeometry()
        area = self.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        if area is not None:  # the area sizes its widget only when asked
            QApplication.postEvent(area, QEvent(QEvent.Type.LayoutRequest))


class OperatorPanel(QWidget):
    """Attempts, lockouts, settings, camera, audit check and charts, behind the PIN dialog.

    Every database call runs on the panel's :class:`TaskRunner` (off the UI thread). The
    panel emits ``closed`` when the operator leaves (Close button or Escape, or nobody has
    touched it for ``idle_ms``), once the calls in flight have finished: the UI stays live
    meanwhile, and a call that fails then keeps the panel open with its message. It can be
    shown again later (it reloads when shown).

    Parameters
    ----------
    context : OperatorContext
        The panel's Qt-free partner.
    idle_ms : int
        Milliseconds without input in the panel after which it closes itself
        (:data:`IDLE_CLOSE_MS`; ``idle_timer`` counts them).
    """

    closed = Signal()

    def __init__(self, context: OperatorContext, parent: QWidget | None = None, *,
                 idle_ms: int = IDLE_CLOSE_MS) -> None:
        super().__init__(parent)
        self.context = context
        self.runner = TaskRunner(self)
        self._leaving = False
        self._closed_sent = False
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.setInterval(idle_ms)
        self.idle_timer.timeout.connect(self._on_idle)
        self.setStyleSheet(STYLE)
        self.setWindowTitle("Operator panel")
        named(self, "Operator panel")

        self.title = title = QLabel("Operator panel")
        title.setStyleSheet("font-size: 28px; font-weight: bold;")
        self.operator_edit = QLineEdit()
        self.operator_edit.setMaxLength(100)
        named(self.operator_edit, "Operator name",
              "Your name: recorded with every unlock, override and settings change")
        name_label = QLabel("Operator &name")
        name_label.setBuddy(self.operator_edit)
        self.close_button = QPushButton("&Close")
        named(self.close_button, "Close the operator panel and return to the kiosk")
        # Shown in the title's place while leaving: a row of its own pushed the panel past
        # the bottom of a 1280x800 screen.
        self.status = message_label("Operator panel status")
        self.status.hide()
        header = QHBoxLayout()
        header.addWidget(title)
        header.addWidget(self.status)
        header.addStretch(1)
        header.addWidget(name_label)
        header.addWidget(self.operator_edit, 1)
        header.addWidget(self.close_button)

        name = self.operator_edit.text
        self.attempts = AttemptsPage(context, self.runner, name)
        self.lockouts = LockoutsPage(context, self.runner, name)
        self.settings = SettingsPage(context, self.runner, name)
        self.camera = CameraPage(context, self.runner, name)
        self.audit = AuditPage(context, self.runner)
        self.charts = ChartsPage(context, self.runner)
        # The charts count decisions as overridden: one recorded here changes them.
        self.attempts.overridden.connect(lambda _attempt_id: self.charts.refresh())
        self.tabs = PageTabs()
        named(self.tabs, "Operator pages")
        for page, label in ((self.attempts, "&Attempts"), (self.lockouts, "&Lockouts"),
                            (self.settings, "Se&ttings"), (self.camera, "Ca&mera"),
                            (self.audit, "A&udit"), (self.charts, "C&harts")):
            self.tabs.addTab(page, label)
            named(page, label.replace("&", ""))

        # The pages scroll (the header with Close stays) where the screen is smaller than
        # they are: a portrait screen 768 px wide, or 1366x768 at 125 % (614 px high). The
        # panel took its pages' whole size before, and Close and Apply went off the screen.
        self.pages_area = QScrollArea()
        named(self.pages_area, "Operator pages area")
        self.pages_area.setWidget(self.tabs)
        self.pages_area.setWidgetResizable(True)
        self.pages_area.setFrameShape(QFrame.Shape.NoFrame)
        # Bars a finger can take (a drag on the pages would take their tables' and fields'
        # drags away from them).
        for bar in (self.pages_area.verticalScrollBar(), self.pages_area.horizontalScrollBar()):
            bar.setStyleSheet(PAGES_AREA_STYLE)  # its own: the pages' tables keep theirs
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.pages_area, 1)

        self.close_button.clicked.connect(self.leave)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.leave)
        self.runner.busy_changed.connect(self._on_busy_changed)
        self.runner.task_failed.connect(self._on_task_failed)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._leaving = self._closed_sent = False
        self._set_leaving_look(False)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.idle_timer.start()
        self.reload()
        self.operator_edit.setFocus()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.idle_timer.stop()
        super().hideEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Input in the panel starts the idle countdown again; Alt+letter that reaches a
        control of the panel as a key press is a mnemonic.

        Qt's mnemonics are window shortcuts: they fire only while the panel's window is the
        active one. Without a window manager (the kiosk's X session) it never becomes active,
        so Alt+C went on to the focused field and typed "c". A key press only gets here when
        no shortcut took it, so acting on it here never acts twice.
        """
        if event.type() in INPUT_EVENTS and self._owns(watched) and not self._leaving:
            self.idle_timer.start()
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and isinstance(watched, QWidget) and watched.isWidgetType()
                and (watched is self or self.isAncestorOf(watched))
                and event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
                == Qt.KeyboardModifier.AltModifier):
            return self.activate_mnemonic(event.key())
        return False

    def activate_mnemonic(self, key: int) -> bool:
        """Do what Alt+``key`` shows on a visible, enabled control of the panel: click a button
        or tick a check box, focus a label's field, or open a tab. True when one did."""
        wanted = QKeySequence(Qt.KeyboardModifier.AltModifier | Qt.Key(key))
        for tabs in self.findChildren(QTabWidget):
            if not tabs.isVisible():
                continue
            for index in range(tabs.count()):
                if tabs.isTabEnabled(index) and QKeySequence.mnemonic(
                        tabs.tabText(index)).matches(wanted) == QKeySequence.SequenceMatch.ExactMatch:
                    tabs.setCurrentIndex(index)
                    tabs.tabBar().setFocus(Qt.FocusReason.ShortcutFocusReason)
                    return True
        for button in self.findChildren(QAbstractButton):
            if button.isVisible() and button.isEnabled() and QKeySequence.mnemonic(
                    button.text()).matches(wanted) == QKeySequence.SequenceMatch.ExactMatch:
                button.setFocus(Qt.FocusReason.ShortcutFocusReason)
                button.animateClick()
                return True
        for label in self.findChildren(QLabel):
            buddy = label.buddy()
            if label.isVisible() and buddy is not None and buddy.isEnabled() and \
                    QKeySequence.mnemonic(label.text()).matches(wanted) == \
                    QKeySequence.SequenceMatch.ExactMatch:
                buddy.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return True
        return False

    def _owns(self, watched: QObject) -> bool:
        """``watched`` is the panel or a widget of it, a dialog it opened included."""
        widget = watched if isinstance(watched, QWidget) else None
        while widget is not None and widget is not self:
            widget = widget.parentWidget()
        return widget is self

    def _on_idle(self) -> None:
        """Nobody touched the panel for a while: leave as the Close button does. A question
        it asked is answered No first: left on screen, the next person could answer it."""
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QDialog) and self._owns(modal):
            modal.reject()
        self.leave()

    def reload(self) -> None:
        """Read everything again (attempts, lockouts, settings, cameras, charts)."""
        self.attempts.refresh()
        self.lockouts.refresh()
        self.settings.load()
        self.camera.refresh()
        self.charts.refresh()

    def leave(self) -> None:
        """Stop the camera timer; emit ``closed`` once the database calls in flight are done.

        Waiting here blocked the whole kiosk window for as long as a write waited on a locked
        audit log (seconds, ``audit.busy_timeout_s``): the panel now says it is waiting, and
        closes when the runner is idle.
        """
        if self._leaving:
            return
        self._leaving = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.idle_timer.stop()
        self.camera.timer.stop()
        if not self.runner.busy:
            self._send_closed()
            return
        self._set_leaving_look(True)
        show_message(self.status, "Closing: waiting for the audit log...", "warning")
        self.status.setToolTip("")

    def _set_leaving_look(self, leaving: bool) -> None:
        """While leaving, nothing new can be started and the status line says why."""
        self.tabs.setEnabled(not leaving)
        self.operator_edit.setEnabled(not leaving)
        self.close_button.setEnabled(not leaving)
        self.status.setVisible(leaving)
        self.title.setVisible(not leaving)

    def _on_busy_changed(self, busy: bool) -> None:
        if self._leaving and not busy:
            # After the failed call's own slots (the runner says idle before them): one that
            # failed cancels the leaving first.
            QTimer.singleShot(0, self._close_when_idle)

    def _close_when_idle(self) -> None:
        if self._leaving and not self.runner.busy:
            self._send_closed()

    def _on_task_failed(self, _task_id: int, message: str) -> None:
        # An action that failed while the panel waited to close (an override on a locked
        # log, say) would be lost with the panel: stay, and say so.
        if not self._leaving or self._closed_sent:
            return
        self._leaving = False
        self._set_leaving_look(False)
        self.status.show()
        self.title.hide()
        # Short (its page has the whole message): the header has room for little more.
        show_message(self.status, "Not closed: the last action failed.", "error")
        self.status.setToolTip(message)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.idle_timer.start()

    def _send_closed(self) -> None:
        if not self._closed_sent:
            self._closed_sent = True
            self.closed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        # Escape that no child used (the shortcut above needs the window to be active).
        if event.key() == Qt.Key.Key_Escape:
            self.leave()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        # Closing the widget itself (the window going away) cannot wait for the event loop:
        # the calls in flight finish here, before the audit log is closed.
        self.leave()
        self.runner.wait()
        self._send_closed()
        super().closeEvent(event)
