"""The operator panel offscreen: PIN dialog, pages fed by the worker pool, recorded actions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog

from kiosk.audit import AttemptRecord, AuditConfig, AuditLog, RateLimitPolicy, SubjectHasher
from kiosk.audit.register import confirm
from kiosk.camera import CameraHealth, VideoDevice
from kiosk.operator import MAX_WRONG, OperatorContext
from kiosk.settings import Settings
from kiosk.ui.operator import BarChart, OperatorPanel, PinDialog, UiThreadGarbageCollector
from kiosk.ui.operator.charts_page import FAIL_COLOR, PASS_COLOR

T0 = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
PIN = "482913"
WAIT_MS = 5000


def record(end: datetime, decision: str, reasons: tuple[str, ...] = (),
           subject_ref: str | None = None) -> AttemptRecord:
    return AttemptRecord(
        kiosk_id="kiosk-1", started_at=end - timedelta(seconds=8), ended_at=end,
        subject_ref=subject_ref, decision=decision, app_version="0.1.0",
        settings_digest="cd" * 32,
        challenges=[
            {"action": "blink", "prompted_at": end - timedelta(seconds=6),
             "responded_at": end - timedelta(seconds=5, milliseconds=500), "outcome": "passed",
             "confidence": 0.9},
            {"action": "turn_left", "prompted_at": end - timedelta(seconds=4),
             "outcome": "timeout", "reason": "NO_RESPONSE"}],
        signals={"moire": {"score": 0.72, "confidence": 0.6, "reason": "SCREEN_SUSPECTED"},
                 "texture": {"score": 0.15, "confidence": 0.85}},
        liveness_score=37.5, reasons=reasons, cloud_calls=("CompareFaces",),
        match={"matcher": "local", "similarity": 97.5, "matched": True})


@pytest.fixture(autouse=True)
def collect_on_the_ui_thread(qapp: Any) -> Iterator[None]:
    """Database jobs run in a pool thread: garbage collection must not (see tasks.py)."""
    collector = UiThreadGarbageCollector()
    yield
    collector.stop()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "kiosk.db"


@pytest.fixture
def audit(db_path: Path, clock: Clock) -> Iterator[AuditLog]:
    config = AuditConfig(limits=RateLimitPolicy(max_failures=2, kiosk_max_failures=100))
    log = AuditLog.open(db_path, config, clock=clock, subject_hasher=SubjectHasher(bytes(32)))
    for i, (decision, reasons, days_ago) in enumerate([
            ("pass", (), 2), ("fail", ("SCREEN_SUSPECTED",), 1), ("review", ("OFFLINE_MATCH",), 0),
            ("pass", (), 0)]):
        clock.now = T0 - timedelta(days=days_ago, minutes=30 - i)
        log.record_attempt(record(clock.now, decision, reasons))
    clock.now = T0
    yield log
    log.close()


@pytest.fixture
def applied() -> list[Settings]:
    return []


@pytest.fixture
def health() -> dict[str, CameraHealth | None]:
    return {"now": CameraHealth(frames=300, fps=29.5, nominal_fps=30.0, dropped=4,
                                connected=True)}


@pytest.fixture
def ctx(audit: AuditLog, clock: Clock, applied: list[Settings],
        health: dict[str, CameraHealth | None]) -> OperatorContext:
    devices = [VideoDevice("/dev/video0", 0, "HD Webcam", "uvcvideo", "usb", False, "", True),
               VideoDevice("/dev/video2", 2, "OBS Virtual Camera", "v4l2 loopback", "", True,
                           "virtual driver v4l2 loopback", True)]
    return OperatorContext(settings=Settings().replace("kiosk", operator_pin=PIN), audit=audit,
                           camera_health=lambda: health["now"], apply_settings=applied.append,
                           clock=clock, list_cameras=lambda: list(devices))


@pytest.fixture
def panel(qtbot: Any, ctx: OperatorContext) -> Iterator[OperatorPanel]:
    widget = OperatorPanel(ctx)
    qtbot.addWidget(widget)
    widget.resize(1280, 900)
    widget.show()
    qtbot.waitUntil(lambda: widget.attempts.table.rowCount() == 4, timeout=WAIT_MS)
    yield widget
    widget.close()  # waits for the database calls in flight before the log closes


def cells(table: Any, column: int) -> list[str]:
    return [table.item(r, column).text() for r in range(table.rowCount())]


# -- PIN dialog ------------------------------------------------------------------------------

def test_pin_dialog_accepts_the_right_pin(qtbot: Any, ctx: OperatorContext) -> None:
    dialog = PinDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.pin_edit, PIN)
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_a_pin_dialog_left_alone_cancels_itself(qtbot: Any, ctx: OperatorContext,
                                               audit: AuditLog) -> None:
    """Left open, the kiosk served nobody and the next person met a PIN prompt."""
    dialog = PinDialog(ctx, idle_ms=400)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.idle_timer.isActive()
    qtbot.keyClicks(dialog.pin_edit, "12")
    assert dialog.idle_timer.remainingTime() > 200  # typing starts the minute again
    with qtbot.waitSignal(dialog.rejected, timeout=WAIT_MS):
        pass
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert audit.operator_actions() == []  # nothing typed was checked or recorded


def test_pin_dialog_refuses_a_wrong_pin_and_records_it(qtbot: Any, ctx: OperatorContext,
                                                        audit: AuditLog) -> None:
    dialog = PinDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.pin_edit, "111111")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Wrong PIN" in dialog.message.text(), timeout=WAIT_MS)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.pin_edit.text() == "" and dialog.ok_button.isEnabled()
    assert [a.action for a in audit.operator_actions()] == ["pin_refused"]
    with qtbot.waitSignal(dialog.rejected, timeout=WAIT_MS):
        qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Escape)


def test_pin_dialog_grows_with_its_message(qtbot: Any, ctx: OperatorContext) -> None:
    """Five wrong PINs bring the long refusal: the dialog has room for it (kept from the
    start for two lines, grown for more), nothing is cut or covered."""
    dialog = PinDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    before = dialog.height()
    centre = dialog.geometry().center()
    for _ in range(MAX_WRONG):
        qtbot.keyClicks(dialog.pin_edit, "111111")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.message.text() not in ("", "Checking..."),
                        timeout=WAIT_MS)
        qtbot.waitUntil(dialog.ok_button.isEnabled, timeout=WAIT_MS)
    label, field = dialog.message, dialog.pin_edit
    assert label.heightForWidth(label.width()) > label.fontMetrics().height()  # wraps
    assert dialog.height() >= before
    assert label.height() >= label.heightForWidth(label.width())  # every line shown
    assert label.geometry().top() > dialog.keypad.geometry().bottom()
    assert label.geometry().top() >= field.geometry().bottom()  # below the field, not over it
    assert dialog.rect().contains(dialog.ok_button.geometry())
    # It grows about its centre (it grew only to the right and down, off the screen's middle).
    moved = dialog.geometry().center() - centre
    assert abs(moved.x()) <= 1 and abs(moved.y()) <= 1, moved


def test_pin_dialog_without_a_pin_cannot_open(qtbot: Any, audit: AuditLog) -> None:
    ctx = OperatorContext(settings=Settings(), audit=audit, camera_health=lambda: None,
                          apply_settings=lambda s: None)
    dialog = PinDialog(ctx)
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled() and not dialog.pin_edit.isEnabled()
    assert "disabled" in dialog.message.text()


# -- attempts --------------------------------------------------------------------------------

def test_attempts_fill_off_the_ui_thread_and_filter(qtbot: Any, ctx: OperatorContext,
                                                    audit: AuditLog) -> None:
    threads: list[threading.Thread] = []
    original = ctx.find_attempts

    def spy(flt: Any = None) -> Any:
        threads.append(threading.current_thread())
        return original(flt)

    ctx.find_attempts = spy  # type: ignore[method-assign]
    panel = OperatorPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    page = panel.attempts
    qtbot.waitUntil(lambda: page.table.rowCount() == 4, timeout=WAIT_MS)
    assert threads and threading.main_thread() not in threads
    assert cells(page.table, 0) == ["4", "3", "2", "1"]
    assert cells(page.table, 2) == ["pass", "review", "fail", "pass"]
    assert cells(page.table, 4)[2] == "SCREEN_SUSPECTED"
    page.decision_filter.setCurrentText("fail")
    qtbot.mouseClick(page.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=WAIT_MS)
    assert cells(page.table, 0) == ["2"]
    page.decision_filter.setCurrentText("any")
    page.search_edit.setText("offline")
    qtbot.keyClick(page.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: cells(page.table, 0) == ["3"], timeout=WAIT_MS)
    assert "1 attempt(s)" in page.message.text()
    panel.close()


def test_a_response_before_its_prompt_reads_as_such() -> None:
    from kiosk.ui.operator.attempts_page import response_text

    assert response_text(0.5) == "after 0.50 s" and response_text(None) == "none"
    assert response_text(-1.28) == "1.28 s before the prompt"  # it read "after -1.28 s"


def test_detail_shows_scores_and_timeline_and_override_is_recorded(
        qtbot: Any, panel: OperatorPanel, audit: AuditLog) -> None:
    page = panel.attempts
    page.table.selectRow(2)  # attempt 2, the failure
    qtbot.waitUntil(lambda: page.signals_table.rowCount() == 2, timeout=WAIT_MS)
    assert "Attempt 2" in page.detail_summary.text()
    assert "Reasons: SCREEN_SUSPECTED" in page.detail_summary.text()
    assert "Cloud calls: CompareFaces" in page.detail_summary.text()
    assert [cells(page.signals_table, c) for c in range(4)] == [
        ["moire", "texture"], ["0.720", "0.150"], ["0.60", "0.85"], ["SCREEN_SUSPECTED", "-"]]
    assert cells(page.timeline_table, 1) == ["blink", "turn left"]
    assert cells(page.timeline_table, 3) == ["after 0.50 s", "none"]
    assert cells(page.timeline_table, 4) == ["passed", "timeout"]
    assert cells(page.timeline_table, 6) == ["-", "NO_RESPONSE"]

    questions: list[str] = []
    answers = [False, True]

    def ask(question: str) -> bool:
        questions.append(question)
        return answers.pop(0)

    page.ask = ask  # type: ignore[method-assign]
    page.override_decision.setCurrentText("pass")
    page.override_reason.setText("ID checked at the desk")
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    assert "type your name" in page.message.text() and questions == []  # checked first
    panel.operator_edit.setText("Alice")
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    assert page.message.text() == "Override not recorded."  # the operator said No
    assert audit.operator_actions(action="override") == []
    assert questions[0].startswith("Change attempt 2 from fail to pass?")
    assert "(Alice)" in questions[0]
    # An override is no unlock: the person's failures still count, and the question says so.
    assert "It changes no lockout or count of failures" in questions[0]
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Override recorded" in page.message.text(), timeout=WAIT_MS)
    (action,) = audit.operator_actions(action="override")
    assert (action.actor, action.reason, action.target, action.details) == \
        ("Alice", "ID checked at the desk", "2", {"from": "fail", "to": "pass"})
    assert page.table.item(2, 2).text() == "fail -> pass (override)"
    qtbot.waitUntil(lambda: "overridden to pass by Alice" in page.detail_summary.text(),
                    timeout=WAIT_MS)
    # The charts count it at once: before, they kept the decision until Refresh was pressed.
    qtbot.waitUntil(lambda: "3 passed, 0 failed" in panel.charts.message.text(),
                    timeout=WAIT_MS)


# -- lockouts --------------------------------------------------------------------------------

def test_unlock_from_the_ui_records_an_action(qtbot: Any, ctx: OperatorContext,
                                              audit: AuditLog, clock: Clock) -> None:
    ref = audit.subject_ref("B-17")
    for _ in range(2):
        audit.record_attempt(record(clock.now, "fail", ("SCREEN_SUSPECTED",), ref))
    panel = OperatorPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    page = panel.lockouts
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=WAIT_MS)
    assert page.table.item(0, 1).text() == f"person {ref[:12]}"
    assert page.table.item(0, 5).text() == "in force"
    page.table.selectRow(0)
    page.reason_edit.setText("identity confirmed")
    qtbot.mouseClick(page.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "type your name" in page.message.text(), timeout=WAIT_MS)
    assert audit.operator_actions(action="unlock") == []

    panel.operator_edit.setText("Bob")
    page.table.selectRow(0)
    qtbot.mouseClick(page.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Unlock recorded" in page.message.text(), timeout=WAIT_MS)
    assert "1 lockout(s) lifted" in page.message.text()
    (action,) = audit.operator_actions(action="unlock")
    assert (action.actor, action.reason, action.scope, action.target) == \
        ("Bob", "identity confirmed", "subject", ref)
    assert audit.active_lockout(ref) is None
    qtbot.waitUntil(lambda: page.table.rowCount() == 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.actions_table.rowCount() == 1, timeout=WAIT_MS)
    assert cells(page.actions_table, 2) == ["Bob"]
    panel.close()


# -- settings --------------------------------------------------------------------------------

def test_settings_apply_calls_apply_settings_and_records(qtbot: Any, panel: OperatorPanel,
                                                         applied: list[Settings],
                                                         audit: AuditLog) -> None:
    page = panel.settings
    assert page.editors["liveness.confidence_threshold"].text() == "90"
    panel.operator_edit.setText("Carol")
    page.editors["liveness.challenge_count"].setText("4")
    page.editors["matching.similarity_threshold"].setText("92.5")
    page.editors["matching.offline_policy"].setCurrentText("review")
    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(applied) == 1, timeout=WAIT_MS)
    new = applied[0]
    assert isinstance(new, Settings)
    assert (new.liveness.challenge_count, new.matching.similarity_threshold,
            new.matching.offline_policy) == (4, 92.5, "review")
    qtbot.waitUntil(lambda: "Recorded as operator action" in page.message.text(),
                    timeout=WAIT_MS)
    assert "liveness.challenge_count 3 -> 4" in page.message.text()
    assert audit.operator_actions(action="settings")[0].actor == "Carol"


def test_bad_setting_shows_the_key_and_range(qtbot: Any, panel: OperatorPanel,
                                             applied: list[Settings]) -> None:
    page = panel.settings
    panel.operator_edit.setText("Carol")
    page.editors["liveness.challenge_count"].setText("9")
    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text().startswith("Not applied"), timeout=WAIT_MS)
    assert "liveness.challenge_count = 9 is out of range; allowed: int from 2 to 6" in \
        page.message.text()
    page.editors["liveness.challenge_count"].setText("3")
    page.editors["liveness.response_window_s"].setText("four")
    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "response_window_s = 'four' is not a number; allowed: float "
                    "from 2 to 20" in page.message.text(), timeout=WAIT_MS)
    assert applied == []


# -- camera ----------------------------------------------------------------------------------

def test_camera_health_updates_live_and_virtual_camera_is_refused(
        qtbot: Any, panel: OperatorPanel, health: dict[str, CameraHealth | None],
        applied: list[Settings]) -> None:
    page = panel.camera
    panel.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.device_combo.count() == 2, timeout=WAIT_MS)
    assert page.health_labels["frame rate"].text() == "29.5 fps (asked 30)"
    assert page.health_warnings.text() == "No health warnings."
    health["now"] = CameraHealth(frames=400, fps=30.0, nominal_fps=30.0, frozen=45,
                                 frozen_run=45, connected=True)
    # No call from the test: the page's QTimer picks up the new snapshot.
    qtbot.waitUntil(lambda: "not changed for 45 frames" in page.health_warnings.text(),
                    timeout=WAIT_MS)
    assert page.health_labels["frozen"].text() == "45 in total, 45 in a row now"

    page.device_combo.setCurrentIndex(1)
    assert "VIRTUAL camera" in page.choice_warning.text()
    panel.operator_edit.setText("Dan")
    qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "is a virtual camera" in page.message.text(), timeout=WAIT_MS)
    assert applied == []
    page.device_combo.setCurrentIndex(0)
    qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(applied) == 1, timeout=WAIT_MS)
    assert applied[0].camera.device == "/dev/video0"


# -- audit check -----------------------------------------------------------------------------

def test_verify_shows_ok_then_the_broken_row(qtbot: Any, panel: OperatorPanel,
                                             db_path: Path) -> None:
    page = panel.audit
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "intact" in page.result.text(), timeout=WAIT_MS)
    assert "4 rows checked" in page.result.text() and page.row_table.isHidden()
    raw = sqlite3.connect(db_path)
    raw.execute("DROP TRIGGER attempts_append_only")
    raw.execute("UPDATE attempts SET decision = 'pass' WHERE id = 2")
    raw.commit()
    raw.close()
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "BROKEN" in page.result.text(), timeout=WAIT_MS)
    assert "attempts #2 (seq 2)" in page.result.text()
    assert not page.row_table.isHidden()
    rows = dict(zip(cells(page.row_table, 0), cells(page.row_table, 1), strict=True))
    assert (rows["attempt"], rows["decision"]) == ("2", "pass")


def test_verify_shows_when_the_logs_loss_would_go_unnoticed(qtbot: Any, panel: OperatorPanel,
                                                            ctx: OperatorContext) -> None:
    page = panel.audit
    assert page.unguarded.isHidden()
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "intact" in page.result.text(), timeout=WAIT_MS)
    assert not page.unguarded.isHidden()  # this test's log was never registered by a kiosk
    assert "the kiosk will not notice" in page.unguarded.text()
    confirm(ctx.audit.path, ctx.audit.chain_head().db_id, now="2026-05-01T12:00:00+00:00")
    qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.unguarded.isHidden, timeout=WAIT_MS)


# -- charts and closing ----------------------------------------------------------------------

def count_color(image: Any, color: QColor) -> int:
    return sum(image.pixelColor(x, y).rgb() == color.rgb()
               for y in range(0, image.height(), 2) for x in range(0, image.width(), 2))


def test_charts_paint_the_counts(qtbot: Any, panel: OperatorPanel) -> None:
    page = panel.charts
    panel.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: len(page.by_day.categories) == 14, timeout=WAIT_MS)
    assert page.by_day.categories[-1] == "2026-05-10"
    assert "2026-05-10: pass 1, fail 0, review 1" in page.by_day.accessibleDescription()
    assert page.by_reason.categories == ["OFFLINE_MATCH", "SCREEN_SUSPECTED"]
    image = page.by_day.grab().toImage()
    assert image.width() > 100 and image.height() > 100
    assert count_color(image, PASS_COLOR) > 20 and count_color(image, FAIL_COLOR) > 20
    assert "4 attempt(s): 2 passed, 1 failed, 1 for review" in page.message.text()


def test_empty_chart_paints_its_message(qtbot: Any) -> None:
    chart = BarChart("Nothing yet")
    qtbot.addWidget(chart)
    chart.resize(400, 300)
    image = chart.grab().toImage()
    lit = sum(image.pixelColor(x, y).lightness() > 128
              for y in range(image.height()) for x in range(image.width()))
    assert lit > 100  # the title and "No attempts in this period", white on black
    with pytest.raises(ValueError, match="one value per category"):
        chart.set_data(["a", "b"], [("x", [1], PASS_COLOR)])


def test_close_button_and_escape_emit_closed(qtbot: Any, panel: OperatorPanel) -> None:
    with qtbot.waitSignal(panel.closed, timeout=WAIT_MS):
        qtbot.mouseClick(panel.close_button, Qt.MouseButton.LeftButton)
    panel.hide()
    panel.show()
    assert panel.camera.timer.isActive() is False  # only runs while the camera page shows
    with qtbot.waitSignal(panel.closed, timeout=WAIT_MS):
        qtbot.keyClick(panel.operator_edit, Qt.Key.Key_Escape)


def test_controls_have_accessible_names(panel: OperatorPanel) -> None:
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QSpinBox, QTableWidget

    kinds = (QAbstractButton, QComboBox, QLineEdit, QSpinBox, QTableWidget, BarChart)
    controls = [w for kind in kinds for w in panel.findChildren(kind)
                # Parts Qt builds inside composite controls (a combo's line edit, a table's
                # corner button) are named by their owner.
                if not isinstance(w.parent(), (QComboBox, QSpinBox, QTableWidget))
                and w.objectName() != "qt_spinbox_lineedit"]
    unnamed = [type(w).__name__ + ":" + getattr(w, "text", lambda: "")()
               for w in controls if not w.accessibleName()]
    assert len(controls) > 30 and unnamed == []


def test_garbage_is_collected_on_the_ui_thread_only(qapp: Any) -> None:
    import gc

    collector = UiThreadGarbageCollector()  # a second one, nested in the autouse fixture's
    try:
        assert not gc.isenabled()
        threshold = gc.get_threshold()[0]
        cycles = []
        for _ in range(threshold + 100):
            item: list = []
            item.append(item)
            cycles.append(item)
        del cycles, item
        assert gc.get_count()[0] > threshold
        collector.check()
        assert gc.get_count()[0] < threshold
    finally:
        collector.stop()
    assert not gc.isenabled()  # the fixture's collector still holds it off


# -- fixes: reasons text, PIN countdown, chart labels, mnemonics ----------------------------

def test_reasons_are_joined_without_a_full_stop_before_the_semicolon(
        qtbot: Any, panel: OperatorPanel, audit: AuditLog) -> None:
    from kiosk.ui.operator.attempts_page import reasons_text

    text = reasons_text(["SCREEN_SUSPECTED", "NO_RESPONSE"])
    assert ".;" not in text and text.endswith(".") and not text.endswith("..")
    assert text.startswith("SCREEN_SUSPECTED: ") and "; NO_RESPONSE: " in text
    assert reasons_text([]) == "none"
    audit.record_attempt(record(T0, "fail", ("SCREEN_SUSPECTED", "NO_RESPONSE")))
    page = panel.attempts
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 5, timeout=WAIT_MS)
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: "Attempt 5" in page.detail_summary.text(), timeout=WAIT_MS)
    summary = page.detail_summary.text()
    assert "; NO_RESPONSE: " in summary and ".;" not in summary


def refused_dialog(qtbot: Any, ctx: OperatorContext, clock: Clock) -> PinDialog:
    """A shown PIN dialog after five wrong PINs: entries are refused."""
    dialog = PinDialog(ctx, clock=clock)
    qtbot.addWidget(dialog)
    dialog.show()
    for _ in range(MAX_WRONG):
        qtbot.waitUntil(dialog.ok_button.isEnabled, timeout=WAIT_MS)
        qtbot.keyClicks(dialog.pin_edit, "000000")
        qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.locked, timeout=WAIT_MS)
    return dialog


def test_pin_lock_counts_down_and_ends(qtbot: Any, ctx: OperatorContext, clock: Clock) -> None:
    dialog = refused_dialog(qtbot, ctx, clock)
    assert "try again in 5 minutes" in dialog.message.text()
    assert not dialog.pin_edit.isEnabled() and not dialog.ok_button.isEnabled()
    assert dialog.countdown.isActive()
    clock.now = T0 + timedelta(seconds=91)  # the timer redraws the time left each second
    qtbot.waitUntil(lambda: "try again in 3 min 29 s" in dialog.message.text(), timeout=3000)
    clock.now = T0 + timedelta(seconds=92)
    qtbot.waitUntil(lambda: "try again in 3 min 28 s" in dialog.message.text(), timeout=3000)
    assert not dialog.pin_edit.isEnabled()
    clock.now = T0 + timedelta(minutes=5, seconds=1)
    qtbot.waitUntil(dialog.pin_edit.isEnabled, timeout=3000)
    assert dialog.ok_button.isEnabled() and not dialog.locked
    assert not dialog.countdown.isActive()
    assert "try again" not in dialog.message.text()
    qtbot.keyClicks(dialog.pin_edit, PIN)
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)


def test_a_pin_dialog_reopened_during_the_refusal_says_so_at_once(
        qtbot: Any, ctx: OperatorContext, clock: Clock) -> None:
    """Reopened after five wrong PINs, it looked ready and refused the right PIN."""
    refused_dialog(qtbot, ctx, clock).reject()
    again = PinDialog(ctx, clock=clock)
    qtbot.addWidget(again)
    assert again.locked and not again.pin_edit.isEnabled() and not again.ok_button.isEnabled()
    assert "try again in 5 minutes" in again.message.text()


def test_a_pin_dialog_reopened_after_staff_ended_the_refusal_takes_the_pin(
        qtbot: Any, ctx: OperatorContext, audit: AuditLog, clock: Clock) -> None:
    """Staff ended the refusal from a shell (kiosk audit pin-reset records a right PIN):
    before, the running kiosk kept the refusal it held in memory until it restarted."""
    refused_dialog(qtbot, ctx, clock).reject()
    audit.record_action("pin_accepted", actor="Dana", reason="PIN refusals ended by staff")
    again = PinDialog(ctx, clock=clock)
    qtbot.addWidget(again)
    assert again.locked  # what this process knew, at once; then the log is read
    qtbot.waitUntil(lambda: not again.locked, timeout=WAIT_MS)
    assert again.pin_edit.isEnabled() and again.ok_button.isEnabled()
    assert again.message.text() == "You can enter the PIN again."
    qtbot.keyClicks(again.pin_edit, PIN)
    with qtbot.waitSignal(again.accepted, timeout=WAIT_MS):
        qtbot.keyClick(again.pin_edit, Qt.Key.Key_Return)


def test_reason_chart_shows_whole_codes_on_full_lines(qtbot: Any, panel: OperatorPanel,
                                                      monkeypatch: Any) -> None:
    from PySide6.QtGui import QPainter

    from kiosk.ui.operator import charts_page

    drawn: list[str] = []

    class Spy(QPainter):
        def drawText(self, *args: Any) -> None:  # noqa: N802 - Qt name
            drawn.extend(a for a in args if isinstance(a, str))
            super().drawText(*args)

    monkeypatch.setattr(charts_page, "QPainter", Spy)
    codes = ["CHALLENGE_TIMEOUT", "LIVENESS_FAILED", "ACTION_BEFORE_PROMPT", "DEVICE_EDGES",
             "NOT_PLACED", "NO_BASELINE", "SCREEN_FLICKER", "TEXTURE_SUSPECTED", "other"]
    panel.resize(1280, 800)
    page = panel.charts
    panel.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: bool(page.by_reason.categories), timeout=WAIT_MS)
    chart = page.by_reason
    chart.set_data(codes, [("attempts", list(range(len(codes), 0, -1)),
                            charts_page.REASON_COLOR)])
    qtbot.waitUntil(lambda: chart.height() >= chart.minimumHeight(), timeout=WAIT_MS)
    chart.grab()
    assert "ACTION_BEFORE_PROMPT" in drawn and "TEXTURE_SUSPECTED" in drawn
    assert not any("…" in text or "..." in text for text in drawn)
    rows = chart._plot().height() / len(codes)
    assert rows >= chart.fontMetrics().height()  # underscores are not cut off by the next row
    assert chart.category_at(chart._plot().topLeft() + QPointF(5, rows * 2.5)) == 2


def test_alt_c_closes_even_when_the_window_is_not_active(qtbot: Any,
                                                         panel: OperatorPanel) -> None:
    from PySide6.QtWidgets import QWidget

    other = QWidget()  # takes the activation, as an X session without window manager does
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    panel.operator_edit.setFocus()
    with qtbot.waitSignal(panel.closed, timeout=WAIT_MS):
        qtbot.keyClick(panel.operator_edit, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    assert panel.operator_edit.text() == ""
    panel.hide()
    panel.show()
    qtbot.keyClick(panel.operator_edit, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    assert panel.tabs.currentWidget() is panel.charts and panel.operator_edit.text() == ""
    qtbot.keyClick(panel.tabs.tabBar(), Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert panel.operator_edit.hasFocus() or panel.focusWidget() is panel.operator_edit


def test_a_scripted_run_is_marked_and_cannot_be_overridden(
        qtbot: Any, panel: OperatorPanel, audit: AuditLog) -> None:
    import dataclasses

    audit.record_attempt(dataclasses.replace(record(T0, "pass"), scripted=True))
    page = panel.attempts
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 5, timeout=WAIT_MS)
    assert cells(page.table, 2)[0] == "pass (scripted)"
    page.table.selectRow(1)  # an attempt the kiosk ran: its decision may be overridden
    qtbot.waitUntil(lambda: "Attempt 4" in page.detail_summary.text(), timeout=WAIT_MS)
    assert page.override_button.isEnabled()
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: "Attempt 5" in page.detail_summary.text(), timeout=WAIT_MS)
    assert not page.override_button.isEnabled()
    assert ("Decision: pass (a scripted evaluation run (kiosk verify --script), not a "
            "verification)") in page.detail_summary.text()
