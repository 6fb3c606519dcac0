"""What the live screen says at each moment of a session (offscreen)."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.analysis.guidance import OFF_CENTRE, OK, target_oval
from kiosk.session import SessionProgress
from kiosk.ui.screens.live import LiveScreen
from kiosk.vocabulary import Stage
from kiosk.wording import (
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
