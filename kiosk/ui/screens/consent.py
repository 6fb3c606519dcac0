"""Consent and privacy notice: what is checked, what is kept and for how long."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from kiosk.ui.widgets import BigButton, text_label
from kiosk.wording import ConsentText

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class ConsentScreen(QWidget):
    """Emits ``accepted`` or ``declined``."""

    accepted = Signal()
    declined = Signal()

    def __init__(self, text: ConsentText) -> None:
        super().__init__()
        self.title = text_label("", 40, "Title", bold=True)
        self.checked_heading = text_label("What we check", 26, "What we check heading",
                                          bold=True, align=LEFT)
        self.checked = text_label("", 22, "What we check", align=LEFT)
        self.kept_heading = text_label("What we keep", 26, "What we keep heading", bold=True,
                                       align=LEFT)
        self.kept = text_label("", 22, "What we keep", align=LEFT)
        self.question = text_label("", 26, "Question", bold=True)
        self.accept = BigButton("I agree, start", "Agree and start",
                                description="Agree to the check and start it", primary=True)
        self.decline = BigButton("No, thanks", "Decline",
                                 description="Do not do the check and go back")
        self.accept.clicked.connect(self.accepted)
        self.decline.clicked.connect(self.declined)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.decline)
        buttons.addSpacing(32)
        buttons.addWidget(self.accept)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 40, 80, 40)
        layout.addWidget(self.title)
        layout.addSpacing(16)
        for widget in (self.checked_heading, self.checked, self.kept_heading, self.kept):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.question)
        layout.addLayout(buttons)
        self.setTabOrder(self.accept, self.decline)
        self.primary = self.accept
        self.set_text(text)

    def set_text(self, text: ConsentText) -> None:
        self.title.setText(text.title)
        self.checked.setText("\n".join(f"\u2022 {line}" for line in text.checked))
        self.kept.setText("\n".join(f"\u2022 {line}" for line in text.kept))
        self.question.setText(text.question)
