"""Opening an attempt: the lockout check and the open row in one write transaction.

:func:`admit` runs inside :meth:`AuditLog.open_attempt`'s ``BEGIN IMMEDIATE`` transaction, so
concurrent sessions (threads, processes, several kiosks sharing a file) are serialised by
SQLite's write lock: each sees the attempts the others opened, and together they can never run
more tries than the limit allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from kiosk.audit.clock import ClockEvent
from kiosk.audit.ratelimit import RateLimitPolicy, active_lockouts, count_failures
from kiosk.audit.remote import RemoteView
from kiosk.audit.results import Lockout


@dataclass(frozen=True)
class Refusal:
    """Why an attempt may not start; ``record`` when it is recorded as a failed try."""

    scope: str
    lockout: Lockout | None
    reason: str
    record: bool


def _until(lockout: Lockout) -> str:
    return lockout.until.isoformat(timespec="seconds")


def admit(db: Database, policy: RateLimitPolicy, *, kiosk_id: str, subject_ref: str | None,
          live: list[dict[str, Any]], now: datetime, events: list[ClockEvent],
          pending: timedelta = timedelta(0),
          remote: RemoteView | None = None) -> Refusal | None:
    """None when an attempt may start now; else the refusal.

    Order: this kiosk's lockout (not recorded: a locked kiosk refuses everyone, and
    recording would extend its lockout with every passer-by), the subject's lockout (recorded),
    then the tries in flight: failures in the window plus ``live`` open attempts reaching the
    kiosk's or the subject's limit. ``remote`` adds what the other kiosks of a fleet recorded
    (see :mod:`kiosk.audit.remote`; attempts open at other kiosks are not seen). Scripted
    evaluation runs in flight are not tries: their failures count toward no limit.
    """
    live = [row for row in live if row.get("mode") is None]
    found = active_lockouts(db, "kiosk", kiosk_id, now, events=events, pending=pending,
                            remote=remote)
    if found:
        lk = max(found, key=lambda x: x.until)
        return Refusal("kiosk", lk, f"this kiosk is locked out until {_until(lk)} after "
                       f"{lk.failures} failures that suggest an attack", record=False)
    if subject_ref is not None:
        found = active_lockouts(db, "subject", subject_ref, now, events=events, pending=pending,
                                remote=remote)
        if found:
            lk = max(found, key=lambda x: x.until)
            where = "" if lk.kiosk_id == kiosk_id else f" at kiosk {lk.kiosk_id}"
            return Refusal("subject", lk, f"this subject is locked out{where} until "
                           f"{_until(lk)} after {lk.failures} failed attempts", record=True)
    in_flight = sum(1 for row in live if row["kiosk_id"] == kiosk_id)
    failures = count_failures(db, "kiosk", kiosk_id, now, policy.window, events=events,
                              remote=remote)
    if failures + in_flight >= policy.limit("kiosk"):
        return Refusal("kiosk", None, f"this kiosk has {failures} failure(s) that suggest an "
                       f"attack in the window and {in_flight} attempt(s) in flight, which "
                       f"would reach its limit of {policy.limit('kiosk')}", record=False)
    if subject_ref is not None:
        in_flight = sum(1 for row in live if row["subject_ref"] == subject_ref)
        failures = count_failures(db, "subject", subject_ref, now, policy.window,
                                  events=events, remote=remote)
        if failures + in_flight >= policy.limit("subject"):
            return Refusal("subject", None, f"this subject has {failures} failure(s) in the "
                           f"window and {in_flight} attempt(s) in flight, which would reach "
                           f"the limit of {policy.limit('subject')}", record=True)
    return None
