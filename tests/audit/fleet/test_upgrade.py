"""A site upgraded one kiosk at a time: a kiosk whose code is newer than a fleet schema its
role may not upgrade works alone, and ships everything once the owner migrates (real
PostgreSQL)."""

from __future__ import annotations

import psycopg

from kiosk.audit.fleet import FleetStore
from kiosk.audit.fleet.pgschema import MIGRATIONS, SCHEMA_VERSION, WRITER_ROLE
from tests.audit.conftest import make_record


def test_a_kiosk_ahead_of_the_schema_works_alone_until_the_owner_migrates(
        open_kiosk, clock, fleet_url, pg_cluster) -> None:
    assert SCHEMA_VERSION >= 2  # the schema this kiosk needs adds to the first one
    with psycopg.connect(fleet_url, autocommit=True) as conn:  # the server as version 1 left it
        conn.execute("CREATE TABLE fleet_schema (version integer PRIMARY KEY, description text "
                     "NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for statement in MIGRATIONS[0][1]:
            conn.execute(statement)
        conn.execute("INSERT INTO fleet_schema (version, description) VALUES (1, 'v1')")
        conn.execute("GRANT SELECT ON fleet_schema TO " + WRITER_ROLE)
        # The kiosk's role is named as its kiosk id (row-level security, fleet schema 3).
        conn.execute(f'DROP ROLE IF EXISTS "new"; CREATE ROLE "new" LOGIN IN ROLE '
                     f"{WRITER_ROLE}")
    dbname = fleet_url.split("///")[1].split("?")[0]
    audit = open_kiosk("new", url=pg_cluster.url(dbname, user="new"), retry_max_s=1)
    ref = audit.subject_ref("U-1")
    for _ in range(3):  # sessions go on with this kiosk's own counts, and no crash
        opened = audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                    settings_digest="ab" * 32)
        clock.advance(seconds=10)
        audit.finish_attempt(opened, make_record(clock, decision="fail", subject_ref=ref,
                                                 kiosk_id="new"))
    assert audit.fleet is not None and not audit.fleet.sender.flush(2)
    assert "kiosk fleet migrate" in (audit.fleet.sender.last_error or "")
    with FleetStore(fleet_url, where="owner") as owner:
        assert owner.migrate() == 1
    assert audit.fleet.sender.flush(10)
    with psycopg.connect(fleet_url) as conn:
        shipped = conn.execute("SELECT count(*) FROM fleet_rows WHERE kiosk_id = 'new' AND "
                               "tbl = 'attempts'").fetchone()
    assert shipped == (3,)
