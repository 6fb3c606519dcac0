"""The light challenge on screen: colours painted in order, no more than three changes a
second, the painted times reported; on a real X server the colour really reaches the screen."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from kiosk.ui.screens.light_show import MIN_CHANGE_S, LightShow, PaintedColour
from tests.ui.xvfb import run_on_xvfb

SEQUENCE = [(0.0, 0.4, (0, 0, 0)), (0.4, 0.8, (0, 255, 0)), (0.8, 1.2, (255, 0, 255)),
            (1.2, 1.6, (0, 0, 255))]


def changes_per_second(painted: list[PaintedColour]) -> int:
    starts = [p.start for p in painted]
    return max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts)


def test_colours_are_painted_in_order_and_reported(qtbot) -> None:
    target = QWidget()
    qtbot.addWidget(target)
    target.resize(200, 150)
    target.show()
    show = LightShow(target)
    with qtbot.waitSignal(show.finished, timeout=10000) as finished:
        show.start(SEQUENCE)
        t0 = show._t0
    painted = list(finished.args[0])
    colours = [p.rgb for p in painted]
    # In order; a stalled test machine may skip a colour, never reorder or invent one (a
    # loaded machine once stalled the event loop for 1 s, through the middle two colours).
    assert colours == [rgb for _, _, rgb in SEQUENCE if rgb in colours]
    assert len(painted) >= 2 and colours[0] == SEQUENCE[0][2]
    requested = {rgb: start for start, _, rgb in SEQUENCE}
    for p in painted:
        assert p.start >= t0 + requested[p.rgb]  # never shown before it was due
        assert p.end > p.start
    assert all(b.start >= a.end for a, b in zip(painted, painted[1:], strict=False))
    assert changes_per_second(painted) <= 3
    assert show.wash.current is None and not show.active


def test_stop_clears_the_screen_and_reports_nothing(qtbot) -> None:
    target = QWidget()
    qtbot.addWidget(target)
    show = LightShow(target)
    reports: list = []
    show.finished.connect(reports.append)
    show.start(SEQUENCE)
    qtbot.wait(500)
    assert show.wash.current is not None
    show.stop()
    qtbot.wait(1500)
    assert reports == [] and show.wash.current is None and not show.active


def test_a_stalled_ui_never_catches_up_faster_than_three_changes_a_second(qtbot) -> None:
    """Every segment is due at once (a thread that woke up late): changes stay spaced."""
    target = QWidget()
    qtbot.addWidget(target)
    show = LightShow(target)
    short = [(i * 0.05, (i + 1) * 0.05, (0, 40 * i, 0)) for i in range(6)] + [
        (0.3, 2.0, (0, 0, 255))]
    with qtbot.waitSignal(show.finished, timeout=10000) as finished:
        show.start(short)
    painted = list(finished.args[0])
    # The limit itself, not the code's constant (WCAG 2.3.1: three flashes a second): a
    # constant raised to 30 a second passed the comparison with itself.
    assert len(painted) >= 2 and MIN_CHANGE_S >= 1 / 3
    assert all(b.start - a.start >= 1 / 3 - 0.02
               for a, b in zip(painted, painted[1:], strict=False))


@pytest.mark.parametrize("bad", [[], [(0.2, 0.1, (0, 0, 0))],
                                 [(0.0, 0.5, (0, 0, 0)), (0.4, 0.8, (255, 0, 0))]])
def test_unusable_sequences_are_refused(qtbot, bad) -> None:
    target = QWidget()
    qtbot.addWidget(target)
    with pytest.raises(ValueError, match="segments"):
        LightShow(target).start(bad)


SCRIPT = r"""
import json, sys, time
import cv2
from kiosk.ui.qtenv import drop_opencv_qt_paths
import os
drop_opencv_qt_paths(os.environ)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from kiosk.analysis.guidance import OK, target_oval
from kiosk.session import SessionProgress
from kiosk.ui.screens.live import LiveScreen
from kiosk.vocabulary import Stage

screen = LiveScreen()
screen.resize(800, 600)
screen.show()
sequence = ((0.0, 0.6, (0, 0, 0)), (0.6, 1.2, (0, 255, 0)), (1.2, 1.8, (255, 0, 255)))
painted, seen = [], {}
screen.light.finished.connect(lambda p: painted.extend(p))
progress = SessionProgress(stage=Stage.LIGHT, prompt=None, index=0, total=3, time_left=None,
                           window_s=4.0, guidance=OK, face_box=None, frame_shape=(480, 640),
                           placed=True, oval=target_oval((480, 640)), light=sequence)
screen.show_progress(progress)
screen.show_progress(progress)  # the same sequence again: not restarted
end = time.monotonic() + 5
while not painted and time.monotonic() < end:
    app.processEvents()
    elapsed = time.monotonic() - screen.light._t0
    for start, stop, rgb in sequence:
        if start + 0.25 < elapsed < stop - 0.1 and rgb not in seen.values():
            shot = app.primaryScreen().grabWindow(screen.winId()).toImage()
            seen[elapsed] = QColor(shot.pixel(5, screen.height() - 5)).getRgb()[:3]
    time.sleep(0.005)
print(json.dumps({"painted": [[p.start, p.end, list(p.rgb)] for p in painted],
                  "seen": sorted(list(v) for v in seen.values()),
                  "words": screen.prompt.text(), "platform": app.platformName()}))
"""


@pytest.mark.xvfb
def test_the_live_screen_paints_the_colours_on_a_real_x_server() -> None:
    result = run_on_xvfb(SCRIPT, size="1024x768x24")
    assert result["platform"] == "xcb" and result["words"] == "Hold still"
    assert [rgb for _, _, rgb in result["painted"]] == [[0, 0, 0], [0, 255, 0], [255, 0, 255]]
    # What the X server shows at the bottom corner is the colour of the moment.
    assert [0, 255, 0] in result["seen"] and [255, 0, 255] in result["seen"]
