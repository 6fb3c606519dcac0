"""Layout checks by widget geometry: siblings that overlap, children outside their parent,
word-wrapped labels cut short, an empty field's hint cut short. Used by the layout tests
(offscreen and under Xvfb)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QLabel,
    QLineEdit,
    QScrollArea,
    QTabBar,
    QWidget,
)

#: A field's frame and inner margins, either side together (the panel's style: 2 px border and
#: 4 px padding a side, and Qt's 2 px text margin).
FIELD_PADDING_PX = 16


def _name(widget: QWidget) -> str:
    return widget.accessibleName() or widget.objectName() or type(widget).__name__


def layout_faults(root: QWidget) -> list[str]:
    """Every visible widget under ``root`` that overlaps a visible sibling, sticks out of its
    parent, is shorter than its text needs (a word-wrapped label) or narrower than its hint
    (an empty field's placeholder, with :data:`FIELD_PADDING_PX` for its frame).

    A scroll area's content is checked within itself (it scrolls by design, so it may stick
    out of the area); item views and other scroll areas are not entered, nor are tab bars
    (their scroll buttons sit over the tabs).
    """
    faults: list[str] = []

    def walk(parent: QWidget) -> None:
        kids = [w for w in parent.findChildren(
            QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
            if w.isVisible() and not w.isWindow()]
        for i, a in enumerate(kids):
            box = a.geometry()
            if not parent.rect().contains(box):
                faults.append(f"{_name(a)} {box.getRect()} sticks out of {_name(parent)} "
                              f"{parent.rect().getRect()}")
            if isinstance(a, QLabel) and a.wordWrap() and a.text() and \
                    a.height() < a.heightForWidth(a.width()):
                faults.append(f"{_name(a)} is {a.height()} px high but its text needs "
                              f"{a.heightForWidth(a.width())} px")
            if isinstance(a, QLineEdit) and not a.text() and a.placeholderText():
                needs = a.fontMetrics().horizontalAdvance(a.placeholderText()) + \
                    FIELD_PADDING_PX
                if a.width() < needs:
                    faults.append(f"{_name(a)} is {a.width()} px wide but its hint "
                                  f"{a.placeholderText()!r} needs {needs} px")
            faults.extend(f"{_name(a)} {box.getRect()} overlaps {_name(b)} "
                          f"{b.geometry().getRect()}"
                          for b in kids[i + 1:] if box.intersects(b.geometry()))
        for kid in kids:
            if isinstance(kid, QScrollArea) and kid.widget() is not None:
                walk(kid.widget())
            elif not isinstance(kid, QAbstractScrollArea | QTabBar):
                walk(kid)

    walk(root)
    return faults
