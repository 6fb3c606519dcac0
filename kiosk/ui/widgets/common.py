"""Colours, the style sheet, large labels and keyboard-friendly buttons.

White on near-black (contrast about 19:1) with a thick yellow focus ring, so the kiosk is
readable from a step back and usable with the keyboard alone. Labels leave their accessible
name to Qt, which then reads their words: a screen reader says what the screen says.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
)
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy

BACKGROUND = QColor("#0b0f14")
FOREGROUND = QColor("#ffffff")
ACCENT = QColor("#ffd54f")      # focus ring
GOOD = QColor("#3ddc84")
ATTENTION = QColor("#ffb300")
BAD = QColor("#ff6b6b")
STAFF = QColor("#64b5f6")

STYLE_SHEET = f"""
QWidget {{ background: {BACKGROUND.name()}; color: {FOREGROUND.name()}; }}
QPushButton {{
    background: #1f2a36; color: #ffffff; border: 3px solid #5c6f82; border-radius: 12px;
    padding: 14px 36px; min-height: 64px;
}}
QPushButton:pressed {{ background: #34475a; }}
QPushButton:disabled {{ color: #8a96a3; border-color: #3a4654; }}
QPushButton[primary="true"] {{ background: #1565c0; border-color: #90caf9; }}
QPushButton:checked {{ background: #1b5e20; border-color: {GOOD.name()}; }}
QPushButton:focus {{ border: 6px solid {ACCENT.name()}; }}
QLineEdit {{
    background: #ffffff; color: #000000; border: 3px solid #5c6f82; border-radius: 8px;
    padding: 8px; min-height: 48px;
}}
QLineEdit:focus {{ border: 6px solid {ACCENT.name()}; }}
"""
# The focus rule comes after every other button rule on purpose: rules of equal weight apply
# in order, so a primary or a checked button would otherwise hide its focus ring.


def font(point_size: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSize(point_size)
    f.setBold(bold)
    return f


def text_label(text: str, point_size: int, name: str, *, bold: bool = False,
               align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter,
               colour: QColor | None = None) -> QLabel:
    """A word-wrapped label in large type.

    ``name`` is its object name (for style sheets, tests and logs). Its accessible name is
    left unset, so that screen readers read its words, whatever they become.
    """
    label = QLabel(text)
    label.setObjectName(name)
    label.setAlignment(align)
    label.setWordWrap(True)
    label.setFont(font(point_size, bold))
    label.setTextFormat(Qt.TextFormat.PlainText)
    if colour is not None:
        label.setStyleSheet(f"color: {colour.name()};")
    return label


def announce(source: QObject, text: str, *,
             post: Callable[[QAccessibleAnnouncementEvent], None] = QAccessible.updateAccessibility,
             ) -> None:
    """Ask screen readers to say ``text`` from ``source`` (the screen that shows it), politely:
    after what they are saying. ``post`` delivers the event (tests record it)."""
    post(QAccessibleAnnouncementEvent(source, text))


class BigButton(QPushButton):
    """A large push button that Enter and Return activate as well as Space and a click."""

    def __init__(self, text: str, name: str, *, description: str = "",
                 primary: bool = False) -> None:
        super().__init__(text)
        self.setFont(font(24, bold=True))
        self.setAccessibleName(name)
        self.setAccessibleDescription(description or text)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setProperty("primary", primary)

    #: Narrowest button, and the room the style sheet takes beside the text: 36 px of
    #: padding and up to 6 px of (focus) border each side, plus a margin for rounding.
    MIN_WIDTH, FRAME = 280, 2 * (36 + 6) + 8

    def _text_width(self) -> int:
        """The width the button's words need inside its frame (pixels)."""
        words = QFontMetrics(self.font()).horizontalAdvance(self.text())
        return max(self.MIN_WIDTH, words + self.FRAME)

    # QPushButton's minimumSizeHint calls sizeHint: each override uses only its own base.
    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """Never narrower than its words: a layout short of room must not cut a label."""
        return QSize(self._text_width(), super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        hint = super().sizeHint()
        return QSize(max(hint.width(), self._text_width()), hint.height())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.isAutoRepeat():
            self.animateClick()
            return
        super().keyPressEvent(event)
