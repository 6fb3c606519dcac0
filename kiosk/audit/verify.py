"""Verifying the hash chain: the whole of it (``kiosk audit verify``) or a recent range (the
kiosk's start-up check), row by row in ``seq`` order.

Checks: no position missing (a deletion), none repeated or beyond the head (an insertion),
``prev_hash`` equal to the previous row's hash, the recomputed hash or HMAC equal to
``row_hash`` (an edit), an attempt's encrypted frame matching its digest and its ``attack``
flag matching its reason codes; then that the last row is the recorded head, that the head
record's MAC holds, that the anchor is the one the last purge recorded, and that every open
attempt carries the MAC of the kiosk that opened it.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlite_utils import Database

from kiosk.audit.attempts import OPEN_ROWS_SQL
from kiosk.audit.canonical import CHAINED_TABLES
from kiosk.audit.chain import frame_digest
from kiosk.audit.results import ChainBreak, VerifyReport
from kiosk.audit.signer import ChainSigner, chain_state
from kiosk.reasons import suggests_attack


def _rows(db: Database, table: str, first: int) -> Iterator[tuple[int, str, dict[str, Any]]]:
    cursor = db.execute(f"SELECT * FROM {table} WHERE seq >= ? ORDER BY seq", [first])
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


def _attempt_problem(db: Database, row: Mapping[str, Any]) -> str | None:
    try:
        attack = row["decision"] == "fail" and suggests_attack(json.loads(row["reasons"]))
    except (TypeError, ValueError):
        return "its reason codes cannot be read"
    if row["attack"] is not None and bool(row["attack"]) != attack:
        return ("its attack flag does not match its reason codes: the row was edited (the "
                "per-kiosk lockout counts that flag)")
    return _frame_problem(db, row)


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


def state_problem(db: Database, signer: ChainSigner, state: Mapping[str, Any]) -> str | None:
    """What is wrong with the chain state itself (head MAC, key marker), or None."""
    bound = db.execute("SELECT value FROM meta WHERE key = 'chain_key_id'").fetchone()
    if not signer.keyed:
        if bound is not None:
            return ("the log was keyed but its first keyed position was removed: the chain "
                    "state was rewritten")
        return None
    if not signer.head_ok(state):
        return ("the head record's MAC does not match (the newest rows were truncated and the "
                "head rewritten, the rows wiped, or the state edited)")
    if not 1 <= state["keyed_from"] <= state["head_seq"] + 1:
        return "the first keyed position lies outside the chain"
    return None


def _open_problem(db: Database, signer: ChainSigner) -> ChainBreak | None:
    if not signer.keyed:
        return None
    for row in sorted(db.query(OPEN_ROWS_SQL), key=lambda r: r["id"]):
        if not signer.open_ok(row):
            return ChainBreak("attempts", row["id"], None,
                              "an unfinished attempt row was not written by this kiosk (its "
                              "MAC is missing or wrong): a row was inserted")
    return None


def verify_chain(db: Database, signer: ChainSigner, *, first: int | None = None) -> VerifyReport:
    """Walk the chain from the purge anchor (or from ``first``) to the head; report the
    first break. Call inside a read snapshot so all tables are seen at one instant.

    Parameters
    ----------
    first : int, optional
        Check only from this chain position on (the start-up check of the recent tail); the
        row before it is trusted as stored.
    """
    state = chain_state(db)
    incomplete = db.execute("SELECT count(*) FROM attempts WHERE status = 'incomplete'"
                            ).fetchone()[0]
    expected, prev = state["anchor_seq"] + 1, state["anchor_hash"]
    before = "the start of the log" if state["anchor_seq"] == 0 else \
        f"the purge anchor (seq {state['anchor_seq']})"
    if first is not None and first > expected:
        expected = first
        found = _stored_hash(db, first - 1)
        prev = found if found is not None else ""
        before = f"seq {first - 1}"
    unkeyed = 0
    count = 0

    def report(brk: ChainBreak | None) -> VerifyReport:
        return VerifyReport(ok=brk is None, rows=count, head_seq=state["head_seq"],
                            head_hash=state["head_hash"], anchor_seq=state["anchor_seq"],
                            incomplete=incomplete, first_break=brk, keyed=signer.keyed,
                            unkeyed_rows=unkeyed, first_checked=expected if first else None)

    problem = state_problem(db, signer, state)
    if problem is not None:
        return report(ChainBreak("chain", None, state["head_seq"], problem))
    merged = heapq.merge(*(_rows(db, t, expected) for t in CHAINED_TABLES),
                         key=lambda r: (r[0], r[1]))
    for seq, table, row in merged:
        count += 1
        unkeyed += not signer.is_keyed_seq(seq)
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
        elif signer.row_hash(row["prev_hash"], table, row) != row["row_hash"]:
            problem = ("its content does not match its row hash: the row was edited"
                       + (" or its hash recomputed without the key"
                          if signer.is_keyed_seq(seq) else ""))
        elif table == "attempts":
            problem = _attempt_problem(db, row)
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
    return report(_open_problem(db, signer))


def _stored_hash(db: Database, seq: int) -> str | None:
    if seq <= 0:
        return None
    for table in CHAINED_TABLES:
        found = db.execute(f"SELECT row_hash FROM {table} WHERE seq = ?", [seq]).fetchone()
        if found is not None:
            return found[0]
    return None
