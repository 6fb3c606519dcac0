"""Live check: the mirrored preview with the placement oval, the prompt in large text with an
icon and a countdown ring, a line of live guidance, and a Stop button (Escape too).

The words above the picture and the guidance below it keep a fixed height for the screen's
width (as many lines as the longest text each can show needs there: one for the prompt and
the guidance on a landscape screen, two on a portrait one), so the preview keeps its size
from the first frame to the last (it fills most of a 1920x1080 screen).

During the light challenge the whole screen behind the words and the picture takes the
sequence's colours (:class:`~kiosk.ui.screens.light_show.LightShow`); the labels draw no
background of their own, so every line of words gets a dark band then.

The screen says what changed through two signals, for screen readers and speech:
``told(sentence)`` when its main words change (placement, a pause, the light step's warning)
and ``guided(text)`` when the guidance line does. A new prompt is :meth:`show_progress`'s
True instead: the window says those at once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSpacerItem, QVBoxLayout, QWidget

from kiosk.session import SessionProgress
from kiosk.ui.screens.light_show import LightShow
from kiosk.ui.screens.live_lines import (
    GUIDANCE_TEXTS,
    HINT_TEXTS,
    PROMPT_TEXTS,
    fit_lines,
    lines_needed,
    reserve_lines,
)
from kiosk.ui.widgets import (
    ATTENTION,
    BigButton,
    CountdownRing,
    IconWidget,
    PreviewWidget,
    text_label,
)
from kiosk.vocabulary import Stage
from kiosk.wording import (
    AGAIN_TEXT,
    BASELINE_TEXT,
    BETWEEN_PROMPTS_TEXT,
    FURTHER_HINT,
    GET_READY_TEXT,
    LIGHT_HINT,
    LIGHT_LEAD_HINT,
    LIGHT_TEXT,
    PAUSED_TEXT,
    PLACE_TEXT,
    RETRY_HINT,
    STOP_DESCRIPTION,
    STOP_LABEL,
    prompt_for,
    starting_in,
    step_text,
)

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter

#: Opacity (0-255) of the black band behind each line of words during the light step. Over the
#: brightest colour (yellow) it leaves white words at 12:1 and the amber guidance at 6.8:1
#: (WCAG 1.4.3 asks 4.5:1; at the former 170 amber fell to 4.4:1). The test computes it for
#: every colour of the palette.
BAND_ALPHA = 200

#: Room (px) each line keeps at its sides for its band's rounded ends.
LINE_PAD_X = 16

# Transparent children, so the light challenge's colours fill the screen behind them; each
# line keeps room around its words for the band it gets during the light step. Stop is only
# as tall as a line of guidance: at its full height it took the preview's room.
LIVE_STYLE = f"""
#live QLabel, #live PreviewWidget, #live IconWidget, #live CountdownRing {{
    background: transparent; }}
#live QLabel {{ padding: 2px {LINE_PAD_X}px; border-radius: 12px; }}
#live QLabel[band="true"] {{ background: rgba(0, 0, 0, {BAND_ALPHA}); }}
#live QPushButton {{ min-height: 0px; padding: 4px 36px; }}
"""


#: The instruction's type: as large as fits on its line(s), never below the smallest size
#: (a long prompt such as "Turn your head to your right" on a 1280-pixel-wide screen).
PROMPT_PT, PROMPT_MIN_PT = 44, 28
#: The guidance's, likewise: its line shares the bottom row with Stop (and Stop's width on
#: the other side, to stay under the picture's middle, where that leaves it room).
GUIDANCE_PT, GUIDANCE_MIN_PT = 32, 20
#: The hint's (one size).
HINT_PT = 22

#: Sides (px) of the prompt's icon and of the ring: full size where the words have room,
#: smaller on a narrow (portrait) screen, where two fixed 150 px squares left the prompt a
#: third of the width and pushed the ring off the screen.
SIDE_PX, SIDE_MIN_PX = 150, 88

#: A head that has moved this share of the way toward the asked direction, but not all of
#: it, is told "a little further": people asked to turn often turn 10-15 degrees, below the
#: 20-degree threshold that keeps natural head motion (up to 16 degrees measured) from
#: answering a prompt.
FURTHER_FROM = 0.4


def _short_of(reach: float | None) -> bool:
    return reach is not None and FURTHER_FROM <= reach < 1.0


class LiveScreen(QWidget):
    """Shows one session's progress; :meth:`show_progress` returns True for a new prompt.

    Signals: ``told(str)`` and ``guided(str)`` (see the module), ``stop_requested()`` when
    the person presses Stop or Escape.
    """

    told = Signal(str)
    guided = Signal(str)
    stop_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("live")
        self.setStyleSheet(LIVE_STYLE)
        self.light = LightShow(self)
        self._light_key: tuple | None = None
        self.icon = IconWidget(None, size=SIDE_PX)
        self.icon.setFixedSize(SIDE_PX, SIDE_PX)
        self.prompt = reserve_lines(
            text_label("", PROMPT_PT, "Instruction", bold=True, align=LEFT), 1)
        self.hint = reserve_lines(text_label("", HINT_PT, "Instruction detail", align=LEFT), 2)
        self.step = reserve_lines(text_label("", 20, "Step", align=LEFT), 1)
        self.ring = CountdownRing(SIDE_PX)
        self.ring.setFixedSize(SIDE_PX, SIDE_PX)
        # Lines each label keeps room for at the present width (see _fit_width).
        self.line_counts = {"prompt": 1, "hint": 2, "guidance": 1}
        self.preview = PreviewWidget()
        self.guidance = reserve_lines(
            text_label("", GUIDANCE_PT, "Guidance", bold=True, colour=ATTENTION), 1)
        self.stop = BigButton(STOP_LABEL, STOP_LABEL, description=STOP_DESCRIPTION)
        self.stop.clicked.connect(self.stop_requested)
        # Escape while this screen shows (a hidden widget's shortcut does not fire).
        self.escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.escape.activated.connect(self.stop_requested)
        words = QVBoxLayout()
        words.addWidget(self.step)
        words.addWidget(self.prompt)
        words.addWidget(self.hint)
        top = QHBoxLayout()
        top.addWidget(self.icon)
        top.addLayout(words, 1)
        top.addWidget(self.ring)
        self._layout = layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 16, 40, 16)
        layout.addLayout(top)
        layout.addWidget(self.preview, 1)
        self._bottom = bottom = QHBoxLayout()
        # As wide as Stop on the other side, so the guidance stays under the picture's middle
        # (where the row is wide enough for that: see _fit_width).
        self._balance = QSpacerItem(self.stop.sizeHint().width(), 0,
                                    QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
        bottom.addItem(self._balance)
        bottom.addWidget(self.guidance, 1)
        bottom.addWidget(self.stop)
        layout.addLayout(bottom)
        self._fitted_width = -1
        # Focus on the screen itself, whose description is the instruction (a screen reader
        # reads it); Stop is one Tab away. Focused, Stop took an Enter or Space meant for the
        # button before it ("I agree, start") and ended the check.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.primary = self
        self._shown: tuple[int, str] | None = None
        self._told = ""
        self.reset()

    @property
    def lines(self) -> tuple[QLabel, ...]:
        """The lines of words, in reading order."""
        return (self.step, self.prompt, self.hint, self.guidance)

    def reset(self) -> None:
        """Ready for a new session: no prompt yet, no picture."""
        self.light.stop()
        self._light_key = None
        self._shown = None
        self._set_words(None, PLACE_TEXT, "", GET_READY_TEXT, tell=False)
        self._told = ""
        self.ring.set_time(None)
        self._set_guidance("")
        self._set_bands(False)
        self.preview.clear()
        self.preview.set_oval(None)
        self._describe()

    def show_frame(self, image: np.ndarray) -> None:
        self.preview.set_frame(image)

    def show_progress(self, progress: SessionProgress) -> bool:
        """Update the prompt, ring, oval and guidance; True when a new prompt has just
        appeared."""
        if progress.stage not in (Stage.LIGHT, Stage.CHALLENGE):
            return False
        self.preview.set_guidance_ok(progress.placed)
        self.preview.set_oval(progress.oval)
        self._set_guidance("" if progress.guidance.ok else progress.guidance.message)
        if progress.stage == Stage.LIGHT:
            self._show_light(progress)
            prompted = False
        else:
            prompted = self._show_challenge(progress)
        self._set_bands(progress.stage == Stage.LIGHT and progress.light is not None)
        self._describe()
        return prompted

    def _show_challenge(self, progress: SessionProgress) -> bool:
        """The prompts and the pauses between them; True for a new prompt."""
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
            # Paused, or a little further; back to the prompt's own hint withdraws either.
            self._tell(hint if hint != prompt.hint else "")
            return False
        self._shown = key
        self._set_words(prompt.icon, prompt.text, hint, step_text(progress.index, progress.total),
                        tell=False)
        self._told = prompt.text  # the window says a new prompt itself
        return True

    def _show_light(self, progress: SessionProgress) -> None:
        """Placement first, with the warning of what comes; then the colours, once per
        sequence."""
        self.ring.set_time(None)
        if progress.light is None:
            self._between(progress, lead=LIGHT_LEAD_HINT)
            return
        # A face that has left is asked back on the top line too, as the guidance below does.
        self._set_words(None, LIGHT_TEXT if progress.guidance.ok else PLACE_TEXT, LIGHT_HINT, "")
        key = tuple(progress.light)
        if key != self._light_key:
            self._light_key = key
            self.light.start(progress.light)

    def _set_bands(self, on: bool) -> None:
        """A dark band behind each line that has words (``on``: the colours are showing)."""
        for label in self.lines:
            band = on and bool(label.text())
            if label.property("band") != band:
                label.setProperty("band", band)
                label.style().unpolish(label)
                label.style().polish(label)

    def _set_guidance(self, text: str) -> None:
        if text != self.guidance.text():
            self.guidance.setText(text)
            self._fit_guidance()
            self.guided.emit(text)

    def _fit_prompt(self) -> None:
        fit_lines(self.prompt, PROMPT_PT, PROMPT_MIN_PT, self.line_counts["prompt"])

    def _fit_guidance(self) -> None:
        fit_lines(self.guidance, GUIDANCE_PT, GUIDANCE_MIN_PT, self.line_counts["guidance"])

    def _fit_width(self) -> None:
        """Size the icon and the ring, and reserve each line's room, for this width.

        Wide enough, the icon and the ring are full size, the prompt and the guidance one
        line each and the guidance sits under the picture's middle. Narrower, the squares
        shrink, the guidance takes the room on Stop's left too, then a second line, and the
        prompt and its hint wrap onto as many lines as the longest of theirs needs: the words
        are never cut, and the picture gets the height that is left. The lines are counted
        for every text a line can show, so the picture keeps its size all session.
        """
        width = self.width()
        if width == self._fitted_width:
            return
        self._fitted_width = width
        layout = self._layout
        margins = layout.contentsMargins()
        inner = width - margins.left() - margins.right()
        gap = max(layout.spacing(), 0)
        side = min(SIDE_PX, max(SIDE_MIN_PX, inner // 8))
        if self.icon.width() != side:
            self.icon.setFixedSize(side, side)
            self.ring.setFixedSize(side, side)
        pad = self.prompt.contentsMargins().left() + self.prompt.contentsMargins().right()
        words = inner - 2 * (side + gap) - pad - 4
        prompt_lines = lines_needed(self.prompt, PROMPT_TEXTS, words, PROMPT_MIN_PT)
        hint_lines = max(2, lines_needed(self.hint, HINT_TEXTS, words, HINT_PT))
        stop = self.stop.sizeHint().width()
        centred = inner - 2 * (stop + gap) - pad - 4
        beside = inner - (stop + gap) - pad - 4
        widest = max(QFontMetrics(self._font(self.guidance, GUIDANCE_MIN_PT))
                     .horizontalAdvance(text) for text in GUIDANCE_TEXTS)
        if widest <= centred:
            balance, guidance_lines = stop, 1
        else:
            balance = 0
            guidance_lines = 1 if widest <= beside else lines_needed(
                self.guidance, GUIDANCE_TEXTS, beside, GUIDANCE_MIN_PT)
        self._balance.changeSize(balance, 0, QSizePolicy.Policy.Fixed,
                                 QSizePolicy.Policy.Minimum)
        self._bottom.invalidate()
        self.line_counts = {"prompt": prompt_lines, "hint": hint_lines,
                            "guidance": guidance_lines}
        reserve_lines(self.prompt, prompt_lines, PROMPT_PT)
        reserve_lines(self.hint, hint_lines, HINT_PT)
        reserve_lines(self.guidance, guidance_lines, GUIDANCE_PT)

    @staticmethod
    def _font(label: QLabel, point_size: int) -> QFont:
        font = QFont(label.font())
        font.setPointSize(point_size)
        return font

    def _tell(self, sentence: str) -> None:
        """Signal ``sentence`` once, when it differs from the last one told ('' withdraws
        it: it is no longer shown)."""
        if sentence != self._told:
            self._told = sentence
            self.told.emit(sentence)

    def _describe(self) -> None:
        """The screen's accessible description: every line it shows now, in reading order."""
        self.setAccessibleDescription(". ".join(line.text() for line in self.lines
                                                if line.text()))

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

    def _between(self, progress: SessionProgress, lead: str = "") -> None:
        """Before the first prompt (placement, with ``lead`` saying what comes next, then a
        countdown) and between prompts."""
        if progress.index == 0 and not progress.retry:
            if not progress.placed:
                self._set_words(None, PLACE_TEXT, lead, GET_READY_TEXT)
            else:
                when = starting_in(progress.ready_in) if progress.ready_in is not None else ""
                self._set_words(None, GET_READY_TEXT, BASELINE_TEXT, when)
            return
        # The step just answered (or missed) is the last one shown: after the last prompt
        # the session's index stays on it rather than moving past the end.
        done = self._shown[0] if self._shown is not None else max(progress.index - 1, 0)
        step = step_text(done, progress.total)
        # Before a second chance nothing was answered: no tick and no "Good".
        again = AGAIN_TEXT if progress.retry else BETWEEN_PROMPTS_TEXT
        self._set_words("check" if not progress.retry else None,
                        again if progress.placed else PLACE_TEXT, "", step)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_width()
        self._layout.activate()  # the labels' new widths, before the type is fitted to them
        self._fit_prompt()
        self._fit_guidance()

    def _set_words(self, icon: str | None, text: str, hint: str, step: str, *,
                   tell: bool = True) -> None:
        """Show the top lines; ``tell`` signals the words (placement and the pauses, not the
        prompts, which the window says itself)."""
        self.icon.set_icon(icon)
        self.prompt.setText(text)
        self._fit_prompt()
        self.hint.setText(hint)
        self.step.setText(step)
        if tell:
            self._tell(f"{text}. {hint}" if hint else text)
