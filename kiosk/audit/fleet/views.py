"""Fleet-wide views for staff: attempts, counts and lockouts of every kiosk of the site
(``kiosk audit list/stats/lockouts --fleet`` and the operator panel's fleet view).

Read from the server's copy, so a kiosk's rows appear once it shipped them. An unlock recorded
at any kiosk lifts the lockouts of its target that started at or before it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from kiosk.audit.fleet.store import FleetStore

__all__ = ["FleetAttempt", "FleetLockout", "FleetStats", "fleet_attempts", "fleet_lockouts",
           "fleet_stats"]


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
class FleetStats:
    total: int
    by_kiosk: dict[str, dict[str, int]] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    lockouts: int = 0
    unlocks: int = 0
    scripted: int = 0


def _range(since: datetime | None, until: datetime | None, column: str) -> tuple[str, list]:
    where, args = [], []
    if since is not None:
        where.append(f"{column} >= %s")
        args.append(since)
    if until is not None:
        where.append(f"{column} < %s")
        args.append(until)
    return "".join(f" AND {w}" for w in where), args


def fleet_attempts(store: FleetStore, *, decision: str | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   kiosk_id: str | None = None, limit: int | None = 50) -> list[FleetAttempt]:
    """Attempts of every kiosk, newest first (``since``/``until`` bound ``recorded_at``)."""
    sql = "SELECT kiosk_id, row_id, seq, content FROM fleet_rows WHERE tbl = 'attempts'"
    extra, args = _range(since, until, "at")
    sql += extra
    if decision is not None:
        sql += " AND decision = %s"
        args.append(decision)
    if kiosk_id is not None:
        sql += " AND kiosk_id = %s"
        args.append(kiosk_id)
    sql += " ORDER BY at DESC, kiosk_id, seq DESC"
    if limit is not None:
        sql += " LIMIT %s"
        args.append(int(limit))
    out = []
    for kiosk, row_id, seq, content in store.query(sql, args):
        c = json.loads(content)
        out.append(FleetAttempt(kiosk, int(row_id), int(seq),
                                datetime.fromisoformat(c["started_at"]),
                                datetime.fromisoformat(c["recorded_at"]), c["subject_ref"],
                                c["decision"], c["liveness_score"],
                                tuple(json.loads(c["reasons"] or "[]")),
                                c.get("mode") == "scripted"))
    return out


def fleet_stats(store: FleetStore, *, since: datetime | None = None,
                until: datetime | None = None) -> FleetStats:
    """Attempts by kiosk and decision, by reason code, and lockouts and unlocks (scripted
    evaluation runs counted apart)."""
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
        "'unlock'), count(*) FILTER (WHERE tbl = 'attempts' AND mode IS NOT NULL) "
        f"FROM fleet_rows WHERE true{extra}", args)[0]
    return FleetStats(total, by_kiosk, dict(reasons.most_common()), int(counts[0]),
                      int(counts[1]), int(counts[2]))


_LOCKOUTS = """
SELECT l.kiosk_id, l.row_id, l.scope, l.target, l.at, l.until, l.failures,
       (SELECT array[u.kiosk_id, u.row_id::text] FROM fleet_rows u
        WHERE u.action = 'unlock' AND u.scope = l.scope AND u.target = l.target
          AND u.at >= l.at ORDER BY u.at LIMIT 1) AS lifted
FROM fleet_rows l WHERE l.tbl = 'lockouts'
"""


def fleet_lockouts(store: FleetStore, now: datetime, *, active_only: bool = True,
                   limit: int | None = 100) -> list[FleetLockout]:
    """Lockouts recorded at any kiosk, newest first (only those in force at ``now`` when
    ``active_only``)."""
    sql, args = _LOCKOUTS, []
    if active_only:
        sql += " AND l.until > %s"
        args.append(now)
    sql += " ORDER BY l.at DESC, l.kiosk_id"
    found = [FleetLockout(k, int(i), scope, target, at, until, int(n),
                          (lifted[0], int(lifted[1])) if lifted else None)
             for k, i, scope, target, at, until, n, lifted in store.query(sql, args)]
    if active_only:
        found = [lk for lk in found if lk.active(now)]
    return found[:limit] if limit is not None else found
