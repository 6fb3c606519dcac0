"""Lockouts page: lockouts in force, unlock with a reason, and the operator actions log; with a
fleet, every kiosk's lockouts and a warning when this kiosk's clock is far off the server's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.audit import Lockout, UnlockResult, action_about, action_detail
from kiosk.operator import OperatorContext
from kiosk.ui.operator.page import OperatorPage
from kiosk.ui.operator.tasks import TaskRunner
from kiosk.ui.operator.widgets import (
    REASON_HINT,
    fill_table,
    fmt_time,
    make_table,
    message_label,
    named,
    show_message,
)

EXPIRY_CHECK_MS = 1000
"""How often the page looks whether a lockout it shows in force has run out."""


class LockoutsPage(OperatorPage):
    """Lockouts with unlock buttons; every unlock needs the operator's name and a reason."""

    def __init__(self, context: OperatorContext, runner: TaskRunner,
                 operator_name: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(context, runner, operator_name, parent)
        self._lockouts: list[Lockout] = []
        self._next_expiry: datetime | None = None
        self._unlocking = False
        # A lockout that ran out while the page was open stayed "in force" until Refresh (and
        # unlocking it then lifted nothing): reload when the first one shown ends.
        self.expiry_timer = QTimer(self)
        self.expiry_timer.setInterval(EXPIRY_CHECK_MS)
        self.expiry_timer.timeout.connect(self._check_expiry)

        self.active_only = QCheckBox("Only lockouts &in force")
        self.active_only.setChecked(True)
        named(self.active_only, "Show only lockouts in force")
        self.refresh_button = QPushButton("Re&fresh")
        named(self.refresh_button, "Reload lockouts and operator actions")
        # Kiosk: where the lockout was recorded (with a fleet, every kiosk of the site; an
        # unlock here is shipped and lifts it everywhere).
        self.table = make_table("Lockouts", ["ID", "Locked", "From", "Until",
                                             "Failures", "State", "Kiosk"])
        self.reason_edit = QLineEdit()
        named(self.reason_edit, "Unlock reason", "Why the lockout is lifted (recorded)")
        self.reason_edit.setPlaceholderText(REASON_HINT)
        self.unlock_button = QPushButton("Unlock &selected")
        named(self.unlock_button, "Unlock the selected lockout")
        self.unlock_button.setEnabled(False)
        self.unlock_kiosk_button = QPushButton("Unlock this &kiosk")
        named(self.unlock_kiosk_button, "Unlock this kiosk")
        self.number_edit = QLineEdit()
        named(self.number_edit, "Badge or ID number",
              "Unlock a person by their number; it is hashed, never stored")
        self.unlock_number_button = QPushButton("Unlock this &person")
        named(self.unlock_number_button, "Unlock the person with this number")
        self.message = message_label("Lockouts status")
        # What `kiosk fleet status` warns about: the shared lockouts go by the server's clock,
        # but what this kiosk records and tells people does not.
        self.fleet_clock = message_label("Fleet warning")
        self.fleet_clock.setVisible(False)
        self.actions_table = make_table("Operator actions", ["When", "Action", "By",
                                                             "Reason", "About", "Detail"])

        self.caption = QLabel("Lockouts")
        named(self.caption, "Lockouts count")
        top = QHBoxLayout()
        top.addWidget(self.caption)
        top.addSpacing(24)
        top.addWidget(self.active_only)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        form = QGridLayout()
        reason_label = QLabel("&Reason")
        reason_label.setBuddy(self.reason_edit)
        # The reason has a row of its own: beside two buttons it was 97 px wide on a
        # portrait screen, too narrow to read what was typed, or the hint.
        form.addWidget(reason_label, 0, 0)
        form.addWidget(self.reason_edit, 0, 1, 1, 3)
        form.addWidget(self.unlock_button, 1, 2)
        form.addWidget(self.unlock_kiosk_button, 1, 3)
        number_label = QLabel("Badge/ID num&ber")
        number_label.setBuddy(self.number_edit)
        form.addWidget(number_label, 2, 0)
        form.addWidget(self.number_edit, 2, 1)
        form.addWidget(self.unlock_number_button, 2, 2)
        form.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.fleet_clock)
        layout.addWidget(self.table, 2)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("Operator actions, newest first"))
        layout.addWidget(self.actions_table, 2)

        self.refresh_button.clicked.connect(self.refresh)
        self.active_only.toggled.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._enable_unlock)
        self.unlock_button.clicked.connect(self._on_unlock_selected_clicked)
        self.unlock_kiosk_button.clicked.connect(self._on_unlock_kiosk_clicked)
        self.unlock_number_button.clicked.connect(self._on_unlock_number_clicked)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.expiry_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        self.expiry_timer.stop()
        super().hideEvent(event)

    def _check_expiry(self) -> None:
        """Reload once the earliest lockout shown in force has ended (the clock is in memory;
        the reload runs off the UI thread)."""
        if self._next_expiry is not None and self._context.audit.now() >= self._next_expiry:
            self._next_expiry = None
            self.refresh()

    def refresh(self) -> None:
        """Reload lockouts and operator actions from the audit log."""
        active_only = self.active_only.isChecked()
        self._runner.run(lambda: (self._context.lockouts(active_only=active_only),
                                  self._context.audit.now(), self._context.recent_actions(),
                                  self._context.fleet_warning()),
                         self._on_loaded, self._on_error)

    def _on_loaded(self, loaded: tuple) -> None:
        lockouts, now, actions, clock_warning = loaded
        show_message(self.fleet_clock, clock_warning, "warning")
        self.fleet_clock.setVisible(bool(clock_warning))
        self._lockouts = list(lockouts)
        self._next_expiry = min((lk.until for lk in self._lockouts
                                 if lk.active(now)), default=None)
        fill_table(self.table, [
            [str(lk.id), action_about(lk.scope, lk.target), fmt_time(lk.started_at),
             fmt_time(lk.until), str(lk.failures),
             "lifted" if lk.lifted_by else ("in force" if lk.active(now) else "expired"),
             lk.kiosk_id]
            for lk in self._lockouts])
        self.unlock_button.setEnabled(False)
        kind = "in force" if self.active_only.isChecked() else "recorded (newest 100)"
        self.caption.setText(f"Lockouts {kind}: {len(self._lockouts) or 'none'}")
        fill_table(self.actions_table, [
            [fmt_time(a.acted_at), a.action, a.actor, a.reason, action_about(a.scope, a.target),
             action_detail(a)] for a in actions])

    def _on_error(self, message: str) -> None:
        show_message(self.message, message, "error")

    def _enable_unlock(self) -> None:
        """The buttons work one unlock at a time (Unlock selected: for a selected lockout)."""
        self.unlock_button.setEnabled(self.table.currentRow() >= 0 and not self._unlocking)
        self.unlock_kiosk_button.setEnabled(not self._unlocking)
        self.unlock_number_button.setEnabled(not self._unlocking)

    def _unlock(self, job: Callable[[str, str], UnlockResult], whom: str) -> None:
        """Run ``job(actor, reason)``; ``whom`` names its target for the result's message."""
        if self._unlocking:
            return
        # One at a time: presses while the first waited on a locked log recorded each.
        self._unlocking = True
        self._enable_unlock()
        actor, reason = self._operator_name(), self.reason_edit.text()
        self._runner.run(lambda: job(actor, reason),
                         lambda result: self._on_unlocked(result, whom), self._on_unlock_failed)

    def _on_unlock_failed(self, message: str) -> None:
        self._unlocking = False
        self._enable_unlock()
        self._on_error(f"Not recorded: {message}")

    def _on_unlock_selected_clicked(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self._lockouts):
            show_message(self.message, "Select a lockout first.", "error")
            return
        lk = self._lockouts[row]
        self._unlock(lambda actor, reason: self._context.unlock(lk.scope, lk.target, actor=actor,
                                                                reason=reason),
                     action_about(lk.scope, lk.target))

    def _on_unlock_kiosk_clicked(self) -> None:
        self._unlock(lambda actor, reason: self._context.unlock_kiosk(actor=actor, reason=reason),
                     "this kiosk")

    def _on_unlock_number_clicked(self) -> None:
        number = self.number_edit.text()
        self._unlock(lambda actor, reason: self._context.unlock_subject_number(
            number, actor=actor, reason=reason), "the person with that number")

    def _on_unlocked(self, result: UnlockResult, whom: str) -> None:
        self._unlocking = False
        self._enable_unlock()
        self.reason_edit.clear()
        self.number_edit.clear()
        recorded = f"Unlock recorded (operator action #{result.action_id})"
        if result.lifted:
            show_message(self.message, f"{recorded}; {len(result.lifted)} lockout(s) lifted.",
                         "ok")
        else:
            # Recorded all the same: an unlock starts the failure count again.
            show_message(self.message, f"{recorded}, but no lockout was in force for {whom}: "
                         "none was lifted (its count of failures starts again).", "warning")
        self.refresh()
