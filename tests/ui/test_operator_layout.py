"""The operator panel's layout on real screens (Xvfb, 1280x800 and 1920x1080): no widget
overlaps another, sticks out of its parent or cuts its text, on every page, with an attempt's
detail open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QWidget

from tests.ui.geometry import layout_faults
from tests.ui.xvfb import xvfb_display

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys, tempfile, time
from datetime import timedelta
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from kiosk.audit import AuditConfig, AuditLog, RateLimitPolicy, SubjectHasher
from kiosk.camera import CameraHealth
from kiosk.operator import OperatorContext
from kiosk.settings import Settings
from kiosk.ui.app import KioskWindow
from kiosk.ui.operator import OperatorPanel
from kiosk.vocabulary import FlowState
from tests.ui.geometry import layout_faults
from tests.ui.test_operator_panel import PIN, T0, Clock, record

def settle(until=lambda: True, most_s=5.0):
    end = time.monotonic() + most_s
    while time.monotonic() < end:
        app.processEvents()
        if until():
            break
        time.sleep(0.02)
    for _ in range(10):
        app.processEvents()

clock = Clock()
config = AuditConfig(limits=RateLimitPolicy(max_failures=2, kiosk_max_failures=100))
log = AuditLog.open(Path(tempfile.mkdtemp()) / "kiosk.db", config, clock=clock,
                    subject_hasher=SubjectHasher(bytes(32)))
for i in range(14):
    clock.now = T0 - timedelta(hours=30 - 2 * i)
    decision = ("pass", "fail", "review")[i % 3]
    reasons = {"fail": ("SCREEN_SUSPECTED", "NO_RESPONSE"), "review": ("OFFLINE_MATCH",)}
    log.record_attempt(record(clock.now, decision, reasons.get(decision, ()),
                              log.subject_ref(f"B-{i % 4}")))
clock.now = T0
ctx = OperatorContext(
    settings=Settings().replace("kiosk", operator_pin=PIN), audit=log, clock=clock,
    camera_health=lambda: CameraHealth(frames=300, fps=29.5, nominal_fps=30.0, dropped=4,
                                       connected=True),
    apply_settings=lambda s: None, list_cameras=lambda: [])
width, height = (int(v) for v in sys.argv[1].split("x"))
window = KioskWindow(Settings(), None, failure="layout test")
panel = OperatorPanel(ctx)
window.stack.set_panel(panel)
window.stack.show_state(FlowState.OPERATOR)
window.setGeometry(0, 0, width, height)
window.show()
settle(lambda: panel.attempts.table.rowCount() == 14)
panel.attempts.table.selectRow(1)
settle(lambda: panel.attempts.signals_table.rowCount() > 0)
table = panel.attempts.table
bar = table.horizontalScrollBar()
left = bar.value()
table.selectRow(2)
table.setCurrentCell(2, 4)  # a click in the reasons column must not scroll ID/Started away
settle(most_s=0.5)
whole_rows = sum(table.rowViewportPosition(r) >= 0 and table.rowViewportPosition(r)
                 + table.rowHeight(r) <= table.viewport().height()
                 for r in range(table.rowCount()))
tabs = getattr(panel.attempts, "detail_tabs", None)  # the signals may be a tab of the detail
if tabs is not None:
    tabs.setCurrentIndex(tabs.indexOf(panel.attempts.signals_table))
    settle(most_s=0.3)
detail = panel.attempts.signals_table
signals_rows = sum(detail.rowViewportPosition(r) >= 0 and detail.rowViewportPosition(r)
                   + detail.rowHeight(r) <= detail.viewport().height()
                   for r in range(detail.rowCount()))
# The detail's tabs with the widest labels a real attempt gives (13 signals; up to six
# prompts and three second chances): each tab whole, no scroll arrows beside them.
tabs.setTabText(1, "Signals (13)")
tabs.setTabText(2, "Challenges (9)")
settle(most_s=0.3)
tab_bar = tabs.tabBar()
tabs_short_px = sum(tab_bar.tabSizeHint(i).width() for i in range(tabs.count())) - (
    tab_bar.width())
pages = {}
for index in range(panel.tabs.count()):
    panel.tabs.setCurrentIndex(index)
    settle(most_s=0.5)
    pages[panel.tabs.tabText(index).replace("&", "")] = layout_faults(window)
print(json.dumps({"size": [window.width(), window.height()],
                  "rows": panel.attempts.table.rowCount(),
                  "signals": panel.attempts.signals_table.rowCount(), "pages": pages,
                  "whole_rows": whole_rows, "signals_rows": signals_rows,
                  "scrolled_sideways": bar.value() != left, "tabs_short_px": tabs_short_px,
                  "h_scroll": bar.maximum(), "detail_bottom":
                  detail.mapTo(window, detail.rect().bottomLeft()).y(),
                  "override_bottom": panel.attempts.override_button.mapTo(
                      window, panel.attempts.override_button.rect().bottomLeft()).y()}))
panel.leave()
log.close()
"""


def test_layout_faults_finds_overlaps_overflow_and_cut_text(qtbot: Any) -> None:
    """The check itself: it must see each kind of fault it claims to look for."""
    root = QWidget()
    qtbot.addWidget(root)
    root.resize(300, 200)
    labels = {}
    for name in ("table", "detail", "outside", "cut"):
        labels[name] = QLabel("a long text that needs several lines at this width " * 3, root)
        labels[name].setAccessibleName(name)
    labels["cut"].setWordWrap(True)
    labels["table"].setGeometry(0, 0, 200, 100)
    labels["detail"].setGeometry(0, 80, 200, 60)  # drawn over the table's last rows
    labels["outside"].setGeometry(250, 150, 100, 40)
    labels["cut"].setGeometry(0, 150, 120, 20)
    root.show()
    faults = layout_faults(root)
    assert len(faults) == 3
    assert faults[0].startswith("table (0, 0, 200, 100) overlaps detail (0, 80, 200, 60)")
    assert faults[1].startswith("outside (250, 150, 100, 40) sticks out of")
    assert faults[2].startswith("cut is 20 px high but its text needs")

    labels["detail"].setGeometry(0, 100, 200, 40)
    labels["outside"].setGeometry(200, 0, 100, 40)
    labels["cut"].setGeometry(0, 140, 300, 60)
    labels["cut"].setText("short")
    assert layout_faults(root) == []


@pytest.mark.xvfb
@pytest.mark.parametrize("size", ["1280x800", "1920x1080"])
def test_operator_panel_layout_on_a_real_screen(size: str) -> None:
    with xvfb_display(f"{size}x24") as display:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
        env.update(DISPLAY=display, PYTHONPATH=str(ROOT))
        proc = subprocess.run([sys.executable, "-c", SCRIPT, size], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["size"] == [int(v) for v in size.split("x")]
    assert result["rows"] == 14 and result["signals"] == 2
    assert set(result["pages"]) == {"Attempts", "Lockouts", "Settings", "Camera", "Audit",
                                    "Charts"}
    assert {page: faults for page, faults in result["pages"].items() if faults} == {}
    # The list shows at least 8 attempts without scrolling, never scrolls sideways (the
    # reasons column takes the room left and is cut with a tooltip), and the detail and the
    # override form are on screen.
    assert result["whole_rows"] >= 8
    assert result["h_scroll"] == 0 and not result["scrolled_sideways"]
    height = int(size.split("x")[1])
    assert result["detail_bottom"] < height and result["override_bottom"] < height
    # The signals table is more than its header (both rows when there is room; the splitter
    # gives the detail more at 1280x800).
    assert result["signals_rows"] >= (2 if height >= 1080 else 1)
    # The override form beside the detail's tabs left them short at 1280x800: "Summary" was
    # scrolled out of sight behind arrows (a read-only audit's screenshot).
    assert result["tabs_short_px"] <= 0, result["tabs_short_px"]
