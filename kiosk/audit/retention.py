"""Retention: removing old rows while the chain stays verifiable.

A purge removes the oldest part of the chain, a prefix ``seq <= S``, never rows in the middle:
``S`` stops before the first row recorded at or after the cut-off and before any lockout still
in force. It moves the anchor to ``(S, row_hash at S)`` first (the delete triggers allow
removal only at or below the anchor), deletes the frames and rows, and appends a ``purge``
operator action naming the anchor, all in one transaction. With ``secure_delete`` on, the
removed rows are overwritten in the file.

Failures still inside the rate-limit window are never removed (the cut-off is moved back to
the window start if needed, and further by the clock gaps inside it), so a purge cannot
shorten a failure count, nor remove a lockout that the clock gaps since it began keep in
force. Incomplete attempts begun before the cut-off (left by a crash and never recovered) are
removed too.

The automatic purge passes the clock gaps it must not count as time passed (see
:mod:`kiosk.audit.clock`): a row is old enough only when its age minus the gaps recorded after
it reaches the retention period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlite_utils import Database

from kiosk.audit.canonical import canonical_json
from kiosk.audit.chain import append_row, chain_state, row_hash_at, set_state
from kiosk.audit.clock import ClockEvent, clock_events, lockout_discount, window_discount
from kiosk.audit.records import check_label
from kiosk.audit.results import PurgeResult
from kiosk.audit.signer import ChainSigner
from kiosk.audit.timeutil import from_iso, to_iso

_TIME_COLUMN = {"attempts": "recorded_at", "lockouts": "started_at",
                "operator_actions": "acted_at"}


def _first_kept_seq(db: Database, cutoff: datetime, now: datetime, head_seq: int,
                    gaps: Sequence[tuple[int, timedelta]], events: list[ClockEvent]) -> int:
    """The lowest chain position that must stay.

    Rows chained before a recorded gap are judged against a cut-off moved back by the gaps
    recorded after them. A lockout is in force until its ``until`` moved on by the clock gaps
    since it began, as the lockout check reads it (:func:`kiosk.audit.clock.lockout_discount`).
    """
    candidates = [head_seq + 1]
    bounds = sorted(gaps)
    segments, low = [], 0
    for k, (seq, _) in enumerate(bounds):
        segments.append((low, seq, sum((g for _, g in bounds[k:]), timedelta(0))))
        low = seq
    segments.append((low, head_seq + 1, timedelta(0)))
    for first, stop, discount in segments:
        cut = to_iso(cutoff - discount)
        for table, column in _TIME_COLUMN.items():
            found = db.execute(f"SELECT min(seq) FROM {table} WHERE {column} >= ? AND seq >= ? "
                               "AND seq < ?", [cut, first, stop]).fetchone()[0]
            if found is not None:
                candidates.append(found)
    for seq, started, until in db.execute("SELECT seq, started_at, until FROM lockouts "
                                          "ORDER BY seq").fetchall():
        end = from_iso(until)
        if end + lockout_discount(events, seq, end - from_iso(started)) > now:
            candidates.append(seq)
            break  # the lowest in force
    return min(candidates)


def purge_target(db: Database, *, now: datetime, older_than: timedelta,
                 keep_window: timedelta, gaps: Sequence[tuple[int, timedelta]] = ()
                 ) -> tuple[datetime, datetime, int]:
    """``(requested cut-off, effective cut-off, last seq to remove)`` of a purge."""
    if older_than <= timedelta(0):
        raise ValueError("older_than must be positive")
    requested = now - older_than
    events = clock_events(db)
    # The failure window reaches further back over clock gaps, as the lockout check counts.
    cutoff = min(requested, now - keep_window - window_discount(events, now, keep_window))
    state = chain_state(db)
    last = _first_kept_seq(db, cutoff, now, state["head_seq"], gaps, events) - 1
    return requested, cutoff, last


def purge(db: Database, signer: ChainSigner, *, now: datetime, older_than: timedelta,
          keep_window: timedelta, actor: str, reason: str,
          gaps: Sequence[tuple[int, timedelta]] = (), upto: int | None = None) -> PurgeResult:
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
    gaps : sequence of (seq, timedelta)
        Clock gaps not to count as time passed (the automatic purge).
    upto : int, optional
        Remove at most up to this chain position: the last one the fleet server acknowledged,
        or a step of a purge done in steps on a full disk. The rows old enough to go that it
        keeps are counted in the result's ``held``.
    """
    check_label(actor, "actor", 100)
    check_label(reason, "reason", 500)
    requested, cutoff, last_removed = purge_target(db, now=now, older_than=older_than,
                                                   keep_window=keep_window, gaps=gaps)
    state = chain_state(db)
    held = 0
    if upto is not None and last_removed > upto:
        held = last_removed - max(upto, state["anchor_seq"])
        last_removed = upto
    cut, now_text = to_iso(cutoff), to_iso(now)
    counts = {"attempts": 0, "lockouts": 0, "operator_actions": 0, "frames": 0}
    anchor_seq, anchor_hash = state["anchor_seq"], state["anchor_hash"]
    if last_removed > anchor_seq:
        anchor_seq, anchor_hash = last_removed, row_hash_at(db, last_removed)
        set_state(db, signer, anchor_seq=anchor_seq, anchor_hash=anchor_hash)
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
        action_id, _, _ = append_row(db, signer, "operator_actions", {
            "acted_at": now_text, "action": "purge", "actor": actor, "reason": reason,
            "scope": None, "target": None, "details": canonical_json(details)})
    return PurgeResult(cutoff=cutoff, anchor_seq=anchor_seq, attempts=counts["attempts"],
                       lockouts=counts["lockouts"], operator_actions=counts["operator_actions"],
                       frames=counts["frames"], incomplete=incomplete, action_id=action_id,
                       held=held)
