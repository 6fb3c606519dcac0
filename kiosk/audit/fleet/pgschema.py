"""The fleet server's schema, versioned in code as an ordered list of migrations.

The same habit as the local log (:mod:`kiosk.audit.schema`): ``fleet_schema`` records each
applied version; each migration runs in its own transaction with its version row, under an
advisory lock, so kiosks that start together apply each migration exactly once. The kiosk
upgrades the schema when its role may (the owner of the database); a kiosk whose role may only
insert and read gets a plain error asking for ``kiosk fleet migrate`` with the owner's URL.

Tables (all append-only for kiosks):

``fleet_kiosks``
    One row per kiosk: its local database id (``db_id``), its subject key id (subjects add
    up across kiosks only under one subject key) and where the server's copy of its chain
    starts.
``fleet_rows``
    Every chained row of every kiosk, keyed by ``(kiosk_id, seq)``: hash, previous hash, the
    hashed content exactly as the kiosk stored it (canonical JSON), and the columns the
    fleet's lockout check and views need. A trigger refuses a row that does not continue the
    chain held for its kiosk, so the server's copy has no gaps. From schema 4,
    ``clock_offset_s``: the server's clock minus the sending kiosk's as it read when the row
    was written (measured by the sender; NULL for rows shipped before, taken as 0), so every
    kiosk reads the row's times on the server's clock (:mod:`kiosk.audit.fleet.skew`).
``fleet_batches``
    Each accepted batch: the kiosk's chain head as it arrived, the kiosk's clock and the
    server's.

Roles (created when the migrating role may create roles; else by the administrator with the
statements in the README): ``kiosk_fleet_writer`` may SELECT and INSERT, never UPDATE or
DELETE; ``kiosk_fleet_purger`` (staff) may also DELETE old rows. Nobody may UPDATE a row: a
trigger refuses it even for the owner. From schema 3, row-level security lets a role other
than the owner insert only rows whose ``kiosk_id`` is its own login name (``current_user``):
each kiosk's role is named as its ``kiosk.kiosk_id``.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "WRITER_ROLE", "PURGER_ROLE"]

WRITER_ROLE = "kiosk_fleet_writer"
PURGER_ROLE = "kiosk_fleet_purger"

SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS fleet_schema (
    version integer PRIMARY KEY,
    description text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

_V1 = (
    """
    CREATE TABLE fleet_kiosks (
        kiosk_id text PRIMARY KEY,
        db_id text NOT NULL,
        subject_key_id text,
        first_seq bigint NOT NULL CHECK (first_seq >= 1),
        first_prev_hash text NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE fleet_rows (
        kiosk_id text NOT NULL REFERENCES fleet_kiosks (kiosk_id),
        seq bigint NOT NULL CHECK (seq >= 1),
        tbl text NOT NULL CHECK (tbl IN ('attempts', 'lockouts', 'operator_actions')),
        row_id bigint NOT NULL,
        prev_hash text NOT NULL,
        row_hash text NOT NULL,
        content text NOT NULL,
        at timestamptz NOT NULL,
        subject_ref text,
        decision text,
        attack boolean,
        reasons jsonb,
        scope text,
        target text,
        until timestamptz,
        action text,
        failures integer,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kiosk_id, seq)
    )
    """,
    "CREATE INDEX fleet_rows_subject_fail ON fleet_rows (subject_ref, at) "
    "WHERE decision = 'fail'",
    "CREATE INDEX fleet_rows_target ON fleet_rows (scope, target, at) "
    "WHERE tbl = 'lockouts' OR action = 'unlock'",
    "CREATE INDEX fleet_rows_attempts ON fleet_rows (at) WHERE tbl = 'attempts'",
    """
    CREATE TABLE fleet_batches (
        id bigserial PRIMARY KEY,
        kiosk_id text NOT NULL REFERENCES fleet_kiosks (kiosk_id),
        db_id text NOT NULL,
        first_seq bigint NOT NULL,
        last_seq bigint NOT NULL,
        head_hash text NOT NULL,
        kiosk_time timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX fleet_batches_kiosk ON fleet_batches (kiosk_id, id)",
    """
    CREATE FUNCTION fleet_rows_continue() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        prev text;
        first_ok boolean;
    BEGIN
        SELECT row_hash INTO prev FROM fleet_rows
            WHERE kiosk_id = NEW.kiosk_id AND seq = NEW.seq - 1;
        IF FOUND THEN
            IF prev IS DISTINCT FROM NEW.prev_hash THEN
                RAISE EXCEPTION 'row %/% does not continue the chain held for its kiosk',
                    NEW.kiosk_id, NEW.seq USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END IF;
        SELECT first_seq = NEW.seq AND first_prev_hash = NEW.prev_hash INTO first_ok
            FROM fleet_kiosks WHERE kiosk_id = NEW.kiosk_id;
        IF first_ok OR EXISTS (SELECT 1 FROM fleet_rows
                               WHERE kiosk_id = NEW.kiosk_id AND seq = NEW.seq) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'row %/% would leave a gap in the chain held for its kiosk',
            NEW.kiosk_id, NEW.seq USING ERRCODE = 'check_violation';
    END $$
    """,
    "CREATE TRIGGER fleet_rows_continue BEFORE INSERT ON fleet_rows "
    "FOR EACH ROW EXECUTE FUNCTION fleet_rows_continue()",
    """
    CREATE FUNCTION fleet_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'fleet rows are append-only' USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    "CREATE TRIGGER fleet_rows_no_update BEFORE UPDATE ON fleet_rows "
    "FOR EACH ROW EXECUTE FUNCTION fleet_no_update()",
    "CREATE TRIGGER fleet_batches_no_update BEFORE UPDATE ON fleet_batches "
    "FOR EACH ROW EXECUTE FUNCTION fleet_no_update()",
    "CREATE TRIGGER fleet_kiosks_no_update BEFORE UPDATE ON fleet_kiosks "
    "FOR EACH ROW EXECUTE FUNCTION fleet_no_update()",
    f"""
    DO $$
    BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER_ROLE}') THEN
            CREATE ROLE {WRITER_ROLE} NOLOGIN;
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{PURGER_ROLE}') THEN
            CREATE ROLE {PURGER_ROLE} NOLOGIN;
        END IF;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'the fleet roles were not created (%): see the README', SQLERRM;
    END $$
    """,
    f"""
    DO $$
    BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER_ROLE}') THEN
            GRANT SELECT, INSERT ON fleet_kiosks, fleet_rows, fleet_batches TO {WRITER_ROLE};
            GRANT SELECT ON fleet_schema TO {WRITER_ROLE};
            GRANT USAGE ON SEQUENCE fleet_batches_id_seq TO {WRITER_ROLE};
        END IF;
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{PURGER_ROLE}') THEN
            GRANT SELECT ON fleet_kiosks, fleet_schema TO {PURGER_ROLE};
            GRANT SELECT, DELETE ON fleet_rows, fleet_batches TO {PURGER_ROLE};
        END IF;
    END $$
    """,
)

_V2 = (
    # NULL for a session a kiosk ran with its own prompts; 'scripted' for an evaluation run
    # (kiosk.audit.schema.ATTEMPT_MODES), which counts toward no lockout at any kiosk.
    "ALTER TABLE fleet_rows ADD COLUMN mode text",
)

# Row-level security: a role other than the owner (a kiosk's, a member of the writer role)
# inserts only rows under the kiosk id that is its own login name, so one kiosk's credentials
# cannot record unlocks or lockouts in another kiosk's (or a made-up kiosk's) name, which
# every kiosk would honour. Reading stays open; the purger still deletes; the owner (and a
# superuser) is not subject to the policies. Table privileges still say who may do what.
_V3 = (
    *(statement for table in ("fleet_kiosks", "fleet_rows", "fleet_batches") for statement in (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_read ON {table} FOR SELECT USING (true)",
        f"CREATE POLICY {table}_own ON {table} FOR INSERT "
        "WITH CHECK (kiosk_id = current_user::text)",
    )),
    *(f"CREATE POLICY {table}_purge ON {table} FOR DELETE USING (true)"
      for table in ("fleet_rows", "fleet_batches")),
    # The fleet's list shows each attempt's latest override (kiosk.audit.fleet.views).
    "CREATE INDEX fleet_rows_override ON fleet_rows (kiosk_id, target, seq) "
    "WHERE action = 'override'",
)

# The kiosks' clocks disagree; the fleet judges every time on the server's. Each row carries
# the offset that puts its times there; "newest first" is the order rows arrived in.
_V4 = (
    "ALTER TABLE fleet_rows ADD COLUMN clock_offset_s double precision",
    "CREATE INDEX fleet_rows_arrival ON fleet_rows (received_at)",
)

MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kiosks, chained rows, batches, append-only and continuity triggers, roles", _V1),
    ("attempts: mode (scripted evaluation runs)", _V2),
    ("row-level security: a kiosk's role inserts only under its own kiosk id; overrides "
     "index", _V3),
    ("rows: the sending kiosk's clock offset to the server; index of arrival", _V4),
)
"""Ordered migrations; migration ``i`` (from 0) brings the schema to version ``i + 1``.
Append new ones at the end; never edit or reorder applied ones."""

SCHEMA_VERSION = len(MIGRATIONS)

MIGRATION_LOCK = 0x4B464C54  # "KFLT": the advisory lock key of migrations
