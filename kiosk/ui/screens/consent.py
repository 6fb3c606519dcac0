"""Consent and privacy notice: what is checked, what is kept and for how long, and the
choice of the accessible check (more time, no flashing) for someone who reads here that they
need it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.widgets import ACCENT, ATTENTION, BigButton, ChoiceButton, FlowRow, text_label
from kiosk.wording import ACCESSIBLE_LABEL, ACCESSIBLE_LABEL_ON, ConsentText

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
NOTICE_NAME = "Notice: what we check and what we keep"
#: Width (px) of the notice's scroll bar: a finger's width (about 9 mm at the kiosk's 96 to
#: 130 dots per inch). At 20 px it could be seen but hardly hit.
SCROLL_BAR_PX = 48
# A scroll bar wide and bright enough to be seen as one: on a short screen part of the notice
# is below it. The notice is a Tab stop only then (its arrow keys scroll it), with the
# buttons' yellow focus ring; the transparent border keeps its place when it has none.
NOTICE_STYLE = f"""
QScrollArea, QScrollArea > QWidget > QWidget {{ background: transparent; }}
QScrollArea {{ border: 6px solid transparent; border-radius: 12px; }}
QScrollArea:focus {{ border-color: {ACCENT.name()}; }}
QScrollBar:vertical {{ width: {SCROLL_BAR_PX}px; margin: 0px; background: #1f2a36;
    border-radius: {SCROLL_BAR_PX // 2}px; }}
QScrollBar::handle:vertical {{ background: #8fa3b8; min-height: {4 * SCROLL_BAR_PX // 3}px;
    border-radius: {SCROLL_BAR_PX // 2}px; }}
QScrollBar::add-line:vertical {{ height: 0px; subcontrol-origin: margin;
    subcontrol-position: bottom; }}
QScrollBar::sub-line:vertical {{ height: 0px; subcontrol-origin: margin;
    subcontrol-position: top; }}
"""
# The arrows are placed in the bar's (empty) margin: left where Qt puts them, they kept a
# bar's width of the groove each at its ends, and on a notice a little taller than its room
# the handle was longer than the groove: it could not be dragged at all.
#: The notice's least height (px): three lines, the rest scrolls. Its scroll bar's own
#: minimum (218 px) pushed the screen past the bottom of 1366x768 at 125 % (614 px high).
NOTICE_MIN_PX = 120
#: Side margins (px): as wide as the room allows, narrower on a narrow (portrait) screen,
#: where 80 px each side left the buttons less room than their words need.
SIDE_MARGIN_PX, SIDE_MARGIN_MIN_PX = 80, 16


def grab_touch_scrolling(area: QScrollArea) -> None:
    """Let a finger (or a mouse dragged like one) scroll ``area`` by its words.

    The scroller takes the left button's drags on the viewport: a touch screen's touches
    reach it as those (Qt turns a touch no widget takes into the mouse's events), and so do
    the presses of a touch screen that sends mouse events. A scroller of touch events
    instead let a drag that started on a button click it too.
    """
    QScroller.grabGesture(area.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)


class ConsentScreen(QWidget):
    """Emits ``accepted``, ``declined`` or ``accessible_toggled(bool)``.

    The notice scrolls when the screen is too short for it (a staffed kiosk on a 1280x800
    screen), so no line is ever cut; the question and the buttons stay in view. A finger
    scrolls it by its words or by its bar, which is a finger wide. On a narrow (portrait)
    screen the side margins narrow and the two buttons go one under the other. Before the
    screen gives up for want of activity, :meth:`set_warning` says so above the question.
    """

    accepted = Signal()
    declined = Signal()
    accessible_toggled = Signal(bool)

    def __init__(self, text: ConsentText) -> None:
        super().__init__()
        self.title = text_label("", 40, "Title", bold=True)
        self.checked_heading = text_label("What we check", 26, "What we check heading",
                                          bold=True, align=LEFT)
        self.checked = text_label("", 22, "What we check", align=LEFT)
        self.kept_heading = text_label("What we keep", 26, "What we keep heading", bold=True,
                                       align=LEFT)
        self.kept = text_label("", 22, "What we keep", align=LEFT)
        self.question = text_label("", 26, "Question", bold=True)
        self.warning = text_label("", 24, "Time-out warning", bold=True, colour=ATTENTION)
        self.warning.hide()
        self.accept = BigButton("I agree, start", "Agree and start",
                                description="Agree to the check and start it", primary=True)
        self.decline = BigButton("No, thanks", "Decline",
                                 description="Do not do the check and go back")
        self.accessible = ChoiceButton(ACCESSIBLE_LABEL, ACCESSIBLE_LABEL_ON,
                                      description="Choose the accessible check before starting")
        self.accessible.toggled.connect(self.accessible_toggled)
        self.accept.clicked.connect(self.accepted)
        self.decline.clicked.connect(self.declined)
        notice = QWidget()
        notice_layout = QVBoxLayout(notice)
        notice_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.checked_heading, self.checked, self.kept_heading, self.kept):
            notice_layout.addWidget(widget)
        notice_layout.addStretch(1)
        self.notice_area = QScrollArea()
        self.notice_area.setWidget(notice)
        self.notice_area.setWidgetResizable(True)
        self.notice_area.setFrameShape(QFrame.Shape.NoFrame)
        self.notice_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.notice_area.setStyleSheet(NOTICE_STYLE)
        self.notice_area.setAccessibleName(NOTICE_NAME)
        self.notice_area.setMinimumHeight(NOTICE_MIN_PX)
        self.notice_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.notice_area.verticalScrollBar().rangeChanged.connect(self._on_notice_range_changed)
        grab_touch_scrolling(self.notice_area)
        # How to do the check sits apart from whether to do it.
        choice = QHBoxLayout()
        choice.addStretch(1)
        choice.addWidget(self.accessible)
        choice.addStretch(1)
        # Side by side where they fit, one under the other on a narrow (portrait) screen.
        buttons = FlowRow(spacing=32)
        buttons.addWidget(self.decline)
        buttons.addWidget(self.accept)
        self._layout = layout = QVBoxLayout(self)
        layout.setContentsMargins(SIDE_MARGIN_PX, 24, SIDE_MARGIN_PX, 24)
        layout.addWidget(self.title)
        layout.addSpacing(8)
        layout.addWidget(self.notice_area, 1)
        layout.addLayout(choice)
        layout.addSpacing(8)
        layout.addWidget(self.warning)
        layout.addWidget(self.question)
        layout.addLayout(buttons)
        self.setTabOrder(self.accept, self.decline)
        self.setTabOrder(self.decline, self.accessible)
        self.primary = self.accept
        self.set_text(text)

    def set_text(self, text: ConsentText) -> None:
        self.title.setText(text.title)
        self.checked.setText("\n".join(f"\u2022 {line}" for line in text.checked))
        self.kept.setText("\n".join(f"\u2022 {line}" for line in text.kept))
        self.question.setText(text.question)

    def set_accessible(self, on: bool) -> None:
        """Show the choice (made here or on the idle screen)."""
        self.accessible.show_choice(on)

    def set_warning(self, text: str) -> None:
        """Show ``text`` (the screen is about to give up), or nothing ('')."""
        self.warning.setText(text)
        self.warning.setVisible(bool(text))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        side = min(SIDE_MARGIN_PX, max(SIDE_MARGIN_MIN_PX, self.width() // 16))
        layout = self._layout
        margins = layout.contentsMargins()
        if margins.left() != side:
            layout.setContentsMargins(side, margins.top(), side, margins.bottom())
        super().resizeEvent(event)

    def _on_notice_range_changed(self, low: int, high: int) -> None:
        """A Tab stop only while there is something to scroll to."""
        scrolls = high > low
        self.notice_area.setFocusPolicy(Qt.FocusPolicy.StrongFocus if scrolls
                                        else Qt.FocusPolicy.NoFocus)
