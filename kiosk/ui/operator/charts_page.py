"""Charts page: passes and failures by day, and reason codes, drawn with QPainter."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QHelpEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from kiosk.operator import ChartData, OperatorContext
from kiosk.ui.operator.tasks import TaskRunner
from kiosk.ui.operator.widgets import message_label, named, show_message

PASS_COLOR = QColor("#00e676")
FAIL_COLOR = QColor("#ff5252")
REVIEW_COLOR = QColor("#ffd400")
REASON_COLOR = QColor("#4fc3f7")
TEXT_COLOR = QColor("#ffffff")
AXIS_COLOR = QColor("#bdbdbd")

Series = tuple[str, Sequence[int], QColor]


MIN_HEIGHT_PX = 220
DAY_CHART_MIN_HEIGHT_PX = 180
"""Leaves the reason chart a full line per code under it at 1280x800."""
ROW_LINES = 1.3
"""A horizontal chart's row, in lines of its font: the labels' underscores (drawn below the
baseline) are not clipped by the next row."""


class BarChart(QWidget):
    """Grouped bars, vertical (categories along x) or horizontal (categories down the side).

    Painted only; its numbers are also in :meth:`summary`, which is the accessible
    description (a screen reader cannot read bars).
    """

    def __init__(self, title: str, *, horizontal: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.horizontal = horizontal
        self.categories: list[str] = []
        self.series: list[Series] = []
        # Two charts and the controls fit a 1280x800 screen under the panel's header and tabs.
        self.setMinimumHeight(MIN_HEIGHT_PX)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # reachable so its description is read
        named(self, title)

    def set_data(self, categories: Sequence[str], series: Sequence[Series]) -> None:
        if any(len(values) != len(categories) for _, values, _ in series):
            raise ValueError("every series needs one value per category")
        self.categories = list(categories)
        self.series = list(series)
        self.setAccessibleDescription(self.summary())
        if self.horizontal:
            # Tall enough for a full line per category (the codes are never squeezed).
            self.setMinimumHeight(max(MIN_HEIGHT_PX, int(self._header_height())
                                      + self._row_height() * len(self.categories) + 8))
            self.updateGeometry()
        self.update()

    def _header_height(self) -> float:
        """The title (and the legend, when there is more than one series) above the plot."""
        line = self.fontMetrics().height()
        return (1.2 if self._single() else 2.4) * line + 10

    def _single(self) -> bool:
        return self.horizontal and len(self.series) <= 1

    def _row_height(self) -> int:
        return int(self.fontMetrics().height() * ROW_LINES) + 1

    def _label_width(self, metrics: QFontMetrics, plot: QRectF) -> float:
        widest = max(metrics.horizontalAdvance(c) for c in self.categories)
        return min(plot.width() * 0.5, widest + 16)

    def _plot(self) -> QRectF:
        top = self._header_height()
        return QRectF(8, top, self.width() - 16, self.height() - top - 8)

    def category_at(self, pos: QPointF) -> int | None:
        """The index of the horizontal chart's row under ``pos`` (None outside the rows)."""
        if not self.horizontal or not self.categories:
            return None
        plot = self._plot()
        row = plot.height() / len(self.categories)
        index = int((pos.y() - plot.top()) // row) if row > 0 else -1
        return index if 0 <= index < len(self.categories) else None

    def event(self, event: QEvent) -> bool:
        # A row's tooltip gives its whole code and count (in case a narrow window cut it).
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.category_at(QPointF(event.pos()))
            if index is None:
                QToolTip.hideText()
                event.ignore()
            else:
                counts = ", ".join(f"{name} {values[index]}" for name, values, _ in self.series)
                QToolTip.showText(event.globalPos(), f"{self.categories[index]}: {counts}", self)
            return True
        return super().event(event)

    def summary(self) -> str:
        """The chart's numbers as text."""
        if not self.categories:
            return f"{self.title}: no data."
        parts = []
        for i, category in enumerate(self.categories):
            counts = ", ".join(f"{name} {values[i]}" for name, values, _ in self.series)
            parts.append(f"{category}: {counts}")
        return f"{self.title}. " + "; ".join(parts) + "."

    def _peak(self) -> int:
        return max((max(values, default=0) for _, values, _ in self.series), default=0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.fillRect(self.rect(), QColor("#000000"))
            painter.setFont(self.font())
            metrics = painter.fontMetrics()
            line = metrics.height()
            painter.setPen(TEXT_COLOR)
            painter.drawText(QRectF(8, 4, self.width() - 16, line), self.title)
            x = 8.0
            for name, _, color in [] if self._single() else self.series:  # legend
                painter.fillRect(QRectF(x, line + 10, line * 0.8, line * 0.8), color)
                painter.setPen(TEXT_COLOR)
                painter.drawText(QRectF(x + line, line + 6, 400, line), name)
                x += line * 1.5 + metrics.horizontalAdvance(name)
            plot = self._plot()
            if not self.categories or self._peak() == 0:
                painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No attempts in this period")
                return
            if self.horizontal:
                self._paint_horizontal(painter, plot)
            else:
                self._paint_vertical(painter, plot)
        finally:
            painter.end()

    def _paint_vertical(self, painter: QPainter, plot: QRectF) -> None:
        metrics = painter.fontMetrics()
        line = metrics.height()
        peak = self._peak()
        left = metrics.horizontalAdvance(str(peak)) + 12
        area = QRectF(plot.left() + left, plot.top(), plot.width() - left,
                      plot.height() - line - 6)
        painter.setPen(AXIS_COLOR)
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        painter.setPen(TEXT_COLOR)
        painter.drawText(QRectF(plot.left(), area.top() - line / 2, left - 6, line),
                         Qt.AlignmentFlag.AlignRight, str(peak))
        painter.drawText(QRectF(plot.left(), area.bottom() - line / 2, left - 6, line),
                         Qt.AlignmentFlag.AlignRight, "0")
        n = len(self.categories)
        group = area.width() / n
        bar = group * 0.8 / max(1, len(self.series))
        label_width = max(metrics.horizontalAdvance(c[-5:]) for c in self.categories) + 8
        every = max(1, int(label_width // group) + 1)
        for i, category in enumerate(self.categories):
            x0 = area.left() + i * group + group * 0.1
            for j, (_, values, color) in enumerate(self.series):
                height = area.height() * values[i] / peak
                painter.fillRect(QRectF(x0 + j * bar, area.bottom() - height, bar * 0.92,
                                        height), color)
            if i % every == 0:
                painter.setPen(TEXT_COLOR)
                # ISO dates are shortened to MM-DD; the accessible summary has them whole.
                painter.drawText(QRectF(area.left() + i * group - group, area.bottom() + 4,
                                        3 * group, line), Qt.AlignmentFlag.AlignHCenter,
                                 category[-5:])

    def _paint_horizontal(self, painter: QPainter, plot: QRectF) -> None:
        metrics = painter.fontMetrics()
        peak = self._peak()
        # Codes are drawn as they are (underscores included), whole unless the window is too
        # narrow for the widest one: then they are cut with an ellipsis and the row's tooltip
        # (and the accessible summary) has them whole.
        label_width = self._label_width(metrics, plot)
        count_width = metrics.horizontalAdvance(str(peak)) + 12
        row = plot.height() / len(self.categories)
        text_height = max(row, metrics.height() + 2.0)
        width = plot.width() - label_width - count_width
        _, values, color = self.series[0]
        for i, category in enumerate(self.categories):
            top = plot.top() + i * row
            painter.setPen(TEXT_COLOR)
            text = metrics.elidedText(category, Qt.TextElideMode.ElideRight,
                                      int(label_width - 12) + 2)
            painter.drawText(QRectF(plot.left(), top + (row - text_height) / 2, label_width - 12,
                                    text_height),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)
            length = width * values[i] / peak
            painter.fillRect(QRectF(plot.left() + label_width, top + row * 0.15, length,
                                    row * 0.7), color)
            painter.drawText(QRectF(plot.left() + label_width + length + 6, top, count_width,
                                    row), Qt.AlignmentFlag.AlignVCenter, str(values[i]))


class ChartsPage(QWidget):
    """Both charts and the period chooser; data is counted off the UI thread."""

    def __init__(self, context: OperatorContext, runner: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._runner = runner
        self.days_spin = QSpinBox()
        self.days_spin.setRange(7, 90)
        self.days_spin.setValue(14)
        self.days_spin.setMinimumWidth(110)
        named(self.days_spin, "Days shown")
        self.refresh_button = QPushButton("&Refresh charts")
        named(self.refresh_button, "Refresh the charts")
        self.by_day = BarChart("Attempts by day")
        self.by_day.setMinimumHeight(DAY_CHART_MIN_HEIGHT_PX)
        self.by_reason = BarChart("Reason codes", horizontal=True)
        self.message = message_label("Charts summary")
        row = QHBoxLayout()
        days_label = QLabel("&Days")
        days_label.setBuddy(self.days_spin)
        row.addWidget(days_label)
        row.addWidget(self.days_spin)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.by_day, 3)
        layout.addWidget(self.by_reason, 2)
        self.refresh_button.clicked.connect(self.refresh)

    def refresh(self) -> None:
        days = self.days_spin.value()
        self._runner.run(lambda: self._context.chart_data(days), self._on_loaded,
                         lambda message: show_message(self.message, message, "error"))

    def _on_loaded(self, data: ChartData) -> None:
        days = [label for label, _ in data.passes_by_day]
        self.by_day.set_data(days, [
            ("pass", [n for _, n in data.passes_by_day], PASS_COLOR),
            ("fail", [n for _, n in data.failures_by_day], FAIL_COLOR),
            ("review", [n for _, n in data.reviews_by_day], REVIEW_COLOR)])
        self.by_reason.set_data([code for code, _ in data.by_reason],
                                [("attempts", [n for _, n in data.by_reason], REASON_COLOR)])
        passes = sum(n for _, n in data.passes_by_day)
        fails = sum(n for _, n in data.failures_by_day)
        reviews = sum(n for _, n in data.reviews_by_day)
        show_message(self.message, f"{data.first_day} to {data.last_day}: {data.total} "
                     f"attempt(s): {passes} passed, {fails} failed, {reviews} for review.")
