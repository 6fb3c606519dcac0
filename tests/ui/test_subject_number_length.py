"""A badge or ID number past the cap (64 characters once spaces and dashes are dropped) at the
desk's identity step and at the operator panel's unlock box: kept whole, refused with the cap's
message, nothing started or recorded; a number within the cap goes on whole (offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from kiosk.audit import AuditLog, open_kiosk_log
from kiosk.cloud.results import FaceBox
from kiosk.identity import IdPhoto
from kiosk.ui.operator import OperatorPanel
from kiosk.ui.screens.identity import IdentityScreen
from kiosk.vocabulary import FlowState
from tests.ui.harness import FixedMatcher, match
from tests.ui.test_kiosk_sessions import (  # noqa: F401  (fixtures, registered by import)
    SESSION_TIMEOUT_MS,
    id_photo,
    kiosk,
    staffed,
)
from tests.ui.test_operator_panel import (  # noqa: F401  (fixtures, registered by import)
    WAIT_MS,
    applied,
    audit,
    clock,
    ctx,
    db_path,
    health,
    panel,
)

LONG = "A" * 500
TOO_LONG = "the subject number is longer than 64 characters"
# 64 digits typed in groups: 80 characters in the field, one number of 64 once normalised.
GROUPED = "1234 5678 " * 8


@pytest.fixture
def screen(qtbot: Any) -> Iterator[IdentityScreen]:
    """The identity step at 1280x800 with an ID photo loaded (Continue enabled)."""
    widget = IdentityScreen()
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    widget.show_photo(IdPhoto(np.full((300, 240, 3), 128, np.uint8), FaceBox(60, 80, 180, 240),
                              "file", "id.png"))
    yield widget


def paste(screen: IdentityScreen, text: str) -> None:
    """As a paste: the field's limits apply as they do to Ctrl+V."""
    screen.number_edit.setFocus()
    screen.number_edit.insert(text)


def press_continue(qtbot: Any, screen: IdentityScreen) -> list[bool]:
    """Click Continue; ``[True]`` when the screen confirmed."""
    confirmed: list[bool] = []
    screen.confirmed.connect(lambda: confirmed.append(True))
    qtbot.mouseClick(screen.proceed, Qt.MouseButton.LeftButton)
    return confirmed


@pytest.mark.parametrize(("typed", "count"), [(LONG, 500), ("\ufb00" * 33, 66)],
                         ids=["500 letters", "33 ligatures, 66 letters"])
def test_the_desk_keeps_a_long_number_whole_and_says_what_is_wrong(
        qtbot: Any, screen: IdentityScreen, typed: str, count: int) -> None:
    paste(screen, typed)
    # Before: the field cut a paste to 64 characters and the cut number was hashed.
    assert screen.number_edit.text() == typed
    assert press_continue(qtbot, screen) == []
    message = screen.number_message
    assert message.isVisible() and message.text().startswith(
        f"Check the badge or ID number: {TOO_LONG} ({count} once spaces")
    assert message.height() >= message.heightForWidth(message.width())  # not cut
    assert screen.number_edit.hasFocus() and screen.number_edit.text() == typed
    assert screen.photo is not None and screen.proceed.isEnabled()
    # Editing the number takes the message away: it was about the number as it was.
    qtbot.keyClick(screen.number_edit, Qt.Key.Key_Backspace)
    assert not message.isVisible()


def test_the_desk_passes_a_grouped_number_on_whole(qtbot: Any, screen: IdentityScreen) -> None:
    paste(screen, GROUPED)
    assert press_continue(qtbot, screen) == [True]
    assert screen.number == GROUPED.strip()  # before: cut to its first 64 characters
    assert not screen.number_message.isVisible()


def run_identity_step(qtbot: Any, window: Any, photo: Any, number: str) -> None:
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    qtbot.keyClick(window.consent.accept, Qt.Key.Key_Space)
    window.identity.file_chosen.emit(str(photo))
    qtbot.waitUntil(lambda: window.identity.proceed.isEnabled(), timeout=5000)
    window.identity.number_edit.insert(number)
    qtbot.mouseClick(window.identity.proceed, Qt.MouseButton.LeftButton)


def test_the_kiosk_starts_no_check_for_a_long_number(
        qtbot: Any, kiosk: Any, settings: Any, tmp_path: Any,  # noqa: F811
        id_photo: Any) -> None:  # noqa: F811
    s = staffed(settings)
    window, *_ = kiosk(s, matcher=FixedMatcher(match(True)))
    run_identity_step(qtbot, window, id_photo, "\ufb00" * 33)
    # Before: the session refused it at its start and the person saw "The check could not be
    # completed", the photo and the number gone.
    qtbot.wait(200)
    assert window.flow.state == FlowState.IDENTITY
    assert TOO_LONG in window.identity.number_message.text()
    with open_kiosk_log(s, tmp_path) as log:
        assert log.list_attempts() == []


def test_the_kiosk_records_the_whole_grouped_number(
        qtbot: Any, kiosk: Any, settings: Any, tmp_path: Any,  # noqa: F811
        id_photo: Any) -> None:  # noqa: F811
    s = staffed(settings)
    window, *_ = kiosk(s, matcher=FixedMatcher(match(True)))
    run_identity_step(qtbot, window, id_photo, GROUPED)
    qtbot.waitUntil(lambda: window.flow.state == FlowState.RESULT, timeout=SESSION_TIMEOUT_MS)
    with open_kiosk_log(s, tmp_path) as log:
        (attempt,) = log.list_attempts()
        assert attempt.record.subject_ref == log.subject_ref("12345678" * 8)


def test_the_operator_unlock_box_refuses_a_long_number_and_keeps_it(
        qtbot: Any, panel: OperatorPanel, audit: AuditLog) -> None:  # noqa: F811
    page = panel.lockouts
    panel.tabs.setCurrentWidget(page)
    panel.operator_edit.setText("Alice")
    page.reason_edit.setText("badge checked")
    page.number_edit.setText(LONG)
    qtbot.mouseClick(page.unlock_number_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "recorded" in page.message.text(), timeout=WAIT_MS)
    # Before: a 500-character number was hashed and the unlock recorded for it.
    assert page.message.text().startswith(f"Not recorded: {TOO_LONG} (500 once spaces")
    # The layout grows the label on its next pass, after the text is set: wait for it.
    message = page.message
    qtbot.waitUntil(lambda: message.height() >= message.heightForWidth(message.width()),
                    timeout=WAIT_MS)
    assert (page.number_edit.text(), page.reason_edit.text()) == (LONG, "badge checked")
    assert audit.operator_actions(action="unlock") == []
