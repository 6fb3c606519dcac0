"""The hash chain: appending rows (inside a write transaction) and verifying the whole chain.

One chain runs through the three chained tables (``attempts``, ``lockouts``,
``operator_actions``) in commit order: ``seq`` numbers every chained row 1, 2, 3, ... across
the tables, and each row stores ``prev_hash`` (the row hash at ``seq - 1``) and its own
``row_hash`` (see :mod:`kiosk.audit.canonical`). The single ``chain_state`` row records the
head (last ``seq`` and hash), so deleting the newest rows is detected too, and the purge anchor
(the last ``seq`` a purge removed and its hash), so the remaining chain still verifies from
there. Each purge also appends an ``operator_actions`` row naming the anchor it set; verify
checks that the stored anchor is the one the last recorded purge set.

Limits: the hashes are unkeyed, so someone able to rewrite the whole file can recompute every
hash from the anchor on. Keep a copy of the head hash (``kiosk audit verify`` prints it)
somewhere else to catch that.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlite_utils import Database

from kiosk.audit.canonical import CHAINED_TABLES, row_hash
from kiosk.audit.errors import AuditError
from kiosk.audit.results import ChainBreak, VerifyReport


def chain_state(db: Database) -> dict[str, Any]:
    """The ``chain_state`` row: head_seq, head_hash, anchor_seq, anchor_hash."""
    rows = list(db.query("SELECT head_seq, head_hash, anchor_seq, anchor_hash FROM chain_state "
                         "WHERE id = 1"))
    if not rows:
        raise AuditError("the audit database has no chain state row; it was damaged")
    return rows[0]


def _advance(db: Database, seq: int, new_hash: str) -> None:
    db.execute("UPDATE chain_state SET head_seq = ?, head_hash = ? WHERE id = 1", [seq, new_hash])


def complete_attempt(db: Database, attempt_id: int, columns: Mapping[str, Any]) -> tuple[int, str]:
    """Chain an incomplete attempt row with its final ``columns``; return ``(seq, row_hash)``.

    Must run inside a write transaction.
    """
    state = chain_state(db)
    seq = state["head_seq"] + 1
    row = {**columns, "id": attempt_id, "seq": seq, "status": "complete"}
    digest = row_hash(state["head_hash"], "attempts", row)
    values = {k: v for k, v in row.items() if k != "id"}
    values.update(prev_hash=state["head_hash"], row_hash=digest)
    sets = ", ".join(f"{name} = ?" for name in values)
    cursor = db.execute(f"UPDATE attempts SET {sets} WHERE id = ? AND status = 'incomplete'",
                        [*values.values(), attempt_id])
    if cursor.rowcount != 1:
        raise AuditError(f"attempt {attempt_id} is not open; it cannot be completed")
    _advance(db, seq, digest)
    return seq, digest


def append_row(db: Database, table: str, columns: Mapping[str, Any]) -> tuple[int, int, str]:
    """Insert a chained row into ``lockouts`` or ``operator_actions``; return
    ``(id, seq, row_hash)``. Must run inside a write transaction.

    The id is assigned by the insert and is part of the hashed content, so the hash is
    written by a second statement in the same transaction.
    """
    if table not in ("lockouts", "operator_actions"):
        raise ValueError(f"append_row cannot write to {table!r}")
    state = chain_state(db)
    seq = state["head_seq"] + 1
    inserted = db.table(table).insert({**columns, "seq": seq, "prev_hash": state["head_hash"]})
    assert inserted.last_rowid is not None  # an INSERT always sets it
    row_id = int(inserted.last_rowid)
    digest = row_hash(state["head_hash"], table, {**columns, "id": row_id, "seq": seq})
    db.execute(f"UPDATE {table} SET row_hash = ? WHERE id = ?", [digest, row_id])
    _advance(db, seq, digest)
    return row_id, seq, digest


def row_hash_at(db: Database, seq: int) -> str:
    """The stored row hash at chain position ``seq`` (which must exist)."""
    for table in CHAINED_TABLES:
        found = db.execute(f"SELECT row_hash FROM {table} WHERE seq = ?", [seq]).fetchone()
        if found is not None:
            return found[0]
    raise AuditError(f"no chained row at seq {seq}")


def frame_digest(key_id: str, nonce: bytes, ciphertext: bytes) -> str:
    """SHA-256 hex of a stored encrypted frame, recorded in its attempt's hashed content."""
    digest = hashlib.sha256(key_id.encode("ascii"))
    digest.update(nonce)
    digest.update(ciphertext)
    return digest.hexdigest()


def _rows(db: Database, table: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    cursor = db.execute(f"SELECT * FROM {table} WHERE seq IS NOT NULL ORDER BY seq")
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        yield row["seq"], table, row


def _frame_problem(db: Database, row: Mapping[str, Any]) -> str | None:
    found = db.execute("SELECT key_id, nonce, ciphertext FROM frames WHERE attempt_id = ?",
                       [row["id"]]).fetchone()
    if row["frame_sha256"] is None:
        return "a frame is stored for it although its row records none" if found else None
    if found is None:
        return "its encrypted best frame is missing"
    if frame_digest(*found) != row["frame_sha256"]:
        return "its encrypted best frame was altered or replaced"
    return None


def _anchor_problem(db: Database, state: Mapping[str, Any]) -> str | None:
    found = db.execute("SELECT details FROM operator_actions WHERE action = 'purge' "
                       "ORDER BY seq DESC LIMIT 1").fetchone()
    if found is None:
        if state["anchor_seq"] == 0:
            return None
        return (f"rows up to seq {state['anchor_seq']} were removed but no purge is recorded: "
                "the oldest rows were deleted")
    try:
        details = json.loads(found[0])
        recorded = (details["anchor_seq"], details["anchor_hash"])
    except (ValueError, KeyError, TypeError):
        return "the last purge record cannot be read"
    if recorded != (state["anchor_seq"], state["anchor_hash"]):
        return (f"the purge anchor (seq {state['anchor_seq']}) differs from the one the last "
                f"recorded purge set (seq {recorded[0]}): rows were removed outside a purge")
    return None


def verify_chain(db: Database) -> VerifyReport:
    """Walk the chain from the purge anchor to the head; report the first break.

    Call inside a read snapshot so all tables are seen at one instant. Checks, row by row in
    ``seq`` order: no position missing (a deletion), none repeated or beyond the head (an
    insertion), ``prev_hash`` equal to the previous row's hash, the recomputed hash equal to
    ``row_hash`` (an edit), an attempt's encrypted frame matching its digest; then that the
    last row is the recorded head and that the anchor is the one the last purge recorded.
    """
    state = chain_state(db)
    incomplete = db.execute("SELECT count(*) FROM attempts WHERE status = 'incomplete'"
                            ).fetchone()[0]
    expected, prev = state["anchor_seq"] + 1, state["anchor_hash"]
    before = "the start of the log" if state["anchor_seq"] == 0 else \
        f"the purge anchor (seq {state['anchor_seq']})"
    count = 0

    def report(brk: ChainBreak | None) -> VerifyReport:
        return VerifyReport(ok=brk is None, rows=count, head_seq=state["head_seq"],
                            head_hash=state["head_hash"], anchor_seq=state["anchor_seq"],
                            incomplete=incomplete, first_break=brk)

    merged = heapq.merge(*(_rows(db, t) for t in CHAINED_TABLES), key=lambda r: (r[0], r[1]))
    for seq, table, row in merged:
        count += 1
        problem = None
        if seq < expected:
            problem = (f"chain position {seq} is taken twice or lies at or before "
                       f"{before}: a row was inserted")
        elif seq > state["head_seq"]:
            problem = (f"it lies beyond the recorded head (seq {state['head_seq']}): it was "
                       "added outside the kiosk")
        elif seq > expected:
            gap = str(expected) if seq == expected + 1 else f"{expected} to {seq - 1}"
            problem = f"chain position {gap} after {before} is missing: a row was deleted"
        elif row["prev_hash"] != prev:
            problem = (f"its prev_hash does not match {before}: a row before it was altered, "
                       "inserted or deleted")
        elif row_hash(row["prev_hash"], table, row) != row["row_hash"]:
            problem = "its content does not match its row hash: the row was edited"
        elif table == "attempts":
            problem = _frame_problem(db, row)
        if problem is not None:
            return report(ChainBreak(table, row["id"], seq, problem))
        expected, prev = seq + 1, row["row_hash"]
        before = f"{table} #{row['id']} (seq {seq})"

    if expected - 1 < state["head_seq"]:
        gap = expected if expected == state["head_seq"] else f"{expected} to {state['head_seq']}"
        return report(ChainBreak("chain", None, expected,
                                 f"chain position {gap} after {before} is missing: the newest "
                                 "rows were deleted"))
    if prev != state["head_hash"]:
        return report(ChainBreak("chain", None, state["head_seq"],
                                 f"the recorded head hash does not match {before}"))
    problem = _anchor_problem(db, state)
    if problem is not None:
        return report(ChainBreak("chain", None, state["anchor_seq"], problem))
    orphan = db.execute("SELECT f.attempt_id FROM frames f JOIN attempts a ON a.id = "
                        "f.attempt_id WHERE a.status = 'incomplete' LIMIT 1").fetchone()
    if orphan is not None:
        return report(ChainBreak("frames", orphan[0], None,
                                 "a frame is stored for an attempt that is not finished"))
    return report(None)
