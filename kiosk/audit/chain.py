"""The hash chain: appending rows (inside a write transaction) and verifying it.

One chain runs through the three chained tables (``attempts``, ``lockouts``,
``operator_actions``) in commit order: ``seq`` numbers every chained row 1, 2, 3, ... across
the tables, and each row stores ``prev_hash`` (the row hash at ``seq - 1``) and its own
``row_hash`` (see :mod:`kiosk.audit.canonical` and, for which hash a row gets,
:mod:`kiosk.audit.signer`). The single ``chain_state`` row records the head (last ``seq`` and
hash), so deleting the newest rows is detected too, and the purge anchor (the last ``seq`` a
purge removed and its hash), so the remaining chain still verifies from there. Each purge also
appends an ``operator_actions`` row naming the anchor it set; verify checks that the stored
anchor is the one the last recorded purge set.

From schema 3 the rows and the chain state carry HMACs under a key kept outside the database,
so recomputing the chain without the key is detected. Someone who holds the key, or who
restores a whole earlier copy of the file, is caught only by a head exported earlier
(``kiosk audit anchor``, checked by ``kiosk audit verify --anchor``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from kiosk.audit.canonical import CHAINED_TABLES
from kiosk.audit.errors import AuditError
from kiosk.audit.signer import ChainSigner, chain_state

__all__ = ["advance", "append_row", "chain_state", "complete_attempt", "frame_digest",
           "row_hash_at", "set_state"]


def set_state(db: Database, signer: ChainSigner, **changes: Any) -> dict[str, Any]:
    """Change fields of ``chain_state`` and re-sign it; return the new state."""
    state = {**chain_state(db), **changes}
    state["head_mac"] = signer.head_mac(state)
    fields = [*changes, "head_mac"]
    db.execute(f"UPDATE chain_state SET {', '.join(f'{f} = ?' for f in fields)} WHERE id = 1",
               [state[f] for f in fields])
    return state


def advance(db: Database, signer: ChainSigner, seq: int, new_hash: str) -> None:
    set_state(db, signer, head_seq=seq, head_hash=new_hash)


def complete_attempt(db: Database, signer: ChainSigner, attempt_id: int,
                     columns: Mapping[str, Any]) -> tuple[int, str]:
    """Chain an incomplete attempt row with its final ``columns``; return ``(seq, row_hash)``.

    Must run inside a write transaction.
    """
    state = chain_state(db)
    seq = state["head_seq"] + 1
    row = {**columns, "id": attempt_id, "seq": seq, "status": "complete"}
    digest = signer.row_hash(state["head_hash"], "attempts", row)
    values = {k: v for k, v in row.items() if k != "id"}
    values.update(prev_hash=state["head_hash"], row_hash=digest)
    sets = ", ".join(f"{name} = ?" for name in values)
    cursor = db.execute(f"UPDATE attempts SET {sets} WHERE id = ? AND status = 'incomplete'",
                        [*values.values(), attempt_id])
    if cursor.rowcount != 1:
        raise AuditError(f"attempt {attempt_id} is not open; it cannot be completed")
    advance(db, signer, seq, digest)
    return seq, digest


def append_row(db: Database, signer: ChainSigner, table: str,
               columns: Mapping[str, Any]) -> tuple[int, int, str]:
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
    digest = signer.row_hash(state["head_hash"], table, {**columns, "id": row_id, "seq": seq})
    db.execute(f"UPDATE {table} SET row_hash = ? WHERE id = ?", [digest, row_id])
    advance(db, signer, seq, digest)
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
