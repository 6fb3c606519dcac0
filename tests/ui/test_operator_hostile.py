"""The operator panel used the hard way: odd dates, repeated presses, lockouts running out
while shown, closing while the audit log is busy (regressions of a hostile pass)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt

from kiosk.audit import AuditConfig, AuditError, AuditLog, RateLimitPolicy, SubjectHasher
from kiosk.operator import OperatorContext
from kiosk.settings import Settings
from kiosk.ui.operator import OperatorPanel, UiThreadGarbageCollector
from tests.ui.test_operator_panel import PIN, T0, WAIT_MS, Clock, record


@pytest.fixture(autouse=True)
def collect_on_the_ui_thread(qapp: Any) -> Iterator[None]:
    """Database jobs run in a pool thread: garbage collection must not (see tasks.py)."""
    collector = UiThreadGarbageCollector()
    yield
    collector.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audit(tmp_path: Path, clock: Clock) -> Iterator[AuditLog]:
    config = AuditConfig(limits=RateLimitPolicy(max_failures=2, kiosk_max_failures=100))
    log = AuditLog.open(tmp_path / "kiosk.db", config, clock=clock,
                        subject_hasher=SubjectHasher(bytes(32)))
    for i, decision in enumerate(("pass", "fail", "review")):
        clock.now = T0 - timedelta(minutes=30 - i)
        log.record_attempt(record(clock.now, decision, ("SCREEN_SUSPECTED",)
                                  if decision == "fail" else ()))
    clock.now = T0
    yield log
    log.close()


@pytest.fixture
def ctx(audit: AuditLog, clock: Clock) -> OperatorContext:
    return OperatorContext(settings=Settings().replace("kiosk", operator_pin=PIN), audit=audit,
                           camera_health=lambda: None, apply_settings=lambda s: None,
                           clock=clock, list_cameras=lambda: [])


def open_panel(qtbot: Any, ctx: OperatorContext) -> OperatorPanel:
    widget = OperatorPanel(ctx)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitUntil(lambda: widget.attempts.table.rowCount() >= 3, timeout=WAIT_MS)
    return widget


@pytest.fixture
def panel(qtbot: Any, ctx: OperatorContext) -> Iterator[OperatorPanel]:
    widget = open_panel(qtbot, ctx)
    yield widget
    widget.close()  # waits for the database calls in flight before the log closes


def select_attempt(qtbot: Any, panel: OperatorPanel, attempt_id: int) -> None:
    page = panel.attempts
    ids = [page.table.item(r, 0).text() for r in range(page.table.rowCount())]
    page.table.selectRow(ids.index(str(attempt_id)))
    qtbot.waitUntil(lambda: f"Attempt {attempt_id} " in page.detail_summary.text(),
                    timeout=WAIT_MS)


class Gate:
    """Holds ``OperatorContext.override`` in its pool thread, as a locked database does."""

    def __init__(self, ctx: OperatorContext, fail: bool = False) -> None:
        self.release = threading.Event()
        self.calls = 0
        original = ctx.override

        def held(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            self.release.wait(10)
            if fail:
                raise AuditError("the audit database is locked by another program")
            return original(*args, **kwargs)

        ctx.override = held  # type: ignore[method-assign]


def press_override(qtbot: Any, panel: OperatorPanel) -> Any:
    """Alice overrides attempt 2 (confirmed); the attempts page."""
    page = panel.attempts
    page.ask = lambda q: True  # type: ignore[method-assign]
    panel.operator_edit.setText("Alice")
    select_attempt(qtbot, panel, 2)
    page.override_reason.setText("ID checked")
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    return page


def override_then_close(qtbot: Any, panel: OperatorPanel) -> list[bool]:
    """Record an override of attempt 2 and press Close at once; the ``closed`` signals seen."""
    press_override(qtbot, panel)
    closed: list[bool] = []
    panel.closed.connect(lambda: closed.append(True))
    qtbot.mouseClick(panel.close_button, Qt.MouseButton.LeftButton)
    return closed


# -- attempts: dates -------------------------------------------------------------------------

def test_the_last_day_the_date_filter_offers_searches(qtbot: Any, panel: OperatorPanel) -> None:
    """9999-12-31 as the last day raised ValueError (year 10000) from the Search slot and
    left the previous rows under a stale count."""
    page = panel.attempts
    page.use_dates.setChecked(True)
    page.date_from.setDate(page.date_from.date().addYears(-10))
    page.date_to.setDate(page.date_to.maximumDate())
    page.message.clear()
    qtbot.mouseClick(page.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "attempt(s), newest first" in page.message.text(),
                    timeout=WAIT_MS)
    assert page.table.rowCount() == 3


def test_a_day_whose_midnight_never_comes_starts_at_one(
        qtbot: Any, panel: OperatorPanel, monkeypatch: pytest.MonkeyPatch) -> None:
    """In Cairo summer time starts at 00:00 on 24 April 2026; the filter on that day began at
    23:00 of the 23rd and listed that hour's attempts as the 24th's (locale audit, 8)."""
    monkeypatch.setenv("TZ", "Africa/Cairo")
    time.tzset()
    try:
        page = panel.attempts
        page.use_dates.setChecked(True)
        page.date_from.setDate(QDate(2026, 4, 24))
        page.date_to.setDate(QDate(2026, 4, 24))
        chosen = page.current_filter()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert chosen.since is not None and chosen.until is not None
    assert chosen.since.astimezone(UTC).isoformat() == "2026-04-23T22:00:00+00:00"
    assert chosen.until.astimezone(UTC).isoformat() == "2026-04-24T21:00:00+00:00"


# -- attempts: override ----------------------------------------------------------------------

def test_override_to_the_decision_in_force_is_refused_before_asking(
        qtbot: Any, panel: OperatorPanel, audit: AuditLog) -> None:
    page = panel.attempts
    questions: list[str] = []
    page.ask = lambda q: questions.append(q) or True  # type: ignore[method-assign]
    panel.operator_edit.setText("Alice")
    select_attempt(qtbot, panel, 2)  # recorded fail
    page.override_decision.setCurrentText("fail")
    page.override_reason.setText("no change")
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    assert questions == []  # before: "Change attempt 2 from fail to fail?", then a bare error
    assert page.message.text() == "Not recorded: attempt 2 already has the decision fail."

    page.override_decision.setCurrentText("pass")
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Override recorded" in page.message.text(), timeout=WAIT_MS)
    page.override_reason.setText("again")
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)  # pass is in force now
    assert len(questions) == 1
    assert "already has the decision pass" in page.message.text()
    assert len(audit.operator_actions(action="override")) == 1


def test_a_second_override_press_waits_for_the_first(qtbot: Any, panel: OperatorPanel,
                                                      ctx: OperatorContext,
                                                      audit: AuditLog) -> None:
    """While an override waited on the database the button stayed live and silent: a second
    press asked again and recorded a second action (or failed with a bare message)."""
    gate = Gate(ctx)
    page = panel.attempts
    questions: list[str] = []
    page.ask = lambda q: questions.append(q) or True  # type: ignore[method-assign]
    panel.operator_edit.setText("Alice")
    select_attempt(qtbot, panel, 2)
    page.override_decision.setCurrentText("pass")
    page.override_reason.setText("ID checked")
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    assert page.message.text() == "Recording the override of attempt 2..."
    assert not page.override_button.isEnabled()
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(page.override_reason, Qt.Key.Key_Return)
    gate.release.set()
    qtbot.waitUntil(lambda: "Override recorded" in page.message.text(), timeout=WAIT_MS)
    assert len(questions) == 1 and gate.calls == 1
    assert len(audit.operator_actions(action="override")) == 1
    assert page.override_button.isEnabled()


def test_a_failed_override_says_it_was_not_recorded(qtbot: Any, panel: OperatorPanel,
                                                     ctx: OperatorContext) -> None:
    gate = Gate(ctx, fail=True)
    gate.release.set()
    page = press_override(qtbot, panel)
    qtbot.waitUntil(lambda: page.message.text().startswith("Override not recorded: "),
                    timeout=WAIT_MS)
    assert "locked by another program" in page.message.text()
    assert page.override_button.isEnabled()


# -- lockouts --------------------------------------------------------------------------------

def test_a_lockout_that_runs_out_while_shown_leaves_the_list(
        qtbot: Any, ctx: OperatorContext, audit: AuditLog, clock: Clock) -> None:
    """It stayed "in force" until Refresh; unlocking it then lifted nothing."""
    ref = audit.subject_ref("B-17")
    for _ in range(2):
        audit.record_attempt(record(clock.now, "fail", ("SCREEN_SUSPECTED",), ref))
    panel = open_panel(qtbot, ctx)
    page = panel.lockouts
    panel.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=WAIT_MS)
    assert page.table.item(0, 5).text() == "in force"
    (lockout,) = audit.lockouts()
    clock.now = lockout.until + timedelta(seconds=1)
    qtbot.waitUntil(lambda: page.table.rowCount() == 0, timeout=WAIT_MS)
    assert page.caption.text() == "Lockouts in force: none"
    panel.close()


# -- closing ---------------------------------------------------------------------------------

def test_close_while_a_write_waits_keeps_the_window_live(qtbot: Any, panel: OperatorPanel,
                                                         ctx: OperatorContext,
                                                         audit: AuditLog) -> None:
    """Close blocked the UI thread until the write was done (4.5 s on a locked log)."""
    gate = Gate(ctx)
    threading.Timer(3.0, gate.release.set).start()  # the old Close blocked until this
    closed = override_then_close(qtbot, panel)
    # Close returned before the write was let through: the old one had emitted closed by now.
    assert closed == [] and panel.status.isVisible()
    assert "waiting for the audit log" in panel.status.text()
    assert not panel.tabs.isEnabled() and not panel.close_button.isEnabled()
    gate.release.set()
    qtbot.waitUntil(lambda: closed == [True], timeout=WAIT_MS)
    assert len(audit.operator_actions(action="override")) == 1


def test_an_action_failing_while_closing_keeps_the_panel_open(
        qtbot: Any, panel: OperatorPanel, ctx: OperatorContext) -> None:
    gate = Gate(ctx, fail=True)
    closed = override_then_close(qtbot, panel)
    page = panel.attempts
    gate.release.set()
    qtbot.waitUntil(lambda: panel.status.text().startswith("Not closed"), timeout=WAIT_MS)
    qtbot.wait(100)
    assert closed == [] and panel.tabs.isEnabled() and panel.close_button.isEnabled()
    assert page.message.text().startswith("Override not recorded")
    with qtbot.waitSignal(panel.closed, timeout=WAIT_MS):
        qtbot.mouseClick(panel.close_button, Qt.MouseButton.LeftButton)


# -- small things staff met ------------------------------------------------------------------

def test_the_date_boxes_work_only_while_the_range_is_ticked(panel: OperatorPanel) -> None:
    page = panel.attempts
    assert not page.use_dates.isChecked()
    assert not page.date_from.isEnabled() and not page.date_to.isEnabled()
    page.use_dates.setChecked(True)
    assert page.date_from.isEnabled() and page.date_to.isEnabled()


def test_an_override_undone_reads_as_overridden_back(qtbot: Any, panel: OperatorPanel) -> None:
    page = press_override(qtbot, panel)  # attempt 2: fail -> pass
    qtbot.waitUntil(lambda: "Override recorded" in page.message.text(), timeout=WAIT_MS)
    page.override_decision.setCurrentText("fail")
    page.override_reason.setText("the badge was someone else's")
    qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text().count("Override recorded") == 1
                    and "pass -> fail" in page.message.text(), timeout=WAIT_MS)
    row = [page.table.item(r, 0).text() for r in range(page.table.rowCount())].index("2")
    assert page.table.item(row, 2).text() == "fail (overridden back)"


def test_an_unlock_that_fails_says_it_was_not_recorded(qtbot: Any, panel: OperatorPanel) -> None:
    page = panel.lockouts
    panel.tabs.setCurrentWidget(page)
    page.reason_edit.setText("checked at the desk")  # no operator name
    qtbot.mouseClick(page.unlock_kiosk_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text().startswith("Not recorded: type your name"),
                    timeout=WAIT_MS)


def test_revert_clears_the_last_applied_message(qtbot: Any, panel: OperatorPanel) -> None:
    page = panel.settings
    panel.tabs.setCurrentWidget(page)
    panel.operator_edit.setText("Alice")
    page.editors["liveness.challenge_count"].setText("4")
    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text().startswith("Applied"), timeout=WAIT_MS)
    qtbot.mouseClick(page.revert_button, Qt.MouseButton.LeftButton)
    assert page.message.text() == ""
    assert page.editors["liveness.challenge_count"].text() == "4"  # the value in force
