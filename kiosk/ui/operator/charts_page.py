"""Charts page: passes and failures by day, and reason codes, drawn with QPainter."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
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
        self.update()

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
            for name, _, color in self.series:  # legend
                painter.fillRect(QRectF(x, line + 10, line * 0.8, line * 0.8), color)
                painter.setPen(TEXT_COLOR)
                painter.drawText(QRectF(x + line, line + 6, 400, line), name)
                x += line * 1.5 + metrics.horizontalAdvance(name)
            plot = QRectF(8, 2.4 * line + 10, self.width() - 16, self.height() - 2.4 * line - 18)
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
        label_width = min(plot.width() * 0.45,
                          max(metrics.horizontalAdvance(c) for c in self.categories) + 12)
        count_width = metrics.horizontalAdvance(str(peak)) + 12
        row = plot.height() / len(self.categories)
        width = plot.width() - label_width - count_width
        _, values, color = self.series[0]
        for i, category in enumerate(self.categories):
            top = plot.top() + i * row
            painter.setPen(TEXT_COLOR)
            text = metrics.elidedText(category, Qt.TextElideMode.ElideRight,
                                      int(label_width - 12))
            painter.drawText(QRectF(plot.left(), top, label_width - 12, row),
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
