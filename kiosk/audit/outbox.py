"""The local side of the fleet's store-and-forward: chained rows not yet shipped, and
``fleet_state`` (no psycopg here, so reading commands need not load it).

The sender reads the local log through a connection of its own (WAL: reading never blocks the
kiosk's writes), in chain order, and records what the server acknowledged in the log's
``fleet_state`` row (schema 4), and the clock offset it shipped the last row with in
``meta.fleet_offset`` (:class:`ShippedOffset`). Nothing here changes a chained row.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.audit.canonical import CHAINED_TABLES, canonical_json, keyed_row_content
from kiosk.audit.errors import AuditUnavailable
from kiosk.audit.timeutil import from_iso, to_iso

__all__ = ["FleetState", "LocalHead", "Outbox", "ShippedOffset", "ShippedRow",
           "shipped_row"]


@dataclass(frozen=True)
class ShippedRow:
    """One chained row as the server stores it.

    ``content`` is the canonical JSON of the row's hashed columns as stored locally; the
    other fields are what the fleet's lockout check and views query.
    """

    seq: int
    table: str
    row_id: int
    prev_hash: str
    row_hash: str
    content: str
    at: datetime
    subject_ref: str | None = None
    decision: str | None = None
    attack: bool | None = None
    reasons: tuple[str, ...] | None = None
    scope: str | None = None
    target: str | None = None
    until: datetime | None = None
    action: str | None = None
    failures: int | None = None
    mode: str | None = None


def shipped_row(table: str, row: Mapping[str, Any]) -> ShippedRow:
    """The :class:`ShippedRow` of a stored chained row (a dict of its columns)."""
    content = keyed_row_content(table, row)
    common = {"seq": int(row["seq"]), "table": table, "row_id": int(row["id"]),
              "prev_hash": row["prev_hash"], "row_hash": row["row_hash"],
              "content": canonical_json(content)}
    if table == "attempts":
        reasons = tuple(json.loads(row["reasons"])) if row["reasons"] else ()
        attack = None if row.get("attack") is None else bool(row["attack"])
        return ShippedRow(**common, at=from_iso(row["recorded_at"]),
                          subject_ref=row["subject_ref"], decision=row["decision"],
                          attack=attack, reasons=reasons, mode=row.get("mode"))
    if table == "lockouts":
        return ShippedRow(**common, at=from_iso(row["started_at"]), scope=row["scope"],
                          target=row["target"], until=from_iso(row["until"]),
                          failures=int(row["failures"]))
    return ShippedRow(**common, at=from_iso(row["acted_at"]), scope=row["scope"],
                      target=row["target"], action=row["action"])


@dataclass(frozen=True)
class LocalHead:
    """The local chain: its database id, head and purge anchor."""

    db_id: str | None
    head_seq: int
    head_hash: str
    anchor_seq: int
    anchor_hash: str


@dataclass(frozen=True)
class ShippedOffset:
    """The clock offset the sender shipped a row with (``meta.fleet_offset``, the last row of
    its last batch): the server's copy of the offsets is held to it
    (:mod:`kiosk.audit.fleet.offsets`), since the row's content does not cover it."""

    seq: int
    offset_s: float


@dataclass(frozen=True)
class FleetState:
    """The local record of the server's acknowledgements (``fleet_state``), and the offset
    the last row shipped with (``shipped_offset``, None when none was kept)."""

    created_at: datetime
    server_seq: int
    server_hash: str | None
    acked_at: datetime | None
    last_contact: datetime | None
    skew_s: float | None
    last_error: str | None
    shipped_offset: ShippedOffset | None = None


def _state(row: tuple[Any, ...] | None, shipped: ShippedOffset | None) -> FleetState | None:
    if row is None:
        return None
    created, seq, digest, acked, contact, skew, error = row
    return FleetState(from_iso(created), int(seq), digest,
                      from_iso(acked) if acked else None,
                      from_iso(contact) if contact else None, skew, error, shipped)


def _shipped_offset(conn: Any) -> ShippedOffset | None:
    """``meta.fleet_offset``, or None when none was kept (or it cannot be read)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'fleet_offset'").fetchone()
    try:
        found = json.loads(row[0]) if row is not None else None
        return ShippedOffset(int(found["seq"]), float(found["offset_s"])) if found else None
    except (ValueError, KeyError, TypeError):
        return None  # verify --fleet then holds the server's offsets to each other only


def read_state(conn: Any) -> FleetState | None:
    """``fleet_state`` through any DB-API connection to the log (None before the first
    shipment or on a log older than schema 4)."""
    try:
        row = conn.execute("SELECT created_at, server_seq, server_hash, acked_at, last_contact, "
                           "skew_s, last_error FROM fleet_state WHERE id = 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return _state(tuple(row) if row is not None else None, _shipped_offset(conn))


def read_head(conn: Any) -> LocalHead:
    row = conn.execute("SELECT db_id, head_seq, head_hash, anchor_seq, anchor_hash "
                       "FROM chain_state WHERE id = 1").fetchone()
    return LocalHead(row[0], int(row[1]), row[2], int(row[3]), row[4])


def chained_rows(conn: Any, first: int, last: int) -> Iterator[ShippedRow]:
    """The chained rows at positions ``first..last``, in chain order (call inside one read
    transaction so the three tables are seen at one instant)."""
    found: list[ShippedRow] = []
    for table in CHAINED_TABLES:
        cursor = conn.execute(f"SELECT * FROM {table} WHERE seq >= ? AND seq <= ? "
                              "ORDER BY seq", [first, last])
        names = [d[0] for d in cursor.description]
        found.extend(shipped_row(table, dict(zip(names, values, strict=True)))
                     for values in cursor)
    yield from sorted(found, key=lambda r: r.seq)


class Outbox:
    """The sender's own connection to the local log (thread-safe).

    Parameters
    ----------
    path : path-like
        The kiosk's audit database (it must exist; the audit log created it).
    busy_timeout_s : float
        How long a write of ``fleet_state`` waits for the kiosk's write lock.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(f"file:{Path(path).as_posix()}?mode=rw", uri=True,
                                         timeout=busy_timeout_s, isolation_level=None,
                                         check_same_thread=False)
        except sqlite3.Error as exc:
            raise AuditUnavailable(f"the fleet sender cannot open {path}: {exc}",
                                   reason="cannot_open", path=self.path) from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def head(self) -> LocalHead:
        with self._lock:
            return read_head(self._conn)

    def batch(self, after: int, limit: int) -> tuple[LocalHead, list[ShippedRow]]:
        """The local head and up to ``limit`` chained rows after position ``after``."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                head = read_head(self._conn)
                last = min(head.head_seq, after + limit)
                rows = list(chained_rows(self._conn, after + 1, last)) if last > after else []
            finally:
                self._conn.execute("COMMIT")
        return head, rows

    def rows(self, first: int, last: int) -> list[ShippedRow]:
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                return list(chained_rows(self._conn, first, last))
            finally:
                self._conn.execute("COMMIT")

    def state(self) -> FleetState | None:
        with self._lock:
            return read_state(self._conn)

    def ensure_state(self, now: datetime) -> FleetState:
        """The ``fleet_state`` row, created now when missing (the unreachable-server policy
        counts from then when the server never answered)."""
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO fleet_state (id, created_at) "
                               "VALUES (1, ?)", [to_iso(now)])
            found = read_state(self._conn)
        assert found is not None
        return found

    def record_offset(self, shipped: ShippedOffset) -> None:
        """Keep the offset the last row shipped with (``meta.fleet_offset``)."""
        value = json.dumps({"seq": shipped.seq, "offset_s": shipped.offset_s})
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('fleet_offset', ?)",
                               [value])

    def record(self, **changes: Any) -> None:
        """Update fields of ``fleet_state`` (datetimes are stored as ISO text)."""
        if not changes:
            return
        values = [to_iso(v) if isinstance(v, datetime) else v for v in changes.values()]
        sets = ", ".join(f"{name} = ?" for name in changes)
        with self._lock:
            self._conn.execute(f"UPDATE fleet_state SET {sets} WHERE id = 1", values)
