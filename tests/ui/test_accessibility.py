"""What a keyboard, screen-reader or colour-blind user meets on the person's screens
(offscreen): labels read as their words, a focus ring on every button, no invisible Tab stop,
the result reachable from Done, announcements, and an oval that does not rest on colour."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QImage
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.settings import Settings
from kiosk.ui.screens.consent import ConsentScreen
from kiosk.ui.screens.idle import IdleScreen
from kiosk.ui.screens.result import ResultScreen
from kiosk.ui.widgets import ACCENT, STYLE_SHEET, BigButton, ChoiceButton, announce
from kiosk.ui.widgets.preview import PreviewWidget
from kiosk.wording import RESULT_FAIL, consent_text, result_sentence


def accessible_name(widget: QWidget) -> str:
    """The name a screen reader reads (the accessible name, or what Qt derives from it)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    assert interface is not None
    return interface.text(QAccessible.Text.Name)


def accent_pixels(widget: QWidget) -> int:
    """How many of the widget's pixels are the focus ring's yellow."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(
        image.height(), image.bytesPerLine() // 4, 4)[:, :image.width(), :3]
    bgr = np.array([ACCENT.blue(), ACCENT.green(), ACCENT.red()])
    return int((np.abs(pixels.astype(int) - bgr).max(axis=2) <= 8).sum())


@pytest.fixture
def styled(qtbot):
    """A shown, active window with the kiosk's style sheet: ``styled(*widgets)``."""
    hosts = []

    def build(*widgets: QWidget) -> QWidget:
        host = QWidget()
        hosts.append(host)  # alive until the test ends, and its widgets with it
        host.setStyleSheet(STYLE_SHEET)
        layout = QVBoxLayout(host)
        for widget in widgets:
            layout.addWidget(widget)
        qtbot.addWidget(host)
        host.show()
        qtbot.waitExposed(host)
        host.activateWindow()
        qtbot.waitUntil(host.isActiveWindow, timeout=3000)  # focus needs an active window
        return host
    return build


def test_labels_are_read_as_their_words(qtbot) -> None:
    """Before, every label had a fixed name ("Result", "What we check", "Instruction"), so a
    screen reader read that name and never the words."""
    screens = [IdleScreen(Settings()), ConsentScreen(consent_text(Settings())), ResultScreen()]
    screens[2].show_result(RESULT_FAIL)
    for screen in screens:
        qtbot.addWidget(screen)
        for label in screen.findChildren(QLabel):
            if label.text():
                assert accessible_name(label) == label.text()
    # And it follows the words as they change.
    result = screens[2]
    assert accessible_name(result.title) == RESULT_FAIL.title
    assert accessible_name(result.detail) == RESULT_FAIL.detail


def test_the_result_is_read_with_the_done_button_that_has_focus(qtbot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    screen.show_result(RESULT_FAIL)
    assert screen.primary is screen.finish
    description = screen.finish.accessibleDescription()
    assert description.startswith(result_sentence(RESULT_FAIL))
    assert accessible_name(screen.finish) == "Done"


@pytest.mark.parametrize("kind", ["plain", "primary", "checked"])
def test_every_button_shows_the_yellow_focus_ring(styled, kind) -> None:
    """Before, the primary and the checked buttons' own border rules came after the focus
    rule and hid the ring."""
    if kind == "checked":
        button = ChoiceButton("More time", "More time: on")
        button.setChecked(True)
    else:
        button = BigButton("Start", "Start", primary=kind == "primary")
    other = BigButton("Other", "Other")
    styled(button, other)
    other.setFocus()
    assert accent_pixels(button) == 0
    button.setFocus()
    assert button.hasFocus()
    assert accent_pixels(button) > 2 * button.width()  # a ring, not a speck


@pytest.mark.parametrize("height, scrolls", [(1080, False), (560, True)])
def test_the_notice_is_a_visible_named_tab_stop_only_when_it_scrolls(styled, height,
                                                                       scrolls) -> None:
    """Before, the notice's scroll area took focus with no ring and no name."""
    screen = ConsentScreen(consent_text(Settings().replace("kiosk", mode="staffed")))
    host = styled(screen)
    host.resize(1280, height)
    area = screen.notice_area
    QWidget.setFocus(screen.accept)
    assert (area.verticalScrollBar().maximum() > 0) == scrolls
    takes_focus = area.focusPolicy() != Qt.FocusPolicy.NoFocus
    assert takes_focus == scrolls
    assert accessible_name(area) == area.accessibleName() != ""
    if scrolls:
        before = accent_pixels(area)
        area.setFocus()
        assert area.hasFocus() and accent_pixels(area) > before + 2 * area.width()


def test_an_announcement_reaches_screen_readers(qtbot) -> None:
    label = QLabel("Hold still")
    qtbot.addWidget(label)
    posted = []
    announce(label, "Please ask a member of staff", post=posted.append)
    (event,) = posted
    assert event.type() == QAccessible.Event.Announcement
    assert event.message() == "Please ask a member of staff" and event.object() is label


def test_the_oval_is_dashed_until_the_face_is_placed(qtbot) -> None:
    """Green and amber are about as bright: the line's pattern tells them apart too."""
    preview = PreviewWidget()
    qtbot.addWidget(preview)
    assert preview.oval_pen(4).style() == Qt.PenStyle.DashLine
    preview.set_guidance_ok(True)
    assert preview.oval_pen(4).style() == Qt.PenStyle.SolidLine
