"""What the live screen says at each moment of a session (offscreen)."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtGui import QFontMetrics

from kiosk.analysis.guidance import OFF_CENTRE, OK, target_oval
from kiosk.session import SessionProgress
from kiosk.ui.screens.live import PROMPT_PT, LiveScreen
from kiosk.vocabulary import Stage
from kiosk.wording import (
    AGAIN_TEXT,
    BETWEEN_PROMPTS_TEXT,
    FURTHER_HINT,
    GET_READY_TEXT,
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
    label = screen.prompt
    assert QFontMetrics(label.font()).horizontalAdvance(label.text()) <= (
        label.contentsRect().width())
    assert QFontMetrics(label.font()).lineSpacing() <= label.height()
    # Full size where there is room; smaller only where there is not.
    assert (label.font().pointSize() == PROMPT_PT) is (width == 1920)
