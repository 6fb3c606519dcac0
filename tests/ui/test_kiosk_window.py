"""The kiosk window's screens: identity step, keyboard and accessibility, kiosk mode, the
operator escape, and the widgets' drawing."""

from __future__ import annotations

import dataclasses
import os
import time

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAccessible, QImage, QKeyEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit, QPushButton, QWidget

from kiosk.audit import open_kiosk_log
from kiosk.ui.app import KioskWindow
from kiosk.ui.widgets import CountdownRing
from kiosk.ui.widgets.icons import ICONS, draw_icon
from kiosk.vocabulary import FlowState
from kiosk.wording import (
    ACCESSIBLE_LABEL,
    ACCESSIBLE_LABEL_ON,
    PAUSED_TEXT,
    PROMPTS,
    prompt_for,
    result_sentence,
)
from tests.ui.harness import (
    FixedMatcher,
    Responder,
    SyntheticCamera,
    make_worker,
    match,
    open_real_panel,
)


def steps_until_result(qtbot, window) -> set[str]:
    """Every "Step i of n" the live screen showed until the result."""
    steps: set[str] = set()

    def finished() -> bool:
        steps.add(window.live.step.text())
        return window.flow.state == FlowState.RESULT

    qtbot.waitUntil(finished, timeout=30000)
    return steps


def to_identity(qtbot, window):
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.consent.accept, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.IDENTITY and window.current_screen() is window.identity


def test_the_identity_step_explains_an_unusable_file(qtbot, window_for, settings, tmp_path):
    s = settings.replace("kiosk", mode="staffed")
    window = window_for(s, matcher=FixedMatcher(match(True)))
    to_identity(qtbot, window)
    bad = tmp_path / "scan.jpg"
    bad.write_text("not a picture")
    window.identity.file_chosen.emit(str(bad))
    # The first ID photo also loads the face detector: seconds on a loaded machine.
    qtbot.waitUntil(lambda: "not an image" in window.identity.message.text(), timeout=15000)
    assert not window.identity.proceed.isEnabled()


def test_the_identity_step_takes_the_card_from_the_camera(qtbot, window_for, settings):
    window = window_for(settings.replace("kiosk", mode="staffed"),
                        matcher=FixedMatcher(match(True)))
    to_identity(qtbot, window)
    qtbot.waitUntil(lambda: window.identity.preview.frames_shown > 3, timeout=5000)
    qtbot.mouseClick(window.identity.capture, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.identity.proceed.isEnabled(), timeout=5000)
    assert window.identity.photo.origin == "camera"
    assert window.identity.thumb.pixmap() is not None and window.identity.proceed.hasFocus()
    qtbot.mouseClick(window.identity.cancel, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.IDLE and window.identity.photo is None


def test_the_scanner_folder_button_shows_only_with_a_folder(qtbot, settings, tmp_path):
    from kiosk.ui.screens import IdentityScreen

    without, with_folder = IdentityScreen(None), IdentityScreen(str(tmp_path))
    for screen in (without, with_folder):
        qtbot.addWidget(screen)
        screen.show()
    assert not without.use_scan.isVisible() and with_folder.use_scan.isVisible()


def test_the_newest_scan_is_loaded_from_the_folder(qtbot, settings, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    cv2.imwrite(str(folder / "id.png"), np.full((200, 160, 3), 120, np.uint8))
    old = time.time() - 10  # the scanner finished writing it
    os.utime(folder / "id.png", (old, old))
    worker = make_worker(settings.replace("kiosk", mode="staffed"),
                         camera=SyntheticCamera(speed=3.0), responder=Responder(present=False),
                         audit_factory=lambda s: open_kiosk_log(s, tmp_path),
                         matcher=FixedMatcher(match(True)))
    window = KioskWindow(settings.replace("kiosk", mode="staffed"), worker,
                         scan_folder=str(folder))
    qtbot.addWidget(window)
    window.start()
    try:
        qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=10000)
        window.flow.start(), window.flow.accept()
        qtbot.mouseClick(window.identity.use_scan, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.identity.photo is not None, timeout=5000)
        assert window.identity.photo.name == "id.png" and window.identity.photo.origin == "scan"
    finally:
        window.shutdown()


@pytest.mark.parametrize("sound", [True, False])
def test_prompts_are_spoken_when_sound_is_on(qtbot, window_for, settings, sound):
    said: list[str] = []
    responder = Responder()
    window = window_for(settings.replace("kiosk", sound=sound), speak=said.append,
                        responder=responder)
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.consent.accept, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.LIVE
    qtbot.waitUntil(lambda: window.flow.state == FlowState.RESULT, timeout=30000)
    assert window.result.kind == "pass"
    if sound:
        # Every prompt shown is said once, second chances included (a loaded machine may
        # drop the frames of a synthetic blink), and so is the result, after them.
        prompts = {p.text for p in PROMPTS.values()}
        assert [text for text in said if text in prompts] == [
            prompt_for(action).text for _, action, _ in responder.prompts]
        assert len(responder.prompts) >= settings.liveness.challenge_count
        qtbot.waitUntil(lambda: result_sentence(window.flow.result) in said, timeout=10000)
    else:
        assert said == []


def test_the_accessible_check_is_chosen_on_the_idle_screen(qtbot, window_for, settings,
                                                           tmp_path):
    """The choice shows in words, asks its own prompts of this person only, is recorded for
    staff, then resets."""
    responder = Responder()
    window = window_for(settings, responder=responder)
    button = window.idle.accessible
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.isChecked() and button.text() == ACCESSIBLE_LABEL_ON
    assert window.flow.accessible
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.consent.accept, Qt.MouseButton.LeftButton)
    steps = steps_until_result(qtbot, window)
    assert window.result.kind == "pass"
    # Its two prompts and two for the light check it never has (off at this test's site).
    count = (settings.liveness.accessible_challenge_count
             + settings.liveness.accessible_light_prompts)
    assert count != settings.liveness.challenge_count
    assert f"Step 1 of {count}" in steps
    assert not any(f"of {settings.liveness.challenge_count}" in step for step in steps)
    from kiosk.audit import open_kiosk_log
    log = open_kiosk_log(settings, tmp_path)
    try:
        (stored,) = log.list_attempts()
    finally:
        log.close()
    assert stored.accessible and stored.record is not None and stored.record.accessible
    assert len(stored.record.challenges) == count
    window.flow.finish()
    qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=5000)
    assert not button.isChecked() and button.text() == ACCESSIBLE_LABEL
    assert not window.flow.accessible


def test_every_control_has_an_accessible_name(qtbot, window_for, settings):
    window = window_for(settings.replace("kiosk", mode="staffed"),
                        matcher=FixedMatcher(match(True)))
    screens = [window.idle, window.consent, window.identity, window.live, window.processing,
               window.result, window.out_of_service]
    for screen in screens:
        for widget in screen.findChildren(QWidget):
            if isinstance(widget, QPushButton | QLineEdit) or (
                    isinstance(widget, QLabel) and widget.text()):
                # What a screen reader reads: a label's own words when it has no set name.
                interface = QAccessible.queryAccessibleInterface(widget)
                assert interface.text(QAccessible.Text.Name), (type(screen).__name__, widget)
    # Type is large: no text on the person's screens under 16 points.
    for screen in screens:
        for label in screen.findChildren(QLabel):
            if label.text():
                assert label.font().pointSize() >= 16, label.text()


def test_the_identity_step_works_from_the_keyboard(qtbot, window_for, settings):
    window = window_for(settings.replace("kiosk", mode="staffed"),
                        matcher=FixedMatcher(match(True)))
    to_identity(qtbot, window)
    screen = window.identity
    assert screen.open_file.hasFocus()
    order = []
    for _ in range(4):
        order.append(QWidget.focusWidget(screen))
        qtbot.keyClick(QWidget.focusWidget(screen), Qt.Key.Key_Tab)
    # Hidden (no scanner folder) and disabled (no photo yet) buttons are skipped.
    assert order == [screen.open_file, screen.capture, screen.number_edit, screen.cancel]
    qtbot.keyClick(screen.cancel, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=2000)


def key(key_code, modifiers=Qt.KeyboardModifier.NoModifier):
    return QKeyEvent(QEvent.Type.KeyPress, key_code, modifiers)


def test_kiosk_mode_ignores_close_and_swallows_shortcuts(qtbot, window_for, settings):
    window = window_for(settings, kiosk_mode=True)
    window.close()
    assert window.isVisible()
    keys = window._keys
    ctrl_alt = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    assert keys.eventFilter(window, key(Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier))
    assert keys.eventFilter(window, key(Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier))
    assert not keys.eventFilter(window, key(Qt.Key.Key_O, ctrl_alt))  # the operator escape
    assert not keys.eventFilter(window, key(Qt.Key.Key_Tab))
    window.allow_close()
    window.close()
    assert not window.isVisible()


def test_windowed_mode_keeps_shortcuts(qtbot, window_for, settings):
    window = window_for(settings)
    assert not window._keys.eventFilter(window, key(Qt.Key.Key_Q,
                                                    Qt.KeyboardModifier.ControlModifier))


class FakeContext:
    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.audit = kwargs["audit"]


class FakeDialog(QDialog):
    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.context = context


class FakePanel(QWidget):
    closed = Signal()

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.context = context


def test_the_operator_escape_opens_the_pin_dialog_then_the_panel(qtbot, window_for, settings):
    window = window_for(settings.replace("kiosk", operator_pin="2468"),
                        operator_loader=lambda: (FakePanel, FakeContext, FakeDialog))
    window.escape.activated.emit()
    dialog = window.operator.dialog
    assert isinstance(dialog, FakeDialog)
    context = dialog.context
    assert context.audit is window.worker.audit and context.kwargs["settings"] is window.settings
    assert context.kwargs["camera_health"]().frames > 0
    dialog.accept()
    assert window.flow.state == FlowState.OPERATOR and isinstance(window.current_screen(), FakePanel)
    # While the panel is open, the settings it applies reach the kiosk (queued).
    window.worker.audit  # noqa: B018 (the worker keeps its log)
    context.kwargs["apply_settings"](window.settings.replace("kiosk", result_seconds=9.0))
    qtbot.waitUntil(lambda: window.flow.config.result_s == 9.0, timeout=2000)
    window.current_screen().closed.emit()
    assert window.flow.state == FlowState.IDLE and window.current_screen() is window.idle
    # The context is kept between openings (it counts wrong PINs).
    window.escape.activated.emit()
    assert window.operator.dialog.context is context
    # A dialog cancelled opens nothing: the panel is only ever behind an accepted PIN.
    window.operator.dialog.reject()
    assert window.operator.panel is None and window.operator.dialog is None
    assert window.flow.state == FlowState.IDLE and window.current_screen() is window.idle


def test_a_missing_operator_panel_is_reported_not_fatal(qtbot, window_for, settings):
    def missing():
        raise ImportError("No module named 'kiosk.ui.operator'")

    window = window_for(settings.replace("kiosk", operator_pin="2468"), operator_loader=missing)
    window.escape.activated.emit()
    assert window.flow.state == FlowState.IDLE
    assert "Operator panel unavailable" in window.idle.status.text()


def test_the_real_operator_panel_opens_behind_its_pin(qtbot, window_for, settings):
    pytest.importorskip("kiosk.ui.operator")
    window = window_for(settings.replace("kiosk", operator_pin="2468"))
    # A wrong PIN, then Cancel: the kiosk stays idle with no panel.
    window.escape.activated.emit()
    dialog = window.operator.dialog
    dialog.pin_edit.setText("1357")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Wrong PIN"), timeout=5000)
    assert window.operator.panel is None and window.flow.state == FlowState.IDLE
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: window.operator.dialog is None, timeout=5000)
    assert window.operator.panel is None and window.current_screen() is window.idle
    panel = open_real_panel(qtbot, window, "2468")
    with qtbot.waitSignal(panel.closed, timeout=10000):
        panel.close_button.click()
    qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=5000)


def test_every_icon_draws_something():
    for name in ICONS:
        image = QImage(64, 64, QImage.Format.Format_ARGB32)
        image.fill(0)
        painter = QPainter(image)
        draw_icon(painter, QRectF(0, 0, 64, 64), name)
        painter.end()
        arr = np.frombuffer(image.constBits(), np.uint8).reshape(64, 64, 4)
        assert (arr[:, :, 3] > 0).sum() > 50, name
    with pytest.raises(ValueError, match="unknown icon"):
        draw_icon(QPainter(), QRectF(0, 0, 1, 1), "rocket")


def test_the_countdown_ring_shows_the_share_left(qtbot):
    ring = CountdownRing()
    qtbot.addWidget(ring)
    ring.set_time(3.0, 4.0)
    assert ring.fraction == pytest.approx(0.75) and ring.accessibleDescription() == "3 seconds"
    ring.set_time(-1.0, 4.0)
    assert ring.fraction == 0.0
    ring.set_time(None)
    assert ring.fraction is None


@pytest.mark.parametrize("size", [96, 150, 240])
def test_the_countdown_ring_is_drawn_whole(qtbot, size):
    """Its pen stuck out past the widget's edge: four flat sides (an audit's screenshot)."""
    ring = CountdownRing()
    qtbot.addWidget(ring)
    ring.resize(size, size)
    ring.set_time(4.0, 4.0)  # the full circle
    image = ring.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4)
    background = arr[0, 0].astype(int)  # a corner: the circle never reaches it
    drawn = np.abs(arr[:, :, :3].astype(int) - background[:3]).sum(axis=2) > 60
    # Nothing on the outermost rows and columns; the ring comes within a few pixels of them.
    assert not drawn[0].any() and not drawn[-1].any()
    assert not drawn[:, 0].any() and not drawn[:, -1].any()
    assert drawn[:4].any() and drawn[:, :4].any()


def test_the_accessible_check_can_be_chosen_on_the_consent_screen(qtbot, window_for, settings):
    """The notice points to the choice, so the consent screen offers it: chosen there, the
    notice describes the accessible check and the session is that check."""
    window = window_for(settings, responder=Responder())
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.CONSENT and not window.flow.accessible
    qtbot.mouseClick(window.consent.accessible, Qt.MouseButton.LeftButton)
    assert window.flow.accessible and window.idle.accessible.isChecked()
    count = (settings.liveness.accessible_challenge_count
             + settings.liveness.accessible_light_prompts)
    assert f"You chose more time and no flashing: you will be asked to do {count} simple " \
        "movements" in window.consent.checked.text()
    qtbot.mouseClick(window.consent.accept, Qt.MouseButton.LeftButton)
    steps = steps_until_result(qtbot, window)
    assert f"Step 1 of {count}" in steps
    assert not any(f"of {settings.liveness.challenge_count}" in step for step in steps)


def test_a_recording_given_as_source_is_promised_no_light_step(qtbot, window_for, settings):
    # `python main.py --source clip.mp4` runs no light step (a file cannot see the screen):
    # its consent notice said "The screen changes colour" all the same.
    lit = settings.replace("liveness", light_challenge=True)
    for sees_screen in (True, False):
        window = window_for(lit, sees_screen=sees_screen)
        qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
        assert window.flow.state == FlowState.CONSENT
        assert ("The screen changes colour" in window.consent.checked.text()) == sees_screen


def attempts(settings, tmp_path) -> list:
    log = open_kiosk_log(settings, tmp_path)
    try:
        return log.list_attempts()
    finally:
        log.close()


def test_stop_ends_the_check_and_the_attempt_is_still_recorded(qtbot, window_for, settings,
                                                               tmp_path):
    """Before, nobody could stop once the check had started. Stopping goes through the
    cancellation path: the runtime records the session as a failure, so stopping cannot be
    used to try without a record."""
    window = window_for(settings, responder=Responder(reaction_s=60.0))

    def to_a_prompt() -> None:
        qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(window.consent.accept, Qt.MouseButton.LeftButton)
        assert window.flow.state == FlowState.LIVE
        qtbot.waitUntil(lambda: window.live.prompt.text() in {
            p.text for p in PROMPTS.values()}, timeout=20000)

    to_a_prompt()
    # The screen has the focus, Stop is one Tab away: an Enter or Space meant for "I agree,
    # start" (pressed twice, or held) stopped the check when Stop had it.
    assert window.live.hasFocus() and not window.live.stop.hasFocus()
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Space):
        qtbot.keyClick(window.live, key)
    assert window.flow.state == FlowState.LIVE
    qtbot.mouseClick(window.live.stop, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.IDLE and not window.flow.auto_start_armed
    # Opened when the check started, closed as a failure once the session has ended.
    qtbot.waitUntil(lambda: [a.decision for a in attempts(settings, tmp_path)] == ["fail"],
                    timeout=20000)
    # Staff read that the check was stopped, not that the camera stopped (SOURCE_ENDED).
    assert list(attempts(settings, tmp_path)[0].record.reasons) == ["STOPPED"]
    # Escape does the same on the next try.
    to_a_prompt()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    qtbot.keyClick(window.live.stop, Qt.Key.Key_Escape)
    assert window.flow.state == FlowState.IDLE
    qtbot.waitUntil(lambda: [a.decision for a in attempts(settings, tmp_path)]
                    == ["fail", "fail"], timeout=20000)


def test_pauses_and_the_result_are_announced_without_sound(qtbot, window_for, settings,
                                                          monkeypatch):
    """Before, only prompts were ever said, and only aloud with sound on."""
    announced: list[str] = []
    monkeypatch.setattr("kiosk.ui.app.announce", lambda source, text: announced.append(text))
    said: list[str] = []
    # The camera runs at three times real time: a 9 s drift is 3 s on the window's clock, long
    # enough to say the pause after the prompt, and within the pause limit of an 8 s window.
    window = window_for(settings.replace("liveness", response_window_s=8.0),
                        speak=said.append, responder=Responder(drift_s=9.0))
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.consent.accept, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.flow.state == FlowState.RESULT, timeout=30000)
    qtbot.waitUntil(lambda: result_sentence(window.flow.result) in announced, timeout=10000)
    assert PAUSED_TEXT in announced
    assert said == []  # kiosk.sound is off


def wheel_event() -> QWheelEvent:
    return QWheelEvent(QPointF(5, 5), QPointF(5, 5), QPoint(0, 0), QPoint(0, -120),
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                       Qt.ScrollPhase.NoScrollPhase, False)


def test_the_consent_screen_warns_and_the_wheel_keeps_it(qtbot, window_for, settings,
                                                         monkeypatch):
    """Before, it went back to idle with no warning, and only a key or a click counted as
    activity (not the wheel, not a touch screen)."""
    announced: list[str] = []
    monkeypatch.setattr("kiosk.ui.app.announce", lambda source, text: announced.append(text))
    window = window_for(settings)
    window.flow.config = dataclasses.replace(window.flow.config, consent_timeout_s=3.0,
                                             warning_s=1.5)
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    warning = window.consent.warning
    assert not warning.isVisible()
    qtbot.waitUntil(warning.isVisible, timeout=3000)
    assert "closes in 2 seconds" in warning.text() and warning.text() in announced
    # Its seconds count down (they stood still before), and it is said once.
    qtbot.waitUntil(lambda: "closes in 1 second." in warning.text(), timeout=2000)
    assert len([a for a in announced if "closes in" in a]) == 1
    QApplication.sendEvent(window.consent.notice_area.viewport(), wheel_event())
    qtbot.waitUntil(lambda: not warning.isVisible(), timeout=1000)
    assert window.flow.state == FlowState.CONSENT and window.flow.seconds_left() > 2.0
    qtbot.waitUntil(warning.isVisible, timeout=3000)  # warned again
    assert len([a for a in announced if "closes in" in a]) == 2
    qtbot.waitUntil(lambda: window.flow.state == FlowState.IDLE, timeout=3000)
    assert not warning.isVisible()


def test_a_recording_kiosk_says_so_before_consent_and_speech_stops_with_the_person(
        qtbot, window_for, settings):
    """`kiosk record` films every check: the notice said "No picture or video of you is
    kept" all the same. And a sentence still being said when the person left (Stop, Done)
    played on over the next person's idle screen."""
    hushed: list[int] = []
    window = window_for(settings, responder=Responder(reaction_s=60.0), recording=True,
                        hush=lambda: hushed.append(1))
    hushed.clear()  # the start, into idle
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    kept = window.consent.kept.text()
    assert "a video of your whole check is recorded" in kept
    assert "No picture or video of you is kept" not in kept
    qtbot.mouseClick(window.consent.accept, Qt.MouseButton.LeftButton)
    assert hushed == []
    qtbot.mouseClick(window.live.stop, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.IDLE and hushed == [1]


def test_a_face_that_cannot_start_the_kiosk_is_told_to_press_start(qtbot, window_for, settings,
                                                                   monkeypatch):
    """The auditor's queue: the next person took the last one's place with no gap and stood
    well placed for 12 s; the kiosk, disarmed so that the person just served does not start a
    second check by standing there, did nothing and said nothing. Now the hint line says to
    press Start (its delay is shortened here; tests/test_flow.py checks the real one)."""
    import kiosk.flow as flow_module

    monkeypatch.setattr(flow_module, "START_HINT_S", 1.0, raising=False)
    responder = Responder()
    window = window_for(settings, responder=responder)
    window.flow.config = dataclasses.replace(window.flow.config, approach_s=0.5)
    qtbot.waitUntil(lambda: window.flow.state == FlowState.CONSENT, timeout=5000)  # stepped up
    qtbot.mouseClick(window.consent.decline, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.IDLE and not window.flow.auto_start_armed
    assert window.idle.hint.text() == ""
    # The same face stays placed (the person just served, or the next who took their place).
    qtbot.waitUntil(lambda: window.idle.hint.text().startswith("Press Start"), timeout=5000)
    assert window.idle.hint.isVisible()
    qtbot.wait(1500)  # standing still starts nothing
    assert window.flow.state == FlowState.IDLE and window.idle.hint.text().startswith("Press")
    responder.present = False  # out of view: the line goes, and stepping up works again
    qtbot.waitUntil(lambda: window.flow.auto_start_armed and window.idle.hint.text() == "",
                    timeout=5000)
    responder.present = True
    qtbot.waitUntil(lambda: window.flow.state == FlowState.CONSENT, timeout=5000)
    qtbot.mouseClick(window.consent.decline, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.idle.hint.text().startswith("Press Start"), timeout=5000)
    qtbot.mouseClick(window.idle.start, Qt.MouseButton.LeftButton)
    assert window.flow.state == FlowState.CONSENT
