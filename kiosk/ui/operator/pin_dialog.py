"""The PIN dialog in front of the operator panel."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.operator import OperatorContext, PinResult
from kiosk.ui.operator.tasks import TaskRunner
from kiosk.ui.operator.widgets import STYLE, message_label, named, show_message

MIN_WIDTH_PX = 560
"""Wide enough for the refusal and lockout messages on three lines at the panel's font."""


class PinDialog(QDialog):
    """Asks for the operator PIN; accepted only when :meth:`OperatorContext.check_pin` says so.

    The check runs off the UI thread (a wrong PIN is written to the audit log). Escape or
    Cancel rejects. When no PIN is set the dialog says the panel is disabled and cannot be
    accepted.
    """

    def __init__(self, context: OperatorContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._runner = TaskRunner(self)
        self.setWindowTitle("Operator PIN")
        self.setStyleSheet(STYLE)
        named(self, "Operator PIN")

        prompt = QLabel("Enter the operator &PIN:")
        self.pin_edit = QLineEdit()
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setMaxLength(32)
        prompt.setBuddy(self.pin_edit)
        named(self.pin_edit, "Operator PIN", "The PIN set in the kiosk settings")
        self.message = message_label("PIN result")
        self.ok_button = QPushButton("&Open panel")
        self.ok_button.setDefault(True)
        named(self.ok_button, "Open the operator panel")
        self.cancel_button = QPushButton("&Cancel")
        named(self.cancel_button, "Cancel and return to the kiosk")

        buttons = QHBoxLayout()
        buttons.addWidget(self.ok_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        # The dialog follows its content: a message that appears or wraps to more lines grows
        # the dialog instead of being cut or drawn over the PIN field.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.setMinimumWidth(MIN_WIDTH_PX)
        layout.addWidget(prompt)
        layout.addWidget(self.pin_edit)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

        self.ok_button.clicked.connect(self._on_ok_clicked)
        self.pin_edit.returnPressed.connect(self._on_ok_clicked)
        self.cancel_button.clicked.connect(self.reject)
        if not context.pin_enabled:
            self.pin_edit.setEnabled(False)
            self.ok_button.setEnabled(False)
            self._say("The operator panel is disabled: no operator PIN is set "
                      "(kiosk.operator_pin).", "warning")
            self.cancel_button.setFocus()

    def _say(self, text: str, role: str = "info") -> None:
        show_message(self.message, text, role)
        self.adjustSize()

    def _on_ok_clicked(self) -> None:
        if not self.ok_button.isEnabled():
            return
        entered = self.pin_edit.text()
        self.pin_edit.clear()
        self.ok_button.setEnabled(False)
        self._say("Checking...")
        self._runner.run(lambda: self._context.check_pin(entered), self._on_checked,
                         self._on_check_failed)

    def _on_checked(self, result: PinResult) -> None:
        if result.accepted:
            self.accept()
            return
        self._say(result.message, "error")
        self.ok_button.setEnabled(True)
        self.pin_edit.setFocus()

    def _on_check_failed(self, message: str) -> None:
        self._say(f"The PIN could not be checked: {message}", "error")
        self.ok_button.setEnabled(True)

    def done(self, result: int) -> None:
        """Close only after a PIN check in flight has finished (it may be writing)."""
        self._runner.wait()
        super().done(result)
