"""Kiosk mode keeps its window in front: full screen, on top and with the keyboard.

The audit (t02) mapped a second full-screen window over the kiosk: it kept the top and the
keyboard for as long as it was open, and the person's Return went to it. With the kiosk
unmapped (a window manager's minimise) the screen stayed black, the kiosk never showed itself
again, and a check already started ran on unseen into a CHALLENGE_TIMEOUT failure.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from kiosk.audit import open_kiosk_log
from kiosk.vocabulary import FlowState
from kiosk.wording import PROMPTS
from tests.ui.harness import Responder, open_real_panel
from tests.ui.xvfb import KIOSK_WINDOW, xvfb_display

ROOT = Path(__file__).resolve().parents[2]
#: The watchdog looks every second; the window's own events bring it back sooner.
BACK_MS = 1500
PIN = "2468"


def kiosk_window(qtbot, window_for, settings, **options):
    """A window in kiosk mode, shown as ``python main.py`` shows it, with the keyboard."""
    window = window_for(settings, kiosk_mode=True, **options)
    window.show_kiosk()
    window.activateWindow()
    qtbot.waitUntil(lambda: has_keyboard(window), timeout=3000)
    return window


def has_keyboard(widget: QWidget) -> bool:
    """The platform's focus window is ``widget``'s (QApplication.activeWindow() lags behind
    it offscreen once the window's flags change while it is shown)."""
    return QGuiApplication.focusWindow() is widget.windowHandle()


def in_front(window) -> bool:
    return (window.isVisible() and window.isFullScreen() and not window.isMinimized()
            and has_keyboard(window))


def another_window(qtbot) -> QWidget:
    """A second top-level window that takes the keyboard (a file manager, a notification)."""
    other = QWidget()
    other.setWindowTitle("intruder")
    qtbot.addWidget(other)
    focused: list = []
    app = QGuiApplication.instance()
    app.focusWindowChanged.connect(focused.append)
    other.show()
    other.activateWindow()
    # Seen through the signal: the kiosk may take the keyboard back in the same batch of
    # events, before a look at the focus window would find it gone.
    qtbot.waitUntil(lambda: other.windowHandle() in focused, timeout=3000)
    app.focusWindowChanged.disconnect(focused.append)
    return other


@pytest.mark.parametrize("lapse", ["minimised", "hidden", "keyboard taken"])
def test_the_kiosk_window_comes_back_to_the_front(qtbot, window_for, settings, lapse):
    window = kiosk_window(qtbot, window_for, settings)
    if lapse == "minimised":
        window.showMinimized()
    elif lapse == "hidden":
        window.hide()
    else:
        another_window(qtbot)
    qtbot.waitUntil(lambda: in_front(window), timeout=BACK_MS)


def test_a_windowed_kiosk_is_left_alone(qtbot, window_for, settings):
    """``--windowed`` is for development: a developer minimises it at will."""
    window = window_for(settings)
    window.showMinimized()
    qtbot.wait(BACK_MS)
    assert window.isMinimized()


@pytest.mark.parametrize("lapse", ["minimised", "keyboard taken"])
def test_a_check_the_person_cannot_see_is_stopped_not_failed(qtbot, window_for, settings,
                                                             tmp_path, caplog, lapse):
    """Stopped as the person's Stop is: recorded as STOPPED (not a failure of the person:
    a missed prompt nobody could see), and the log says why."""
    window = kiosk_window(qtbot, window_for, settings, responder=Responder(reaction_s=60.0))
    window.flow.start()
    window.flow.accept()
    qtbot.waitUntil(lambda: window.live.prompt.text() in {p.text for p in PROMPTS.values()},
                    timeout=20000)
    with caplog.at_level(logging.WARNING, logger="kiosk.ui"):
        if lapse == "minimised":
            window.showMinimized()
        else:
            another_window(qtbot)
        qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=BACK_MS)
    assert f"live check 1 stopped: the kiosk window {_said(lapse)}" in caplog.text
    qtbot.waitUntil(lambda: in_front(window), timeout=BACK_MS)
    log = open_kiosk_log(settings, tmp_path)
    try:
        # Opened when the check started, closed once the cancelled session has ended.
        qtbot.waitUntil(lambda: [a.decision for a in log.list_attempts()] == ["fail"],
                        timeout=20000)
        assert list(log.list_attempts()[0].record.reasons) == ["STOPPED"]
    finally:
        log.close()


def _said(lapse: str) -> str:
    return {"minimised": "was minimised", "keyboard taken": "lost the keyboard"}[lapse]


def test_the_pin_dialog_and_the_panel_keep_the_front(qtbot, window_for, settings):
    """The kiosk's own dialogs are not pulled under its window, and staff in the operator
    panel may use another window (the watchdog is back once the panel closes)."""
    pytest.importorskip("kiosk.ui.operator")
    window = kiosk_window(qtbot, window_for, settings.replace("kiosk", operator_pin=PIN))
    window.escape.activated.emit()
    dialog = window.operator.dialog
    qtbot.waitUntil(lambda: has_keyboard(dialog), timeout=3000)
    qtbot.wait(BACK_MS)
    assert dialog.isVisible() and has_keyboard(dialog)
    dialog.reject()
    panel = open_real_panel(qtbot, window, PIN)
    other = another_window(qtbot)
    qtbot.waitUntil(lambda: has_keyboard(other), timeout=3000)
    qtbot.wait(BACK_MS)
    assert has_keyboard(other)
    panel.closed.emit()
    assert window.flow.state == FlowState.IDLE
    qtbot.waitUntil(lambda: in_front(window), timeout=BACK_MS)


# -- a real X server ----------------------------------------------------------------------

KIOSK_SCRIPT = KIOSK_WINDOW + r"""
stop = Path(sys.argv[2])
def ready():
    if window.flow.state != "idle" or not window.windowHandle().isExposed():
        QTimer.singleShot(100, ready)
        return
    print(json.dumps({"window": int(window.winId())}), flush=True)
    wait_for_stop()
def wait_for_stop():
    if not stop.exists():
        QTimer.singleShot(100, wait_for_stop)
        return
    window.allow_close()
    window.close()
    app.quit()
QTimer.singleShot(100, ready)
QTimer.singleShot(120000, app.quit)
app.exec()
"""

RED = 0xFF0000


class XClient:
    """The test's own X client: windows over the kiosk, and what the X server shows."""

    def __init__(self, display: str) -> None:
        import xcffib
        import xcffib.xproto as xp

        self.xp = xp
        self.conn = xcffib.Connection(display)
        self.root = self.conn.get_setup().roots[0].root

    def cover(self, *, take_focus: bool) -> int:
        """A red window over the whole screen, on top (and with the keyboard)."""
        xp = self.xp
        wid = self.conn.generate_id()
        self.conn.core.CreateWindow(0, wid, self.root, 0, 0, 1280, 800, 0,
                                    xp.WindowClass.InputOutput, 0, xp.CW.BackPixel, [RED])
        self.conn.core.MapWindow(wid)
        self.conn.core.ConfigureWindow(wid, xp.ConfigWindow.StackMode, [xp.StackMode.Above])
        if take_focus:
            self.conn.core.SetInputFocus(xp.InputFocus.PointerRoot, wid, xp.Time.CurrentTime)
        self.sync()
        return wid

    def unmap(self, wid: int) -> None:
        self.conn.core.UnmapWindow(wid)
        self.sync()

    def sync(self) -> None:
        """Wait until the server has done this client's requests (another client's next
        question may otherwise reach it first)."""
        self.conn.core.GetInputFocus().reply()

    def on_top(self) -> int:
        """The topmost mapped window."""
        xp = self.xp
        children = self.conn.core.QueryTree(self.root).reply().children
        mapped = [w for w in children if self.conn.core.GetWindowAttributes(w).reply()
                  .map_state == xp.MapState.Viewable]
        return mapped[-1]

    def focus(self) -> int:
        return self.conn.core.GetInputFocus().reply().focus

    def pixel(self, x: int, y: int) -> int:
        """The screen's colour at (x, y), 0xRRGGBB."""
        image = self.conn.core.GetImage(self.xp.ImageFormat.ZPixmap, self.root, x, y, 1, 1,
                                        0xFFFFFFFF).reply()
        b, g, r = bytes(image.data)[:3]
        return r << 16 | g << 8 | b


def _until(condition, timeout_s: float) -> float | None:
    """Seconds until ``condition()`` held, or None when it did not within ``timeout_s``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if condition():
            return time.monotonic() - start
        time.sleep(0.05)
    return None


@pytest.mark.xvfb
def test_a_window_mapped_over_the_kiosk_goes_under_it_again(tmp_path):
    """Under Xvfb without a window manager (nobody else would help): a window covering the
    kiosk, one taking the keyboard too, and the kiosk unmapped; each time the kiosk is on top
    with the keyboard again within 2 s, and the screen shows it."""
    from kiosk.audit import create_key_file

    create_key_file(tmp_path / "audit.key")
    stop = tmp_path / "stop"
    with xvfb_display() as display:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
        env.update(DISPLAY=display, PYTHONPATH=str(ROOT))
        kiosk = subprocess.Popen([sys.executable, "-c", KIOSK_SCRIPT, str(tmp_path), str(stop)],
                                 env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        try:
            line = kiosk.stdout.readline()
            assert line, kiosk.stderr.read()[-3000:]
            window = json.loads(line)["window"]
            x = XClient(display)
            fronts = {}
            for step in ("covered", "keyboard taken", "unmapped"):
                if step == "unmapped":
                    x.unmap(window)
                else:
                    x.cover(take_focus=step == "keyboard taken")
                # On top, with the keyboard, and drawn (until the kiosk repaints, the screen
                # keeps the cover's pixels: Qt's window has no X background).
                fronts[step] = _until(lambda: x.on_top() == window and x.focus() == window
                                      and x.pixel(640, 400) != RED, 3.0)
            assert all(s is not None and s < 2.0 for s in fronts.values()), fronts
        finally:
            stop.touch()
            kiosk.wait(30)
    assert kiosk.returncode == 0, kiosk.stderr.read()[-3000:]


@pytest.mark.xvfb
def test_only_another_clients_window_over_the_kiosk_covers_it(monkeypatch):
    """What counts as a cover: a drawn window stacked above that overlaps; not one of the
    kiosk's own (a tooltip over Stop), an unmapped one, an input-only one, or one beside."""
    from kiosk.ui.xstack import XStacking

    with xvfb_display() as display:
        x = XClient(display)
        xp = x.xp

        def window(left: int, width: int, *, drawn: bool = True) -> int:
            wid = x.conn.generate_id()
            kind = xp.WindowClass.InputOutput if drawn else xp.WindowClass.InputOnly
            x.conn.core.CreateWindow(0, wid, x.root, left, 0, width, 400, 0, kind, 0, 0, [])
            x.conn.core.MapWindow(wid)
            x.sync()
            return wid

        kiosk = window(0, 800)
        monkeypatch.setenv("DISPLAY", display)  # libxcb's, as Qt's xcb platform reads it
        stacking = XStacking.open()
        assert stacking is not None
        try:
            assert stacking.cover(kiosk) is None
            window(900, 200)                    # beside it
            window(0, 800, drawn=False)         # input-only
            assert stacking.cover(kiosk) is None
            tooltip = window(100, 50)
            assert stacking.cover(kiosk) == tooltip
            assert stacking.cover(kiosk, own=[tooltip]) is None
            x.unmap(tooltip)
            assert stacking.cover(kiosk) is None
            assert stacking.cover(0x7FFFFF) is None  # a window gone: no answer, no error
        finally:
            stacking.close()
