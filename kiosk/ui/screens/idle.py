"""Idle: what the kiosk is for and how to start (the Start button, or stepping up to it); the
accessible check a person can choose; and, before anyone consents, whether the kiosk or the
last person is locked out (the latter for a short while only: see kiosk.flow.SUBJECT_NOTICE_S);
to a face in view that does not start the kiosk by itself, to press Start; and, while the next
check must wait (kiosk.pacing), to wait, with a countdown."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.settings import Settings
from kiosk.ui.widgets import (
    ATTENTION,
    FOREGROUND,
    STAFF,
    BigButton,
    ChoiceButton,
    FlowRow,
    IconWidget,
    text_label,
)
from kiosk.wording import (
    ACCESSIBLE_LABEL,
    ACCESSIBLE_LABEL_ON,
    IDLE_LOCKED_TEXT,
    IDLE_LOCKED_TITLE,
    IDLE_TITLE,
    IDLE_WAIT_TITLE,
    SUBJECT_LOCKED_NOTICE,
    accessible_description,
    idle_text,
    idle_wait_text,
)

#: How often the countdown is read again while the screen shows (ms): its whole seconds
#: change on time to within this.
WAIT_REFRESH_MS = 250


class IdleScreen(QWidget):
    """Emits ``start_requested`` when Start is pressed and ``accessible_toggled(bool)`` when
    the accessible check is chosen or dropped.

    A locked kiosk says so and offers nothing to press; a kiosk whose next check must wait
    (:meth:`follow_wait`) says to wait, counts down, and offers Start again at zero.
    """

    start_requested = Signal()
    accessible_toggled = Signal(bool)

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings
        self.icon = IconWidget("camera", size=150)
        self.title = text_label(IDLE_TITLE, 44, "Title", bold=True)
        self.text = text_label(idle_text(settings), 24, "What this kiosk does")
        self.start = BigButton("Start", "Start", description="Start the identity check",
                               primary=True)
        self.start.clicked.connect(self.start_requested)
        self.accessible = ChoiceButton(ACCESSIBLE_LABEL, ACCESSIBLE_LABEL_ON,
                                      description=accessible_description(settings))
        self.accessible.toggled.connect(self.accessible_toggled)
        self.notice = text_label("", 22, "Notice", colour=STAFF)
        self.hint = text_label("", 20, "Camera hint", colour=ATTENTION)
        self.status = text_label("", 16, "Status message")
        # Side by side where they fit, one under the other on a narrow (portrait) screen.
        buttons = FlowRow(spacing=24)
        buttons.addWidget(self.start)
        buttons.addWidget(self.accessible)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.icon)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addSpacing(24)
        layout.addLayout(buttons)
        layout.addWidget(self.notice)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        layout.addWidget(self.status)
        self.primary = self.start
        self.locked = False
        self.subject_notice = False
        self.wait_s = 0.0  # seconds the next check must still wait, as last shown
        self._wait_left: Callable[[], float] | None = None
        self._wait_timer = QTimer(self)
        self._wait_timer.setInterval(WAIT_REFRESH_MS)
        self._wait_timer.timeout.connect(self.refresh_wait)

    def set_settings(self, settings: Settings) -> None:
        self._settings = settings
        self.accessible.setAccessibleDescription(accessible_description(settings))
        self._show_state()

    def set_lockouts(self, *, kiosk: bool, subject: bool) -> None:
        """A locked kiosk says so and offers no Start; a locked last person gets a notice."""
        self.locked = kiosk
        self.subject_notice = subject and not kiosk
        self.notice.setText(SUBJECT_LOCKED_NOTICE if self.subject_notice else "")
        self._show_state()

    def follow_wait(self, left: Callable[[], float]) -> None:
        """Read ``left()``, the seconds the next check must still wait (the flow's
        :meth:`~kiosk.flow.KioskFlow.start_wait_s`), every :data:`WAIT_REFRESH_MS` while the
        screen shows."""
        self._wait_left = left
        self.refresh_wait()

    def refresh_wait(self) -> None:
        """Show the wait as it is now: the countdown, or Start again once it is over."""
        left = self._wait_left() if self._wait_left is not None else 0.0
        before, self.wait_s = self.wait_s, left
        if (left > 0.0) != (before > 0.0):
            self._show_state()
            if left == 0.0 and self.start.isVisible():
                # Over: a keyboard's Return starts the check again, as on arriving here.
                self.start.setFocus(Qt.FocusReason.OtherFocusReason)
        elif left > 0.0 and not self.locked:
            self.text.setText(idle_wait_text(left))  # the countdown's whole seconds

    def _show_state(self) -> None:
        """Title, text and buttons for the kiosk locked, the next check waiting, or ready."""
        waiting = self.wait_s > 0.0 and not self.locked
        self.icon.set_icon("staff" if self.locked else "camera",
                           STAFF if self.locked else FOREGROUND)
        title = IDLE_LOCKED_TITLE if self.locked else IDLE_WAIT_TITLE if waiting else IDLE_TITLE
        self.title.setText(title)
        self.text.setText(IDLE_LOCKED_TEXT if self.locked else idle_wait_text(self.wait_s)
                          if waiting else idle_text(self._settings))
        ready = not self.locked and not waiting
        self.start.setVisible(ready)
        self.accessible.setVisible(ready)
        if not ready:
            self.hint.setText("")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh_wait()
        self._wait_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt override)
        self._wait_timer.stop()
        super().hideEvent(event)

    def set_accessible(self, on: bool) -> None:
        """Show the choice (the flow resets it for each person)."""
        self.accessible.show_choice(on)

    def set_hint(self, text: str) -> None:
        """Live guidance for someone approaching; none while the kiosk is locked or the next
        check waits (there is nothing to start)."""
        self.hint.setText("" if self.locked or self.wait_s > 0.0 else text)

    def set_status(self, text: str) -> None:
        """A short message at the bottom (e.g. about the operator panel)."""
        self.status.setText(text)
