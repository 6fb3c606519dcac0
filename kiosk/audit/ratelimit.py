"""Rate limiting over the audit tables: failures in a sliding window lead to a lockout.

Failures are attempts with decision ``fail`` (``review`` and ``pass`` do not count; an attempt
interrupted by a crash is closed as a failure, so pulling the plug does not buy free tries).
They are counted per subject reference and per kiosk over ``(now - window, now]`` on the log's
clock (``recorded_at``; a failure recorded later than ``now`` after the clock stepped back
still counts). Reaching ``max_failures`` starts a lockout of ``lockout`` length for
that subject or for the whole kiosk. The count restarts after a lockout or an operator unlock
of the same target: only failures chained after the latest of those count, so an unlock is a
fresh start and an expired lockout is not re-triggered by the failures that caused it.

Everything lives in the database (the lockouts are chained rows, unlocks are chained operator
actions), so limits survive restarts and cannot be reset by restarting the kiosk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from kiosk.audit.chain import append_row
from kiosk.audit.results import Lockout
from kiosk.audit.storage import lockout_from_row
from kiosk.audit.timeutil import to_iso

SCOPES: tuple[str, ...] = ("subject", "kiosk")
_COLUMN = {"subject": "subject_ref", "kiosk": "kiosk_id"}


@dataclass(frozen=True)
class RateLimitPolicy:
    """Limits for one kiosk.

    Parameters
    ----------
    max_failures : int
        Failures per subject in the window that start a lockout (``audit.max_failures``).
    window : timedelta
        Sliding window (``audit.failure_window_min``).
    lockout : timedelta
        Lockout length (``audit.lockout_min``).
    kiosk_max_failures : int or None
        Failures at one kiosk (any subject) that lock the kiosk; None uses ``max_failures``.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=30)
    kiosk_max_failures: int | None = None

    def __post_init__(self) -> None:
        if self.max_failures < 1 or (self.kiosk_max_failures is not None
                                     and self.kiosk_max_failures < 1):
            raise ValueError("max_failures must be at least 1")
        if self.window <= timedelta(0) or self.lockout <= timedelta(0):
            raise ValueError("the failure window and the lockout must be positive")

    def limit(self, scope: str) -> int:
        if scope == "kiosk" and self.kiosk_max_failures is not None:
            return self.kiosk_max_failures
        return self.max_failures


_LOCKOUTS_SQL = """
SELECT l.*, (SELECT min(a.id) FROM operator_actions a
             WHERE a.action = 'unlock' AND a.scope = l.scope AND a.target = l.target
               AND a.seq > l.seq) AS lifted_by
FROM lockouts l
"""


def active_lockouts(db: Database, scope: str, target: str, now: datetime) -> list[Lockout]:
    """Lockouts of one target in force at ``now`` (not expired, not lifted), oldest first."""
    rows = db.query(_LOCKOUTS_SQL + " WHERE l.scope = ? AND l.target = ? AND l.until > ? "
                    "ORDER BY l.seq", [scope, target, to_iso(now)])
    return [lk for lk in map(lockout_from_row, rows) if lk.lifted_by is None]


def all_lockouts(db: Database, now: datetime, *, active_only: bool,
                 limit: int | None = None) -> list[Lockout]:
    """Lockouts, newest first; only those in force at ``now`` when ``active_only``."""
    where = " WHERE l.until > ?" if active_only else ""
    args: list[object] = [to_iso(now)] if active_only else []
    sql = _LOCKOUTS_SQL + where + " ORDER BY l.seq DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    found = [lockout_from_row(r) for r in db.query(sql, args)]
    return [lk for lk in found if lk.active(now)] if active_only else found


def _reset_seq(db: Database, scope: str, target: str) -> int:
    """The chain position after which failures of this target count."""
    row = db.execute(
        "SELECT max(coalesce((SELECT max(seq) FROM lockouts WHERE scope = ?1 AND target = ?2), 0),"
        " coalesce((SELECT max(seq) FROM operator_actions WHERE action = 'unlock' AND "
        "scope = ?1 AND target = ?2), 0))", [scope, target]).fetchone()
    return int(row[0])


def count_failures(db: Database, scope: str, target: str, now: datetime,
                   window: timedelta) -> int:
    """Failures of one target that count at ``now`` (in the window, after the last reset)."""
    column = _COLUMN[scope]
    # No upper bound: if the clock steps back, failures "from the future" still count.
    row = db.execute(
        f"SELECT count(*) FROM attempts WHERE decision = 'fail' AND {column} = ? "
        "AND recorded_at > ? AND seq > ?",
        [target, to_iso(now - window), _reset_seq(db, scope, target)]).fetchone()
    return int(row[0])


def apply_limits(db: Database, policy: RateLimitPolicy, *, kiosk_id: str,
                 subject_ref: str | None, attempt_id: int, now: datetime) -> list[Lockout]:
    """After a failed attempt is chained: start the lockouts it triggers; return them.

    Must run inside the attempt's write transaction, so a failure and the lockout it causes
    are committed together or not at all.
    """
    started = []
    targets = [("subject", subject_ref), ("kiosk", kiosk_id)]
    for scope, target in targets:
        if target is None or active_lockouts(db, scope, target, now):
            continue
        failures = count_failures(db, scope, target, now, policy.window)
        if failures < policy.limit(scope):
            continue
        columns = {"scope": scope, "target": target, "kiosk_id": kiosk_id,
                   "started_at": to_iso(now), "until": to_iso(now + policy.lockout),
                   "failures": failures, "attempt_id": attempt_id}
        row_id, seq, _ = append_row(db, "lockouts", columns)
        started.append(lockout_from_row({**columns, "id": row_id, "seq": seq}))
    return started
