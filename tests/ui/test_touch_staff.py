"""A kiosk with a touch screen and no keyboard (offscreen). A finger scrolls the consent
notice, by its words or its bar (before, neither moved it: no scroller, and a 20 px bar whose
handle was longer than its groove). Staff open the PIN dialog with a long press on the
top-left corner and enter the PIN on its keypad; the dialog is wide enough for its refusals
(before, only Ctrl+Alt+O opened it, the PIN was typed on keys, and it was 292 px wide), and
its message has room of its own under the keypad (before, a refusal cut the keypad's bottom
row)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QPushButton, QScroller

from kiosk.audit import AuditConfig, AuditError, AuditLog, SubjectHasher
from kiosk.operator import MAX_WRONG, OperatorContext
from kiosk.settings import Settings
from kiosk.ui.escape import CornerHoldFilter
from kiosk.ui.gesture import CORNER_PX, CornerHold
from kiosk.ui.operator.pin_dialog import DELETE_KEY, KEY_PX, MIN_WIDTH_PX, OK_KEY, PinDialog
from kiosk.vocabulary import FlowState
from tests.ui.geometry import layout_faults

PIN = "482913"
WAIT_MS = 10000


# -- the consent notice ----------------------------------------------------------------------

def drag(qtbot, widget, start: QPoint, end: QPoint) -> None:
    device = QTest.createTouchDevice()
    QTest.touchEvent(widget, device).press(0, start, widget).commit()
    for k in range(1, 11):
        qtbot.wait(20)
        QTest.touchEvent(widget, device).move(0, start + (end - start) * k / 10, widget).commit()
    QTest.touchEvent(widget, device).release(0, end, widget).commit()
    qtbot.wait(250)


def test_a_finger_scrolls_the_consent_notice(qtbot) -> None:
    from kiosk.ui.screens.consent import SCROLL_BAR_PX, ConsentScreen
    from kiosk.ui.widgets import STYLE_SHEET
    from kiosk.wording import consent_text

    screen = ConsentScreen(consent_text(Settings(), accessible=True))
    screen.setStyleSheet(STYLE_SHEET)
    qtbot.addWidget(screen)
    screen.set_accessible(True)
    screen.resize(1093, 614)  # 1366x768 at 125 %
    screen.show()
    qtbot.waitExposed(screen)
    bar = screen.notice_area.verticalScrollBar()
    assert bar.maximum() > 0 and bar.isVisible() and bar.width() >= SCROLL_BAR_PX
    area = screen.notice_area
    middle = area.mapTo(screen, area.rect().center())
    drag(qtbot, screen, middle, middle - QPoint(0, 150))  # the words up
    assert bar.value() > 0
    drag(qtbot, screen, middle, middle + QPoint(0, 300))
    scroller = QScroller.scroller(area.viewport())
    qtbot.waitUntil(lambda: scroller.state() == QScroller.State.Inactive, timeout=3000)
    assert bar.value() == 0
    top = bar.mapTo(screen, QPoint(bar.width() // 2, 20))  # the bar's handle down
    drag(qtbot, screen, top, top + QPoint(0, 200))
    assert bar.value() == bar.maximum()
    scroller.stop()  # nothing left moving when the screen goes


# -- the gesture, without Qt -----------------------------------------------------------------

def test_a_hold_on_the_corner_is_due_once_after_its_time() -> None:
    hold = CornerHold(hold_s=5.0)
    assert hold.press(10, 12, now=100.0) and hold.holding
    hold.move(20, 30)  # a finger is never quite still
    assert not hold.due(104.9)
    assert hold.due(105.0)
    assert not hold.holding and not hold.due(110.0)  # one dialog a press


@pytest.mark.parametrize("moves", [[(10 + CORNER_PX, 10)], [(60, 60)]],
                         ids=["out of the corner", "a swipe"])
def test_a_finger_that_moves_away_ends_the_hold(moves) -> None:
    hold = CornerHold(hold_s=5.0)
    assert hold.press(10, 10, now=0.0)
    for x, y in moves:
        hold.move(x, y)
    assert not hold.holding and not hold.due(9.0)


def test_a_press_elsewhere_or_released_early_is_no_hold() -> None:
    hold = CornerHold(hold_s=5.0)
    assert not hold.press(CORNER_PX + 1, 5, now=0.0) and not hold.due(9.0)
    hold.press(5, 5, now=0.0)
    hold.release()
    assert not hold.due(9.0)


# -- the gesture on the kiosk window ---------------------------------------------------------

def press_for(qtbot, window, point: QPoint, ms: int, move_to: QPoint | None = None) -> None:
    device = QTest.createTouchDevice()
    QTest.touchEvent(window, device).press(0, point, window).commit()
    if move_to is not None:
        qtbot.wait(50)
        QTest.touchEvent(window, device).move(0, move_to, window).commit()
    qtbot.wait(ms)
    QTest.touchEvent(window, device).release(0, move_to or point, window).commit()


def test_a_long_press_on_the_corner_opens_the_pin_dialog(qtbot, window_for, settings) -> None:
    window = window_for(settings.replace("kiosk", operator_pin=PIN), kiosk_mode=True)
    window.corner_hold.hold = CornerHold(hold_s=0.2)  # 5 s at the kiosk
    window.corner_hold.timer.setInterval(200)
    # Not elsewhere, not too short, not a swipe.
    press_for(qtbot, window, QPoint(window.width() // 2, window.height() // 2), 300)
    press_for(qtbot, window, QPoint(8, 8), 60)
    press_for(qtbot, window, QPoint(8, 8), 300, move_to=QPoint(200, 8))
    assert window.operator.dialog is None and window.flow.state == FlowState.IDLE
    press_for(qtbot, window, QPoint(8, 8), 300)
    qtbot.waitUntil(lambda: window.operator.dialog is not None, timeout=2000)
    dialog = window.operator.dialog
    assert isinstance(dialog, PinDialog) and dialog.isVisible()
    dialog.reject()
    qtbot.waitUntil(lambda: window.operator.dialog is None, timeout=2000)


def test_the_filter_reads_only_its_own_window(qtbot) -> None:
    from PySide6.QtWidgets import QApplication, QWidget

    mine, other = QWidget(), QWidget()
    for widget in (mine, other):
        qtbot.addWidget(widget)
        widget.resize(300, 200)
        widget.show()
        qtbot.waitExposed(widget)
    corner = CornerHoldFilter(mine, CornerHold(hold_s=0.2))
    QApplication.instance().installEventFilter(corner)
    try:
        held: list[bool] = []
        corner.held.connect(lambda: held.append(True))
        press_for(qtbot, other, QPoint(5, 5), 350)
        assert held == []
        press_for(qtbot, mine, QPoint(5, 5), 350)
        assert held == [True]
    finally:
        QApplication.instance().removeEventFilter(corner)


# -- the PIN dialog's keypad and width -------------------------------------------------------

@pytest.fixture
def context(tmp_path: Path):
    log = AuditLog.open(tmp_path / "kiosk.db", AuditConfig(),
                        subject_hasher=SubjectHasher(bytes(32)))
    yield OperatorContext(settings=Settings().replace("kiosk", operator_pin=PIN), audit=log,
                          camera_health=lambda: None, apply_settings=lambda s: None)
    log.close()


def tap(qtbot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_pin_is_entered_on_the_keypad(qtbot, context) -> None:
    dialog = PinDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    # Before, the dialog was 292 px wide whatever MIN_WIDTH_PX said, and had no keypad.
    assert dialog.width() >= MIN_WIDTH_PX
    faces = set(dialog.keys)
    assert faces == {*"0123456789", DELETE_KEY, OK_KEY}
    for key in dialog.keys.values():
        assert key.width() >= KEY_PX and key.height() >= KEY_PX, key.text()
        assert key.accessibleName()
    for digit in PIN + "7":
        tap(qtbot, dialog.keys[digit])
    assert dialog.pin_edit.text() == PIN + "7"
    tap(qtbot, dialog.keys[DELETE_KEY])
    assert dialog.pin_edit.text() == PIN
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        tap(qtbot, dialog.keys[OK_KEY])
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_a_refusal_fits_and_locks_the_keypad(qtbot, context) -> None:
    dialog = PinDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    for attempt in range(MAX_WRONG):  # the last wrong PIN locks
        for digit in "111111":
            tap(qtbot, dialog.keys[digit])
        tap(qtbot, dialog.keys[OK_KEY])
        qtbot.waitUntil(lambda: dialog.message.text() not in ("", "Checking..."),
                        timeout=WAIT_MS)
        if attempt < MAX_WRONG - 1:
            qtbot.waitUntil(dialog.ok_button.isEnabled, timeout=WAIT_MS)
            message = dialog.message
            assert message.height() >= message.heightForWidth(message.width())
    qtbot.waitUntil(lambda: dialog.locked, timeout=WAIT_MS)
    message = dialog.message
    assert "try again" in message.text()
    assert dialog.width() >= MIN_WIDTH_PX
    assert message.height() >= message.heightForWidth(message.width())
    assert message.heightForWidth(message.width()) <= 3 * message.fontMetrics().lineSpacing()
    assert not dialog.keypad.isEnabled()
    tap(qtbot, dialog.keys["5"])
    assert dialog.pin_edit.text() == ""
    dialog.reject()


def keypad_whole(dialog: PinDialog) -> None:
    """The keypad has all the height its keys need, and the message is below it."""
    QApplication.processEvents()
    keypad = dialog.keypad
    assert keypad.height() >= keypad.minimumSizeHint().height()
    assert dialog.message.geometry().top() > keypad.geometry().bottom()
    assert layout_faults(dialog) == []


def test_the_message_never_covers_the_keypad(qtbot, context) -> None:
    """Audit finding t03: after the fifth wrong PIN, the refusal on two lines cut the
    keypad's bottom row (the layout took the room the message lacked from the keypad), and
    the dialog grew and moved the keys under the finger as the messages came."""
    dialog = PinDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    keypad_whole(dialog)
    where = dialog.keypad.mapToGlobal(QPoint(0, 0)), dialog.keypad.size()
    for _ in range(MAX_WRONG):
        for digit in "111111":
            tap(qtbot, dialog.keys[digit])
        tap(qtbot, dialog.keys[OK_KEY])
        qtbot.waitUntil(lambda: dialog.message.text().startswith("Wrong PIN."),
                        timeout=WAIT_MS)
        keypad_whole(dialog)
        assert (dialog.keypad.mapToGlobal(QPoint(0, 0)), dialog.keypad.size()) == where
        qtbot.waitUntil(lambda: dialog.ok_button.isEnabled() or dialog.locked,
                        timeout=WAIT_MS)
    assert dialog.locked and "try again in 5 minutes" in dialog.message.text()
    dialog.reject()


def test_a_long_message_grows_the_dialog_not_over_the_keypad(qtbot, context,
                                                            monkeypatch) -> None:
    def unreadable(entered: str) -> None:
        raise AuditError("the audit log could not be read: " + "disk I/O error; " * 12)

    dialog = PinDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    height, centre = dialog.height(), dialog.geometry().center()
    monkeypatch.setattr(context, "check_pin", unreadable)
    for digit in "111111":
        tap(qtbot, dialog.keys[digit])
    tap(qtbot, dialog.keys[OK_KEY])
    qtbot.waitUntil(lambda: "could not be checked" in dialog.message.text(), timeout=WAIT_MS)
    assert dialog.height() > height
    moved = dialog.geometry().center() - centre  # grown about its centre
    assert abs(moved.x()) <= 1 and abs(moved.y()) <= 1, moved
    keypad_whole(dialog)
    dialog.reject()


def test_a_kiosk_without_a_pin_has_no_keypad_to_use(qtbot) -> None:
    with tempfile.TemporaryDirectory() as folder:
        log = AuditLog.open(Path(folder) / "kiosk.db", AuditConfig(),
                            subject_hasher=SubjectHasher(bytes(32)))
        context = OperatorContext(settings=Settings(), audit=log, camera_health=lambda: None,
                                  apply_settings=lambda s: None)
        dialog = PinDialog(context)
        qtbot.addWidget(dialog)
        assert not dialog.keypad.isEnabled() and not dialog.ok_button.isEnabled()
        dialog.reject()
        log.close()
