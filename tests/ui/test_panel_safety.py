"""The operator panel where it guards the kiosk: it closes itself when left open, a log altered
or gone under it is said so (and an altered one takes the kiosk out of service), one unlock at
a time, an honest PIN dialog, and words that are true (offscreen)."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.audit import AuditLog
from kiosk.operator import MAX_WRONG, OperatorContext
from kiosk.settings import Settings
from kiosk.ui.operator import OperatorPanel, PinDialog
from kiosk.ui.operator.widgets import COLORS
from kiosk.vocabulary import FaultCause, FlowState
from tests.operator.test_panel_context import tamper
from tests.ui import test_operator_panel as base
from tests.ui.harness import open_real_panel
from tests.ui.test_operator_hostile import Gate, press_override, select_attempt
from tests.ui.test_operator_panel import PIN, T0, WAIT_MS, Clock, cells, record

# The panel tests' fixtures, registered here under their names.
applied, audit, clock, ctx = base.applied, base.audit, base.clock, base.ctx
db_path, health, panel = base.db_path, base.health, base.panel


def shown(qtbot: Any, ctx: OperatorContext, **options: Any) -> OperatorPanel:
    widget = OperatorPanel(ctx, **options)
    qtbot.addWidget(widget)
    widget.resize(1280, 900)
    widget.show()
    qtbot.waitUntil(lambda: widget.attempts.table.rowCount() == 4, timeout=WAIT_MS)
    return widget


def closings(panel: OperatorPanel) -> list[bool]:
    closed: list[bool] = []
    panel.closed.connect(lambda: closed.append(True))
    return closed


def role_of(label: Any) -> str:
    return next(role for role, colour in COLORS.items() if colour in label.styleSheet())


# -- S2: a panel left open closes itself -------------------------------------------------------

def test_a_panel_left_alone_closes_itself(qtbot: Any, ctx: OperatorContext) -> None:
    panel = shown(qtbot, ctx, idle_ms=300)
    closed = closings(panel)
    qtbot.waitUntil(lambda: closed == [True], timeout=WAIT_MS)


def test_input_in_the_panel_starts_the_countdown_again(qtbot: Any,
                                                       ctx: OperatorContext) -> None:
    panel = shown(qtbot, ctx, idle_ms=60_000)
    assert panel.idle_timer.isActive()
    panel.idle_timer.stop()
    qtbot.keyClick(panel.operator_edit, Qt.Key.Key_A)
    assert panel.idle_timer.isActive()
    panel.idle_timer.stop()
    qtbot.mouseClick(panel.attempts.search_button, Qt.MouseButton.LeftButton)
    assert panel.idle_timer.isActive()
    other = QWidget()  # input elsewhere is nobody's at the panel
    qtbot.addWidget(other)
    panel.idle_timer.stop()
    qtbot.keyClick(other, Qt.Key.Key_A)
    assert not panel.idle_timer.isActive()
    panel.close()


def test_closing_itself_waits_for_the_audit_log_as_close_does(
        qtbot: Any, ctx: OperatorContext, audit: AuditLog) -> None:
    panel = shown(qtbot, ctx, idle_ms=60_000)
    gate = Gate(ctx)
    press_override(qtbot, panel)
    closed = closings(panel)
    panel.idle_timer.setInterval(50)
    panel.idle_timer.start()
    qtbot.waitUntil(lambda: "waiting for the audit log" in panel.status.text(), timeout=WAIT_MS)
    assert closed == [] and not panel.tabs.isEnabled()
    gate.release.set()
    qtbot.waitUntil(lambda: closed == [True], timeout=WAIT_MS)
    assert len(audit.operator_actions(action="override")) == 1


def test_a_confirmation_left_open_is_answered_no_and_the_panel_closes(
        qtbot: Any, ctx: OperatorContext, audit: AuditLog) -> None:
    """Left open, the override's question stayed on screen over the idle kiosk: the next
    person could answer Yes for the operator who walked away."""
    panel = shown(qtbot, ctx, idle_ms=60_000)
    page = panel.attempts
    panel.operator_edit.setText("Alice")
    select_attempt(qtbot, panel, 2)
    page.override_decision.setCurrentText("pass")
    page.override_reason.setText("ID checked")
    closed = closings(panel)
    rescued: list[str] = []

    def rescue() -> None:  # never needed when the panel closes the question itself
        modal = QApplication.activeModalWidget()
        if modal is not None:
            rescued.append(modal.windowTitle())
            modal.close()

    QTimer.singleShot(WAIT_MS, rescue)
    panel.idle_timer.setInterval(300)  # the click restarts it; it runs out under the question
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)  # asks, modal
    qtbot.waitUntil(lambda: closed == [True], timeout=WAIT_MS)
    assert rescued == [] and page.message.text() == "Override not recorded."
    assert audit.operator_actions(action="override") == []


def test_the_kiosk_is_idle_again_once_its_panel_closed_itself(qtbot: Any, window_for: Any,
                                                             settings: Settings) -> None:
    window = window_for(settings.replace("kiosk", operator_pin="2468"))
    panel = open_real_panel(qtbot, window, "2468")
    panel.idle_timer.setInterval(100)
    panel.idle_timer.start()
    qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=WAIT_MS)
    assert window.operator.panel is None and window.current_screen() is window.idle


# -- S3 and S4: a log altered or gone under the panel -------------------------------------------

def test_an_altered_log_found_by_the_panel_takes_the_kiosk_out_of_service(
        qtbot: Any, window_for: Any, settings: Settings) -> None:
    window = window_for(settings.replace("kiosk", operator_pin="2468"))
    now = datetime.now(UTC)
    attempt = window.worker.audit.record_attempt(record(now, "fail", ("SCREEN_SUSPECTED",)))
    panel = open_real_panel(qtbot, window, "2468")
    tamper(Path(settings.audit.db_path), attempt.attempt_id)
    panel.tabs.setCurrentWidget(panel.audit)
    qtbot.mouseClick(panel.audit.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "BROKEN" in panel.audit.result.text(), timeout=WAIT_MS)

    page = panel.attempts
    panel.tabs.setCurrentWidget(page)
    questions: list[str] = []
    page.ask = lambda q: questions.append(q) or True  # type: ignore[method-assign]
    panel.operator_edit.setText("Alice")
    select_attempt(qtbot, panel, attempt.attempt_id)
    page.override_decision.setCurrentText("fail")
    page.override_reason.setText("looks wrong")
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "altered" in page.message.text(), timeout=WAIT_MS)
    assert page.message.text().startswith("Not recorded") and questions == []
    assert window.worker.audit.operator_actions(action="override") == []

    with qtbot.waitSignal(panel.closed, timeout=WAIT_MS):
        panel.close_button.click()
    assert window.flow.state == FlowState.OUT_OF_SERVICE
    assert "was altered" in window.flow.faults[FaultCause.AUDIT]
    assert "was altered" in window.out_of_service.detail


def test_verify_of_a_log_deleted_under_the_panel_is_an_error(qtbot: Any, panel: OperatorPanel,
                                                            db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{db_path}{suffix}"):
            os.remove(f"{db_path}{suffix}")
    page = panel.audit
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.result.text() != "Verifying...", timeout=WAIT_MS)
    assert "intact" not in page.result.text()
    assert "was moved, deleted or replaced" in page.result.text()
    assert role_of(page.result) == "error"


def test_broken_row_times_read_as_the_rest_of_the_panel(qtbot: Any, panel: OperatorPanel,
                                                       db_path: Path) -> None:
    tamper(db_path, 2)
    page = panel.audit
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "BROKEN" in page.result.text(), timeout=WAIT_MS)
    rows = dict(zip(cells(page.row_table, 0), cells(page.row_table, 1), strict=True))
    listed = cells(panel.attempts.table, 0).index("2")
    assert rows["started"] == panel.attempts.table.item(listed, 1).text()


# -- B1: the list's limit -----------------------------------------------------------------------

def test_a_list_cut_at_its_limit_says_older_attempts_exist(qtbot: Any, panel: OperatorPanel,
                                                          audit: AuditLog, clock: Clock) -> None:
    for i in range(197):  # 201 with the fixture's four
        clock.now = T0 - timedelta(days=3, minutes=i)
        audit.record_attempt(record(clock.now, "pass"))
    page = panel.attempts
    page.refresh()
    qtbot.waitUntil(lambda: "newest" in page.message.text() and page.table.rowCount() == 200,
                    timeout=WAIT_MS)
    assert page.message.text().startswith("Showing the newest 200 matching attempts")
    assert "narrow the dates" in page.message.text()
    assert role_of(page.message) == "warning"


# -- B2: unlock ---------------------------------------------------------------------------------

def test_one_unlock_at_a_time(qtbot: Any, panel: OperatorPanel, ctx: OperatorContext,
                              audit: AuditLog) -> None:
    release, calls = threading.Event(), []
    original = ctx.unlock_kiosk

    def held(**kwargs: Any) -> Any:  # as a write waiting on a locked log
        calls.append(1)
        release.wait(10)
        return original(**kwargs)

    ctx.unlock_kiosk = held  # type: ignore[method-assign]
    page = panel.lockouts
    panel.tabs.setCurrentWidget(page)
    panel.operator_edit.setText("Alice")
    page.reason_edit.setText("ID checked")
    try:
        for _ in range(3):
            qtbot.mouseClick(page.unlock_kiosk_button, Qt.MouseButton.LeftButton)
        assert not page.unlock_kiosk_button.isEnabled()
        assert not page.unlock_number_button.isEnabled()
    finally:
        release.set()
    qtbot.waitUntil(lambda: "Unlock recorded" in page.message.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not panel.runner.busy, timeout=WAIT_MS)
    assert len(calls) == 1 and len(audit.operator_actions(action="unlock")) == 1
    assert page.unlock_kiosk_button.isEnabled()


def test_an_unlock_that_lifts_nothing_says_so(qtbot: Any, panel: OperatorPanel) -> None:
    page = panel.lockouts
    panel.tabs.setCurrentWidget(page)
    panel.operator_edit.setText("Alice")
    page.reason_edit.setText("ID checked")
    qtbot.mouseClick(page.unlock_kiosk_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Unlock recorded" in page.message.text(), timeout=WAIT_MS)
    assert "no lockout was in force for this kiosk" in page.message.text()
    assert "0 lockout(s) lifted" not in page.message.text()
    assert role_of(page.message) == "warning"


# -- B5 and B6: the PIN dialog ------------------------------------------------------------------

def test_an_empty_pin_is_ignored_with_a_hint(qtbot: Any, ctx: OperatorContext,
                                            audit: AuditLog) -> None:
    dialog = PinDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    assert dialog.message.text() == "Type the PIN."
    assert dialog.ok_button.isEnabled() and dialog.pin_edit.isEnabled()
    qtbot.keyClicks(dialog.pin_edit, "000000")
    qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Wrong PIN" in dialog.message.text(), timeout=WAIT_MS)
    assert "4 more wrong entries" in dialog.message.text()  # the empty one did not count
    assert len(audit.operator_actions(action="pin_refused")) == 1
    dialog.reject()


def test_after_a_restart_the_dialog_shows_the_lock_out_when_it_opens(
        qtbot: Any, audit: AuditLog, clock: Clock) -> None:
    def kiosk_process() -> OperatorContext:
        return OperatorContext(settings=Settings().replace("kiosk", operator_pin=PIN),
                               audit=audit, camera_health=lambda: None,
                               apply_settings=lambda s: None, clock=clock)

    before = kiosk_process()
    for _ in range(MAX_WRONG):
        before.check_pin("000000")
    clock.now = T0 + timedelta(seconds=1)
    dialog = PinDialog(kiosk_process(), clock=clock)  # the kiosk restarted
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.locked, timeout=WAIT_MS)
    assert "try again in 4 min 59 s" in dialog.message.text()
    assert not dialog.pin_edit.isEnabled() and not dialog.ok_button.isEnabled()
    dialog.reject()


# -- C1 and D1: cells cut short, and what a change lasts ----------------------------------------

def test_signal_and_timeline_cells_have_their_text_as_tooltip(qtbot: Any,
                                                             panel: OperatorPanel) -> None:
    page = panel.attempts
    page.table.selectRow(2)
    qtbot.waitUntil(lambda: page.timeline_table.rowCount() == 2, timeout=WAIT_MS)
    for table in (page.signals_table, page.timeline_table):
        items = [table.item(r, c) for r in range(table.rowCount())
                 for c in range(table.columnCount())]
        assert items and all(item.toolTip() == item.text() for item in items)


def test_settings_and_camera_pages_say_a_change_lasts_until_a_restart(
        panel: OperatorPanel) -> None:
    for page in (panel.settings, panel.camera):
        assert "until the kiosk restarts" in page.keep_note.text()
        assert not page.keep_note.isHidden()
