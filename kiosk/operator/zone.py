"""Local days and whether this machine knows the time zone it was given.

The C library reads a ``TZ`` it does not know (a typo such as ``Europe/Berln`` in a unit's
drop-in) as UTC under that name, so ``%Z`` labelled UTC times "Europe" and staff took them
for local time. A name with a digit is a POSIX rule that carries its own offset
(``CET-1CEST,M3.5.0,M10.5.0/3``, ``UTC0``) and is taken as given.
"""

from __future__ import annotations

import functools
import logging
import os
import time as clock
from collections.abc import Mapping
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def unknown_zone(environ: Mapping[str, str] = os.environ) -> str | None:
    """The ``TZ`` value when this machine does not know it as a zone, else None (unset, a
    known zone, or a POSIX rule)."""
    tz = environ.get("TZ")
    return tz if tz and not _known(tz) else None


@functools.lru_cache(maxsize=8)
def _known(tz: str) -> bool:
    """Looked up once per value: the panel asks for every time it shows, and an unknown
    name is searched for on disk each time it is tried."""
    name = tz[1:] if tz.startswith(":") else tz
    if not name.startswith("/") and any(ch.isdigit() for ch in name):
        return True
    try:
        if name.startswith("/"):
            with open(name, "rb") as fh:
                ZoneInfo.from_file(fh)
        else:
            ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def start_of_day(day: date) -> datetime:
    """The first instant of ``day`` in this machine's local time, as an aware datetime.

    Where the clocks skip midnight (Cairo, Beirut, Santiago and Havana start summer time at
    00:00), the day starts at 01:00; a plain ``combine(day, time()).astimezone()`` gave
    23:00 of the day before, so a filter on that day took in an hour of the last one. Where
    midnight comes twice, the day starts at the first.
    """
    midnight = datetime.combine(day, time())
    first = midnight.astimezone()  # fold 0: the first of two midnights
    if first.astimezone().date() == day:
        return first
    return midnight.replace(fold=1).astimezone()  # a skipped midnight read after the change


class ZonedFormatter(logging.Formatter):
    """Log lines stamped in local time with the zone's name (``2026-12-07 21:00:00,123 CET``).

    The default stamp had no zone, so a journal line read 20:59:53 where the audit action it
    matches says 18:59:53 UTC. Under a ``TZ`` this machine does not know, the time is UTC and
    is labelled so.
    """

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        local = clock.localtime(record.created)
        zone = "UTC" if unknown_zone() is not None else clock.strftime("%Z", local)
        return f"{clock.strftime('%Y-%m-%d %H:%M:%S', local)},{int(record.msecs):03d} {zone}"
