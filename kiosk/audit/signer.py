"""Which hash a chained row gets, and the MACs of the chain state and of open attempts.

Rows chained before the log was keyed (an older kiosk's log, migrated) keep their unkeyed
SHA-256 hashes; every row from ``chain_state.keyed_from`` on is an HMAC under the database's
chain key. The head record (head, purge anchor and ``keyed_from`` itself) carries an HMAC too,
so moving ``keyed_from`` to pass recomputed unkeyed hashes off, rewriting the head after a
truncation, or resetting the state after wiping the rows, is detected by anyone who holds the
key. A log never keyed (opened only by tools and tests without a key) keeps unkeyed hashes and
says so (``VerifyReport.keyed`` is False).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit.canonical import head_mac, keyed_row_hash, open_mac, row_hash
from kiosk.audit.errors import AuditError, KeyUnavailable
from kiosk.audit.keys import ChainKey

_STATE_SQL = ("SELECT head_seq, head_hash, anchor_seq, anchor_hash, db_id, keyed_from, "
              "head_mac FROM chain_state WHERE id = 1")


def chain_state(db: Database) -> dict[str, Any]:
    """The ``chain_state`` row: head, purge anchor, ``db_id``, ``keyed_from``, ``head_mac``."""
    rows = list(db.query(_STATE_SQL))
    if not rows:
        raise AuditError("the audit database has no chain state row; it was damaged")
    return rows[0]


@dataclass(frozen=True)
class ChainSigner:
    """How rows of one database are hashed, given the chain state and (maybe) the key.

    Attributes
    ----------
    db_id : str or None
        Random id of the database (schema 3 on), part of every keyed MAC.
    keyed_from : int or None
        First keyed chain position; None for a log never keyed.
    key : bytes or None
        The database's working chain key; None when the log was opened without one.
    """

    db_id: str | None
    keyed_from: int | None
    key: bytes | None

    @classmethod
    def load(cls, db: Database, chain_key: ChainKey | None) -> ChainSigner:
        state = chain_state(db)
        key = chain_key.for_db(state["db_id"]) if chain_key is not None and state["db_id"] \
            else None
        return cls(state["db_id"], state["keyed_from"], key)

    @property
    def keyed(self) -> bool:
        return self.keyed_from is not None

    def _key(self, doing: str) -> bytes:
        if self.key is None:
            raise KeyUnavailable(f"this audit log is keyed: {doing} needs its audit key "
                                 "(audit.key_file, the default key file or the OS keyring)",
                                 reason=e.NO_KEY)
        return self.key

    def is_keyed_seq(self, seq: int) -> bool:
        return self.keyed_from is not None and seq >= self.keyed_from

    def row_hash(self, prev_hash: str, table: str, row: Mapping[str, Any]) -> str:
        """The hash a row at ``row["seq"]`` must carry (keyed or not, by its position)."""
        if self.is_keyed_seq(int(row["seq"])):
            return keyed_row_hash(self._key("writing or checking rows"), prev_hash, table, row)
        return row_hash(prev_hash, table, row)

    def head_mac(self, state: Mapping[str, Any]) -> str | None:
        """The MAC of a chain state; None for a log never keyed."""
        if not self.keyed:
            return None
        return head_mac(self._key("moving the chain head"), {**state, "db_id": self.db_id,
                                                               "keyed_from": self.keyed_from})

    def head_ok(self, state: Mapping[str, Any]) -> bool:
        expected = self.head_mac(state)
        return expected is None or hmac.compare_digest(expected, state["head_mac"] or "")

    def open_mac(self, row: Mapping[str, Any]) -> str | None:
        """The MAC of an open attempt row; None for a log never keyed."""
        if not self.keyed:
            return None
        return open_mac(self._key("opening an attempt"), row)

    def open_ok(self, row: Mapping[str, Any]) -> bool:
        """An open attempt row was written by a holder of the key (always True unkeyed)."""
        if not self.keyed:
            return True
        if self.key is None:
            raise KeyUnavailable("this audit log is keyed: checking open attempts needs its "
                                 "audit key", reason=e.NO_KEY)
        return hmac.compare_digest(open_mac(self.key, row), row["open_mac"] or "")
