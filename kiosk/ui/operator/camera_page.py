"""Camera page: choose the device, watch its health live, see virtual-camera warnings."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.operator import CameraChoice, CameraStatus, OperatorContext, SettingsChange
from kiosk.ui.operator.page import OperatorPage
from kiosk.ui.operator.settings_page import describe_change
from kiosk.ui.operator.tasks import TaskRunner
from kiosk.ui.operator.widgets import message_label, named, show_message

HEALTH_INTERVAL_MS = 1000


class CameraPage(OperatorPage):
    """Device choice and live health.

    The device list is read off the UI thread (it opens device nodes); the health snapshot
    is an in-memory read, refreshed by a QTimer while the page is visible. A note says that
    a camera chosen here lasts until the kiosk restarts (nothing is saved).
    """

    def __init__(self, context: OperatorContext, runner: TaskRunner,
                 operator_name: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(context, runner, operator_name, parent)
        self._choices: list[CameraChoice] = []

        self.device_combo = QComboBox()
        self.device_combo.setEditable(True)
        named(self.device_combo, "Camera device",
              "Pick a camera, or type an index (0) or a path (/dev/video0)")
        self.refresh_button = QPushButton("&Refresh list")
        named(self.refresh_button, "List the cameras again")
        self.use_button = QPushButton("&Switch to this camera")
        named(self.use_button, "Use the chosen camera")
        self.choice_warning = message_label("Warning about the chosen camera")
        self.message = message_label("Camera status")
        self.note = message_label("About the camera in use")
        self.note.hide()
        self.keep_note = message_label("What a change lasts")
        show_message(self.keep_note, context.keep_hint)
        self.health_warnings = message_label("Camera health warnings")
        self.health_labels: dict[str, QLabel] = {}
        self._health_form = QFormLayout()

        row = QHBoxLayout()
        device_label = QLabel("De&vice")
        device_label.setBuddy(self.device_combo)
        row.addWidget(device_label)
        row.addWidget(self.device_combo, 1)
        row.addWidget(self.refresh_button)
        row.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addLayout(row)
        layout.addWidget(self.keep_note)
        layout.addWidget(self.choice_warning)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("Live health of the source in use"))
        layout.addLayout(self._health_form)
        layout.addWidget(self.health_warnings)
        layout.addStretch(1)

        self.timer = QTimer(self)
        self.timer.setInterval(HEALTH_INTERVAL_MS)
        self.timer.timeout.connect(self.update_health)
        self.refresh_button.clicked.connect(self.refresh)
        self.use_button.clicked.connect(self._on_use_clicked)
        self.device_combo.currentIndexChanged.connect(self._on_choice_changed)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.update_health()
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        self.timer.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        """List the video devices again."""
        self._runner.run(self._context.camera_choices, self._on_choices_loaded, self._on_error)

    def _on_choices_loaded(self, choices: list[CameraChoice]) -> None:
        self._choices = list(choices)
        current = self._context.settings.camera.device
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        for choice in self._choices:
            self.device_combo.addItem(choice.label, choice.spec)
        index = next((i for i, c in enumerate(self._choices)
                      if c.spec == current or c.spec == f"/dev/video{current}"), -1)
        if index >= 0:
            self.device_combo.setCurrentIndex(index)
        else:
            self.device_combo.setEditText(current)
        self.device_combo.blockSignals(False)
        self._on_choice_changed()
        if not self._choices:
            show_message(self.message, "No video devices found.", "warning")
        self.update_health()

    def chosen_spec(self) -> str:
        """The ``camera.device`` value chosen (a listed device, or the typed text)."""
        index = self.device_combo.currentIndex()
        if index >= 0 and self.device_combo.currentText() == self.device_combo.itemText(index):
            return str(self.device_combo.itemData(index))
        return self.device_combo.currentText().strip()

    def _on_choice_changed(self) -> None:
        index = self.device_combo.currentIndex()
        warning = self._choices[index].warning if 0 <= index < len(self._choices) else ""
        if warning:
            show_message(self.choice_warning, warning, "warning")
        else:
            self.choice_warning.clear()

    def update_health(self) -> None:
        """Show the latest health snapshot (in memory; safe on the UI thread)."""
        self._show_status(self._context.camera_status())

    def _show_status(self, status: CameraStatus) -> None:
        for label, value in status.lines:
            shown = self.health_labels.get(label)
            if shown is None:
                shown = QLabel()
                named(shown, f"Camera {label}")
                self._health_form.addRow(QLabel(label.capitalize()), shown)
                self.health_labels[label] = shown
            shown.setText(value)
            shown.setAccessibleDescription(value)
        for label, shown in self.health_labels.items():
            if label not in dict(status.lines):
                shown.setText("-")
        show_message(self.note, status.note, "warning")
        self.note.setVisible(bool(status.note))
        if status.warnings:
            show_message(self.health_warnings, "\n".join(status.warnings), "warning")
        else:
            show_message(self.health_warnings, "No health warnings.", "ok")

    def _on_use_clicked(self) -> None:
        spec, actor = self.chosen_spec(), self._operator_name()
        self._runner.run(lambda: self._context.choose_camera(spec, actor=actor),
                         self._on_chosen, lambda message: self._on_error(f"Not applied: {message}"))

    def _on_chosen(self, change: SettingsChange) -> None:
        if not change.changed:
            show_message(self.message, "That camera is already in use.")
            return
        role = "warning" if change.warning else "ok"
        show_message(self.message, f"Applied: {describe_change(change)}. {change.warning}".strip(),
                     role)
        self.update_health()

    def _on_error(self, message: str) -> None:
        show_message(self.message, message, "error")
