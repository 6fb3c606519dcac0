"""Settings page: thresholds, challenges, response window and offline policy."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.operator import OperatorContext, SettingsChange
from kiosk.ui.operator.tasks import TaskRunner
from kiosk.ui.operator.widgets import REASON_HINT, message_label, named, show_message

# camera.device has its own page, with the device list and health.
SKIPPED = ("camera.device",)


def describe_change(change: SettingsChange) -> str:
    """``key old -> new`` for each changed setting."""
    def text(value: object) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    return "; ".join(f"{name} {text(old)} -> {text(new)}"
                     for name, (old, new) in change.changed.items())


class SettingsPage(QWidget):
    """A form of the editable settings; Apply validates, applies and records (off the UI
    thread); a bad value is shown with its key and allowed range, nothing is applied. A note
    above the form says that a change lasts until the kiosk restarts (nothing is saved)."""

    def __init__(self, context: OperatorContext, runner: TaskRunner,
                 operator_name: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._runner = runner
        self._operator_name = operator_name
        self.editors: dict[str, QLineEdit | QComboBox] = {}
        self.keep_note = message_label("What a change lasts")
        show_message(self.keep_note, context.keep_hint)

        form = QFormLayout()
        for field in context.setting_fields():
            if field.name in SKIPPED:
                continue
            editor: QLineEdit | QComboBox
            if field.choices:
                combo = QComboBox()
                combo.addItems(list(field.choices))
                editor = combo
            else:
                editor = QLineEdit()
            named(editor, field.label, f"{field.name}: {field.help} Allowed: {field.allowed}.")
            label = QLabel(f"{field.label}\n({field.name}; {field.allowed})")
            label.setBuddy(editor)
            form.addRow(label, editor)
            self.editors[field.name] = editor
        self.reason_edit = QLineEdit()
        named(self.reason_edit, "Reason for the change", "Recorded with the change (optional)")
        self.reason_edit.setPlaceholderText(REASON_HINT)
        # Its label above and the form's whole width: in the field column it was 177 px on
        # a portrait screen, narrower than its hint.
        reason_label = QLabel("Reason for the change (optional)")
        reason_label.setBuddy(self.reason_edit)
        form.addRow(reason_label)
        form.addRow(self.reason_edit)

        self.apply_button = QPushButton("A&pply")
        named(self.apply_button, "Apply the settings")
        self.revert_button = QPushButton("Re&vert")
        named(self.revert_button, "Show the settings in force again")
        self.message = message_label("Settings status")
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.revert_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.keep_note)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addStretch(1)

        self.apply_button.clicked.connect(self._on_apply_clicked)
        self.revert_button.clicked.connect(self._on_revert_clicked)
        self.load()

    def load(self) -> None:
        """Show the settings in force (no I/O: they are held in memory)."""
        for field in self._context.setting_fields():
            editor = self.editors.get(field.name)
            if isinstance(editor, QComboBox):
                editor.setCurrentText(field.text)
            elif editor is not None:
                editor.setText(field.text)

    def _on_revert_clicked(self) -> None:
        self.load()
        self.message.clear()  # an earlier "Applied ..." no longer describes the fields

    def values(self) -> dict[str, str]:
        return {name: editor.currentText() if isinstance(editor, QComboBox) else editor.text()
                for name, editor in self.editors.items()}

    def _on_apply_clicked(self) -> None:
        values, actor = self.values(), self._operator_name()
        reason = self.reason_edit.text().strip() or "changed in the operator panel"
        self.apply_button.setEnabled(False)
        self._runner.run(lambda: self._context.apply_changes(values, actor=actor, reason=reason),
                         self._on_applied, self._on_failed)

    def _on_applied(self, change: SettingsChange) -> None:
        self.apply_button.setEnabled(True)
        self.load()
        if not change.changed:
            show_message(self.message, "Nothing changed.")
            return
        self.reason_edit.clear()
        text = (f"Applied: {describe_change(change)}. Recorded as operator action "
                f"#{change.action_id}.")
        if change.warning:
            show_message(self.message, f"{text} {change.warning}", "warning")
        else:
            show_message(self.message, text, "ok")

    def _on_failed(self, message: str) -> None:
        self.apply_button.setEnabled(True)
        show_message(self.message, f"Not applied: {message}", "error")
