"""Fleet-wide views for staff: attempts, counts, lockouts and operator actions of every kiosk
of the site (``kiosk audit list/stats/lockouts/actions --fleet`` and the operator panel's
fleet view).

Read from the server's copy, so a kiosk's rows appear once it shipped them: "newest first" is
the order the server received them, so a kiosk whose clock is behind is not pushed down the
list, while each row shows the time its kiosk recorded. Times are compared on the server's
clock (:mod:`kiosk.audit.fleet.skew`): an unlock recorded at any kiosk lifts the lockouts of
its target that started at or before it, whatever the two kiosks' clocks read. An override
(an operator action at the attempt's kiosk) changes the decision as staff read it, never the
attempt row.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kiosk.audit.fleet.skew import offset_between
from kiosk.audit.fleet.store import FleetStore, on_server
from kiosk.audit.results import OperatorAction
from kiosk.audit.storage import action_from_row
from kiosk.audit.timeutil import Clock, utc_now

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
    """A lockout recorded at any kiosk; ``started_at`` and ``until`` on the reader's clock
    (see :func:`fleet_lockouts`)."""

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
    """``sql`` over fleet rows ordered newest first, with at most ``limit`` rows: in the order
    the server received them (by kiosk and chain position within one arrival), not by the
    times the kiosks' clocks recorded."""
    sql += " ORDER BY received_at DESC, kiosk_id, seq DESC"
    if limit is None:
        return sql, args
    return sql + " LIMIT %s", [*args, int(limit)]


# An override is recorded at the attempt's kiosk (scope "attempt", target its id); its
# details, a JSON text inside the content, hold the decision it gave ("to").
_ATTEMPTS = """
SELECT kiosk_id, row_id, seq, content, overridden_to FROM (
    SELECT a.kiosk_id, a.row_id, a.seq, a.content, a.at, a.received_at, a.decision,
           a.subject_ref,
           (SELECT (o.content::jsonb ->> 'details')::jsonb ->> 'to' FROM fleet_rows o
            WHERE o.kiosk_id = a.kiosk_id AND o.action = 'override'
                  AND o.target = a.row_id::text
            ORDER BY o.seq DESC LIMIT 1) AS overridden_to
    FROM fleet_rows a WHERE a.tbl = 'attempts') x WHERE true"""


def fleet_attempts(store: FleetStore, *, decision: str | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   kiosk_id: str | None = None, subject_ref: str | None = None,
                   limit: int | None = 50) -> list[FleetAttempt]:
    """Attempts of every kiosk, newest first (as the server received them; ``since``/``until``
    bound ``recorded_at`` as the kiosk recorded it), each with the decision its latest
    override gave it; ``decision`` is that one (as the list shows it), else the recorded
    one; ``subject_ref``: only that person's."""
    sql = _ATTEMPTS
    extra, args = _range(since, until, "at")
    sql += extra
    if decision is not None:
        sql += " AND coalesce(overridden_to, decision) = %s"
        args.append(decision)
    if kiosk_id is not None:
        sql += " AND kiosk_id = %s"
        args.append(kiosk_id)
    if subject_ref is not None:
        sql += " AND subject_ref = %s"
        args.append(subject_ref)
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
    kiosk, newest first (as the server received them); only of one ``action`` kind and acted
    in ``[since, until)`` (as recorded) when given."""
    extra, args = _range(since, until, "at")
    sql = f"SELECT kiosk_id, content FROM fleet_rows WHERE tbl = 'operator_actions'{extra}"
    if action is not None:
        sql += " AND action = %s"
        args.append(action)
    return [FleetAction(kiosk, action_from_row(json.loads(content)))
            for kiosk, content in store.query(*_newest_first(sql, args, limit))]


def _lifted_sql(started: str, *, held: bool) -> str:
    """The first unlock, at any kiosk, of the target of lockout "l" at or after its start
    (``started``: SQL on the server's clock), both times on the server's clock."""
    at = on_server("u.at", held=held)
    return f"""(SELECT array[u.kiosk_id, u.row_id::text] FROM fleet_rows u
        WHERE u.action = 'unlock' AND u.scope = l.scope AND u.target = l.target
          AND {at} >= {started} ORDER BY {at} LIMIT 1)"""


def _lifted(value: list[str] | None) -> tuple[str, int] | None:
    return (value[0], int(value[1])) if value else None


def fleet_lockouts(store: FleetStore, now: datetime, *, active_only: bool = True,
                   limit: int | None = 100) -> list[FleetLockout]:
    """Lockouts recorded at any kiosk, newest first (as the server received them; only those
    in force at ``now`` when ``active_only``).

    ``now`` is the caller's clock, read just before: each lockout is judged on the server's
    clock and its ``started_at`` and ``until`` are returned on the caller's (the server's
    time less the caller's offset to it), so ``lk.active(now)`` compares like with like.
    """
    held = store.holds_offsets()
    asked = time.monotonic()
    server_now = store.server_time()
    took = timedelta(seconds=time.monotonic() - asked)
    # The caller's offset to the server; one no larger than the time the question took is
    # within the measurement's error (clocks that agree show the recorded times exactly).
    shift = server_now - now
    if abs(shift) <= took:
        shift = timedelta(0)
    started, until = on_server("l.at", held=held), on_server("l.until", held=held)
    sql = (f"SELECT l.kiosk_id, l.row_id, l.scope, l.target, {started}, {until}, l.failures, "
           f"{_lifted_sql(started, held=held)} FROM fleet_rows l WHERE l.tbl = 'lockouts'")
    args: list[object] = []
    if active_only:
        sql += f" AND {until} > %s"
        args.append(server_now)
    sql += " ORDER BY l.received_at DESC, l.kiosk_id, l.seq DESC"
    found = [FleetLockout(k, int(i), scope, target, at - shift, end - shift, int(n),
                          _lifted(lifted))
             for k, i, scope, target, at, end, n, lifted in store.query(sql, args)]
    if active_only:
        found = [lk for lk in found if lk.active(now)]
    return found[:limit] if limit is not None else found


def fleet_unlocks(store: FleetStore, lockouts: Sequence[tuple[int, str, str, datetime]], *,
                  clock: Clock = utc_now) -> dict[int, tuple[str, int]]:
    """Which of a kiosk's own lockouts an unlock the server holds has lifted (recorded at any
    kiosk), whether or not the server holds the lockout yet.

    Parameters
    ----------
    lockouts : sequence of (id, scope, target, started_at)
        ``started_at`` on ``clock``: put on the server's clock by the offset measured now.
    clock : callable
        This kiosk's clock.

    Returns
    -------
    dict
        Lockout id to (kiosk, operator action id) of the unlock, for the lifted ones.
    """
    if not lockouts:
        return {}
    before = clock()
    shift = offset_between(store.server_time(), before, clock())
    ids, scopes, targets, starts = (list(column) for column in zip(*lockouts, strict=True))
    sql = (f"SELECT l.id, {_lifted_sql('l.at', held=store.holds_offsets())} FROM "
           "unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamptz[]) "
           "AS l(id, scope, target, at)")
    found = store.query(sql, [ids, scopes, targets, [t + shift for t in starts]])
    return {int(i): lifted for i, value in found if (lifted := _lifted(value)) is not None}
