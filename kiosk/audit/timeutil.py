"""UTC timestamps as the audit log stores them, and the clock type it is given.

Every timestamp is stored as ISO 8601 text with microseconds and an explicit ``+00:00``
offset (``2026-05-01T12:00:00.000000+00:00``). One fixed width and one zone make text order
equal time order, so SQL can compare them directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

Clock = Callable[[], datetime]
"""A callable returning the current time as a timezone-aware datetime (tests inject one)."""


def utc_now() -> datetime:
    """The default clock: now, aware, in UTC."""
    return datetime.now(UTC)


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC; raise ValueError naming ``name`` when it is naive."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


def to_iso(value: datetime, name: str = "timestamp") -> str:
    """The stored text of an aware datetime: UTC, microseconds, ``+00:00``."""
    return require_aware(value, name).isoformat(timespec="microseconds")


def from_iso(text: str) -> datetime:
    """Parse a stored timestamp back into an aware UTC datetime."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"stored timestamp {text!r} has no time zone")
    return value.astimezone(UTC)


def now_from(clock: Clock) -> datetime:
    """Call ``clock`` and check that it keeps the contract (aware datetime)."""
    return require_aware(clock(), "clock()")


def parse_when(text: str) -> datetime:
    """Parse a date or date-time given by a user: ``2026-05-01`` (UTC midnight) or ISO 8601.

    A date-time without an offset is taken as UTC.

    Raises
    ------
    ValueError
        The text is neither a date nor an ISO 8601 date-time.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([wdhm])\s*$")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
          "m": timedelta(minutes=1)}
#: Longest duration accepted: a century covers any log, and every date it reaches back to can
#: be represented (a larger one overflowed Python's dates with a traceback).
MAX_DURATION = timedelta(days=36525)


def parse_duration(text: str) -> timedelta:
    """Parse ``30d``, ``12h``, ``90m`` or ``2w`` into a positive timedelta.

    Raises
    ------
    ValueError
        Not a number followed by one of w, d, h, m; zero; or more than :data:`MAX_DURATION`.
    """
    match = _DURATION.match(text.lower())
    if match is None:
        raise ValueError(f"{text!r} is not a duration; use a number and a unit: 30d, 12h, 90m, 2w")
    amount = float(match.group(1))
    if amount <= 0:
        raise ValueError(f"{text!r}: the duration must be more than zero")
    unit = _UNITS[match.group(2)]
    if amount > MAX_DURATION / unit:
        raise ValueError(f"{text!r}: the duration must be at most {MAX_DURATION.days} days "
                         "(a century)")
    return amount * unit
