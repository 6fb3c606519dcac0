"""Canonical JSON and the hash chain's arithmetic.

``row_hash = SHA-256(prev_hash || canonical_json(content))`` where ``prev_hash`` is the
previous row's hash as 64 ASCII hex digits (64 zeros before the first row), and ``content``
is ``{"table": <table name>, <column>: <stored value>, ...}`` over the table's
:data:`HASHED_COLUMNS`. The content is built from the values exactly as stored (STRICT
tables keep their types), so :func:`row_hash` over a row read back gives the same digest.

Canonical JSON: keys sorted, no whitespace, UTF-8, NaN and infinities refused. Floats are
written in Python's shortest round-trip form, so a REAL read back from SQLite hashes the same.
"""

from __future__ import annotations

import hashlib
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
content of existing rows."""

CHAINED_TABLES: tuple[str, ...] = tuple(HASHED_COLUMNS)


def canonical_json(value: Any) -> str:
    """Deterministic JSON text of plain values (dict, list, str, int, float, bool, None)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def row_content(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed content of one row of a chained table."""
    content = {column: row[column] for column in HASHED_COLUMNS[table]}
    content["table"] = table
    return content


def row_hash(prev_hash: str, table: str, row: Mapping[str, Any]) -> str:
    """SHA-256 hex of ``prev_hash`` followed by the canonical JSON of the row's content."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_json(row_content(table, row)).encode("utf-8"))
    return digest.hexdigest()
