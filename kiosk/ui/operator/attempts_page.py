"""Attempts page: filters, the table, one attempt's detail and the override form."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date, datetime

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.audit import (
    ACCESSIBLE_NOTE,
    DECISIONS,
    SCRIPTED_NOTE,
    OperatorAction,
    decision_label,
    step_note,
)
from kiosk.errors import KioskError
from kiosk.operator import (
    DECISION_FILTERS,
    AttemptDetail,
    AttemptFilter,
    AttemptPage,
    AttemptRow,
    OperatorContext,
    TimelineStep,
    check_who,
    start_of_day,
)
from kiosk.reasons import describe
from kiosk.ui.operator.page import OperatorPage
from kiosk.ui.operator.tasks import TaskRunner
from kiosk.ui.operator.widgets import (
    REASON_HINT,
    fill_table,
    fmt_num,
    fmt_time,
    make_table,
    message_label,
    named,
    show_message,
)

ANY = "any"
MIN_ROWS = 8
"""Attempts the list shows without scrolling at the smallest supported screen (1280x800)."""
DETAIL_MIN_HEIGHT_PX = 130
OVERRIDE_REASON_MIN_PX = 250
"""The override reason's width: the form beside the detail's tabs gets no more than it asks
(at 280 px the tabs were 2 px short at 1280x800 with 13 signals, and Qt scrolled "Summary" out
of sight behind arrows)."""
DETAIL_TAB_STYLE = ("QTabBar::tab { padding: 8px 14px; min-height: 40px; }"
                    " QLineEdit { min-height: 36px; }")
"""The detail's tabs 60 px high, a little more than a push button (56: min-height 36 px,
padding 8 and border 2 a side, see :data:`~kiosk.ui.operator.widgets.STYLE`): the override
form in their row is drawn inside it (Qt sets a corner widget 1 px above the pane). Its line
edit is no taller than the button (the kiosk window's style sheet asks 48 px)."""
SCORE_HINT = "Signal scores: a higher score is more suspicious"
LAST_DAY = QDate(9999, 12, 30)
"""The latest day the date filter takes: the range ends at midnight after its last day,
which must still be a date Python can hold (9999-12-31 raised ValueError from the slot)."""


def prompt_text(step: TimelineStep) -> str:
    """The prompt as the timeline shows it: "turn left (second chance, paused 1.2 s)"."""
    note = step_note(step.paused_s, step.retry)
    return f"{step.prompt} ({note})" if note else step.prompt


def response_text(response_s: float | None) -> str:
    """When the response began: "after 0.62 s", or for an action already under way
    "1.28 s before the prompt" (it read "after -1.28 s")."""
    if response_s is None:
        return "none"
    if response_s < 0:
        return f"{-response_s:.2f} s before the prompt"
    return f"after {response_s:.2f} s"


def _start_of(day: QDate) -> datetime:
    """The start of ``day`` in the kiosk's local time zone, as an aware datetime."""
    return start_of_day(date(day.year(), day.month(), day.day()))


class AttemptsPage(OperatorPage):
    """Recent attempts with filters; selecting one shows its detail (loaded off the UI thread).
    ``overridden(attempt_id)`` is emitted once an override is recorded.

    Parameters
    ----------
    context : OperatorContext
    runner : TaskRunner
        Runs the database calls.
    operator_name : callable
        Returns the name typed in the panel's header (recorded with an override).
    """

    overridden = Signal(int)

    def __init__(self, context: OperatorContext, runner: TaskRunner,
                 operator_name: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(context, runner, operator_name, parent)
        self._rows: list[AttemptRow] = []  # as shown, overrides made here included
        self._overriding = False
        self._detail_id: int | None = None

        self.decision_filter = QComboBox()
        self.decision_filter.addItems([ANY, *DECISION_FILTERS])
        named(self.decision_filter, "Decision filter")
        self.reason_filter = QComboBox()
        self.reason_filter.addItem(ANY)
        named(self.reason_filter, "Reason filter", "Only attempts whose decision gave this reason")
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("part of a code")  # 166 px wide on a portrait screen
        named(self.search_edit, "Search reason codes",
              "Part of a reason or outcome code, e.g. screen or timeout")
        self.use_dates = QCheckBox("&Dates from")
        named(self.use_dates, "Limit to a date range")
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addDays(-7))
        self.date_to = QDateEdit(today)
        for edit, name in ((self.date_from, "First day"), (self.date_to, "Last day")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setMaximumDate(LAST_DAY)
            named(edit, name)
        self.search_button = QPushButton("&Search")
        named(self.search_button, "Search attempts")

        filters = QGridLayout()
        filters.addWidget(_buddy("D&ecision", self.decision_filter), 0, 0)
        filters.addWidget(self.decision_filter, 0, 1)
        filters.addWidget(_buddy("&Reason", self.reason_filter), 0, 2)
        filters.addWidget(self.reason_filter, 0, 3)
        filters.addWidget(_buddy("Te&xt", self.search_edit), 0, 4)
        filters.addWidget(self.search_edit, 0, 5)
        filters.addWidget(self.search_button, 0, 6)
        filters.addWidget(self.use_dates, 1, 0)
        filters.addWidget(self.date_from, 1, 1)
        filters.addWidget(QLabel("to"), 1, 2)
        filters.addWidget(self.date_to, 1, 3)
        filters.setColumnStretch(5, 1)

        self.table = make_table("Attempts", ["ID", "Started", "Decision", "Liveness",
                                             "Reasons", "Subject"], stretch=4,
                                min_rows=MIN_ROWS)
        # It never scrolls sideways (the reasons column is cut short, with a tooltip): the
        # room kept for a bar that never shows goes to the detail (14 px at 1280x800).
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.message = message_label("Attempts status")
        filters.addWidget(self.message, 1, 4, 1, 3)  # beside the dates: the list gets the room

        self.detail_summary = QLabel("Select an attempt to see its detail.")
        self.detail_summary.setWordWrap(True)
        self.detail_summary.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.detail_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        named(self.detail_summary, "Attempt detail")
        self.signals_table = make_table("Signal scores", ["Signal", "Score", "Confidence",
                                                          "Reason", "Details"], stretch=4)
        score_header = self.signals_table.horizontalHeaderItem(1)
        if score_header is not None:
            score_header.setText("Score (higher = more suspicious)")
            score_header.setToolTip(SCORE_HINT)
        self.timeline_table = make_table("Challenge timeline", [
            "#", "Prompt", "Prompted", "Response", "Outcome", "Confidence", "Reason"], stretch=6)

        self.override_decision = QComboBox()
        self.override_decision.addItems(list(DECISIONS))
        named(self.override_decision, "New decision")
        self.override_reason = QLineEdit()
        named(self.override_reason, "Override reason",
              "Why the decision is changed (recorded with your name)")
        self.override_reason.setMinimumWidth(OVERRIDE_REASON_MIN_PX)
        self.override_reason.setPlaceholderText(REASON_HINT)
        self.override_button = QPushButton("Record &override")
        named(self.override_button, "Record the override")
        self.override_button.setEnabled(False)

        # The detail sits under the list in a vertical splitter: its summary, signals and
        # timeline share one tab widget (each table gets the whole pane, no nested scrolling).
        # The override form sits in the tab row's empty right-hand end: a row of its own
        # below the pane hid the summary's last line behind a scroll bar at 1280x800.
        summary_scroll = QScrollArea()
        summary_scroll.setWidgetResizable(True)
        summary_scroll.setFrameShape(QFrame.Shape.NoFrame)
        summary_scroll.setWidget(self.detail_summary)
        named(summary_scroll, "Attempt summary area")
        self.detail_tabs = QTabWidget()
        self.detail_tabs.setStyleSheet(DETAIL_TAB_STYLE)
        named(self.detail_tabs, "Attempt detail pages")
        self.detail_tabs.addTab(summary_scroll, "Summary")
        self.detail_tabs.addTab(self.signals_table, "Signals")
        self.detail_tabs.setTabToolTip(1, SCORE_HINT)
        # "Challenges", not "Challenge timeline": the tabs share their row with the form.
        self.detail_tabs.addTab(self.timeline_table, "Challenges")
        self.detail_tabs.setTabToolTip(2, "Challenge timeline: each prompt and its response")
        self.detail_tabs.setCornerWidget(_override_form(
            self.override_decision, self.override_reason, self.override_button),
            Qt.Corner.TopRightCorner)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        named(self.splitter, "Attempts and detail")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail_tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.detail_tabs.setMinimumHeight(DETAIL_MIN_HEIGHT_PX)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)

        self.search_button.clicked.connect(self.refresh)
        # The dates filter only while ticked: boxes that looked active and did nothing misled.
        self.use_dates.toggled.connect(self._on_dates_toggled)
        self._on_dates_toggled(self.use_dates.isChecked())
        self.search_edit.returnPressed.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.override_button.clicked.connect(self._on_override_clicked)
        self.override_reason.returnPressed.connect(self._on_override_clicked)

    # -- loading -----------------------------------------------------------------------------

    def current_filter(self) -> AttemptFilter:
        """The filter the controls describe (raises InputError for a bad date range)."""
        decision = self.decision_filter.currentText()
        reason = self.reason_filter.currentText()
        since = until = None
        if self.use_dates.isChecked():
            since = _start_of(self.date_from.date())
            until = _start_of(self.date_to.date().addDays(1))
        return AttemptFilter(decision=None if decision == ANY else decision,
                             reason=None if reason == ANY else reason, since=since, until=until,
                             search=self.search_edit.text())

    def _on_dates_toggled(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)

    def refresh(self) -> None:
        """Reload the table (and the reason codes) from the audit log."""
        try:
            flt = self.current_filter()
        except KioskError as exc:
            show_message(self.message, str(exc), "error")
            return
        show_message(self.message, "Loading attempts...")
        self._runner.run(lambda: self._context.find_attempts(flt), self._on_attempts_loaded,
                         self._on_error)
        self._runner.run(self._context.reason_codes, self._on_reasons_loaded, self._on_error)

    def _on_reasons_loaded(self, codes: list[str]) -> None:
        current = self.reason_filter.currentText()
        self.reason_filter.blockSignals(True)
        self.reason_filter.clear()
        self.reason_filter.addItems([ANY, *codes])
        if current in codes:
            self.reason_filter.setCurrentText(current)
        self.reason_filter.blockSignals(False)

    def _on_attempts_loaded(self, page: AttemptPage) -> None:
        self._rows = list(page.rows)
        fill_table(self.table, [
            [str(r.id), fmt_time(r.started_at),
             _decision_text(decision_label(r.decision, r.scripted), r.overridden_to),
             fmt_num(r.liveness_score, ".1f"), ", ".join(r.reasons) or "-", r.subject]
            for r in page.rows], tooltips=True)
        show_message(self.message, count_text(page),
                     "warning" if page.more or page.truncated else "info")

    def _on_error(self, message: str) -> None:
        show_message(self.message, message, "error")

    # -- detail ------------------------------------------------------------------------------

    def selected_id(self) -> int | None:
        selected = self._selected_row()
        return selected.id if selected is not None else None

    def _selected_row(self) -> AttemptRow | None:
        row = self.table.currentRow()
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def _row_index(self, attempt_id: int) -> int:
        """The table row of an attempt shown, or -1."""
        return next((i for i, r in enumerate(self._rows) if r.id == attempt_id), -1)

    def _on_selection_changed(self) -> None:
        attempt_id = self.selected_id()
        self._enable_override()
        if attempt_id is not None:
            self._load_detail(attempt_id)

    def _enable_override(self) -> None:
        """The button works for a selected attempt the kiosk ran, one override at a time."""
        selected = self._selected_row()
        self.override_button.setEnabled(
            selected is not None and not self._overriding
            # A scripted run is not a verification: nothing to change.
            and not selected.scripted)

    def _load_detail(self, attempt_id: int) -> None:
        self._detail_id = attempt_id
        self._runner.run(lambda: self._context.attempt_detail(attempt_id), self._on_detail_loaded,
                         self._on_error)

    def _on_detail_loaded(self, d: AttemptDetail) -> None:
        if d.id != self._detail_id:
            return  # the operator moved on to another row meanwhile
        notes = [SCRIPTED_NOTE] * d.scripted + [ACCESSIBLE_NOTE] * d.accessible
        decision = d.decision + (f" ({'; '.join(notes)})" if notes else "")
        if d.overrides:
            o = d.overrides[0]
            decision += (f", overridden to {d.effective_decision} by {o.actor} at "
                         f"{fmt_time(o.acted_at)}: {o.reason}")
        # Five lines: the summary fits under the list at 1280x800 without scrolling.
        lines = [
            f"Attempt {d.id} ({d.status}) at {d.kiosk_id}, started {fmt_time(d.started_at)}, "
            f"ended {fmt_time(d.ended_at)}",
            f"Decision: {decision}. Liveness score: {fmt_num(d.liveness_score, '.1f')}",
            f"Reasons: {reasons_text(d.reasons)}",
            f"Face match: {d.match}. Cloud calls: {', '.join(d.cloud_calls) or 'none'}",
            f"Subject: {d.subject}; best frame {'stored' if d.has_frame else 'not stored'}. "
            f"Camera: {d.camera}",
        ]
        self.detail_summary.setText("\n".join(lines))
        self.detail_summary.setAccessibleDescription(" ".join(lines))
        # Tooltips: the last columns are cut short at 1280x800.
        fill_table(self.signals_table, [
            [s.name, f"{s.score:.3f}", f"{s.confidence:.2f}", s.reason or "-", s.details or "-"]
            for s in d.signals], tooltips=True)
        fill_table(self.timeline_table, [
            [str(t.index), prompt_text(t), fmt_time(t.prompted_at),
             response_text(t.response_s), t.outcome,
             fmt_num(t.confidence), t.reason or "-"] for t in d.timeline], tooltips=True)
        self.detail_tabs.setTabText(1, f"Signals ({len(d.signals)})")
        self.detail_tabs.setTabText(2, f"Challenges ({len(d.timeline)})")

    def ask(self, question: str) -> bool:
        """Ask the operator to confirm ``question`` (Yes/No, No by default).

        Tests replace this method on the instance to answer without a dialog.
        """
        answer = QMessageBox.question(
            self, "Confirm the override", question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _on_override_clicked(self) -> None:
        if self._overriding:
            return  # Return in the reason field reaches here with the button disabled
        attempt_id = self.selected_id()
        if attempt_id is None:
            show_message(self.message, "Select an attempt first.", "error")
            return
        decision, reason = self.override_decision.currentText(), self.override_reason.text()
        actor = self._operator_name()
        try:
            check_who(actor, reason)
        except KioskError as exc:
            show_message(self.message, f"Not recorded: {exc}.", "error")
            return
        if refused := self._context.override_refused:
            show_message(self.message, f"Not recorded: {refused}.", "error")
            return
        row = self._row_index(attempt_id)
        if row >= 0 and self._rows[row].effective_decision == decision:
            # Refused before the confirmation: asking "from pass to pass?" and then failing
            # told the operator nothing they could act on.
            show_message(self.message, f"Not recorded: attempt {attempt_id} already has the "
                         f"decision {decision}.", "error")
            return
        shown = self.table.item(row, 2) if row >= 0 else None
        current = shown.text() if shown is not None else "its recorded decision"
        if not self.ask(f"Change attempt {attempt_id} from {current} to {decision}?\n\n"
                        f"This is recorded in the audit log with your name "
                        f"({actor.strip()}) and the reason. It changes no lockout or count "
                        "of failures: to let the person try again now, unlock them on the "
                        "Lockouts tab."):
            show_message(self.message, "Override not recorded.", "info")
            return
        # One at a time: a second press while the first waits on the database (a locked
        # log waits seconds) asked again and recorded twice or failed.
        self._overriding = True
        self._enable_override()
        show_message(self.message, f"Recording the override of attempt {attempt_id}...")
        self._runner.run(
            lambda: self._context.override(attempt_id, decision, actor=actor, reason=reason),
            lambda action: self._on_overridden(attempt_id, action), self._on_override_failed)

    def _on_override_failed(self, message: str) -> None:
        self._overriding = False
        self._enable_override()
        show_message(self.message, f"Override not recorded: {message}", "error")

    def _on_overridden(self, attempt_id: int, action: OperatorAction) -> None:
        self._overriding = False
        self._enable_override()
        self.override_reason.clear()
        index = self._row_index(attempt_id)
        if index >= 0:
            shown = self._rows[index] = dataclasses.replace(
                self._rows[index], overridden_to=action.details["to"])
            item = self.table.item(index, 2)
            if item is not None:
                item.setText(_decision_text(shown.decision, shown.overridden_to))
        show_message(self.message, f"Override recorded (operator action #{action.id}): attempt "
                     f"{attempt_id} {action.details['from']} -> {action.details['to']}.", "ok")
        self._load_detail(attempt_id)
        self.overridden.emit(attempt_id)


def count_text(page: AttemptPage) -> str:
    """How many attempts the list shows, and whether older ones were left out."""
    shown = len(page.rows)
    if page.more:
        text = (f"Showing the newest {shown} matching attempts: older ones match too; narrow "
                "the dates to see them.")
    else:
        text = f"{shown} attempt(s), newest first."
    if page.truncated:
        text += f" Only the newest {page.scanned} were searched: narrow the dates."
    return text


def reasons_text(codes: Sequence[str]) -> str:
    """``CODE: meaning; CODE: meaning.`` for the detail (``none`` without codes).

    Each meaning is a sentence ending in a full stop; it is dropped before the ``; `` that
    joins them (no ``.;``), and the whole ends with one.
    """
    parts = [f"{code}: {describe(code).staff.strip().removesuffix('.')}" for code in codes]
    return "; ".join(parts) + "." if parts else "none"


def _decision_text(recorded: str, overridden_to: str | None) -> str:
    if overridden_to is None:
        return recorded
    if overridden_to == recorded:  # a later override undid an earlier one
        return f"{recorded} (overridden back)"
    return f"{recorded} -> {overridden_to} (override)"


def _override_form(decision: QComboBox, reason: QLineEdit, button: QPushButton) -> QWidget:
    """The override form as one row: new decision, reason and the button."""
    form = QWidget()
    named(form, "Override the decision",
          "Change the selected attempt's decision; recorded with your name and the reason")
    row = QHBoxLayout(form)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(_buddy("Override to", decision))
    row.addWidget(decision)
    row.addWidget(_buddy("Reason", reason))
    row.addWidget(reason, 1)
    row.addWidget(button)
    return form


def _buddy(text: str, widget: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(widget)
    return label
