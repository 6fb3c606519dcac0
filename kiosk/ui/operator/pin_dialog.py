"""The PIN dialog in front of the operator panel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.operator import EMPTY_HINT, OperatorContext, PinResult
from kiosk.operator.pin import wait_text
from kiosk.ui.operator.tasks import TaskRunner
from kiosk.ui.operator.widgets import STYLE, message_label, named, show_message

MIN_WIDTH_PX = 560
"""Wide enough for the refusal and lockout messages on three lines at the panel's font."""

MESSAGE_LINES = 2
"""Lines of room kept for the message under the keypad: every answer of the PIN check fits
in two at :data:`MIN_WIDTH_PX`, so the dialog keeps its size and the keypad does not move
under a finger when one appears (a longer message, such as a failed check's, grows it)."""

KEY_PX = 72
"""Side of a key of the on-screen keypad: a fingertip's 9 mm or more up to 200 dots per inch."""

KEYPAD_STYLE = f"QPushButton {{ min-width: {KEY_PX}px; min-height: {KEY_PX}px; padding: 0px; " \
    "font-size: 28px; font-weight: bold; }"

DELETE_KEY, OK_KEY = "\u232b", "OK"

COUNTDOWN_MS = 1000
"""How often the lock's countdown is redrawn."""

IDLE_CANCEL_MS = 60 * 1000
"""The dialog cancels itself after a minute without a key typed in it: left open, the kiosk
served nobody, and whoever came next found a PIN prompt instead of the Start button."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PinDialog(QDialog):
    """Asks for the operator PIN; accepted only when :meth:`OperatorContext.check_pin` says so.

    The check runs off the UI thread (a wrong PIN is written to the audit log). Escape or
    Cancel rejects; Enter on an empty field only asks for the PIN. When no PIN is set the
    dialog says the panel is disabled and cannot be accepted. While entries are refused
    after too many wrong PINs the entry is disabled and the time left counts down each
    second, from the moment the dialog opens (the refusal is read from the audit log, so it
    survives a restart); entry comes back when the refusal ends.

    The PIN is typed on the keys or on the dialog's keypad (:attr:`keys`: digits, Delete,
    OK), for staff at a touch screen without a keyboard; the keypad is disabled with the
    field.

    ``clock`` returns the aware time the refusal's end is compared with (the wall clock, as
    the kiosk's context uses; tests pass theirs). With nothing typed for ``idle_ms``
    (:data:`IDLE_CANCEL_MS`) the dialog cancels itself, as Cancel does.
    """

    def __init__(self, context: OperatorContext, parent: QWidget | None = None, *,
                 clock: Callable[[], datetime] = _utc_now,
                 idle_ms: int = IDLE_CANCEL_MS) -> None:
        super().__init__(parent)
        self._context = context
        self._clock = clock
        self._refused_until: datetime | None = None
        self._countdown_prefix = ""
        self._runner = TaskRunner(self)
        self.countdown = QTimer(self)
        self.countdown.setInterval(COUNTDOWN_MS)
        self.countdown.timeout.connect(self._tick)
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.setInterval(idle_ms)
        self.idle_timer.timeout.connect(self.reject)
        self.setWindowTitle("Operator PIN")
        self.setStyleSheet(STYLE)
        named(self, "Operator PIN")

        prompt = QLabel("Enter the operator &PIN:")
        self.pin_edit = QLineEdit()
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setMaxLength(32)
        prompt.setBuddy(self.pin_edit)
        named(self.pin_edit, "Operator PIN", "The PIN set in the kiosk settings")
        self.message = message_label("PIN result")
        self.ok_button = QPushButton("&Open panel")
        self.ok_button.setDefault(True)
        named(self.ok_button, "Open the operator panel")
        self.cancel_button = QPushButton("&Cancel")
        named(self.cancel_button, "Cancel and return to the kiosk")
        self.keypad = self._make_keypad()

        buttons = QHBoxLayout()
        buttons.addWidget(self.ok_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        # The dialog follows its content: a message that appears or wraps to more lines grows
        # the dialog instead of being cut or drawn over the PIN field. The layout then sets
        # the dialog's minimum size itself (a setMinimumWidth here was overridden, and the
        # dialog was 292 px wide): the strut holds its contents to the width.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        margins = layout.contentsMargins()
        self._text_width = MIN_WIDTH_PX - margins.left() - margins.right()
        layout.addStrut(self._text_width)
        layout.addWidget(prompt)
        layout.addWidget(self.pin_edit)
        layout.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self._fit_message()

        self.ok_button.clicked.connect(self._on_ok_clicked)
        self.pin_edit.returnPressed.connect(self._on_ok_clicked)
        self.pin_edit.textEdited.connect(self.idle_timer.start)  # someone is typing
        self.cancel_button.clicked.connect(self.reject)
        self.idle_timer.start()
        if not context.pin_enabled:
            self.pin_edit.setEnabled(False)
            self.keypad.setEnabled(False)
            self.ok_button.setEnabled(False)
            self._say("The operator panel is disabled: no operator PIN is set "
                      "(kiosk.operator_pin).", "warning")
            self.cancel_button.setFocus()
        else:
            if (until := context.pin_refused_until()) is not None:
                # Reopened during a refusal: say so now, not after the right PIN is refused.
                self._lock(until, "")
            # The audit log may know more: a refusal from before a restart, or staff who
            # ended this one (kiosk audit pin-reset). Read off the UI thread (a check typed
            # meanwhile runs after it). A read that fails is logged by the context, and
            # what this process knows stands; the check reads again.
            self._runner.run(lambda: context.pin_refused_until(stored=True),
                             self._on_refusal_read, lambda _message: None)

    def _make_keypad(self) -> QWidget:
        """Digits, Delete and OK, for staff at a kiosk with a touch screen and no keyboard.

        The keys take no focus: the PIN field keeps it, for a keyboard as well.
        """
        keypad = QWidget()
        named(keypad, "PIN keypad")
        keypad.setStyleSheet(KEYPAD_STYLE)
        grid = QGridLayout(keypad)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        self.keys: dict[str, QPushButton] = {}
        faces = [str(d) for d in range(1, 10)] + [DELETE_KEY, "0", OK_KEY]
        for index, face in enumerate(faces):
            key = QPushButton(face)
            key.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            key.setAutoDefault(False)
            if face == DELETE_KEY:
                named(key, "Delete the last digit")
                key.clicked.connect(self._on_delete_key)
            elif face == OK_KEY:
                named(key, "Open the operator panel")
                key.clicked.connect(self._on_ok_clicked)
            else:
                named(key, f"Digit {face}")
                key.clicked.connect(lambda _checked=False, digit=face: self._on_digit_key(digit))
            grid.addWidget(key, index // 3, index % 3)
            self.keys[face] = key
        return keypad

    def _on_digit_key(self, digit: str) -> None:
        if self.pin_edit.isEnabled():
            self.pin_edit.insert(digit)
            self.idle_timer.start()  # someone is typing

    def _on_delete_key(self) -> None:
        if self.pin_edit.isEnabled():
            self.pin_edit.backspace()
            self.idle_timer.start()

    def _fit_message(self) -> None:
        """Give the message the height its text needs, and at least :data:`MESSAGE_LINES`.

        The layout's minimum size leaves out what a word-wrapped label needs at its width:
        without this, a message on two lines made the dialog too short, and the layout took
        the room from the keypad, whose bottom row it cut under the message.
        """
        self.message.ensurePolished()  # the font of the message's style, bold
        lines = MESSAGE_LINES * self.message.fontMetrics().lineSpacing()
        # The text width is the least the message has: wider, it needs fewer lines.
        self.message.setMinimumHeight(max(lines, self.message.heightForWidth(self._text_width)))

    def _say(self, text: str, role: str = "info") -> None:
        show_message(self.message, text, role)
        self._fit_message()
        centre = self.geometry().center()
        self.adjustSize()
        if self.isVisible():  # grown about its centre, not only to the right and down
            frame = self.geometry()
            frame.moveCenter(centre)
            self.setGeometry(frame)

    def _on_refusal_read(self, until: datetime | None) -> None:
        if until is not None and until > self._clock():
            if not self.locked:
                self._lock(until, "")
        elif self.locked:
            self._unlock()  # staff ended the refusal from a shell

    def _on_ok_clicked(self) -> None:
        if not self.ok_button.isEnabled():
            return
        entered = self.pin_edit.text()
        if not entered:  # Enter on an empty field is no entry: not a wrong PIN
            self._say(EMPTY_HINT)
            return
        self.pin_edit.clear()
        self.ok_button.setEnabled(False)
        self._say("Checking...")
        self._runner.run(lambda: self._context.check_pin(entered), self._on_checked,
                         self._on_check_failed)

    def _on_checked(self, result: PinResult) -> None:
        if result.accepted:
            self.accept()
            return
        if result.refused_until is not None and result.refused_until > self._clock():
            self._lock(result.refused_until, result.message)
            return
        self._say(result.message, "error")
        self.ok_button.setEnabled(True)
        self.pin_edit.setFocus()

    @property
    def locked(self) -> bool:
        """True while entries are refused (the countdown runs)."""
        return self._refused_until is not None

    def _lock(self, until: datetime, message: str) -> None:
        self._refused_until = until
        self.pin_edit.setEnabled(False)
        self.keypad.setEnabled(False)
        self.ok_button.setEnabled(False)
        self.cancel_button.setFocus()
        prefix = "Wrong PIN. " if message.startswith("Wrong PIN.") else ""
        self._countdown_prefix = prefix
        self._say(prefix + wait_text(until - self._clock()), "error")
        self.countdown.start()

    def _tick(self) -> None:
        """Redraw the time left; when the refusal is over, allow entries again."""
        if self._refused_until is None:
            self.countdown.stop()
            return
        left = self._refused_until - self._clock()
        if left > timedelta(0):
            self._say(self._countdown_prefix + wait_text(left), "error")
            return
        self._unlock()

    def _unlock(self) -> None:
        """Allow entries again, the refusal over."""
        self.countdown.stop()
        self._refused_until = None
        self.pin_edit.setEnabled(True)
        self.keypad.setEnabled(True)
        self.ok_button.setEnabled(True)
        self.pin_edit.setFocus()
        self._say("You can enter the PIN again.", "info")

    def _on_check_failed(self, message: str) -> None:
        self._say(f"The PIN could not be checked: {message}", "error")
        self.ok_button.setEnabled(True)

    def done(self, result: int) -> None:
        """Close only after a PIN check in flight has finished (it may be writing)."""
        self.countdown.stop()
        self.idle_timer.stop()
        self._runner.wait()
        super().done(result)
