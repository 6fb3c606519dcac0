"""A row of buttons that wraps onto more rows when the screen is too narrow for it.

A plain QHBoxLayout never wraps: its minimum width is the sum of its buttons', and the
kiosk window took that width even on a portrait screen narrower than it (768 px), so the
buttons and the words beside them ran off the screen's edge.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowRow(QLayout):
    """Items side by side and centred, as many to a row as fit; the rows centred too.

    Its minimum width is its widest item's (not the sum), and its height for a width is that
    of the rows it then needs (``hasHeightForWidth``), so a parent box layout gives it the
    height of two rows on a narrow screen and of one on a wide one.

    Parameters
    ----------
    spacing : int
        Pixels between items of a row, and between rows.
    """

    def __init__(self, parent: QWidget | None = None, *, spacing: int = 24) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    def __del__(self) -> None:  # noqa: D105 (the items go with the layout, as in Qt's example)
        while self.takeAt(0) is not None:
            pass

    # -- QLayout --------------------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt override)
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt override)
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt override)
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 (Qt override)
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 (Qt override)
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """Every item in one row."""
        items = self._shown()
        width = sum(item.sizeHint().width() for item in items) + self._gap * max(
            len(items) - 1, 0)
        height = max((item.sizeHint().height() for item in items), default=0)
        return self._with_margins(QSize(width, height))

    def minimumSize(self) -> QSize:  # noqa: N802 (Qt override)
        """The widest item's width; the height of one row (the parent asks for the height
        at its width through :meth:`heightForWidth`)."""
        items = self._shown()
        width = max((item.minimumSize().width() for item in items), default=0)
        height = max((item.minimumSize().height() for item in items), default=0)
        return self._with_margins(QSize(width, height))

    # -- placing --------------------------------------------------------------------------

    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _with_margins(self, size: QSize) -> QSize:
        m = self.contentsMargins()
        return QSize(size.width() + m.left() + m.right(), size.height() + m.top() + m.bottom())

    def rows(self, width: int) -> list[list[QLayoutItem]]:
        """The items of each row at ``width`` pixels (margins included)."""
        m = self.contentsMargins()
        room = max(width - m.left() - m.right(), 0)
        rows: list[list[QLayoutItem]] = []
        used = 0
        for item in self._shown():
            wide = self._width(item, room)
            if rows and used + self._gap + wide <= room:
                rows[-1].append(item)
                used += self._gap + wide
            else:
                rows.append([item])
                used = wide
        return rows

    @staticmethod
    def _width(item: QLayoutItem, room: int) -> int:
        """The item's preferred width, narrowed to the room (never below its minimum)."""
        return max(min(item.sizeHint().width(), room), item.minimumSize().width())

    def _place(self, rect: QRect, *, move: bool) -> int:
        """Lay the rows out in ``rect`` (when ``move``); the height they take."""
        m = self.contentsMargins()
        inner = rect.marginsRemoved(m)
        rows = self.rows(rect.width())
        heights = [max(item.sizeHint().height() for item in row) for row in rows]
        total = sum(heights) + self._gap * max(len(rows) - 1, 0)
        if move:
            y = inner.y() + max((inner.height() - total) // 2, 0)
            for row, height in zip(rows, heights, strict=True):
                widths = [self._width(item, inner.width()) for item in row]
                x = inner.x() + max((inner.width() - sum(widths) - self._gap * (len(row) - 1))
                                    // 2, 0)
                for item, wide in zip(row, widths, strict=True):
                    tall = min(item.sizeHint().height(), height)
                    item.setGeometry(QRect(QPoint(x, y + (height - tall) // 2),
                                           QSize(wide, tall)))
                    x += wide + self._gap
                y += height + self._gap
        return total + m.top() + m.bottom()
