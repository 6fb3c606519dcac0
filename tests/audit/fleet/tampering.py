"""Rewriting a kiosk's local history as someone who holds its audit key would."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from kiosk.audit.canonical import CHAINED_TABLES
from kiosk.audit.chain import set_state
from kiosk.audit.keystore import KeyStore
from kiosk.audit.signer import ChainSigner, chain_state


def rewrite_with_key(db_path: Path, key_file: Path, *, seq: int, changes: dict[str, Any]
                     ) -> None:
    """Change the row at ``seq``, then recompute every keyed hash from there on and the head
    MAC with the real key, and put the guard triggers back: the local log verifies."""
    chain_key = KeyStore(key_file=str(key_file), create=False).chain_key()
    raw = sqlite3.connect(db_path)
    triggers = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                           ).fetchall()
    for name, _ in triggers:
        raw.execute(f"DROP TRIGGER {name}")
    raw.commit()
    raw.close()
    db = Database(db_path)
    signer = ChainSigner.load(db, chain_key)
    rows = []
    for table in CHAINED_TABLES:
        rows += [(r["seq"], table, r) for r in db.query(
            f"SELECT * FROM {table} WHERE seq >= ?", [seq])]
    state = chain_state(db)
    prev = db.execute("SELECT row_hash FROM attempts WHERE seq = ? UNION ALL SELECT row_hash "
                      "FROM lockouts WHERE seq = ? UNION ALL SELECT row_hash FROM "
                      "operator_actions WHERE seq = ?", [seq - 1] * 3).fetchone()[0]
    for position, table, row in sorted(rows, key=lambda r: r[0]):
        if position == seq:
            row.update(changes)
            sets = ", ".join(f"{k} = ?" for k in changes)
            db.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*changes.values(), row["id"]])
        digest = signer.row_hash(prev, table, row)
        db.execute(f"UPDATE {table} SET prev_hash = ?, row_hash = ? WHERE id = ?",
                   [prev, digest, row["id"]])
        prev = digest
    set_state(db, signer, head_seq=state["head_seq"], head_hash=prev)
    for _, sql in triggers:
        db.execute(sql)
    db.conn.commit()
    db.close()
