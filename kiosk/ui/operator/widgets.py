"""Shared look and small helpers of the operator panel: high contrast, large text, names."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

# The pages format times as the Qt-free logic does (the audit check's broken row, say).
from kiosk.operator.attempts import fmt_time as fmt_time

FONT_PX = 20
#: In every reason field: reasons stay in the log's chain until the purge, and on the fleet.
#: Short enough for the override's field at 1280x800 (250 px).
REASON_HINT = "no personal details"

# White on black with a yellow focus ring: contrast above 15:1 for text and 12:1 for focus.
STYLE = f"""
QWidget {{ background: #000000; color: #ffffff; font-size: {FONT_PX}px; }}
QLineEdit, QComboBox, QSpinBox, QDateEdit, QTableWidget, QAbstractItemView {{
    background: #101010; color: #ffffff; border: 2px solid #ffffff; padding: 4px; }}
QPushButton {{ background: #1c1c1c; color: #ffffff; border: 2px solid #ffffff;
    padding: 8px 18px; min-height: 36px; }}
QPushButton:disabled, QLineEdit:disabled {{ color: #9a9a9a; border-color: #9a9a9a; }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDateEdit:focus, QTableWidget:focus,
QPushButton:focus, QCheckBox:focus, QTabBar::tab:focus {{ border: 3px solid #ffd400; }}
QTableWidget::item:selected {{ background: #ffd400; color: #000000; }}
QHeaderView::section {{ background: #262626; color: #ffffff; font-weight: bold;
    border: 1px solid #ffffff; padding: 4px; }}
QTabBar::tab {{ background: #1c1c1c; color: #ffffff; border: 2px solid #ffffff;
    padding: 10px 18px; }}
QTabBar::tab:selected {{ background: #ffd400; color: #000000; }}
QCheckBox::indicator {{ width: 24px; height: 24px; border: 2px solid #ffffff;
    background: #101010; }}
QCheckBox::indicator:checked {{ background: #ffd400; }}
QGroupBox {{ border: 2px solid #ffffff; margin-top: 18px; padding-top: 10px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; }}
"""

COLORS = {"ok": "#00e676", "error": "#ff8a8a", "warning": "#ffd400", "info": "#ffffff"}


def named(widget: QWidget, name: str, description: str = "") -> QWidget:
    """Give a control its accessible name (and description, also shown as a tooltip)."""
    widget.setAccessibleName(name)
    if description:
        widget.setAccessibleDescription(description)
        widget.setToolTip(description)
    return widget


def message_label(name: str) -> QLabel:
    """A word-wrapped label for results and errors, read out by screen readers."""
    label = QLabel()
    label.setWordWrap(True)
    named(label, name)
    return label


def show_message(label: QLabel, text: str, role: str = "info") -> None:
    """Show ``text`` in the colour of ``role`` (ok, error, warning, info)."""
    label.setStyleSheet(f"color: {COLORS[role]}; font-weight: bold;")
    label.setText(text)
    label.setAccessibleDescription(text)


def make_table(name: str, headers: Sequence[str], stretch: int | None = None,
               min_rows: int = 0) -> QTableWidget:
    """A read-only, row-selecting table that Tab leaves (arrow keys move inside it).

    Columns are as wide as their content; column ``stretch`` (the last one when None) takes
    the room left, and is cut short (with a tooltip holding the whole cell, see
    :func:`fill_table`) rather than making the table scroll sideways. Selecting a row never
    scrolls the table sideways. The table is never shorter than its header and ``min_rows``
    rows (measured with the font and style in force when it is laid out).
    """
    table = _RowTable(0, len(headers))
    table.min_rows = min_rows
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setTabKeyNavigation(False)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    named(table, name)
    return table


class _RowTable(QTableWidget):
    """A table whose selection moves up and down only: the horizontal scroll position stays
    where the operator left it (a click in a wide cell does not scroll the first columns out
    of view)."""

    min_rows = 0

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = super().minimumSizeHint()
        if self.min_rows <= 0:
            return hint
        height = (self.horizontalHeader().sizeHint().height()
                  + self.verticalHeader().defaultSectionSize() * self.min_rows
                  + 2 * self.frameWidth() + 4)
        if self.horizontalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
            height += self.horizontalScrollBar().sizeHint().height()
        return QSize(hint.width(), max(hint.height(), height))

    def scrollTo(self, index: QModelIndex | QPersistentModelIndex,  # noqa: N802 - Qt override
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
                 ) -> None:
        bar = self.horizontalScrollBar()
        left = bar.value()
        super().scrollTo(index, hint)
        bar.setValue(left)


def fill_table(table: QTableWidget, rows: Sequence[Sequence[str]], *,
               tooltips: bool = False) -> None:
    """Replace the table's content with text cells (each its own tooltip when ``tooltips``,
    for cells a narrow column cuts short)."""
    table.setRowCount(0)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if tooltips:
                item.setToolTip(text)
            table.setItem(r, c, item)


def fmt_num(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)
