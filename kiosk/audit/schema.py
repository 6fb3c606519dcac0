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

import json
import secrets
import sqlite3
from collections.abc import Callable

from sqlite_utils import Database

from kiosk.audit.canonical import CHAINED_TABLES, GENESIS
from kiosk.reasons import suggests_attack

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


_V2_ACTIONS = ("unlock", "purge", "override", "settings", "pin_refused")

_V3_ACTIONS = (*_V2_ACTIONS, "clock", "pin_accepted")

_V6_ACTIONS = (*_V3_ACTIONS, "log_replaced")

OPERATOR_ACTIONS: tuple[str, ...] = (*_V6_ACTIONS, "camera_refused")
"""Kinds of ``operator_actions`` rows (schema 9 on; schema 1 allowed unlock and purge only,
schema 2 added override, settings and pin_refused, schema 3 clock and pin_accepted, schema 6
log_replaced)."""

_ACTION_COLUMNS = ("id, seq, prev_hash, row_hash, acted_at, action, actor, reason, scope, "
                   "target, details")


def _actions_table(name: str, actions: tuple[str, ...]) -> str:
    allowed = ", ".join(f"'{a}'" for a in actions)
    return f"""
CREATE TABLE {name} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER NOT NULL UNIQUE,
    prev_hash TEXT NOT NULL,
    row_hash TEXT,
    acted_at TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ({allowed})),
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    scope TEXT,
    target TEXT,
    details TEXT NOT NULL
) STRICT;
"""


def _rebuild_actions(db: Database, actions: tuple[str, ...]) -> None:
    """Widen the action CHECK of ``operator_actions`` by rebuilding the table.

    SQLite cannot alter a CHECK constraint. Rows are copied unchanged (their hashes cover the
    values, not the DDL), the AUTOINCREMENT counter is carried over so ids are never reused,
    and the index and guard triggers are recreated. DROP TABLE fires no delete triggers.
    """
    counter = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'operator_actions'"
                         ).fetchone()
    db.execute(_actions_table("operator_actions_new", actions))
    db.execute(f"INSERT INTO operator_actions_new ({_ACTION_COLUMNS}) "
               f"SELECT {_ACTION_COLUMNS} FROM operator_actions ORDER BY id")
    db.execute("DROP TABLE operator_actions")
    db.execute("ALTER TABLE operator_actions_new RENAME TO operator_actions")
    if counter is not None:
        db.execute("DELETE FROM sqlite_sequence WHERE name = 'operator_actions'")
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('operator_actions', ?)",
                   [counter[0]])
    script = ("CREATE INDEX operator_actions_target ON operator_actions "
              "(action, scope, target, seq);\n" + _append_only_triggers("operator_actions"))
    for statement in _split(script):
        db.execute(statement)


def _v2(db: Database) -> None:
    _rebuild_actions(db, _V2_ACTIONS)


_V3_COLUMNS = """
ALTER TABLE attempts ADD COLUMN owner_host TEXT;
ALTER TABLE attempts ADD COLUMN owner_boot TEXT;
ALTER TABLE attempts ADD COLUMN owner_pid INTEGER;
ALTER TABLE attempts ADD COLUMN owner_start TEXT;
ALTER TABLE attempts ADD COLUMN open_mac TEXT;
ALTER TABLE attempts ADD COLUMN attack INTEGER CHECK (attack IN (0, 1));
CREATE INDEX attempts_attack_kiosk ON attempts (kiosk_id, recorded_at)
    WHERE decision = 'fail' AND attack = 1;
CREATE INDEX attempts_open_subject ON attempts (subject_ref) WHERE status = 'incomplete';
ALTER TABLE chain_state ADD COLUMN db_id TEXT;
ALTER TABLE chain_state ADD COLUMN keyed_from INTEGER;
ALTER TABLE chain_state ADD COLUMN head_mac TEXT;
CREATE TRIGGER chain_state_keyed_once BEFORE UPDATE ON chain_state
WHEN OLD.keyed_from IS NOT NULL AND NEW.keyed_from IS NOT OLD.keyed_from
BEGIN SELECT RAISE(ABORT, 'the audit chain stays keyed'); END;
CREATE TRIGGER attempts_attack_once BEFORE UPDATE OF attack ON attempts
WHEN OLD.attack IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
"""


def _v3(db: Database) -> None:
    """Open attempts carry their owner and a MAC; attempts record whether they suggest an
    attack (the per-kiosk lockout counts those); the chain state gets a database id, the
    first keyed position and the head MAC; operator actions may be clock reports and
    accepted PINs.

    ``attack`` of existing finished attempts (failures whose reason codes suggest an attack)
    is computed once here from their decision and reason codes
    (the row hashes of those rows do not cover it; ``verify`` checks it against the reasons).
    ``meta.unkeyed_until`` records how many chained rows were written before the log could be
    keyed, so the kiosk tells an old log it may adopt from rows written later without its key.
    """
    for statement in _split(_V3_COLUMNS):
        db.execute(statement)
    # The backfill updates chained rows: lift their guard inside this transaction only.
    db.execute("DROP TRIGGER attempts_append_only")
    for attempt_id, decision, reasons in db.execute(
            "SELECT id, decision, reasons FROM attempts WHERE status = 'complete'").fetchall():
        try:
            codes = json.loads(reasons)
        except ValueError:
            codes = []
        db.execute("UPDATE attempts SET attack = ? WHERE id = ?",
                   [int(decision == "fail" and suggests_attack(codes)), attempt_id])
    db.execute(_split(_append_only_triggers("attempts"))[0])
    head = db.execute("SELECT head_seq FROM chain_state WHERE id = 1").fetchone()[0]
    db.execute("UPDATE chain_state SET db_id = ? WHERE id = 1", [secrets.token_hex(16)])
    db.execute("INSERT OR REPLACE INTO meta VALUES ('unkeyed_until', ?)", [str(head)])
    _rebuild_actions(db, _V3_ACTIONS)


_V4_FLEET = """
CREATE TABLE fleet_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    created_at TEXT NOT NULL,
    server_seq INTEGER NOT NULL DEFAULT 0,
    server_hash TEXT,
    acked_at TEXT,
    last_contact TEXT,
    skew_s REAL,
    last_error TEXT
) STRICT;
"""


def _v4(db: Database) -> None:
    """What the fleet server acknowledged (:mod:`kiosk.audit.fleet`): the last chain position
    and hash it holds, the last contact, the clock skew and the last error. Not chained: the
    server itself is the authority on what it holds; this copy serves ``kiosk fleet status``
    offline and the unreachable-server policy across restarts."""
    for statement in _split(_V4_FLEET):
        db.execute(statement)


ATTEMPT_MODES: tuple[str, ...] = ("scripted",)
"""Values of ``attempts.mode`` (schema 5); NULL is a session the kiosk ran with prompts it
drew itself. ``scripted``: ``kiosk verify --script``, an evaluation run whose prompts came at
media times given in advance; it is never a verification and counts toward no lockout."""

_V5_MODE = ("ALTER TABLE attempts ADD COLUMN mode TEXT CHECK (mode IN ("
            + ", ".join(f"'{m}'" for m in ATTEMPT_MODES) + "))")


def _v5(db: Database) -> None:
    """Attempts record how they were run (``mode``, NULL for every earlier row): a scripted
    evaluation run is told apart from a verification. Existing rows keep their content and
    hashes (:data:`kiosk.audit.canonical.OPTIONAL_COLUMNS`); the append-only trigger and the
    open attempt's MAC cover the new column as they cover the others."""
    db.execute(_V5_MODE)


def _v6(db: Database) -> None:
    """Operator actions may record a new log begun in place of a lost one
    (``log_replaced``, :mod:`kiosk.audit.register`)."""
    _rebuild_actions(db, _V6_ACTIONS)


ATTEMPT_VARIANTS: tuple[str, ...] = ("accessible",)
"""Values of ``attempts.variant`` (schema 7); NULL is the standard check. ``accessible``: the
person chose the accessible check (longer windows, its own prompt count, no light step), so
staff reading the row know which check the decision rests on."""

_V7_VARIANT = ("ALTER TABLE attempts ADD COLUMN variant TEXT CHECK (variant IN ("
               + ", ".join(f"'{v}'" for v in ATTEMPT_VARIANTS) + "))")


def _v7(db: Database) -> None:
    """Attempts record which check the person took (``variant``, NULL for every earlier row
    and for the standard check). Like ``mode``, existing rows keep their content and hashes
    (:data:`kiosk.audit.canonical.OPTIONAL_COLUMNS`)."""
    db.execute(_V7_VARIANT)


def _v8(db: Database) -> None:
    """Attempts record the camera (or recording) their frames came from (``camera``: the
    canonical JSON of :func:`kiosk.audit.records.check_camera`, NULL for every earlier row and
    when unknown), so staff investigating an injected stream can see which device served an
    attempt. Like ``mode``, existing rows keep their content and hashes
    (:data:`kiosk.audit.canonical.OPTIONAL_COLUMNS`)."""
    db.execute("ALTER TABLE attempts ADD COLUMN camera TEXT")


def _v9(db: Database) -> None:
    """Operator actions may record a camera the kiosk refused as virtual
    (``camera_refused``): an injected stream tried at the kiosk is evidence staff need, and
    the log line alone is rotated away."""
    _rebuild_actions(db, OPERATOR_ACTIONS)


GUARD_TRIGGERS: tuple[str, ...] = (
    "frames_no_update", "frames_purge_only", "chain_state_forward", "chain_state_keyed_once",
    "attempts_attack_once",
    *(f"{t}_{kind}" for t in CHAINED_TABLES for kind in ("append_only", "purge_only")),
)
"""The guard triggers the schema creates; the kiosk refuses to start when one is missing."""


Migration = Callable[[Database], None]

MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("attempts, frames, lockouts, operator actions, chain state", _v1),
    ("operator actions: override, settings and pin_refused", _v2),
    ("owners of open attempts, attack flag, keyed chain, clock and PIN events", _v3),
    ("fleet state: what the fleet server acknowledged", _v4),
    ("attempts: mode (scripted evaluation runs)", _v5),
    ("operator actions: log_replaced", _v6),
    ("attempts: variant (the accessible check)", _v7),
    ("attempts: camera (the device or recording the frames came from)", _v8),
    ("operator actions: camera_refused", _v9),
)
"""Ordered migrations; migration ``i`` (from 0) brings the schema to version ``i + 1``.
Append new ones at the end; never edit or reorder applied ones."""

SCHEMA_VERSION = len(MIGRATIONS)
