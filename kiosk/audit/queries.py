"""Read-only queries: attempts, operator actions and statistics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from kiosk.audit.errors import RecordNotFound
from kiosk.audit.records import DECISIONS
from kiosk.audit.results import AuditStats, OperatorAction, Outcome, StoredAttempt
from kiosk.audit.schema import OPERATOR_ACTIONS
from kiosk.audit.storage import action_from_row, stored_attempt
from kiosk.audit.timeutil import from_iso, to_iso

DECISION_FILTERS: tuple[str, ...] = (*DECISIONS, "incomplete")

_SELECT = ("SELECT a.*, EXISTS (SELECT 1 FROM frames f WHERE f.attempt_id = a.id) AS has_frame "
           "FROM attempts a")


# The decision after an attempt's latest override, else the recorded one (the index on
# operator_actions (action, scope, target, seq) answers the subquery).
_EFFECTIVE = ("coalesce((SELECT json_extract(o.details, '$.to') FROM operator_actions o "
              "WHERE o.action = 'override' AND o.scope = 'attempt' "
              "AND o.target = CAST(a.id AS TEXT) ORDER BY o.seq DESC LIMIT 1), a.decision)")


def _where(decision: str | None, since: datetime | None, until: datetime | None,
           kiosk_id: str | None = None, *, effective: bool = False,
           subject_ref: str | None = None) -> tuple[list[str], list[Any]]:
    """SQL conditions on attempts ``a``; ``effective``: ``decision`` is the one after any
    override (as lists show it), else the one recorded; ``subject_ref``: one person's."""
    clauses: list[str] = []
    args: list[Any] = []
    if decision is not None:
        if decision not in DECISION_FILTERS:
            raise ValueError(f"decision must be one of {DECISION_FILTERS}, got {decision!r}")
        if decision == "incomplete":
            clauses.append("a.status = 'incomplete'")
        else:
            clauses.append(f"{_EFFECTIVE if effective else 'a.decision'} = ?")
            args.append(decision)
    if since is not None:
        clauses.append("a.started_at >= ?")
        args.append(to_iso(since, "since"))
    if until is not None:
        clauses.append("a.started_at < ?")
        args.append(to_iso(until, "until"))
    if kiosk_id is not None:
        clauses.append("a.kiosk_id = ?")
        args.append(kiosk_id)
    if subject_ref is not None:
        clauses.append("a.subject_ref = ?")
        args.append(subject_ref)
    return clauses, args


def get_attempt(db: Database, attempt_id: int) -> StoredAttempt:
    """One attempt by id; RecordNotFound when there is none."""
    rows = list(db.query(_SELECT + " WHERE a.id = ?", [int(attempt_id)]))
    if not rows:
        raise RecordNotFound(f"there is no attempt {attempt_id} in the audit log (it may have "
                             "been purged)")
    return stored_attempt(rows[0])


def list_attempts(db: Database, *, decision: str | None = None, since: datetime | None = None,
                  until: datetime | None = None, kiosk_id: str | None = None,
                  reason: str | None = None, mentioning: str | None = None,
                  subject_ref: str | None = None, limit: int | None = 50
                  ) -> list[StoredAttempt]:
    """Attempts, newest first, filtered; ``limit`` None for all.

    Newest by the order this log recorded them, not by their recorded times: after the
    clock was set back (a dead clock battery until NTP answers), the latest attempts carry
    the oldest times, and staff must still find them at the top.

    ``decision``: the decision after the attempt's latest override, if any, as staff see it
    in the list (a fail overridden to pass is found under pass).

    ``reason``: a code the decision carries (exact). ``mentioning``: text found, ignoring
    ASCII case, anywhere in the attempt's reasons, challenges, match or signals as stored (a
    superset of the attempts whose codes contain it: the caller narrows it down). Both are
    answered by SQLite, so a search reads only the attempts that can match.
    """
    clauses, args = _where(decision, since, until, kiosk_id, effective=True,
                           subject_ref=subject_ref)
    if reason is not None:
        clauses.append("EXISTS (SELECT 1 FROM json_each(a.reasons) WHERE value = ?)")
        args.append(reason)
    if mentioning:
        clauses.append("instr(lower(a.reasons || a.challenges || coalesce(a.match, '') || "
                       "a.signals), lower(?)) > 0")
        args.append(mentioning)
    sql = _SELECT + (" WHERE " + " AND ".join(clauses) if clauses else "")
    sql += " ORDER BY a.id DESC"
    if limit is not None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        sql += " LIMIT ?"
        args.append(int(limit))
    return [stored_attempt(row) for row in db.query(sql, args)]


def outcomes(db: Database, *, since: datetime | None,
             until: datetime | None) -> list[Outcome]:
    """The finished verifications started in the range (no scripted evaluation run), oldest
    first: id, start, decision and reason codes only."""
    clauses, args = _where(None, since, until)
    where = " AND ".join([*clauses, "a.status = 'complete'", "a.mode IS NULL"])
    return [Outcome(row["id"], from_iso(row["started_at"]), row["decision"],
                    tuple(json.loads(row["reasons"])))
            for row in db.query("SELECT a.id, a.started_at, a.decision, a.reasons FROM attempts a "
                                f"WHERE {where} ORDER BY a.id", args)]


def attempts_page(db: Database, *, after_id: int, batch: int, decision: str | None,
                  since: datetime | None, until: datetime | None,
                  subject_ref: str | None = None) -> list[StoredAttempt]:
    """Up to ``batch`` attempts with id greater than ``after_id``, oldest id first."""
    clauses, args = _where(decision, since, until, subject_ref=subject_ref)
    clauses.append("a.id > ?")
    args.append(int(after_id))
    sql = _SELECT + " WHERE " + " AND ".join(clauses) + " ORDER BY a.id LIMIT ?"
    return [stored_attempt(row) for row in db.query(sql, [*args, int(batch)])]


def iter_pages(fetch: Any, batch: int) -> Iterator[StoredAttempt]:
    """Iterate ``fetch(after_id, batch)`` page by page (keyset pagination)."""
    after = 0
    while True:
        page = fetch(after, batch)
        yield from page
        if len(page) < batch:
            return
        after = page[-1].id


def operator_actions(db: Database, *, limit: int | None = 50, action: str | None = None,
                     target: str | None = None, since: datetime | None = None,
                     until: datetime | None = None) -> list[OperatorAction]:
    """Operator actions, newest first, optionally of one kind and/or one target, acted at
    ``since`` (inclusive) to ``until`` (exclusive)."""
    if action is not None and action not in OPERATOR_ACTIONS:
        raise ValueError(f"action must be one of {OPERATOR_ACTIONS}, got {action!r}")
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (("action", action), ("target", target)):
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    for op, when, name in ((">=", since, "since"), ("<", until, "until")):
        if when is not None:
            clauses.append(f"acted_at {op} ?")
            args.append(to_iso(when, name))
    sql = "SELECT * FROM operator_actions"
    sql += (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY seq DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [action_from_row(row) for row in db.query(sql, args)]


def _count_between(db: Database, table: str, column: str, condition: str,
                   since: datetime | None, until: datetime | None) -> int:
    sql = f"SELECT count(*) FROM {table} WHERE {condition}"
    args = []
    if since is not None:
        sql += f" AND {column} >= ?"
        args.append(to_iso(since, "since"))
    if until is not None:
        sql += f" AND {column} < ?"
        args.append(to_iso(until, "until"))
    return int(db.execute(sql, args).fetchone()[0])


def stats(db: Database, *, since: datetime | None = None,
          until: datetime | None = None) -> AuditStats:
    """Counts of completed attempts by decision, by reason code and by UTC day (scripted
    evaluation runs counted apart)."""
    clauses, args = _where(None, since, until)
    done = " AND ".join([*clauses, "a.status = 'complete'", "a.mode IS NULL"])
    by_decision = {d: 0 for d in DECISIONS}
    for row in db.query(f"SELECT a.decision, count(*) AS n FROM attempts a WHERE {done} "
                        "GROUP BY a.decision", args):
        by_decision[row["decision"]] = row["n"]
    by_reason = {row["code"]: row["n"] for row in db.query(
        f"SELECT j.value AS code, count(*) AS n FROM attempts a, json_each(a.reasons) j "
        f"WHERE {done} GROUP BY j.value ORDER BY n DESC, code", args)}
    by_day: dict[str, dict[str, int]] = {}
    for row in db.query(f"SELECT substr(a.started_at, 1, 10) AS day, a.decision, count(*) AS n "
                        f"FROM attempts a WHERE {done} GROUP BY day, a.decision ORDER BY day",
                        args):
        by_day.setdefault(row["day"], {d: 0 for d in DECISIONS})[row["decision"]] = row["n"]
    open_where = " AND ".join([*clauses, "a.status = 'incomplete'"])
    incomplete = next(iter(db.query(f"SELECT count(*) AS n FROM attempts a WHERE {open_where}",
                                    args)))["n"]
    scripted_where = " AND ".join([*clauses, "a.status = 'complete'", "a.mode IS NOT NULL"])
    scripted = next(iter(db.query(
        f"SELECT count(*) AS n FROM attempts a WHERE {scripted_where}", args)))["n"]
    lockouts = _count_between(db, "lockouts", "started_at", "1 = 1", since, until)
    unlocks = _count_between(db, "operator_actions", "acted_at", "action = 'unlock'", since,
                             until)
    overrides = _count_between(db, "operator_actions", "acted_at", "action = 'override'",
                               since, until)
    return AuditStats(total=sum(by_decision.values()), by_decision=by_decision,
                      by_reason=by_reason, by_day=by_day, incomplete=incomplete,
                      lockouts=lockouts, unlocks=unlocks, since=since, until=until,
                      scripted=scripted, overrides=overrides)
