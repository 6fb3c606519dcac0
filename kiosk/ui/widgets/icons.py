"""Simple vector icons for the prompts and results, drawn with QPainter (no image files).

Every icon is drawn in a unit square scaled to the target rectangle, in one colour with round
strokes, so it stays crisp at any size and in high contrast. Arrows for turns point the way
the person sees themselves in the mirrored preview (``turn_left``: to the screen's left).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from kiosk.ui.widgets.common import FOREGROUND

ICONS = ("blink", "turn_left", "turn_right", "smile", "nod", "look_up", "look_down",
         "check", "cross", "staff", "camera")


def _arrow(p: QPainter, start: QPointF, end: QPointF, head: float = 0.07) -> None:
    p.drawLine(start, end)
    d = end - start
    length = (d.x() ** 2 + d.y() ** 2) ** 0.5 or 1.0
    ux, uy = d.x() / length, d.y() / length
    for sx, sy in ((-uy, ux), (uy, -ux)):
        p.drawLine(end, QPointF(end.x() - head * (ux - sx), end.y() - head * (uy - sy)))


def draw_icon(painter: QPainter, rect: QRectF, name: str, colour: QColor = FOREGROUND) -> None:
    """Draw icon ``name`` (one of :data:`ICONS`) into ``rect``.

    Raises
    ------
    ValueError
        Unknown icon name.
    """
    if name not in ICONS:
        raise ValueError(f"unknown icon {name!r}; known: {', '.join(ICONS)}")
    side = min(rect.width(), rect.height())
    if side <= 0:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.translate(rect.center().x() - side / 2, rect.center().y() - side / 2)
    painter.scale(side, side)
    pen = QPen(colour, 0.045, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    dot = QPen(pen)
    dot.setWidthF(0.07)
    p = painter
    if name in ("check", "cross"):
        p.drawEllipse(QPointF(0.5, 0.5), 0.42, 0.42)
        if name == "check":
            path = QPainterPath(QPointF(0.3, 0.52))
            path.lineTo(QPointF(0.44, 0.66))
            path.lineTo(QPointF(0.72, 0.36))
            p.drawPath(path)
        else:
            p.drawLine(QPointF(0.34, 0.34), QPointF(0.66, 0.66))
            p.drawLine(QPointF(0.66, 0.34), QPointF(0.34, 0.66))
    elif name == "staff":
        p.drawEllipse(QPointF(0.5, 0.3), 0.15, 0.15)
        path = QPainterPath(QPointF(0.18, 0.9))
        path.cubicTo(QPointF(0.18, 0.55), QPointF(0.82, 0.55), QPointF(0.82, 0.9))
        p.drawPath(path)
        p.drawRect(QRectF(0.56, 0.66, 0.14, 0.1))
    elif name == "camera":
        p.drawRoundedRect(QRectF(0.12, 0.3, 0.76, 0.5), 0.08, 0.08)
        p.drawEllipse(QPointF(0.5, 0.55), 0.15, 0.15)
        p.drawLine(QPointF(0.35, 0.3), QPointF(0.4, 0.2))
        p.drawLine(QPointF(0.4, 0.2), QPointF(0.6, 0.2))
        p.drawLine(QPointF(0.6, 0.2), QPointF(0.65, 0.3))
    else:
        shift = {"turn_left": (-0.08, 0.0), "turn_right": (0.08, 0.0),
                 "look_up": (0.0, -0.08), "look_down": (0.0, 0.08)}.get(name, (0.0, 0.0))
        p.setPen(pen)
        p.drawEllipse(QPointF(0.5, 0.45), 0.28, 0.3)
        p.setPen(dot if name != "blink" else pen)
        _eyes(p, shift, closed=name == "blink")
        p.setPen(pen)
        mouth = QPainterPath(QPointF(0.4 + shift[0], 0.58 + shift[1]))
        depth = 0.1 if name == "smile" else 0.03
        mouth.quadTo(QPointF(0.5 + shift[0], 0.58 + shift[1] + depth),
                     QPointF(0.6 + shift[0], 0.58 + shift[1]))
        p.drawPath(mouth)
        if name == "turn_left":
            _arrow(p, QPointF(0.7, 0.88), QPointF(0.3, 0.88))
        elif name == "turn_right":
            _arrow(p, QPointF(0.3, 0.88), QPointF(0.7, 0.88))
        elif name == "look_up":
            _arrow(p, QPointF(0.88, 0.6), QPointF(0.88, 0.2))
        elif name == "look_down":
            _arrow(p, QPointF(0.88, 0.3), QPointF(0.88, 0.7))
        elif name == "nod":
            _arrow(p, QPointF(0.88, 0.45), QPointF(0.88, 0.75))
            _arrow(p, QPointF(0.88, 0.45), QPointF(0.88, 0.15))
    painter.restore()


def _eyes(p: QPainter, shift: tuple[float, float], closed: bool) -> None:
    ex, ey = 0.5 + shift[0], 0.4 + shift[1]
    for side in (-1, 1):
        x = ex + side * 0.1
        if closed:
            path = QPainterPath(QPointF(x - 0.055, ey))
            path.quadTo(QPointF(x, ey + 0.05), QPointF(x + 0.055, ey))
            p.drawPath(path)
        else:
            p.drawPoint(QPointF(x, ey))


class IconWidget(QWidget):
    """Shows one icon; :meth:`set_icon` changes it (None shows nothing)."""

    def __init__(self, name: str | None = None, colour: QColor = FOREGROUND,
                 size: int = 160) -> None:
        super().__init__()
        self._name = name
        self._colour = colour
        self._size = size
        self.setMinimumSize(size // 2, size // 2)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    @property
    def name(self) -> str | None:
        return self._name

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._size, self._size)

    @property
    def colour(self) -> QColor:
        """The colour the icon is drawn in."""
        return self._colour

    def set_icon(self, name: str | None, colour: QColor | None = None) -> None:
        if name is not None and name not in ICONS:
            raise ValueError(f"unknown icon {name!r}; known: {', '.join(ICONS)}")
        self._name = name
        if colour is not None:
            self._colour = colour
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        if self._name is None:
            return
        painter = QPainter(self)
        draw_icon(painter, QRectF(self.rect()).adjusted(4, 4, -4, -4), self._name, self._colour)
        painter.end()
