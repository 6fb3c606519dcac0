"""Canonical JSON and the hash chain's arithmetic.

``row_hash = SHA-256(prev_hash || canonical_json(content))`` where ``prev_hash`` is the
previous row's hash as 64 ASCII hex digits (64 zeros before the first row), and ``content``
is ``{"table": <table name>, <column>: <stored value>, ...}`` over the table's
:data:`HASHED_COLUMNS` (and its :data:`OPTIONAL_COLUMNS` that are set). The content is built
from the values exactly as stored (STRICT tables keep their types), so :func:`row_hash` over
a row read back gives the same digest.

Canonical JSON: keys sorted, no whitespace, UTF-8, NaN and infinities refused. Floats are
written in Python's shortest round-trip form, so a REAL read back from SQLite hashes the same.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64
"""``prev_hash`` of the first row ever written."""

HASHED_COLUMNS: dict[str, tuple[str, ...]] = {
    "attempts": (
        "id", "seq", "status", "kiosk_id", "started_at", "ended_at", "recorded_at",
        "subject_ref", "decision", "liveness_score", "reasons", "challenges", "signals",
        "match", "cloud_calls", "app_version", "settings_digest", "frame_sha256",
    ),
    "lockouts": (
        "id", "seq", "scope", "target", "kiosk_id", "started_at", "until", "failures",
        "attempt_id",
    ),
    "operator_actions": (
        "id", "seq", "acted_at", "action", "actor", "reason", "scope", "target", "details",
    ),
}
"""Columns covered by each chained table's row hash (everything except the chain columns
``prev_hash`` and ``row_hash``). A future migration that adds a column must not change the
content of existing rows: see :data:`OPTIONAL_COLUMNS`."""

OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "attempts": ("mode", "variant", "camera"),
    "lockouts": (),
    "operator_actions": (),
}
"""Columns added after rows were chained (schema 5: ``attempts.mode``; schema 7:
``attempts.variant``; schema 8: ``attempts.camera``). Each is part of a row's content only when it is not NULL, so every row
written before it existed, and every row that leaves it NULL, hashes exactly as before;
setting or clearing it changes the content."""

CHAINED_TABLES: tuple[str, ...] = tuple(HASHED_COLUMNS)


def canonical_json(value: Any) -> str:
    """Deterministic JSON text of plain values (dict, list, str, int, float, bool, None)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _optional(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    return {column: row[column] for column in OPTIONAL_COLUMNS[table]
            if row.get(column) is not None}


def _content(columns: tuple[str, ...], table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    content = {column: row[column] for column in columns}
    content.update(_optional(table, row))
    content["table"] = table
    return content


def row_content(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed content of one row of a chained table (unkeyed chain)."""
    return _content(HASHED_COLUMNS[table], table, row)


def row_hash(prev_hash: str, table: str, row: Mapping[str, Any]) -> str:
    """SHA-256 hex of ``prev_hash`` followed by the canonical JSON of the row's content."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_json(row_content(table, row)).encode("utf-8"))
    return digest.hexdigest()


# -- the keyed chain (schema 3 on) -------------------------------------------------------------

HASHED_COLUMNS_V2: dict[str, tuple[str, ...]] = {
    "attempts": (*HASHED_COLUMNS["attempts"], "attack"),
    "lockouts": HASHED_COLUMNS["lockouts"],
    "operator_actions": HASHED_COLUMNS["operator_actions"],
}
"""Columns covered by a keyed row's MAC: the unkeyed columns plus the ones schema 3 added."""

OPEN_COLUMNS: tuple[str, ...] = (
    "id", "kiosk_id", "started_at", "subject_ref", "app_version", "settings_digest",
    "owner_host", "owner_boot", "owner_pid", "owner_start",
)
"""Columns of an open (incomplete, unchained) attempt covered by its ``open_mac`` (with the
attempt's :data:`OPTIONAL_COLUMNS` that are set)."""


def _mac(key: bytes, label: str, text: str) -> str:
    return hmac.new(key, f"{label}|{text}".encode(), hashlib.sha256).hexdigest()


def keyed_row_content(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The content a keyed row's MAC covers (:data:`HASHED_COLUMNS_V2`); what the fleet
    server stores as the row's content."""
    return _content(HASHED_COLUMNS_V2[table], table, row)


def keyed_row_hash(key: bytes, prev_hash: str, table: str, row: Mapping[str, Any]) -> str:
    """HMAC-SHA256 hex, under the database's chain key, of ``prev_hash`` and the row's
    content (:func:`keyed_row_content`)."""
    return _mac(key, "row", prev_hash + canonical_json(keyed_row_content(table, row)))


def open_mac(key: bytes, row: Mapping[str, Any]) -> str:
    """HMAC-SHA256 hex of an open attempt's :data:`OPEN_COLUMNS`: an incomplete row that
    the kiosk did not write (no key) is told apart and never counted as someone's try."""
    content = {c: row[c] for c in OPEN_COLUMNS}
    content.update(_optional("attempts", row))
    return _mac(key, "open", canonical_json(content))


HEAD_FIELDS: tuple[str, ...] = ("db_id", "head_seq", "head_hash", "anchor_seq", "anchor_hash",
                                "keyed_from")


def head_mac(key: bytes, state: Mapping[str, Any]) -> str:
    """HMAC-SHA256 hex of the chain state (head, purge anchor, first keyed position):
    truncating the newest rows and rewriting the head, or wiping every row, needs the key."""
    return _mac(key, "head", canonical_json({f: state[f] for f in HEAD_FIELDS}))


def anchor_mac(key: bytes, anchor: Mapping[str, Any]) -> str:
    """HMAC-SHA256 hex of an exported head (``kiosk audit anchor``)."""
    fields = {k: v for k, v in anchor.items() if k != "mac"}
    return _mac(key, "anchor", canonical_json(fields))
