"""Live check: the mirrored preview with the placement oval, the prompt in large text with an
icon and a countdown ring, and one line of live guidance.

The words above the picture and the guidance below it keep a fixed height, so the preview
keeps its size from the first frame to the last (it fills most of a 1920x1080 screen).

During the light challenge the whole screen behind the words and the picture takes the
sequence's colours (:class:`~kiosk.ui.screens.light_show.LightShow`); the labels draw no
background of their own, so only the preview and a dark band behind the instruction stay.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kiosk.session import SessionProgress
from kiosk.ui.screens.light_show import LightShow
from kiosk.ui.widgets import ATTENTION, CountdownRing, IconWidget, PreviewWidget, text_label
from kiosk.vocabulary import Stage
from kiosk.wording import (
    AGAIN_TEXT,
    BASELINE_TEXT,
    BETWEEN_PROMPTS_TEXT,
    FURTHER_HINT,
    GET_READY_TEXT,
    LIGHT_HINT,
    LIGHT_TEXT,
    PAUSED_TEXT,
    PLACE_TEXT,
    RETRY_HINT,
    prompt_for,
    starting_in,
    step_text,
)

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter

# Transparent children, so the light challenge's colours fill the screen behind them; the
# instruction keeps a dark band so white words stay readable on any colour.
LIVE_STYLE = """
#live QLabel, #live PreviewWidget, #live IconWidget, #live CountdownRing {
    background: transparent; }
#live QLabel[band="true"] { background: rgba(0, 0, 0, 170); border-radius: 12px; }
"""


def _fixed_lines(label: QLabel, lines: int) -> QLabel:
    """Reserve ``lines`` lines of the label's font, whatever it shows."""
    label.setFixedHeight(QFontMetrics(label.font()).lineSpacing() * lines + 8)
    return label


#: The instruction's type: as large as fits on its one line, never below the smallest size
#: (a long prompt such as "Turn your head to your right" on a 1280-pixel-wide screen).
PROMPT_PT, PROMPT_MIN_PT = 44, 28


def fit_one_line(label: QLabel, largest: int, smallest: int) -> None:
    """Set ``label``'s point size to the largest (step 2) at which its text fits its width."""
    font = label.font()
    room = label.contentsRect().width() - 4
    size = largest
    while size > smallest:
        font.setPointSize(size)
        if QFontMetrics(font).horizontalAdvance(label.text()) <= room:
            break
        size -= 2
    font.setPointSize(max(size, smallest))
    label.setFont(font)


#: A head that has moved this share of the way toward the asked direction, but not all of
#: it, is told "a little further": people asked to turn often turn 10-15 degrees, below the
#: 20-degree threshold that keeps natural head motion (up to 16 degrees measured) from
#: answering a prompt.
FURTHER_FROM = 0.4


def _short_of(reach: float | None) -> bool:
    return reach is not None and FURTHER_FROM <= reach < 1.0


class LiveScreen(QWidget):
    """Shows one session's progress; :meth:`show_progress` returns True for a new prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("live")
        self.setStyleSheet(LIVE_STYLE)
        self.light = LightShow(self)
        self._light_key: tuple | None = None
        self.icon = IconWidget(None, size=150)
        self.icon.setFixedSize(150, 150)
        self.prompt = _fixed_lines(
            text_label("", PROMPT_PT, "Instruction", bold=True, align=LEFT), 1)
        self.hint = _fixed_lines(text_label("", 22, "Instruction detail", align=LEFT), 2)
        self.step = _fixed_lines(text_label("", 20, "Step", align=LEFT), 1)
        self.ring = CountdownRing()
        self.ring.setFixedSize(150, 150)
        self.preview = PreviewWidget()
        self.guidance = _fixed_lines(
            text_label("", 32, "Guidance", bold=True, colour=ATTENTION), 1)
        words = QVBoxLayout()
        words.addWidget(self.step)
        words.addWidget(self.prompt)
        words.addWidget(self.hint)
        top = QHBoxLayout()
        top.addWidget(self.icon)
        top.addLayout(words, 1)
        top.addWidget(self.ring)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 16, 40, 16)
        layout.addLayout(top)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.guidance)
        self.primary = None
        self._shown: tuple[int, str] | None = None
        self.reset()

    def reset(self) -> None:
        """Ready for a new session: no prompt yet, no picture."""
        self.light.stop()
        self._light_key = None
        self._set_band(False)
        self._shown = None
        self._set_words(None, PLACE_TEXT, "", GET_READY_TEXT)
        self.ring.set_time(None)
        self.guidance.setText("")
        self.preview.clear()
        self.preview.set_oval(None)

    def show_frame(self, image: np.ndarray) -> None:
        self.preview.set_frame(image)

    def show_progress(self, progress: SessionProgress) -> bool:
        """Update the prompt, ring, oval and guidance; True when a new prompt has just
        appeared."""
        if progress.stage == Stage.LIGHT:
            self._show_light(progress)
            return False
        if progress.stage != Stage.CHALLENGE:
            return False
        self._set_band(False)
        self.preview.set_guidance_ok(progress.placed)
        self.preview.set_oval(progress.oval)
        self.guidance.setText("" if progress.guidance.ok else progress.guidance.message)
        if progress.prompt is None:
            self.ring.set_time(None)
            self._between(progress)
            return False
        prompt = prompt_for(progress.prompt)
        self.ring.set_time(progress.time_left, progress.window_s, paused=progress.paused)
        hint = (PAUSED_TEXT if progress.paused else
                f"{FURTHER_HINT}. {prompt.hint}" if _short_of(progress.reach) else
                f"{RETRY_HINT}. {prompt.hint}" if progress.retry else prompt.hint)
        key = (progress.index, progress.prompt)
        if key == self._shown:
            self.hint.setText(hint)
            return False
        self._shown = key
        self._set_words(prompt.icon, prompt.text, hint, step_text(progress.index, progress.total))
        return True

    def _show_light(self, progress: SessionProgress) -> None:
        """Placement first (as before a prompt); then the colours, once per sequence."""
        self.preview.set_guidance_ok(progress.placed)
        self.preview.set_oval(progress.oval)
        self.guidance.setText("" if progress.guidance.ok else progress.guidance.message)
        self.ring.set_time(None)
        if progress.light is None:
            self._between(progress)
            return
        self._set_band(True)
        self._set_words(None, LIGHT_TEXT, LIGHT_HINT, "")
        key = tuple(progress.light)
        if key != self._light_key:
            self._light_key = key
            self.light.start(progress.light)

    def _set_band(self, on: bool) -> None:
        if self.prompt.property("band") != on:
            self.prompt.setProperty("band", on)
            self.prompt.style().unpolish(self.prompt)
            self.prompt.style().polish(self.prompt)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        wash = self.light.wash
        if wash.current is None and wash.previous is None:
            return
        p = QPainter(self)
        height = self.height() * wash.covered
        if wash.current is not None:
            p.fillRect(QRectF(0, 0, self.width(), height), wash.current)
        if wash.previous is not None:
            p.fillRect(QRectF(0, height, self.width(), self.height() - height), wash.previous)
        p.end()

    def _between(self, progress: SessionProgress) -> None:
        """Before the first prompt (placement, then a countdown) and between prompts."""
        if progress.index == 0 and not progress.retry:
            if not progress.placed:
                self._set_words(None, PLACE_TEXT, "", GET_READY_TEXT)
            else:
                when = starting_in(progress.ready_in) if progress.ready_in is not None else ""
                self._set_words(None, GET_READY_TEXT, BASELINE_TEXT, when)
            return
        step = step_text(max(progress.index - 1, 0), progress.total)
        # Before a second chance nothing was answered: no tick and no "Good".
        again = AGAIN_TEXT if progress.retry else BETWEEN_PROMPTS_TEXT
        self._set_words("check" if not progress.retry else None,
                        again if progress.placed else PLACE_TEXT, "", step)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        fit_one_line(self.prompt, PROMPT_PT, PROMPT_MIN_PT)

    def _set_words(self, icon: str | None, text: str, hint: str, step: str) -> None:
        self.icon.set_icon(icon)
        self.prompt.setText(text)
        fit_one_line(self.prompt, PROMPT_PT, PROMPT_MIN_PT)
        self.hint.setText(hint)
        self.step.setText(step)
        self.setAccessibleDescription(f"{step}. {text}. {hint}".strip(". "))
