"""Idle: what the kiosk is for and how to start (the Start button, or stepping up to it); the
accessible check a person can choose; and, before anyone consents, whether the kiosk or the
last person is locked out (the latter for a short while only: see kiosk.flow.SUBJECT_NOTICE_S);
and, to a face in view that does not start the kiosk by itself, to press Start."""

from __future__ import annotations

from PySide6.QtCore import Signal
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
    SUBJECT_LOCKED_NOTICE,
    accessible_description,
    idle_text,
)


class IdleScreen(QWidget):
    """Emits ``start_requested`` when Start is pressed and ``accessible_toggled(bool)`` when
    the accessible check is chosen or dropped."""

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

    def set_settings(self, settings: Settings) -> None:
        self._settings = settings
        self.accessible.setAccessibleDescription(accessible_description(settings))
        if not self.locked:
            self.text.setText(idle_text(settings))

    def set_lockouts(self, *, kiosk: bool, subject: bool) -> None:
        """A locked kiosk says so and offers no Start; a locked last person gets a notice."""
        self.locked = kiosk
        self.icon.set_icon("staff" if kiosk else "camera", STAFF if kiosk else FOREGROUND)
        self.title.setText(IDLE_LOCKED_TITLE if kiosk else IDLE_TITLE)
        self.text.setText(IDLE_LOCKED_TEXT if kiosk else idle_text(self._settings))
        self.start.setVisible(not kiosk)
        self.accessible.setVisible(not kiosk)
        self.subject_notice = subject and not kiosk
        self.notice.setText(SUBJECT_LOCKED_NOTICE if self.subject_notice else "")
        if kiosk:
            self.hint.setText("")

    def set_accessible(self, on: bool) -> None:
        """Show the choice (the flow resets it for each person)."""
        self.accessible.show_choice(on)

    def set_hint(self, text: str) -> None:
        """Live guidance for someone approaching; none while the kiosk is locked (there is
        nothing to start)."""
        self.hint.setText("" if self.locked else text)

    def set_status(self, text: str) -> None:
        """A short message at the bottom (e.g. about the operator panel)."""
        self.status.setText(text)
