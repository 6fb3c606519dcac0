"""Retention: removing old rows while the chain stays verifiable.

A purge removes the oldest part of the chain, a prefix ``seq <= S``, never rows in the middle:
``S`` stops before the first row recorded at or after the cut-off and before any lockout still
in force. It moves the anchor to ``(S, row_hash at S)`` first (the delete triggers allow
removal only at or below the anchor), deletes the frames and rows, and appends a ``purge``
operator action naming the anchor, all in one transaction. With ``secure_delete`` on, the
removed rows are overwritten in the file.

Failures still inside the rate-limit window are never removed (the cut-off is moved back to
the window start if needed), so a purge cannot shorten a failure count. Incomplete attempts
begun before the cut-off (left by a crash and never recovered) are removed too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from kiosk.audit.canonical import canonical_json
from kiosk.audit.chain import append_row, chain_state, row_hash_at
from kiosk.audit.records import check_label
from kiosk.audit.results import PurgeResult
from kiosk.audit.timeutil import to_iso

_TIME_COLUMN = {"attempts": "recorded_at", "lockouts": "started_at",
                "operator_actions": "acted_at"}


def _first_kept_seq(db: Database, cutoff: str, now: str, head_seq: int) -> int:
    """The lowest chain position that must stay."""
    candidates = [head_seq + 1]
    for table, column in _TIME_COLUMN.items():
        found = db.execute(f"SELECT min(seq) FROM {table} WHERE {column} >= ?",
                           [cutoff]).fetchone()[0]
        if found is not None:
            candidates.append(found)
    in_force = db.execute("SELECT min(seq) FROM lockouts WHERE until > ?", [now]).fetchone()[0]
    if in_force is not None:
        candidates.append(in_force)
    return min(candidates)


def purge(db: Database, *, now: datetime, older_than: timedelta, keep_window: timedelta,
          actor: str, reason: str) -> PurgeResult:
    """Remove rows recorded before ``now - older_than``; must run in a write transaction.

    Parameters
    ----------
    now : datetime
        The log's clock.
    older_than : timedelta
        Age of the rows to remove; positive.
    keep_window : timedelta
        The rate-limit window: rows younger than this always stay.
    actor, reason : str
        Recorded with the purge.
    """
    if older_than <= timedelta(0):
        raise ValueError("older_than must be positive")
    check_label(actor, "actor", 100)
    check_label(reason, "reason", 500)
    requested = now - older_than
    cutoff = min(requested, now - keep_window)
    cut, now_text = to_iso(cutoff), to_iso(now)
    state = chain_state(db)
    last_removed = _first_kept_seq(db, cut, now_text, state["head_seq"]) - 1
    counts = {"attempts": 0, "lockouts": 0, "operator_actions": 0, "frames": 0}
    anchor_seq, anchor_hash = state["anchor_seq"], state["anchor_hash"]
    if last_removed > anchor_seq:
        anchor_seq, anchor_hash = last_removed, row_hash_at(db, last_removed)
        db.execute("UPDATE chain_state SET anchor_seq = ?, anchor_hash = ? WHERE id = 1",
                   [anchor_seq, anchor_hash])
        counts["frames"] = db.execute(
            "DELETE FROM frames WHERE attempt_id IN (SELECT id FROM attempts WHERE seq <= ?)",
            [anchor_seq]).rowcount
        for table in _TIME_COLUMN:
            counts[table] = db.execute(f"DELETE FROM {table} WHERE seq <= ?",
                                       [anchor_seq]).rowcount
    incomplete = db.execute("DELETE FROM attempts WHERE status = 'incomplete' AND started_at < ?",
                            [cut]).rowcount
    action_id = None
    if incomplete or last_removed > state["anchor_seq"]:
        details = {"requested_cutoff": to_iso(requested), "cutoff": cut,
                   "anchor_seq": anchor_seq, "anchor_hash": anchor_hash,
                   "incomplete": incomplete, **counts}
        action_id, _, _ = append_row(db, "operator_actions", {
            "acted_at": now_text, "action": "purge", "actor": actor, "reason": reason,
            "scope": None, "target": None, "details": canonical_json(details)})
    return PurgeResult(cutoff=cutoff, anchor_seq=anchor_seq, attempts=counts["attempts"],
                       lockouts=counts["lockouts"], operator_actions=counts["operator_actions"],
                       frames=counts["frames"], incomplete=incomplete, action_id=action_id)
