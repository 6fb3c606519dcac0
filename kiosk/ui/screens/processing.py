"""Processing: shown while the liveness decision and the face comparison run."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.ui.widgets import Spinner, text_label
from kiosk.wording import PROCESSING_TEXT


class ProcessingScreen(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.spinner = Spinner()
        self.text = text_label(PROCESSING_TEXT, 36, "Status", bold=True)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.spinner)
        layout.addWidget(self.text)
        layout.addStretch(1)
        self.primary = None
