"""An unknown TZ (locale audit, finding 7): the C library keeps UTC under the unknown name,
and the panel labelled UTC times 'Europe' or 'Mars'."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from kiosk.operator.attempts import fmt_time
from kiosk.operator.zone import unknown_zone


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
