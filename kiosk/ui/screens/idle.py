"""Idle: what the kiosk is for and how to start (the Start button, or stepping up to it)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.ui.widgets import BigButton, IconWidget, text_label
from kiosk.wording import IDLE_TITLE, idle_text


class IdleScreen(QWidget):
    """Emits ``start_requested`` when Start is pressed."""

    start_requested = Signal()

    def __init__(self, settings) -> None:
        super().__init__()
        self.icon = IconWidget("camera", size=150)
        self.title = text_label(IDLE_TITLE, 44, "Title", bold=True)
        self.text = text_label(idle_text(settings), 24, "What this kiosk does")
        self.start = BigButton("Start", "Start", description="Start the identity check",
                               primary=True)
        self.start.clicked.connect(self.start_requested)
        self.hint = text_label("", 20, "Camera hint")
        self.status = text_label("", 16, "Status message")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.icon)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addSpacing(24)
        layout.addWidget(self.start, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        layout.addWidget(self.status)
        self.primary = self.start

    def set_settings(self, settings) -> None:
        self.text.setText(idle_text(settings))

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)

    def set_status(self, text: str) -> None:
        """A short message at the bottom (e.g. about the operator panel)."""
        self.status.setText(text)
