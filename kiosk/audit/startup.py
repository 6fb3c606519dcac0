"""The kiosk's start-up check of its audit log: the guard triggers, the recent tail of the
chain and every lockout the rate limiter relies on.

A full ``verify`` reads every row (about 0.3 s per 10,000 on this machine); at start the kiosk
checks the part its decisions depend on: every chained row from the oldest lockout still in
force, or from the start of the rate-limit horizon (the failure window or the lockout length,
whichever is longer, before the last recorded time), or from the last :data:`TAIL_ROWS` rows,
whichever reaches furthest back, to the head, with their links, MACs and the head record; and
every open attempt's MAC. A break raises ``AuditUnavailable`` (reason ``tampered``) and the
kiosk goes out of service, as for any unusable audit log.
"""

from __future__ import annotations

import os
from datetime import timedelta

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit.clock import clock_high
from kiosk.audit.errors import AuditUnavailable
from kiosk.audit.ratelimit import all_lockouts
from kiosk.audit.results import ChainBreak, VerifyReport
from kiosk.audit.schema import GUARD_TRIGGERS
from kiosk.audit.signer import chain_state
from kiosk.audit.timeutil import to_iso

TAIL_ROWS = 500

_TIME_COLUMN = {"attempts": "recorded_at", "lockouts": "started_at",
                "operator_actions": "acted_at"}


def missing_triggers(db: Database) -> list[str]:
    found = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = "
                                          "'trigger'").fetchall()}
    return [name for name in GUARD_TRIGGERS if name not in found]


def first_to_check(db: Database, horizon: timedelta) -> int:
    """The oldest chain position the start-up check walks from."""
    state = chain_state(db)
    candidates = [max(1, state["head_seq"] - TAIL_ROWS + 1)]
    high = clock_high(db)
    if high is not None:
        since = to_iso(high - horizon)
        for table, column in _TIME_COLUMN.items():
            found = db.execute(f"SELECT min(seq) FROM {table} WHERE {column} >= ?",
                               [since]).fetchone()[0]
            if found is not None:
                candidates.append(found)
        in_force = [lk.seq for lk in all_lockouts(db, high, active_only=True)]
        candidates.extend(in_force)
    return max(state["anchor_seq"] + 1, min(candidates))


def startup_check(audit: object) -> VerifyReport:
    """Check what the kiosk relies on; return the report of the walked range.

    Parameters
    ----------
    audit : AuditLog
        The kiosk's log, opened with its chain key.

    Raises
    ------
    AuditUnavailable
        (reason ``tampered``) a guard trigger is missing or the checked range is broken.
    """
    from kiosk.audit.log import AuditLog

    assert isinstance(audit, AuditLog)
    limits = audit.config.limits
    with audit._use("checking the audit log at start") as db:
        missing = missing_triggers(db)
        first = first_to_check(db, max(limits.window, limits.lockout))
    if missing:
        raise AuditUnavailable(f"the guard triggers of {audit.path} were removed ("
                               f"{', '.join(missing)}): someone edited the database outside the "
                               "kiosk; keep the file as evidence, run `kiosk audit verify` and "
                               "restore a backup", reason=e.TAMPERED, path=audit.path)
    report = audit.verify(first=first)
    if report.first_break is not None:
        raise altered(audit.path, report.first_break)
    return report


def altered(path: str | os.PathLike[str], first_break: ChainBreak) -> AuditUnavailable:
    """A broken chain as staff read it, whoever found it (the start-up check, or the operator
    panel's audit check while the kiosk runs): the kiosk goes out of service with this."""
    return AuditUnavailable(f"the audit log {path} was altered: {first_break}; the kiosk "
                            "cannot trust its lockouts. Keep the file as evidence, run `kiosk "
                            "audit verify` and restore a backup", reason=e.TAMPERED,
                            path=str(path))
