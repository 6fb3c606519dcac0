"""The countdown ring of a prompt and the processing spinner."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from kiosk.ui.widgets.common import ATTENTION, FOREGROUND, GOOD, font

PAUSED = QColor("#8a96a3")



def ring_geometry(width: int, height: int, thickness_share: float) -> tuple[QRectF, float]:
    """The circle a ring is stroked on in a ``width`` x ``height`` widget, and its pen width
    (the side over ``thickness_share``, at least 4 px): the pen, centred on the circle, stays
    one pixel inside the widget (a 6 px margin cut the flat edges off a 14 px pen)."""
    full = min(width, height)
    pen = max(full / thickness_share, 4.0)
    side = max(full - pen - 2.0, 1.0)
    return QRectF((width - side) / 2, (height - side) / 2, side, side), pen

class CountdownRing(QWidget):
    """A ring that empties as the time to answer runs out, with the seconds in its middle.

    :meth:`set_time` takes the seconds left and the whole window; None hides the ring. A
    paused ring (the face is not placed, so the time stands still) is drawn grey with a pause
    sign instead of the seconds.
    """

    def __init__(self, size: int = 150) -> None:
        super().__init__()
        self._size = size
        self._left: float | None = None
        self._window = 1.0
        self.paused = False
        self.setMinimumSize(size // 2, size // 2)
        self.setAccessibleName("Time left")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._size, self._size)

    @property
    def fraction(self) -> float | None:
        """Share of the window left (0-1), None when hidden."""
        if self._left is None:
            return None
        return min(max(self._left / self._window, 0.0), 1.0)

    def set_time(self, left: float | None, window: float = 1.0, *,
                 paused: bool = False) -> None:
        self._left = None if left is None else max(float(left), 0.0)
        self._window = max(float(window), 1e-6)
        self.paused = bool(paused) and left is not None
        self.setAccessibleDescription(
            "" if left is None else "paused" if self.paused else f"{math.ceil(left)} seconds")
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        fraction, left = self.fraction, self._left
        if fraction is None or left is None:
            return
        rect, width = ring_geometry(self.width(), self.height(), 10)
        side = rect.width()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor("#2c3a48"), width))
        p.drawEllipse(rect)
        colour = PAUSED if self.paused else GOOD if fraction > 0.34 else ATTENTION
        p.setPen(QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        # Qt angles are in 1/16 degree, counter-clockwise from 3 o'clock: start at 12.
        p.drawArc(rect, 90 * 16, int(round(fraction * 360 * 16)))
        p.setPen(FOREGROUND)
        p.setFont(font(max(int(side / 5), 10), bold=True))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter,
                   "II" if self.paused else str(math.ceil(left)))
        p.end()


class Spinner(QWidget):
    """A rotating arc that shows the kiosk is working; it turns only while visible."""

    def __init__(self, size: int = 140, interval_ms: int = 40) -> None:
        super().__init__()
        self._size = size
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timeout)
        self.setMinimumSize(size // 2, size // 2)
        self.setAccessibleName("Working")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._size, self._size)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._timer.stop()
        super().hideEvent(event)

    def _on_timeout(self) -> None:
        self._angle = (self._angle + 12) % 360
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        rect, width = ring_geometry(self.width(), self.height(), 12)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(FOREGROUND, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawArc(rect, -self._angle * 16, 270 * 16)
        p.end()
