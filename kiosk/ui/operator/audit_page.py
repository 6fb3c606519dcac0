"""Audit page: walk the hash chain and show the result and the first broken row."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.operator import OperatorContext, VerifyOutcome
from kiosk.ui.operator.tasks import TaskRunner
from kiosk.ui.operator.widgets import fill_table, make_table, message_label, named, show_message


class AuditPage(QWidget):
    """A Verify button; the check runs off the UI thread (it reads every row)."""

    def __init__(self, context: OperatorContext, runner: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._runner = runner
        self.verify_button = QPushButton("&Verify the audit log")
        named(self.verify_button, "Verify the audit log",
              "Check the hash chain of every attempt, lockout and operator action")
        self.result = message_label("Audit verification result")
        self.unguarded = message_label("Whether the log's loss would be noticed")
        self.unguarded.setVisible(False)
        self.row_caption = QLabel("")
        self.row_table = make_table("First broken row", ["Field", "Value (as stored now)"])
        self.row_table.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verify_button)
        layout.addWidget(self.result)
        layout.addWidget(self.unguarded)
        layout.addWidget(self.row_caption)
        layout.addWidget(self.row_table, 1)
        layout.addStretch(1)
        self.verify_button.clicked.connect(self.verify)

    def verify(self) -> None:
        self.verify_button.setEnabled(False)
        show_message(self.result, "Verifying...")
        self._runner.run(self._context.verify, self._on_verified, self._on_failed)

    def _on_verified(self, outcome: VerifyOutcome) -> None:
        self.verify_button.setEnabled(True)
        show_message(self.result, outcome.summary, "ok" if outcome.ok else "error")
        show_message(self.unguarded, f"Warning: {outcome.unguarded}", "error")
        self.unguarded.setVisible(bool(outcome.unguarded))
        fill_table(self.row_table, [list(line) for line in outcome.broken_row])
        self.row_table.setVisible(bool(outcome.broken_row))
        self.row_caption.setText("First broken row:" if outcome.broken_row else "")

    def _on_failed(self, message: str) -> None:
        self.verify_button.setEnabled(True)
        show_message(self.result, f"The audit log could not be checked: {message}", "error")
