"""An unknown TZ (locale audit, finding 7): the C library keeps UTC under the unknown name,
and the panel labelled UTC times 'Europe' or 'Mars'."""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime

import pytest

from kiosk.operator.attempts import fmt_time
from kiosk.operator.zone import ZonedFormatter, start_of_day, unknown_zone


@pytest.mark.parametrize(("tz", "unknown"), [
    ("Europe/Berlin", False), (":Europe/Berlin", False), ("UTC", False),
    ("CET-1CEST,M3.5.0,M10.5.0/3", False), ("UTC0", False), ("/usr/share/zoneinfo/UTC", False),
    ("Europe/Berln", True), ("Mars/Olympus", True), ("Mars", True), ("/nonexistent/zone", True),
])
def test_an_unknown_zone_is_told_from_a_known_one_or_a_posix_rule(tz: str,
                                                                  unknown: bool) -> None:
    assert (unknown_zone({"TZ": tz}) == tz) is unknown
    assert unknown_zone({}) is None


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch):
    def use(tz: str) -> None:
        monkeypatch.setenv("TZ", tz)
        time.tzset()
    yield use
    monkeypatch.delenv("TZ", raising=False)
    time.tzset()


def test_the_panel_says_utc_when_the_zone_is_unknown(zone) -> None:
    when = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    zone("Europe/Berlin")
    assert fmt_time(when) == "2026-12-07 11:00:00 CET"
    zone("Europe/Berln")
    assert fmt_time(when) == "2026-12-07 10:00:00 UTC"  # was "... 10:00:00 Europe"


@pytest.mark.parametrize(("tz", "day", "start"), [
    # Summer time starts at midnight: the day starts at 01:00 (locale audit, finding 8).
    ("Africa/Cairo", date(2026, 4, 24), "2026-04-23T22:00:00+00:00"),
    ("Asia/Beirut", date(2026, 3, 29), "2026-03-28T22:00:00+00:00"),
    ("America/Santiago", date(2026, 9, 6), "2026-09-06T04:00:00+00:00"),
    ("America/Havana", date(2026, 3, 8), "2026-03-08T05:00:00+00:00"),
    # Midnight comes twice: the day starts at the first.
    ("America/Havana", date(2026, 11, 1), "2026-11-01T04:00:00+00:00"),
    # Ordinary days, and a day whose change is at 02:00.
    ("Africa/Cairo", date(2026, 4, 23), "2026-04-22T22:00:00+00:00"),
    ("Europe/Berlin", date(2026, 3, 29), "2026-03-28T23:00:00+00:00"),
    ("Asia/Kolkata", date(2026, 12, 7), "2026-12-06T18:30:00+00:00"),
])
def test_a_local_day_starts_at_its_first_instant(zone, tz: str, day: date, start: str) -> None:
    zone(tz)
    first = start_of_day(day)
    assert first.astimezone(UTC).isoformat() == start
    assert first.astimezone().date() == day


def test_a_log_line_carries_its_zone(zone) -> None:
    """Journal lines read 20:59:53 where the audit said 18:59:53 UTC (locale audit, 10)."""
    record = logging.LogRecord("kiosk", logging.WARNING, __file__, 1, "wrong operator PIN",
                               None, None)
    record.created = datetime(2026, 12, 7, 18, 59, 53, 250000, tzinfo=UTC).timestamp()
    record.msecs = 250.0
    line = ZonedFormatter("%(asctime)s %(message)s")
    zone("Europe/Berlin")
    assert line.format(record) == "2026-12-07 19:59:53,250 CET wrong operator PIN"
    zone("Asia/Kolkata")
    assert line.format(record) == "2026-12-08 00:29:53,250 IST wrong operator PIN"
    zone("Europe/Berln")
    assert line.format(record) == "2026-12-07 18:59:53,250 UTC wrong operator PIN"
