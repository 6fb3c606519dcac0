"""Fleet-wide views for staff: attempts, counts, lockouts and operator actions of every kiosk
of the site (``kiosk audit list/stats/lockouts/actions --fleet`` and the operator panel's
fleet view).

Read from the server's copy, so a kiosk's rows appear once it shipped them. An unlock recorded
at any kiosk lifts the lockouts of its target that started at or before it. An override (an
operator action at the attempt's kiosk) changes the decision as staff read it, never the
attempt row.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kiosk.audit.fleet.store import FleetStore
from kiosk.audit.results import OperatorAction
from kiosk.audit.storage import action_from_row

__all__ = ["FleetAction", "FleetAttempt", "FleetLockout", "FleetStats", "fleet_actions",
           "fleet_attempts", "fleet_lockouts", "fleet_stats", "fleet_unlocks"]


@dataclass(frozen=True)
class FleetAttempt:
    kiosk_id: str
    id: int
    seq: int
    started_at: datetime
    recorded_at: datetime
    subject_ref: str | None
    decision: str
    liveness_score: float | None
    reasons: tuple[str, ...]
    scripted: bool = False
    overridden_to: str | None = None  # the decision after the latest override, if any


@dataclass(frozen=True)
class FleetLockout:
    kiosk_id: str
    id: int
    scope: str
    target: str
    started_at: datetime
    until: datetime
    failures: int
    lifted_by: tuple[str, int] | None  # (kiosk, operator action id) of the unlock

    def active(self, now: datetime) -> bool:
        return self.lifted_by is None and now < self.until


@dataclass(frozen=True)
class FleetAction:
    """An operator action or a kiosk's own event, with the kiosk that recorded it."""

    kiosk_id: str
    action: OperatorAction


@dataclass(frozen=True)
class FleetStats:
    total: int
    by_kiosk: dict[str, dict[str, int]] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    lockouts: int = 0
    unlocks: int = 0
    scripted: int = 0
    overrides: int = 0


def _range(since: datetime | None, until: datetime | None, column: str) -> tuple[str, list]:
    where, args = [], []
    if since is not None:
        where.append(f"{column} >= %s")
        args.append(since)
    if until is not None:
        where.append(f"{column} < %s")
        args.append(until)
    return "".join(f" AND {w}" for w in where), args


def _newest_first(sql: str, args: list, limit: int | None) -> tuple[str, list]:
    """``sql`` over fleet rows ordered newest first (by kiosk and chain position within a
    time), with at most ``limit`` rows."""
    sql += " ORDER BY at DESC, kiosk_id, seq DESC"
    if limit is None:
        return sql, args
    return sql + " LIMIT %s", [*args, int(limit)]


# An override is recorded at the attempt's kiosk (scope "attempt", target its id); its
# details, a JSON text inside the content, hold the decision it gave ("to").
_ATTEMPTS = """
SELECT kiosk_id, row_id, seq, content, overridden_to FROM (
    SELECT a.kiosk_id, a.row_id, a.seq, a.content, a.at, a.decision,
           (SELECT (o.content::jsonb ->> 'details')::jsonb ->> 'to' FROM fleet_rows o
            WHERE o.kiosk_id = a.kiosk_id AND o.action = 'override'
                  AND o.target = a.row_id::text
            ORDER BY o.seq DESC LIMIT 1) AS overridden_to
    FROM fleet_rows a WHERE a.tbl = 'attempts') x WHERE true"""


def fleet_attempts(store: FleetStore, *, decision: str | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   kiosk_id: str | None = None, limit: int | None = 50) -> list[FleetAttempt]:
    """Attempts of every kiosk, newest first (``since``/``until`` bound ``recorded_at``),
    each with the decision its latest override gave it; ``decision`` is that one (as the
    list shows it), else the recorded one."""
    sql = _ATTEMPTS
    extra, args = _range(since, until, "at")
    sql += extra
    if decision is not None:
        sql += " AND coalesce(overridden_to, decision) = %s"
        args.append(decision)
    if kiosk_id is not None:
        sql += " AND kiosk_id = %s"
        args.append(kiosk_id)
    out = []
    for kiosk, row_id, seq, content, overridden_to in store.query(*_newest_first(sql, args,
                                                                                 limit)):
        c = json.loads(content)
        out.append(FleetAttempt(kiosk, int(row_id), int(seq),
                                datetime.fromisoformat(c["started_at"]),
                                datetime.fromisoformat(c["recorded_at"]), c["subject_ref"],
                                c["decision"], c["liveness_score"],
                                tuple(json.loads(c["reasons"] or "[]")),
                                c.get("mode") == "scripted", overridden_to))
    return out


def fleet_stats(store: FleetStore, *, since: datetime | None = None,
                until: datetime | None = None) -> FleetStats:
    """Attempts by kiosk and decision (as recorded), by reason code, and lockouts, unlocks
    and overrides (scripted evaluation runs counted apart)."""
    extra, args = _range(since, until, "at")
    by_kiosk: dict[str, dict[str, int]] = {}
    total = 0
    for kiosk, decision, n in store.query(
            "SELECT kiosk_id, decision, count(*) FROM fleet_rows WHERE tbl = 'attempts' AND "
            f"mode IS NULL{extra} GROUP BY kiosk_id, decision ORDER BY kiosk_id, decision", args):
        by_kiosk.setdefault(kiosk, dict.fromkeys(("pass", "fail", "review"), 0))[decision] = n
        total += n
    reasons: Counter[str] = Counter()
    for code, n in store.query(
            "SELECT r.code, count(*) FROM fleet_rows, jsonb_array_elements_text(reasons) "
            f"AS r(code) WHERE tbl = 'attempts' AND mode IS NULL{extra} GROUP BY r.code", args):
        reasons[code] = n
    counts = store.query(
        "SELECT count(*) FILTER (WHERE tbl = 'lockouts'), count(*) FILTER (WHERE action = "
        "'unlock'), count(*) FILTER (WHERE tbl = 'attempts' AND mode IS NOT NULL), "
        f"count(*) FILTER (WHERE action = 'override') FROM fleet_rows WHERE true{extra}",
        args)[0]
    return FleetStats(total, by_kiosk, dict(reasons.most_common()), int(counts[0]),
                      int(counts[1]), int(counts[2]), int(counts[3]))


def fleet_actions(store: FleetStore, *, action: str | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  limit: int | None = 50) -> list[FleetAction]:
    """Operator actions and kiosk events (a refused camera, a clock gap) recorded at any
    kiosk, newest first; only of one ``action`` kind and acted in ``[since, until)`` when
    given."""
    extra, args = _range(since, until, "at")
    sql = f"SELECT kiosk_id, content FROM fleet_rows WHERE tbl = 'operator_actions'{extra}"
    if action is not None:
        sql += " AND action = %s"
        args.append(action)
    return [FleetAction(kiosk, action_from_row(json.loads(content)))
            for kiosk, content in store.query(*_newest_first(sql, args, limit))]


# The first unlock, at any kiosk, of the target of lockout "l" at or after its start.
_LIFTED = """(SELECT array[u.kiosk_id, u.row_id::text] FROM fleet_rows u
        WHERE u.action = 'unlock' AND u.scope = l.scope AND u.target = l.target
          AND u.at >= l.at ORDER BY u.at LIMIT 1)"""

_LOCKOUTS = f"""
SELECT l.kiosk_id, l.row_id, l.scope, l.target, l.at, l.until, l.failures, {_LIFTED}
FROM fleet_rows l WHERE l.tbl = 'lockouts'
"""

_UNLOCKS = f"""
SELECT l.id, {_LIFTED}
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamptz[]) AS l(id, scope, target, at)
"""


def _lifted(value: list[str] | None) -> tuple[str, int] | None:
    return (value[0], int(value[1])) if value else None


def fleet_lockouts(store: FleetStore, now: datetime, *, active_only: bool = True,
                   limit: int | None = 100) -> list[FleetLockout]:
    """Lockouts recorded at any kiosk, newest first (only those in force at ``now`` when
    ``active_only``)."""
    sql, args = _LOCKOUTS, []
    if active_only:
        sql += " AND l.until > %s"
        args.append(now)
    sql += " ORDER BY l.at DESC, l.kiosk_id"
    found = [FleetLockout(k, int(i), scope, target, at, until, int(n), _lifted(lifted))
             for k, i, scope, target, at, until, n, lifted in store.query(sql, args)]
    if active_only:
        found = [lk for lk in found if lk.active(now)]
    return found[:limit] if limit is not None else found


def fleet_unlocks(store: FleetStore, lockouts: Sequence[tuple[int, str, str, datetime]]
                  ) -> dict[int, tuple[str, int]]:
    """Which of a kiosk's own lockouts an unlock the server holds has lifted (recorded at any
    kiosk), whether or not the server holds the lockout yet.

    Parameters
    ----------
    lockouts : sequence of (id, scope, target, started_at)

    Returns
    -------
    dict
        Lockout id to (kiosk, operator action id) of the unlock, for the lifted ones.
    """
    if not lockouts:
        return {}
    columns = [list(column) for column in zip(*lockouts, strict=True)]
    found = store.query(_UNLOCKS, columns)
    return {int(i): lifted for i, value in found if (lifted := _lifted(value)) is not None}
