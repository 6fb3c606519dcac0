"""The attempt detail's summary fits under the attempts list at 1280x800 and 1920x1080: every
line shows without scrolling, and the list still shows its eight rows (offscreen, the panel
inside the kiosk window, whose style sheet it inherits)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QScrollArea, QTableWidget

from kiosk.audit import AuditConfig, AuditLog, RateLimitPolicy, SubjectHasher
from kiosk.operator import OperatorContext
from kiosk.settings import Settings
from kiosk.ui.app import KioskWindow
from kiosk.ui.operator import OperatorPanel
from kiosk.ui.operator.attempts_page import MIN_ROWS, AttemptsPage
from kiosk.vocabulary import FlowState
from tests.audit.test_camera import WEBCAM
from tests.ui.test_operator_panel import PIN, T0, WAIT_MS, Clock, record

ATTEMPTS = 12
# Real reason codes: a failure's meanings wrap onto a second line at 1280x800.
REASONS = {"fail": ("LIVENESS_FAILED", "SCREEN_SUSPECTED"), "review": ("MATCH_BELOW_THRESHOLD",),
           "pass": ()}


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    clock = Clock()
    log = AuditLog.open(tmp_path / "kiosk.db", AuditConfig(limits=RateLimitPolicy(
        max_failures=100, kiosk_max_failures=100)), clock=clock,
        subject_hasher=SubjectHasher(bytes(32)))
    for i in range(ATTEMPTS):
        clock.now = T0 - timedelta(hours=ATTEMPTS - i)
        decision = ("pass", "fail", "review")[i % 3]
        # Every attempt names its camera, as the kiosk's do: the summary's longest line.
        log.record_attempt(dataclasses.replace(
            record(clock.now, decision, REASONS[decision], log.subject_ref(f"B-{i}")),
            camera=WEBCAM))
    clock.now = T0
    yield log
    log.close()


@pytest.fixture(params=[(1280, 800), (1920, 1080)], ids=["1280x800", "1920x1080"])
def page(request: Any, qtbot: Any, audit: AuditLog) -> Iterator[AttemptsPage]:
    """The attempts page of an operator panel shown in a kiosk window of the given size."""
    ctx = OperatorContext(settings=Settings().replace("kiosk", operator_pin=PIN), audit=audit,
                          camera_health=lambda: None, apply_settings=lambda s: None,
                          clock=Clock(), list_cameras=lambda: [])
    window = KioskWindow(Settings(), None, failure="detail fit test")
    qtbot.addWidget(window)
    panel = OperatorPanel(ctx)
    window.stack.set_panel(panel)
    window.stack.show_state(FlowState.OPERATOR)
    window.setGeometry(0, 0, *request.param)
    window.show()
    qtbot.waitUntil(lambda: panel.attempts.table.rowCount() == ATTEMPTS, timeout=WAIT_MS)
    yield panel.attempts
    panel.close()  # waits for the database calls in flight before the log closes


def whole_rows(table: QTableWidget) -> int:
    """Rows the table shows from top to bottom without scrolling."""
    height = table.viewport().height()
    return sum(table.rowViewportPosition(r) >= 0
               and table.rowViewportPosition(r) + table.rowHeight(r) <= height
               for r in range(table.rowCount()))


def summary_area(page: AttemptsPage) -> QScrollArea:
    (area,) = [a for a in page.findChildren(QScrollArea)
               if a.widget() is page.detail_summary]
    return area


@pytest.mark.parametrize("decision", ["review", "fail"])
def test_every_summary_line_shows_and_the_list_keeps_eight_rows(
        qtbot: Any, page: AttemptsPage, decision: str) -> None:
    row = next(r for r in range(page.table.rowCount())
               if page.table.item(r, 2).text() == decision)
    page.table.selectRow(row)
    qtbot.waitUntil(lambda: "Subject: " in page.detail_summary.text(), timeout=WAIT_MS)
    qtbot.wait(50)  # the new text's layout
    summary, area = page.detail_summary, summary_area(page)
    assert summary.text().count("\n") == 4  # five lines, the last the subject reference
    assert summary.text().endswith("Camera: /dev/video0 'HD Webcam C615' uvcvideo usb 046d:0825")
    # Before: a 109 px pane under the list, the fifth line behind a scroll bar.
    assert area.verticalScrollBar().maximum() == 0, (
        f"the summary needs {summary.heightForWidth(summary.width())} px, the pane shows "
        f"{area.viewport().height()} px")
    assert summary.height() >= summary.heightForWidth(summary.width())
    assert whole_rows(page.table) >= MIN_ROWS
