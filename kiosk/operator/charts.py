"""Chart data: passes, failures and reviews by local day, and reason codes, as plain
``(label, count)`` lists.

The decision counted is the effective one: an operator override (``fail`` to ``pass``, say)
moves its attempt to the new decision, so the charts agree with what staff decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from kiosk.audit.results import Outcome
from kiosk.vocabulary import Verdict

TOP_REASONS = 8


@dataclass(frozen=True)
class ChartData:
    """Counts of completed attempts over ``first_day`` .. ``last_day`` (local days).

    Every day of the range has an entry (zero when nothing happened), oldest first; labels
    are ISO dates. ``by_reason`` lists the most frequent reason codes of all decisions, most
    frequent first, the rest summed as ``"other"``. ``overridden`` counts the attempts whose
    decision an operator changed (counted under the new decision).
    """

    first_day: date
    last_day: date
    passes_by_day: list[tuple[str, int]]
    failures_by_day: list[tuple[str, int]]
    reviews_by_day: list[tuple[str, int]]
    by_reason: list[tuple[str, int]]
    total: int
    overridden: int = 0

    @property
    def empty(self) -> bool:
        return self.total == 0


def chart_data(outcomes: Iterable[Outcome], overrides: Mapping[int, str],
               first_day: date, last_day: date, top: int = TOP_REASONS) -> ChartData:
    """Count ``outcomes`` by local day of their start and effective decision.

    Parameters
    ----------
    outcomes : iterable of Outcome
        The finished verifications of the range (``AuditReader.outcomes``: no incomplete
        attempt, no scripted evaluation run, which served nobody).
    overrides : mapping of int to str
        Attempt id to its overridden decision (:func:`kiosk.operator.attempts.latest_overrides`).
    first_day, last_day : date
        The local days shown, inclusive.
    top : int
        Reason codes listed by name; the rest are summed as ``"other"``.
    """
    if last_day < first_day:
        raise ValueError("last_day must not be before first_day")
    if top < 1:
        raise ValueError("top must be at least 1")
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    counts: dict[date, Counter[str]] = {day: Counter() for day in days}
    reasons: Counter[str] = Counter()
    total = overridden = 0
    for outcome in outcomes:
        day = outcome.started_at.astimezone().date()
        if day not in counts:
            continue
        decision = overrides.get(outcome.id, outcome.decision)
        overridden += decision != outcome.decision
        counts[day][decision] += 1
        reasons.update(outcome.reasons)
        total += 1
    series = {verdict: [(day.isoformat(), counts[day][verdict]) for day in days]
              for verdict in Verdict}
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    by_reason = [(code, int(n)) for code, n in ranked[:top]]
    rest = sum(n for _, n in ranked[top:])
    if rest:
        by_reason.append(("other", rest))
    return ChartData(first_day, last_day, series[Verdict.PASS], series[Verdict.FAIL],
                     series[Verdict.REVIEW], by_reason, total, overridden)
