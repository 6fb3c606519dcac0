"""What the live screen says at each moment of a session (offscreen)."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics

from kiosk.analysis import guidance as guidance_module
from kiosk.analysis.guidance import NO_FACE, OFF_CENTRE, OK, Guidance, target_oval
from kiosk.analysis.light.sequence import PALETTE
from kiosk.session import SessionProgress
from kiosk.ui.screens.live import PROMPT_PT, LiveScreen
from kiosk.ui.widgets import ATTENTION, FOREGROUND
from kiosk.vocabulary import Stage
from kiosk.wording import (
    AGAIN_TEXT,
    BETWEEN_PROMPTS_TEXT,
    FURTHER_HINT,
    GET_READY_TEXT,
    LIGHT_HINT,
    LIGHT_LEAD_HINT,
    LIGHT_TEXT,
    PAUSED_TEXT,
    PLACE_TEXT,
    RETRY_HINT,
    prompt_for,
)

BASE = SessionProgress(stage=Stage.CHALLENGE, prompt=None, index=0, total=3, time_left=None,
                       window_s=4.0, guidance=OK, face_box=None, frame_shape=(480, 640),
                       oval=target_oval((480, 640)))


@pytest.fixture
def screen(qtbot) -> LiveScreen:
    widget = LiveScreen()
    qtbot.addWidget(widget)
    return widget


def said(screen: LiveScreen) -> tuple[str, str, str, str]:
    return (screen.step.text(), screen.prompt.text(), screen.hint.text(),
            screen.guidance.text())


def test_placement_then_the_countdown(screen: LiveScreen) -> None:
    screen.show_progress(dataclasses.replace(BASE, guidance=OFF_CENTRE))
    assert said(screen) == (GET_READY_TEXT, PLACE_TEXT, "", OFF_CENTRE.message)
    screen.show_progress(dataclasses.replace(BASE, placed=True, ready_in=1.2))
    assert said(screen)[0] == "Starting in 2" and said(screen)[1] == GET_READY_TEXT


def test_a_prompt_its_pause_and_its_second_chance(screen: LiveScreen) -> None:
    turn = prompt_for("turn_left")
    asked = dataclasses.replace(BASE, prompt="turn_left", time_left=3.0, placed=True)
    assert screen.show_progress(asked) is True  # a new prompt
    assert said(screen)[:3] == ("Step 1 of 3", turn.text, turn.hint)
    assert screen.show_progress(asked) is False  # the same prompt
    screen.show_progress(dataclasses.replace(asked, paused=True, guidance=OFF_CENTRE))
    assert said(screen)[2:] == (PAUSED_TEXT, OFF_CENTRE.message)
    retry = dataclasses.replace(asked, prompt="smile", retry=True)
    assert screen.show_progress(retry) is True
    assert said(screen)[2] == f"{RETRY_HINT}. {prompt_for('smile').hint}"


@pytest.mark.parametrize("reach, further", [(None, False), (0.2, False), (0.6, True),
                                            (0.95, True), (1.0, False), (1.6, False)])
def test_someone_who_turns_too_little_is_told_a_little_further(screen: LiveScreen, reach,
                                                               further) -> None:
    turn = prompt_for("turn_left")
    screen.show_progress(dataclasses.replace(BASE, prompt="turn_left", time_left=3.0,
                                             placed=True, reach=reach))
    assert said(screen)[2] == (f"{FURTHER_HINT}. {turn.hint}" if further else turn.hint)


def test_a_missed_prompt_is_not_praised_before_its_second_chance(screen: LiveScreen) -> None:
    # Before, the pause between a timed-out prompt and its second chance said "Good. Face
    # the camera again".
    answered = dataclasses.replace(BASE, index=1, placed=True)
    screen.show_progress(answered)
    assert said(screen)[1] == BETWEEN_PROMPTS_TEXT and screen.icon.name == "check"
    screen.show_progress(dataclasses.replace(answered, retry=True))
    assert said(screen)[1] == AGAIN_TEXT and "Good" not in said(screen)[1]
    assert screen.icon.name is None


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_longest_prompt_fits_its_line(qtbot, screen: LiveScreen, width: int) -> None:
    # Before, "Turn your head to your right" wrapped inside its one-line band at 1280 pixels
    # and its top and bottom were cut off.
    screen.resize(width, 800 if width == 1280 else 1080)
    screen.show()
    qtbot.waitExposed(screen)
    longest = max(("turn_left", "turn_right", "smile", "blink"),
                  key=lambda a: len(prompt_for(a).text))
    screen.show_progress(dataclasses.replace(BASE, prompt=longest, time_left=3.0, placed=True))
    assert fits_one_line(screen.prompt)
    # Full size where there is room; smaller only where there is not.
    assert (screen.prompt.font().pointSize() == PROMPT_PT) is (width == 1920)
    # The guidance shares its row with Stop: before, "Centre your face in the oval" wrapped
    # there at 1280 pixels and both its lines were cut.
    for message in sorted(GUIDANCE_MESSAGES, key=len):
        screen.show_progress(dataclasses.replace(BASE, prompt=longest, time_left=3.0,
                                                 guidance=dataclasses.replace(
                                                     OFF_CENTRE, message=message)))
        assert screen.guidance.text() == message
        assert fits_one_line(screen.guidance), message


GUIDANCE_MESSAGES = {g.message for g in vars(guidance_module).values()
                     if isinstance(g, Guidance) and not g.ok}


def fits_one_line(label) -> bool:
    """Whether ``label`` shows its text on one line, nothing cut: where the label lays its
    text out is its contents less its indent (a framed label with no indent set indents by
    half an "x", which wrapped the prompt once it had padding)."""
    metrics = QFontMetrics(label.font())
    indent = label.indent() if label.indent() >= 0 else (
        metrics.horizontalAdvance("x") // 2 if label.frameWidth() > 0 else 0)
    return (metrics.horizontalAdvance(label.text()) <= label.contentsRect().width() - indent
            and label.heightForWidth(label.width()) <= label.height()
            and metrics.lineSpacing() <= label.height())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG 2.x contrast ratio of two opaque colours."""
    def luminance(colour: QColor) -> float:
        def linear(c: int) -> float:
            v = c / 255
            return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
        r, g, b = (linear(c) for c in colour.getRgb()[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def light(colour: tuple[int, int, int], guidance=OK) -> SessionProgress:
    """The light step with one colour for two seconds."""
    return dataclasses.replace(BASE, stage=Stage.LIGHT, placed=True, guidance=guidance,
                               light=((0.0, 2.0, colour),))


@pytest.mark.parametrize("colour", PALETTE)
def test_every_line_over_the_colours_reads_at_four_and_a_half_to_one(qtbot, screen, colour):
    """Before, only the instruction had a band: the white hint and the amber guidance sat
    on yellow, cyan and green at 1.1-2:1."""
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    screen.show_progress(light(colour, guidance=OFF_CENTRE))
    qtbot.waitUntil(lambda: screen.light.wash.covered >= 1.0, timeout=2000)
    shot = screen.grab().toImage()
    texts = {screen.prompt: FOREGROUND, screen.hint: FOREGROUND, screen.guidance: ATTENTION}
    for label, ink in texts.items():
        # The band where no letter is: the padding at the line's left end.
        where = label.mapTo(screen, label.rect().topLeft())
        behind = QColor(shot.pixel(where.x() + 6, where.y() + label.height() // 2))
        assert label.text() and contrast(ink, behind) >= 4.5, (label.text(), behind.getRgb())
    assert not screen.step.text() and not screen.step.property("band")  # no empty band


def test_the_words_keep_clear_of_their_bands_edge(screen: LiveScreen) -> None:
    for label in (screen.step, screen.prompt, screen.hint, screen.guidance):
        margins = label.contentsMargins()
        assert margins.left() >= 12 and margins.right() >= 12, label.objectName()


def test_the_description_follows_every_change(screen: LiveScreen) -> None:
    """Before, it changed only with the instruction: a pause or new guidance left it stale."""
    turn = prompt_for("turn_left")
    asked = dataclasses.replace(BASE, prompt="turn_left", time_left=3.0, placed=True)
    screen.show_progress(asked)
    assert screen.accessibleDescription() == f"Step 1 of 3. {turn.text}. {turn.hint}"
    screen.show_progress(dataclasses.replace(asked, paused=True, guidance=OFF_CENTRE))
    assert screen.accessibleDescription() == (
        f"Step 1 of 3. {turn.text}. {PAUSED_TEXT}. {OFF_CENTRE.message}")
    screen.show_progress(asked)
    assert screen.accessibleDescription() == f"Step 1 of 3. {turn.text}. {turn.hint}"


def test_after_the_last_prompt_the_step_is_the_last(screen: LiveScreen) -> None:
    """The session keeps its index on the last prompt once done (it never passes the end):
    before, the screen then said "Step 3 of 4" after the fourth prompt."""
    last = dataclasses.replace(BASE, prompt="smile", index=3, total=4, time_left=3.0,
                               placed=True)
    screen.show_progress(last)
    assert said(screen)[0] == "Step 4 of 4"
    screen.show_progress(dataclasses.replace(last, prompt=None, time_left=None))
    assert said(screen)[:2] == ("Step 4 of 4", BETWEEN_PROMPTS_TEXT)
    # Between two prompts the step answered is still the one before the next.
    screen.reset()
    screen.show_progress(dataclasses.replace(last, index=2))
    screen.show_progress(dataclasses.replace(last, prompt=None, time_left=None, index=3))
    assert said(screen)[0] == "Step 3 of 4"


def test_a_face_that_leaves_the_light_is_asked_back_on_both_lines(screen: LiveScreen) -> None:
    """Before, "Hold still" stayed on top while the bottom line said to step in front of the
    camera."""
    screen.show_progress(light((255, 255, 0)))
    assert said(screen)[1:] == (LIGHT_TEXT, LIGHT_HINT, "")
    screen.show_progress(light((255, 255, 0), guidance=NO_FACE))
    assert said(screen)[1:] == (PLACE_TEXT, LIGHT_HINT, NO_FACE.message)


def test_the_light_step_is_told_before_its_colours(qtbot, screen: LiveScreen) -> None:
    """The warning comes with the placement that precedes the colours, not with them."""
    told, guided = [], []
    screen.told.connect(told.append)
    screen.guided.connect(guided.append)
    waiting = dataclasses.replace(BASE, stage=Stage.LIGHT, guidance=OFF_CENTRE)
    screen.show_progress(waiting)
    screen.show_progress(waiting)  # the same words: told once
    assert told == [f"{PLACE_TEXT}. {LIGHT_LEAD_HINT}"] and guided == [OFF_CENTRE.message]
    assert not screen.light.active
    screen.show_progress(light((0, 0, 255)))
    assert told[-1] == f"{LIGHT_TEXT}. {LIGHT_HINT}" and guided[-1] == ""


def test_a_prompt_is_not_told_but_its_pause_is(screen: LiveScreen) -> None:
    told = []
    screen.told.connect(told.append)
    asked = dataclasses.replace(BASE, prompt="smile", time_left=3.0, placed=True)
    assert screen.show_progress(asked)  # the window says a new prompt itself
    screen.show_progress(dataclasses.replace(asked, paused=True))
    screen.show_progress(asked)
    assert told == [PAUSED_TEXT, ""]  # withdrawn once the face is back


def test_stop_and_escape_ask_to_stop(qtbot, screen: LiveScreen) -> None:
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(screen.isActiveWindow, timeout=3000)
    # The screen takes the focus (Stop, focused, took a stray Enter); Stop is one Tab away.
    assert screen.primary is screen and screen.stop.isVisible()
    screen.setFocus()
    qtbot.keyClick(screen, Qt.Key.Key_Tab)
    assert screen.stop.hasFocus()
    with qtbot.waitSignal(screen.stop_requested, timeout=1000):
        qtbot.mouseClick(screen.stop, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(screen.stop_requested, timeout=1000):
        qtbot.keyClick(screen, Qt.Key.Key_Escape)
