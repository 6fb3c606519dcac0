"""The fleet's one clock: the server's.

The kiosks of a site stamp their rows with their own wall clocks, which may disagree by
minutes or more (no NTP, a dead real-time clock, a technician's mistake). Compared directly,
a skew of tens of minutes would silently break the shared lockouts: a lockout read as ended,
failures out of the window, an unlock that lifts nothing. So every fleet time is judged on
the server's clock:

- each shipped row carries ``clock_offset_s``, the server's clock minus the sending kiosk's
  as it read when the row was written (:class:`~kiosk.audit.fleet.trail.ClockTrail`): a
  row's time on the server's clock is its recorded time plus that offset;
- a reader measures its own offset at the query (:func:`offset_between`) and reads every
  other kiosk's time on its own clock as the server's time minus it, so its lockout check
  compares like with like (:class:`~kiosk.audit.remote.RemoteView`).

The offset is measured at every contact and kept in ``fleet_state.skew_s``. A skew beyond
:data:`SKEW_BOUND` is reported to staff (:func:`skew_warning`): the fleet no longer depends
on it, but the kiosk's own records do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.audit.clock import TOLERANCE

__all__ = ["SKEW_BOUND", "offset_between", "skew_span", "skew_warning"]

SKEW_BOUND = TOLERANCE
"""Largest clock skew from the server that goes unreported (2 minutes). A kiosk kept by NTP
is within a second of a server kept the same way; the audit log takes a change of its clock
by more than this for a jump rather than an ordinary correction
(:data:`kiosk.audit.clock.TOLERANCE`), so a kiosk this far off is not kept and staff must set
it right: the times it records, exports and tells people are off by as much."""


def offset_between(server: datetime, before: datetime, after: datetime) -> timedelta:
    """The server's clock minus a kiosk's, from the server's time read between two readings
    of the kiosk's clock.

    The error is up to half the round trip; an offset within it is no offset (clocks that
    agree as far as the measurement can tell keep their recorded times exactly, so an unlock
    is not put a jitter's width before the lockout it lifts).
    """
    half = (after - before) / 2
    offset = server - (before + half)
    return offset if abs(offset) > half else timedelta(0)


def skew_warning(skew_s: float | None) -> str | None:
    """A sentence for staff when ``skew_s`` (server minus this kiosk, in seconds) is beyond
    :data:`SKEW_BOUND`; None within it or when unknown."""
    if skew_s is None or abs(skew_s) <= SKEW_BOUND.total_seconds():
        return None
    way = "behind" if skew_s > 0 else "ahead of"
    bound = SKEW_BOUND.total_seconds() / 60
    return (f"this kiosk's clock is {skew_span(skew_s)} {way} the fleet server's, more "
            f"than the {bound:g} min an NTP-kept clock stays within: the times it records, "
            "exports and tells people are off by as much (the fleet's lockouts go by the "
            "server's clock); set the clock right (NTP)")


def skew_span(skew_s: float) -> str:
    """How far apart two clocks ``skew_s`` seconds apart are, in words ("45.0 min")."""
    seconds = abs(skew_s)
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
