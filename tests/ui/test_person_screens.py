"""The consent and idle screens as a person meets them (offscreen): nothing cut, nothing
that points to what is not there, and the accessible check choosable where it is offered."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel

from kiosk.settings import Settings
from kiosk.ui.screens.consent import ConsentScreen
from kiosk.ui.screens.idle import IdleScreen
from kiosk.ui.widgets import FOREGROUND
from kiosk.wording import (
    ACCESSIBLE_LABEL_ON,
    IDLE_LOCKED_TEXT,
    IDLE_LOCKED_TITLE,
    IDLE_TITLE,
    IDLE_WAIT_TITLE,
    consent_text,
)

#: The longest contact line a site may give (kiosk.privacy_contact).
CONTACT = ("Acme Station Services Ltd., Data Protection Officer, 120 Station Road, Springfield; "
           "privacy@acme-station.example or +44 20 7946 0000, or please ask at the desk.")


def longest_notice(mode: str = "staffed") -> Settings:
    """A kiosk with the cloud matcher, a kept picture, the light check and the longest
    contact: every optional line of the notice; ``"unattended"``: a member check-in."""
    return (Settings().replace("kiosk", mode=mode, privacy_contact=CONTACT)
            .replace("matching", matcher="auto", collection_id="site-members")
            .replace("audit", store_best_frame=True))


@pytest.mark.parametrize("mode", ["staffed", "unattended"])
@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_no_line_of_the_consent_notice_is_cut(qtbot, size, mode) -> None:
    # Before, at 1280x800 the layout squeezed the word-wrapped notice: "Your face is compared
    # with the photo on your ID" was half hidden and the Amazon Rekognition line not shown.
    assert len(CONTACT) == 160
    screen = ConsentScreen(consent_text(longest_notice(mode)))
    qtbot.addWidget(screen)
    screen.resize(*size)
    screen.show()
    qtbot.waitExposed(screen)
    for label in (screen.checked, screen.kept, screen.checked_heading, screen.kept_heading):
        assert label.height() >= label.heightForWidth(label.width()), label.accessibleName()
    assert "Amazon Rekognition" in screen.checked.text()
    assert CONTACT in screen.kept.text()
    # The question and the three buttons stay on screen, below the notice, and no button's
    # words are cut (36 px of padding each side).
    for widget in (screen.question, screen.accept, screen.decline, screen.accessible):
        bottom = widget.mapTo(screen, widget.rect().bottomLeft()).y()
        assert widget.isVisible() and bottom <= screen.height(), widget.accessibleName()
    qtbot.mouseClick(screen.accessible, Qt.MouseButton.LeftButton)  # the longer label
    qtbot.wait(50)  # the layout follows the new label on the event loop
    for button in (screen.accept, screen.decline, screen.accessible):
        words = QFontMetrics(button.font()).horizontalAdvance(button.text())
        assert words + 2 * 36 <= button.width(), button.text()


def test_the_consent_screen_offers_the_choice_it_mentions(qtbot) -> None:
    settings = Settings()
    screen = ConsentScreen(consent_text(settings))
    qtbot.addWidget(screen)
    assert '"More time, no flashing" below' in screen.checked.text()
    chosen: list[bool] = []
    screen.accessible_toggled.connect(chosen.append)
    qtbot.mouseClick(screen.accessible, Qt.MouseButton.LeftButton)
    assert chosen == [True] and screen.accessible.text() == ACCESSIBLE_LABEL_ON


def test_a_locked_kiosk_gives_no_approach_hints(qtbot) -> None:
    screen = IdleScreen(Settings())
    qtbot.addWidget(screen)
    screen.set_hint("Hold still")
    assert screen.hint.text() == "Hold still"
    screen.set_lockouts(kiosk=True, subject=False)
    assert screen.hint.text() == ""
    screen.set_hint("Look at the camera")
    assert screen.hint.text() == ""
    assert not screen.start.isVisible() and not screen.accessible.isVisible()
    screen.set_lockouts(kiosk=False, subject=False)
    screen.set_hint("Look at the camera")
    assert screen.hint.text() == "Look at the camera"
    # The camera icon comes back in its own colour, not the staff blue of the lock.
    assert screen.icon.colour == FOREGROUND


def test_the_wait_before_the_next_check_counts_down_and_a_lock_says_more(qtbot) -> None:
    """While the next check must wait (kiosk.pacing) the idle screen says to wait and for how
    long, never why, and offers nothing to press; a kiosk locked meanwhile says so instead."""
    left = [12.2]
    screen = IdleScreen(Settings())
    qtbot.addWidget(screen)
    screen.show()
    screen.follow_wait(lambda: left[0])
    assert (screen.title.text(), screen.text.text()) == (
        IDLE_WAIT_TITLE, "The next check can start in 13 seconds.")
    assert not screen.start.isVisible() and not screen.accessible.isVisible()
    screen.set_hint("Look at the camera")
    assert screen.hint.text() == ""
    screen.set_lockouts(kiosk=True, subject=False)
    assert (screen.title.text(), screen.text.text()) == (IDLE_LOCKED_TITLE, IDLE_LOCKED_TEXT)
    screen.refresh_wait()
    assert screen.text.text() == IDLE_LOCKED_TEXT
    screen.set_lockouts(kiosk=False, subject=False)
    left[0] = 0.4
    screen.refresh_wait()
    assert screen.text.text() == "The next check can start in 1 second."
    left[0] = 0.0
    qtbot.waitUntil(screen.start.isVisible, timeout=2000)  # its own timer reads the wait
    assert screen.title.text() == IDLE_TITLE and screen.accessible.isVisible()


def test_no_idle_text_mentions_an_oval(qtbot) -> None:
    screen = IdleScreen(Settings())
    qtbot.addWidget(screen)
    words = " ".join(label.text() for label in screen.findChildren(QLabel))
    assert "oval" not in words.lower()
    assert "4 movements" in screen.accessible.accessibleDescription()
