"""Chart data: passes and failures by day, and reason codes, as plain ``(label, count)`` lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kiosk.audit import AuditStats
from kiosk.vocabulary import Verdict

TOP_REASONS = 8


@dataclass(frozen=True)
class ChartData:
    """Counts of completed attempts over ``first_day`` .. ``last_day`` (UTC days).

    Every day of the range has an entry (zero when nothing happened), oldest first; labels
    are ISO dates. ``by_reason`` lists the most frequent reason codes of all decisions, most
    frequent first, the rest summed as ``"other"``.
    """

    first_day: date
    last_day: date
    passes_by_day: list[tuple[str, int]]
    failures_by_day: list[tuple[str, int]]
    reviews_by_day: list[tuple[str, int]]
    by_reason: list[tuple[str, int]]
    total: int

    @property
    def empty(self) -> bool:
        return self.total == 0


def chart_data(stats: AuditStats, first_day: date, last_day: date,
               top: int = TOP_REASONS) -> ChartData:
    """Fill the day range from ``stats.by_day`` and keep the ``top`` reasons.

    ``stats`` should cover exactly the range (``AuditReader.stats(since=, until=)``).
    """
    if last_day < first_day:
        raise ValueError("last_day must not be before first_day")
    if top < 1:
        raise ValueError("top must be at least 1")
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    series: dict[str, list[tuple[str, int]]] = {verdict: [] for verdict in Verdict}
    for day in days:
        counts = stats.by_day.get(day.isoformat(), {})
        for decision, points in series.items():
            points.append((day.isoformat(), int(counts.get(decision, 0))))
    ranked = sorted(stats.by_reason.items(), key=lambda item: (-item[1], item[0]))
    by_reason = [(code, int(n)) for code, n in ranked[:top]]
    rest = sum(n for _, n in ranked[top:])
    if rest:
        by_reason.append(("other", rest))
    return ChartData(first_day, last_day, series[Verdict.PASS], series[Verdict.FAIL], series[Verdict.REVIEW],
                     by_reason, stats.total)
