"""Result in plain words: pass, a generic failure with what to do next, or staff will help.

Never a score and never which check failed (see kiosk.wording.result_message).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.ui.widgets import BAD, GOOD, STAFF, BigButton, IconWidget, text_label
from kiosk.wording import ResultMessage, result_sentence

COLOURS = {"pass": GOOD, "fail": BAD, "error": BAD, "review": STAFF, "locked": STAFF}
FINISH_DESCRIPTION = "Finish and go back to the start"


class ResultScreen(QWidget):
    """Emits ``done`` when the person presses Done (the flow also times out to idle)."""

    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.icon = IconWidget(None, size=180)
        self.title = text_label("", 44, "Result", bold=True)
        self.detail = text_label("", 26, "What to do next")
        self.finish = BigButton("Done", "Done", description=FINISH_DESCRIPTION, primary=True)
        self.finish.clicked.connect(self.done)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 40, 80, 40)
        layout.addStretch(1)
        layout.addWidget(self.icon)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addSpacing(24)
        layout.addWidget(self.finish, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        self.primary = self.finish
        self.kind: str | None = None

    def show_result(self, message: ResultMessage) -> None:
        self.kind = message.kind
        self.icon.set_icon(message.icon, COLOURS.get(message.kind))
        self.title.setText(message.title)
        self.detail.setText(message.detail)
        sentence = result_sentence(message)
        self.setAccessibleDescription(sentence)
        # Focus lands on Done: a screen reader reading it reads the result with it.
        self.finish.setAccessibleDescription(f"{sentence} {FINISH_DESCRIPTION}.")
