"""Live check: the mirrored preview with its oval, the prompt in large text with an icon and
a countdown ring, and one line of live guidance."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from kiosk.session import SessionProgress
from kiosk.ui.widgets import ATTENTION, CountdownRing, IconWidget, PreviewWidget, text_label
from kiosk.vocabulary import Stage
from kiosk.wording import BASELINE_TEXT, BETWEEN_PROMPTS_TEXT, prompt_for, step_text

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class LiveScreen(QWidget):
    """Shows one session's progress; :meth:`show_progress` returns True for a new prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.icon = IconWidget(None, size=150)
        self.prompt = text_label("", 44, "Instruction", bold=True, align=LEFT)
        self.hint = text_label("", 22, "Instruction detail", align=LEFT)
        self.step = text_label("", 20, "Step", align=LEFT)
        self.ring = CountdownRing()
        self.preview = PreviewWidget()
        self.guidance = text_label("", 28, "Guidance", bold=True, colour=ATTENTION)
        words = QVBoxLayout()
        words.addWidget(self.step)
        words.addWidget(self.prompt)
        words.addWidget(self.hint)
        top = QHBoxLayout()
        top.addWidget(self.icon)
        top.addLayout(words, 1)
        top.addWidget(self.ring)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 20, 40, 20)
        layout.addLayout(top)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.guidance)
        self.primary = None
        self._shown: tuple[int, str] | None = None
        self.reset()

    def reset(self) -> None:
        """Ready for a new session: no prompt yet, no picture."""
        self._shown = None
        self._set_words(None, BASELINE_TEXT, "", "Get ready")
        self.ring.set_time(None)
        self.guidance.setText("")
        self.preview.clear()

    def show_frame(self, image: np.ndarray) -> None:
        self.preview.set_frame(image)

    def show_progress(self, progress: SessionProgress) -> bool:
        """Update the prompt, ring and guidance; True when a new prompt has just appeared."""
        if progress.stage != Stage.CHALLENGE:
            return False
        self.preview.set_guidance_ok(progress.guidance.ok)
        self.guidance.setText("" if progress.guidance.ok else progress.guidance.message)
        if progress.prompt is None:
            self.ring.set_time(None)
            if progress.index == 0:
                self._set_words(None, BASELINE_TEXT, "", "Get ready")
            else:
                self._set_words("check", BETWEEN_PROMPTS_TEXT, "",
                                step_text(progress.index - 1, progress.total))
            return False
        prompt = prompt_for(progress.prompt)
        self.ring.set_time(progress.time_left, progress.window_s)
        key = (progress.index, progress.prompt)
        if key == self._shown:
            return False
        self._shown = key
        self._set_words(prompt.icon, prompt.text, prompt.hint,
                        step_text(progress.index, progress.total))
        return True

    def _set_words(self, icon: str | None, text: str, hint: str, step: str) -> None:
        self.icon.set_icon(icon)
        self.prompt.setText(text)
        self.hint.setText(hint)
        self.step.setText(step)
        self.setAccessibleDescription(f"{step}. {text}. {hint}".strip(". "))
