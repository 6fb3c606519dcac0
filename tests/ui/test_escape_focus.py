"""On a bare X server (no window manager, as a kiosk may run), the kiosk window gets the
keyboard back when the PIN dialog closes: the operator shortcut did nothing after a
cancelled dialog until someone clicked the screen."""

from __future__ import annotations

import pytest

from tests.ui.xvfb import run_on_xvfb

SCRIPT = r"""
import json, sys, time
from PySide6.QtWidgets import QApplication, QDialog, QWidget
app = QApplication(sys.argv[:1])
from kiosk.ui.escape import OperatorEscape

def settle(until, most_s=5.0):
    end = time.monotonic() + most_s
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.02)
    for _ in range(10):
        app.processEvents()

class Context:
    def __init__(self, **_kw):
        self.audit = AUDIT

class Pin(QDialog):
    def __init__(self, context, parent):
        super().__init__(parent)

AUDIT = object()
window = QWidget()
window.resize(400, 300)
window.show()
window.activateWindow()
settle(lambda: window.isActiveWindow())
first = window.isActiveWindow()
escape = OperatorEscape(window, settings=lambda: None, audit=lambda: AUDIT,
                        camera_health=lambda: None, apply_settings=lambda s: None,
                        loader=lambda: (None, Context, Pin))
escape.activate()
settle(lambda: escape.dialog is not None and escape.dialog.isActiveWindow())
in_dialog = escape.dialog.isActiveWindow()
escape.dialog.reject()
settle(lambda: window.isActiveWindow())
print(json.dumps({"first": first, "in_dialog": in_dialog, "back": window.isActiveWindow()}))
"""


@pytest.mark.xvfb
def test_the_kiosk_window_gets_the_keyboard_back_when_the_pin_dialog_closes() -> None:
    result = run_on_xvfb(SCRIPT)
    assert result == {"first": True, "in_dialog": True, "back": True}
