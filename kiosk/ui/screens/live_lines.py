"""How many lines each line of the live screen needs at a width, and the type that fills them.

The live screen keeps its lines' heights for a whole session (the picture must not jump), so
it reserves, for its width, the lines the longest text each line can show needs
(:data:`PROMPT_TEXTS`, :data:`HINT_TEXTS`, :data:`GUIDANCE_TEXTS`), then sets each text in
the largest type that fits them (:func:`fit_lines`).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QLabel

from kiosk.analysis import guidance as guidance_module
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
    PROMPTS,
    RETRY_HINT,
)


def reserve_lines(label: QLabel, lines: int, point_size: int | None = None) -> QLabel:
    """Reserve ``lines`` lines of the label's font (at ``point_size``, its own by default),
    whatever it shows.

    The label's text starts at its padding: a label with a frame (the style sheet's padding
    is one) otherwise indents its text by half an "x" more, which :func:`fit_lines` does
    not count, and a prompt that just fitted wrapped and was cut at 1280 pixels.
    """
    font = QFont(label.font())
    if point_size is not None:
        font.setPointSize(point_size)
    label.setIndent(0)
    label.setFixedHeight(QFontMetrics(font).lineSpacing() * lines + 8)
    return label


#: Everything each line can say, for the lines it must keep room for at a width (its
#: height stays the same all session, so the picture does not jump).
PROMPT_TEXTS = tuple(p.text for p in PROMPTS.values()) + (
    PLACE_TEXT, GET_READY_TEXT, BETWEEN_PROMPTS_TEXT, AGAIN_TEXT, LIGHT_TEXT)
HINT_TEXTS = tuple(h for p in PROMPTS.values()
                   for h in (p.hint, f"{FURTHER_HINT}. {p.hint}", f"{RETRY_HINT}. {p.hint}")) + (
    PAUSED_TEXT, BASELINE_TEXT, LIGHT_HINT, LIGHT_LEAD_HINT)
GUIDANCE_TEXTS = tuple(sorted({g.message for g in vars(guidance_module).values()
                               if isinstance(g, guidance_module.Guidance) and not g.ok}))


def _lines(font: QFont, text: str, room: int) -> int:
    """How many lines ``text`` wraps into at ``room`` pixels in ``font``."""
    metrics = QFontMetrics(font)
    box = metrics.boundingRect(QRect(0, 0, max(room, 1), 1_000_000),
                               int(Qt.TextFlag.TextWordWrap), text)
    # n lines are one line's height and n - 1 line spacings high.
    return 1 + max(0, round((box.height() - metrics.height()) / metrics.lineSpacing()))


def lines_needed(label: QLabel, texts: Iterable[str], room: int, point_size: int) -> int:
    """The most lines any of ``texts`` takes in ``label``'s font at ``point_size``."""
    font = QFont(label.font())
    font.setPointSize(point_size)
    return max((_lines(font, text, room) for text in texts), default=1)


def _room(label: QLabel) -> int:
    """The width a label's text is laid out in (its contents, a little to spare)."""
    return label.contentsRect().width() - 4


def fit_lines(label: QLabel, largest: int, smallest: int, lines: int = 1) -> None:
    """Set ``label``'s point size to the largest (step 2) at which its text fits its width
    on ``lines`` lines."""
    font = label.font()
    room = _room(label)
    size = largest
    while size > smallest:
        font.setPointSize(size)
        fits = (QFontMetrics(font).horizontalAdvance(label.text()) <= room if lines == 1
                else _lines(font, label.text(), room) <= lines)
        if fits:
            break
        size -= 2
    font.setPointSize(max(size, smallest))
    label.setFont(font)


def fit_one_line(label: QLabel, largest: int, smallest: int) -> None:
    """Set ``label``'s point size to the largest (step 2) at which its text fits its width."""
    fit_lines(label, largest, smallest, 1)
