"""Reusable kiosk widgets: large text and buttons, the mirrored preview with its oval guide,
the countdown ring and spinner, and vector icons drawn with QPainter (no image assets)."""

from kiosk.ui.widgets.choice import ChoiceButton
from kiosk.ui.widgets.common import (
    ACCENT,
    ATTENTION,
    BACKGROUND,
    BAD,
    FOREGROUND,
    GOOD,
    STAFF,
    STYLE_SHEET,
    BigButton,
    announce,
    text_label,
)
from kiosk.ui.widgets.flow import FlowRow
from kiosk.ui.widgets.icons import IconWidget, draw_icon
from kiosk.ui.widgets.preview import PreviewWidget
from kiosk.ui.widgets.ring import CountdownRing, Spinner

__all__ = [
    "ACCENT", "ATTENTION", "BACKGROUND", "BAD", "FOREGROUND", "GOOD", "STAFF", "STYLE_SHEET",
    "BigButton", "ChoiceButton", "CountdownRing", "FlowRow", "IconWidget", "PreviewWidget", "Spinner", "draw_icon",
    "announce", "text_label",
]
