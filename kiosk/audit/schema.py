"""The audit database schema, versioned in code as an ordered list of migrations.

``PRAGMA user_version`` holds the number of migrations applied; ``PRAGMA application_id``
marks the file as a kiosk audit log so the kiosk never writes into some other database given
by mistake. Each migration runs in its own ``BEGIN IMMEDIATE`` transaction together with the
version bump, so a crash leaves the schema at one version or the next, never between.

Append-only rules are also enforced by triggers (a guard against accidents and careless tools;
someone with write access can drop them, which is what the hash chain is for): chained rows
cannot be updated once hashed, and can be deleted only at or below the purge anchor.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from sqlite_utils import Database

from kiosk.audit.canonical import CHAINED_TABLES, GENESIS

APPLICATION_ID = 0x4B415544  # "KAUD"

_V1_TABLES = f"""
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE chain_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    head_seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    anchor_seq INTEGER NOT NULL,
    anchor_hash TEXT NOT NULL
) STRICT;
INSERT INTO chain_state VALUES (1, 0, '{GENESIS}', 0, '{GENESIS}');

CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER UNIQUE,
    prev_hash TEXT,
    row_hash TEXT,
    status TEXT NOT NULL CHECK (status IN ('incomplete', 'complete')),
    kiosk_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    recorded_at TEXT,
    subject_ref TEXT,
    decision TEXT CHECK (decision IN ('pass', 'fail', 'review')),
    liveness_score REAL,
    reasons TEXT,
    challenges TEXT,
    signals TEXT,
    match TEXT,
    cloud_calls TEXT,
    app_version TEXT NOT NULL,
    settings_digest TEXT NOT NULL,
    frame_sha256 TEXT,
    CHECK (status = 'incomplete' OR (seq IS NOT NULL AND prev_hash IS NOT NULL
           AND ended_at IS NOT NULL AND recorded_at IS NOT NULL AND decision IS NOT NULL)),
    CHECK (status = 'complete' OR (seq IS NULL AND row_hash IS NULL))
) STRICT;
CREATE INDEX attempts_open ON attempts (kiosk_id) WHERE status = 'incomplete';
CREATE INDEX attempts_started ON attempts (started_at);
CREATE INDEX attempts_fail_subject ON attempts (subject_ref, recorded_at)
    WHERE decision = 'fail';
CREATE INDEX attempts_fail_kiosk ON attempts (kiosk_id, recorded_at) WHERE decision = 'fail';

CREATE TABLE frames (
    attempt_id INTEGER PRIMARY KEY REFERENCES attempts (id),
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL
) STRICT;

CREATE TABLE lockouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER NOT NULL UNIQUE,
    prev_hash TEXT NOT NULL,
    row_hash TEXT,
    scope TEXT NOT NULL CHECK (scope IN ('subject', 'kiosk')),
    target TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    until TEXT NOT NULL,
    failures INTEGER NOT NULL,
    attempt_id INTEGER
) STRICT;
CREATE INDEX lockouts_target ON lockouts (scope, target, seq);

CREATE TABLE operator_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER NOT NULL UNIQUE,
    prev_hash TEXT NOT NULL,
    row_hash TEXT,
    acted_at TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('unlock', 'purge')),
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    scope TEXT,
    target TEXT,
    details TEXT NOT NULL
) STRICT;
CREATE INDEX operator_actions_target ON operator_actions (action, scope, target, seq);

CREATE TRIGGER frames_no_update BEFORE UPDATE ON frames
BEGIN SELECT RAISE(ABORT, 'audit frames are append-only'); END;
CREATE TRIGGER frames_purge_only BEFORE DELETE ON frames
WHEN (SELECT seq FROM attempts WHERE id = OLD.attempt_id)
     > (SELECT anchor_seq FROM chain_state WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit frames are removed only by a purge'); END;
CREATE TRIGGER chain_state_forward BEFORE UPDATE ON chain_state
WHEN NEW.head_seq < OLD.head_seq OR NEW.anchor_seq < OLD.anchor_seq
BEGIN SELECT RAISE(ABORT, 'the audit chain only moves forward'); END;
"""


def _append_only_triggers(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} WHEN OLD.row_hash IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER {table}_purge_only BEFORE DELETE ON {table}
WHEN OLD.seq IS NOT NULL AND OLD.seq > (SELECT anchor_seq FROM chain_state WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit rows are removed only by a purge'); END;
"""


def _split(script: str) -> list[str]:
    """The statements of a DDL script, split where SQLite itself says one is complete.

    (``executescript`` would commit first, taking the migration out of its transaction.)
    """
    statements, current = [], ""
    for line in script.strip().splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError("unterminated statement in schema script")
    return statements


def _v1(db: Database) -> None:
    script = _V1_TABLES + "".join(_append_only_triggers(t) for t in CHAINED_TABLES)
    for statement in _split(script):
        db.execute(statement)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


OPERATOR_ACTIONS: tuple[str, ...] = ("unlock", "purge", "override", "settings", "pin_refused")
"""Kinds of ``operator_actions`` rows (schema 2 on; schema 1 allowed unlock and purge only)."""

_V2_ACTIONS_TABLE = """
CREATE TABLE operator_actions_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER NOT NULL UNIQUE,
    prev_hash TEXT NOT NULL,
    row_hash TEXT,
    acted_at TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('unlock', 'purge', 'override', 'settings',
                                           'pin_refused')),
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    scope TEXT,
    target TEXT,
    details TEXT NOT NULL
) STRICT;
"""
_ACTION_COLUMNS = ("id, seq, prev_hash, row_hash, acted_at, action, actor, reason, scope, "
                   "target, details")


def _v2(db: Database) -> None:
    """Widen the action CHECK of ``operator_actions`` by rebuilding the table.

    SQLite cannot alter a CHECK constraint. Rows are copied unchanged (their hashes cover the
    values, not the DDL), the AUTOINCREMENT counter is carried over so ids are never reused,
    and the index and guard triggers are recreated. DROP TABLE fires no delete triggers.
    """
    counter = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'operator_actions'"
                         ).fetchone()
    db.execute(_V2_ACTIONS_TABLE)
    db.execute(f"INSERT INTO operator_actions_v2 ({_ACTION_COLUMNS}) "
               f"SELECT {_ACTION_COLUMNS} FROM operator_actions ORDER BY id")
    db.execute("DROP TABLE operator_actions")
    db.execute("ALTER TABLE operator_actions_v2 RENAME TO operator_actions")
    if counter is not None:
        db.execute("DELETE FROM sqlite_sequence WHERE name = 'operator_actions'")
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('operator_actions', ?)",
                   [counter[0]])
    script = ("CREATE INDEX operator_actions_target ON operator_actions "
              "(action, scope, target, seq);\n" + _append_only_triggers("operator_actions"))
    for statement in _split(script):
        db.execute(statement)


Migration = Callable[[Database], None]

MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("attempts, frames, lockouts, operator actions, chain state", _v1),
    ("operator actions: override, settings and pin_refused", _v2),
)
"""Ordered migrations; migration ``i`` (from 0) brings the schema to version ``i + 1``.
Append new ones at the end; never edit or reorder applied ones."""

SCHEMA_VERSION = len(MIGRATIONS)
