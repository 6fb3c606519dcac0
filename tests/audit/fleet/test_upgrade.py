"""A site upgraded one kiosk at a time: a kiosk whose code is newer than a fleet schema its
role may not upgrade works alone, and ships everything once the owner migrates (real
PostgreSQL)."""

from __future__ import annotations

import time

import psycopg
import pytest

from kiosk.audit import RateLimited
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
    assert "kiosk fleet migrate" in (audit.fleet.sender.schema_error or "")
    assert audit.fleet.sender.last_error is None  # it answers: no outage
    with FleetStore(fleet_url, where="owner") as owner:
        assert owner.migrate() == 1
    assert audit.fleet.sender.flush(10)
    with psycopg.connect(fleet_url) as conn:
        shipped = conn.execute("SELECT count(*) FROM fleet_rows WHERE kiosk_id = 'new' AND "
                               "tbl = 'attempts'").fetchone()
    assert shipped == (3,)


def recorded_error(audit) -> str | None:
    """The fleet error the sender recorded in the local log, waited for up to 15 s."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        state = audit.fleet.outbox.state()
        if state is not None and state.last_error is not None:
            return state.last_error
        time.sleep(0.05)
    return None


def test_a_server_migrated_ahead_of_a_kiosk_is_still_read_for_lockouts(open_kiosk, clock,
                                                                      fleet_url):
    """The owner migrated the server for kiosks already upgraded; this one is not yet. The
    server answers, so the refuse policy does not take the kiosk out of service for silence
    (before: after refuse_after_min it refused everyone, "has not answered"), and a person
    locked out at another kiosk stays locked out here (before: its own counts only)."""
    from tests.audit.fleet.test_shared_lockouts import fail

    west = open_kiosk("west")
    for _ in range(5):
        fail(west, clock, "D-7")
    with psycopg.connect(fleet_url, autocommit=True) as conn:  # a newer kiosk's migration
        conn.execute("INSERT INTO fleet_schema (version, description) VALUES (%s, 'next')",
                     [SCHEMA_VERSION + 1])
    east = open_kiosk("east", unreachable_policy="refuse", refuse_after_min=1.0,
                      retry_max_s=1)
    assert "newer than this kiosk's" in (recorded_error(east) or "")
    clock.advance(minutes=5)  # past refuse_after_min, within the 30 min lockout
    ref = east.subject_ref("D-7")
    other = east.subject_ref("OK-1")
    opened = east.open_attempt(started_at=clock.now, subject_ref=other, app_version="0.1.0",
                               settings_digest="ab" * 32)
    east.finish_attempt(opened, make_record(clock, kiosk_id="east", subject_ref=other))
    with pytest.raises(RateLimited) as refused:
        east.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                          settings_digest="ab" * 32)
    assert refused.value.scope == "subject" and refused.value.lockout.kiosk_id == "west"
    assert east.fleet.sender.last_error is None and not east.fleet.sender.flush(1)
