"""Rate limiting over the audit tables: failures in a sliding window lead to a lockout.

Failures are attempts with decision ``fail`` (``review`` and ``pass`` do not count; an attempt
interrupted by a crash is closed as a failure, so pulling the plug does not buy free tries).
A subject counts every failure of its reference. A kiosk counts only the failures that suggest
an attack (a reason code with ``attack=True`` in :mod:`kiosk.reasons`: liveness failed, a
changed face, several faces, a wrong action, a refused try of a locked-out subject ...), never
time-outs or placement, so honest misses of the hundreds of people a kiosk serves do not lock
it for everyone. They are counted over ``(now - window, now]`` on the log's
clock (``recorded_at``; a failure recorded later than ``now`` after the clock stepped back
still counts). Reaching ``max_failures`` starts a lockout of ``lockout`` length for
that subject or for the whole kiosk. The count restarts after a lockout or an operator unlock
of the same target: only failures chained after the latest of those count, so an unlock is a
fresh start and an expired lockout is not re-triggered by the failures that caused it.

Everything lives in the database (the lockouts are chained rows, unlocks are chained operator
actions), so limits survive restarts and cannot be reset by restarting the kiosk.

With a fleet (see :mod:`kiosk.audit.remote`), each check also takes a :class:`RemoteView` of
the other kiosks of the site: their lockouts of the subject refuse it here, their unlocks lift
lockouts here, and the subject's failures there add to its count here. The view holds their
times on this kiosk's clock as it is now; this log's own times are compared with them read
the same way, each moved by every clock gap recorded after it and by a jump noticed but not
recorded yet (:func:`~kiosk.audit.clock.on_clock_now`, as the fleet reads the rows this
kiosk ships).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlite_utils import Database

from kiosk.audit.chain import append_row
from kiosk.audit.clock import (
    ClockEvent,
    clock_events,
    lockout_discount,
    on_clock_now,
    shift_after,
    window_discount,
)
from kiosk.audit.remote import RemoteView
from kiosk.audit.results import Lockout
from kiosk.audit.signer import ChainSigner
from kiosk.audit.storage import lockout_from_row
from kiosk.audit.timeutil import from_iso, to_iso

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
        Failures that suggest an attack, at one kiosk (any subject), that lock the kiosk
        (``audit.kiosk_max_failures``, default 15); None uses ``max_failures``.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=30)
    kiosk_max_failures: int | None = 15

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


def _extended(lockouts: list[Lockout], events: list[ClockEvent],
              pending: timedelta) -> list[Lockout]:
    """Lockouts with ``until`` moved on by the clock gaps since they started (see
    :mod:`kiosk.audit.clock`); ``pending`` is a jump noticed but not recorded yet."""
    out = []
    for lk in lockouts:
        length = lk.until - lk.started_at
        extra = lockout_discount(events, lk.seq, length) + pending
        out.append(replace(lk, until=lk.until + extra) if extra else lk)
    return out


def _max_extension(events: list[ClockEvent], pending: timedelta) -> timedelta:
    return sum((ev.gap for ev in events if ev.gap > timedelta(0)), timedelta(0)) + pending


def _unlock_times(db: Database, scope: str, target: str, events: list[ClockEvent],
                  pending: timedelta) -> list[datetime]:
    """When this log's unlocks of the target were made, on the clock as it is now."""
    return [on_clock_now(events, seq, from_iso(at), pending) for seq, at in db.execute(
        "SELECT seq, acted_at FROM operator_actions WHERE action = 'unlock' AND scope = ? AND "
        "target = ?", [scope, target]).fetchall()]


def active_lockouts(db: Database, scope: str, target: str, now: datetime, *,
                    events: list[ClockEvent] | None = None,
                    pending: timedelta = timedelta(0),
                    remote: RemoteView | None = None) -> list[Lockout]:
    """Lockouts of one target in force at ``now`` (not expired, not lifted), oldest first.

    ``until`` of each includes the clock gaps recorded since it started (``events``, read
    from the log when None) and ``pending``. With ``remote``, lockouts of the target recorded
    at other kiosks are in force here too, and an unlock recorded anywhere at or after a
    lockout's start lifts it (this log's times read on the clock as it is now).
    """
    events = clock_events(db) if events is None else events
    floor = now - _max_extension(events, pending)
    rows = db.query(_LOCKOUTS_SQL + " WHERE l.scope = ? AND l.target = ? AND l.until > ? "
                    "ORDER BY l.seq", [scope, target, to_iso(floor)])
    found = [lk for lk in map(lockout_from_row, rows) if lk.lifted_by is None]
    found = [lk for lk in _extended(found, events, pending) if lk.until > now]
    if remote is None:
        return found
    here = _unlock_times(db, scope, target, events, pending)
    found = [lk for lk in found if not remote.unlocked_since(
        scope, target, on_clock_now(events, lk.seq, lk.started_at, pending))]
    for lk in remote.lockouts(scope, target):
        if lk.until > now and not remote.unlocked_since(scope, target, lk.started_at) \
                and not any(t >= lk.started_at for t in here):
            found.append(lk)
    return found


def all_lockouts(db: Database, now: datetime, *, active_only: bool,
                 limit: int | None = None) -> list[Lockout]:
    """Lockouts, newest first; only those in force at ``now`` when ``active_only``.

    ``until`` includes the recorded clock gaps (see :func:`active_lockouts`).
    """
    events = clock_events(db)
    where = " WHERE l.until > ?" if active_only else ""
    args: list[object] = [to_iso(now - _max_extension(events, timedelta(0)))] \
        if active_only else []
    sql = _LOCKOUTS_SQL + where + " ORDER BY l.seq DESC"
    if limit is not None and not active_only:
        sql += " LIMIT ?"
        args.append(int(limit))
    found = _extended([lockout_from_row(r) for r in db.query(sql, args)], events,
                      timedelta(0))
    if active_only:
        found = [lk for lk in found if lk.active(now)]
    return found[:limit] if limit is not None else found


def _reset_seq(db: Database, scope: str, target: str) -> int:
    """The chain position after which failures of this target count."""
    row = db.execute(
        "SELECT max(coalesce((SELECT max(seq) FROM lockouts WHERE scope = ?1 AND target = ?2), 0),"
        " coalesce((SELECT max(seq) FROM operator_actions WHERE action = 'unlock' AND "
        "scope = ?1 AND target = ?2), 0))", [scope, target]).fetchone()
    return int(row[0])


def _reset_time(db: Database, scope: str, target: str,
                events: list[ClockEvent]) -> datetime | None:
    """When this log last restarted the target's count (a lockout or an unlock), on the clock
    as it is now, or None."""
    rows = db.execute(
        "SELECT seq, started_at FROM lockouts WHERE scope = ?1 AND target = ?2 UNION ALL "
        "SELECT seq, acted_at FROM operator_actions WHERE action = 'unlock' AND scope = ?1 "
        "AND target = ?2", [scope, target]).fetchall()
    return max((on_clock_now(events, seq, from_iso(at)) for seq, at in rows), default=None)


def _local_failures(db: Database, scope: str, target: str, now: datetime, window: timedelta,
                    events: list[ClockEvent], after: datetime | None) -> int:
    """This log's failures of the target in the window, chained after its latest restart
    here and made after ``after`` (another kiosk's restart, on the clock as it is now)."""
    start = now - window
    lowest = start - window_discount(events, now, window)
    attack = " AND attack = 1" if scope == "kiosk" else ""
    rows = db.execute(
        f"SELECT seq, recorded_at FROM attempts WHERE decision = 'fail'{attack} AND "
        f"{_COLUMN[scope]} = ? AND mode IS NULL AND recorded_at > ? AND seq > ?",
        [target, to_iso(lowest), _reset_seq(db, scope, target)]).fetchall()
    # Each failure's time is read on the clock as it is now (moved by the clock changes
    # recorded after it): one recorded under a date set ahead by mistake counts for the
    # window's length, not until the wrong date comes round. Against another kiosk's restart
    # it is a single time, as the fleet reads it.
    return sum(1 for seq, at in rows
               if from_iso(at) + shift_after(events, seq, window) > start
               and (after is None or on_clock_now(events, seq, from_iso(at)) > after))


def _remote_failures(db: Database, remote: RemoteView, target: str, start: datetime,
                     after: datetime | None, events: list[ClockEvent]) -> int:
    """The subject's failures at other kiosks in the window starting at ``start``, after the
    latest restart of its count there (``after``) or here; all on the clock as it is now."""
    here = _reset_time(db, "subject", target, events)
    floor = max(t for t in (start, after, here) if t is not None)
    return sum(1 for t in remote.failure_times("subject", target) if t > floor)


def count_failures(db: Database, scope: str, target: str, now: datetime,
                   window: timedelta, *, events: list[ClockEvent] | None = None,
                   remote: RemoteView | None = None) -> int:
    """Failures of one target that count at ``now`` (in the window, after the last reset).

    A subject counts every failure; a kiosk only the failures that suggest an attack
    (``attempts.attack``, set from the reason codes when the attempt was recorded); neither
    counts a scripted evaluation run (``attempts.mode``). A failure's time is read on the
    clock as it is now (:func:`kiosk.audit.clock.shift_after`). With ``remote``, a lockout or
    unlock of the target at another kiosk restarts the count here too, and a subject's
    failures at other kiosks since the latest restart (here or there) add to it.
    """
    events = clock_events(db) if events is None else events
    after = remote.reset_at(scope, target) if remote is not None else None
    count = _local_failures(db, scope, target, now, window, events, after)
    if remote is not None and scope == "subject":
        count += _remote_failures(db, remote, target, now - window, after, events)
    return count


def apply_limits(db: Database, signer: ChainSigner, policy: RateLimitPolicy, *, kiosk_id: str,
                 subject_ref: str | None, attempt_id: int, now: datetime,
                 attack: bool, remote: RemoteView | None = None) -> list[Lockout]:
    """After a failed attempt is chained: start the lockouts it triggers; return them.

    Must run inside the attempt's write transaction, so a failure and the lockout it causes
    are committed together or not at all. A failure that does not suggest an attack cannot
    start a kiosk lockout.
    """
    started = []
    events = clock_events(db)
    targets = [("subject", subject_ref)] + ([("kiosk", kiosk_id)] if attack else [])
    for scope, target in targets:
        if target is None or active_lockouts(db, scope, target, now, events=events,
                                             remote=remote):
            continue
        failures = count_failures(db, scope, target, now, policy.window, events=events,
                                  remote=remote)
        if failures < policy.limit(scope):
            continue
        columns = {"scope": scope, "target": target, "kiosk_id": kiosk_id,
                   "started_at": to_iso(now), "until": to_iso(now + policy.lockout),
                   "failures": failures, "attempt_id": attempt_id}
        row_id, seq, _ = append_row(db, signer, "lockouts", columns)
        started.append(lockout_from_row({**columns, "id": row_id, "seq": seq}))
    return started
