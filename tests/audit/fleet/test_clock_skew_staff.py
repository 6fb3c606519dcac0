"""What staff see of the kiosks' clocks: a skew beyond the bound is warned about, the fleet's
lists put rows in the order they arrived, the lockouts are judged on the server's clock, and
the rows' clock offsets come with fleet schema 4 without breaking a rolling upgrade (real
PostgreSQL; the site's time stands for the server's clock)."""

from __future__ import annotations

import logging
from datetime import timedelta

import psycopg
import pytest

from kiosk.audit import RateLimited
from kiosk.audit.fleet import FleetStore
from kiosk.audit.fleet.pgschema import MIGRATIONS, SCHEMA_VERSION, WRITER_ROLE
from kiosk.audit.fleet.status import fleet_status
from kiosk.audit.fleet.views import fleet_attempts, fleet_lockouts
from tests.audit.fleet.skewed import KioskClock
from tests.audit.fleet.test_clock_skew import lock_out, try_


def test_a_clock_far_off_the_servers_is_warned_about(open_kiosk, clock, fleet_url, caplog):
    """Before, a skew of 45 minutes was measured and kept, and nothing said so."""
    from kiosk.audit.fleet.skew import SKEW_BOUND

    ahead = KioskClock(clock, timedelta(minutes=45))
    audit = open_kiosk("k", kiosk_clock=ahead)
    with caplog.at_level(logging.WARNING, logger="kiosk.audit.fleet"):
        try_(audit, ahead, "P-1")
        assert audit.fleet is not None and audit.fleet.sender.flush(10)
    warned = [r.getMessage() for r in caplog.records if "clock is" in r.getMessage()]
    assert len(warned) == 1, warned
    assert "this kiosk's clock is 45.0 min ahead of the fleet server's" in warned[0]
    assert f"more than the {SKEW_BOUND.total_seconds() / 60:g} min" in warned[0]
    assert audit.fleet.clock_warning is not None
    assert audit.fleet_state().skew_s == pytest.approx(-2700.0)
    with FleetStore(fleet_url, where="test", server_clock=clock) as store:
        status = fleet_status(store, kiosk_id="k", head=audit.chain_head(),
                              state=audit.fleet_state(), clock=ahead)
    assert status.clock_skew_s == pytest.approx(-2700.0)
    assert status.clock_warning is not None and "45.0 min ahead" in status.clock_warning
    assert status.as_dict()["clock_warning"] == status.clock_warning


def test_a_clock_within_the_bound_is_not_warned_about(open_kiosk, clock, fleet_url, caplog):
    from kiosk.audit.fleet.skew import SKEW_BOUND

    near = KioskClock(clock, SKEW_BOUND - timedelta(seconds=1))
    audit = open_kiosk("k", kiosk_clock=near)
    with caplog.at_level(logging.WARNING, logger="kiosk.audit.fleet"):
        try_(audit, near, "P-1")
        assert audit.fleet is not None and audit.fleet.sender.flush(10)
    assert not [r for r in caplog.records if "clock is" in r.getMessage()]
    assert audit.fleet.clock_warning is None


def test_the_fleets_list_puts_a_slow_kiosks_rows_where_they_arrived(open_kiosk, clock):
    """Before, the list went by the recorded times: the newest rows of a kiosk an hour slow
    fell below the first page."""
    right, slow = KioskClock(clock), KioskClock(clock, timedelta(hours=-1))
    a, b = open_kiosk("a", kiosk_clock=right), open_kiosk("b", kiosk_clock=slow)
    for _ in range(3):
        try_(a, right, "P-1")
    assert a.fleet is not None and a.fleet.sender.flush(10)
    for _ in range(2):
        try_(b, slow, "P-2")
    assert b.fleet is not None and b.fleet.sender.flush(10)
    newest = fleet_attempts(a.fleet.store, limit=2)
    assert [x.kiosk_id for x in newest] == ["b", "b"]
    assert newest[0].started_at < newest[0].recorded_at < right.now - timedelta(minutes=59)
    assert [x.kiosk_id for x in fleet_attempts(a.fleet.store, limit=None)] == \
        ["b", "b", "a", "a", "a"]


def test_the_fleets_lockouts_are_judged_on_the_servers_clock(open_kiosk, clock):
    """Staff at a kiosk 45 minutes ahead still see a lockout of a kiosk that is right."""
    right, ahead = KioskClock(clock), KioskClock(clock, timedelta(minutes=45))
    a, b = open_kiosk("a", kiosk_clock=right), open_kiosk("b", kiosk_clock=ahead)
    lockout = lock_out(a, right, "S-1")
    clock.advance(minutes=1)
    assert b.fleet is not None
    (shown,) = fleet_lockouts(b.fleet.store, ahead.now)
    assert shown.kiosk_id == "a" and shown.active(ahead.now)
    assert shown.until == lockout.until + timedelta(minutes=45)  # on the reader's clock
    assert [lk.kiosk_id for lk in b.fleet.lockouts(ahead.now)] == ["a"]


def server_at_schema_3(fleet_url: str) -> None:
    """The server as kiosks of fleet schema 3 left it."""
    with psycopg.connect(fleet_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE fleet_schema (version integer PRIMARY KEY, description text "
                     "NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for version in (1, 2, 3):
            for statement in MIGRATIONS[version - 1][1]:
                conn.execute(statement)
            conn.execute("INSERT INTO fleet_schema (version, description) VALUES (%s, 'v')",
                         [version])
        conn.execute("GRANT SELECT ON fleet_schema TO " + WRITER_ROLE)


def test_an_upgraded_kiosk_reads_a_server_still_at_schema_3_and_ships_once_migrated(
        open_kiosk, clock, fleet_url, pg_cluster):
    """A kiosk upgraded before the server keeps honouring the lockouts the older kiosks ship
    (their times as recorded), and the rows it ships after `kiosk fleet migrate` carry their
    offsets."""
    assert SCHEMA_VERSION == 4
    server_at_schema_3(fleet_url)
    right = KioskClock(clock)
    with psycopg.connect(fleet_url, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "new"; CREATE ROLE "new" LOGIN IN ROLE '
                     f"{WRITER_ROLE}")
    dbname = fleet_url.split("///")[1].split("?")[0]
    new = open_kiosk("new", url=pg_cluster.url(dbname, user="new"), kiosk_clock=right,
                     retry_max_s=1)
    with psycopg.connect(fleet_url, autocommit=True) as conn:  # an older kiosk's lockout
        conn.execute("INSERT INTO fleet_kiosks (kiosk_id, db_id, subject_key_id, first_seq, "
                     "first_prev_hash) VALUES ('old', 'db-old', NULL, 1, %s)", ["0" * 64])
        conn.execute(
            "INSERT INTO fleet_rows (kiosk_id, seq, tbl, row_id, prev_hash, row_hash, content, "
            "at, scope, target, until, failures) VALUES ('old', 1, 'lockouts', 1, %s, %s, "
            "'{}', %s, 'subject', %s, %s, 5)",
            ["0" * 64, "1" * 64, clock.now, new.subject_ref("S-1"),
             clock.now + timedelta(minutes=30)])
    clock.advance(minutes=1)
    with pytest.raises(RateLimited) as refused:
        try_(new, right, "S-1")
    assert refused.value.lockout.kiosk_id == "old"
    assert new.fleet is not None and not new.fleet.sender.flush(1)
    assert "kiosk fleet migrate" in (new.fleet.sender.schema_error or "")
    with FleetStore(fleet_url, where="owner") as owner:
        assert owner.migrate() == 3
    assert new.fleet.sender.flush(10)
    with psycopg.connect(fleet_url) as conn:
        offsets = conn.execute("SELECT kiosk_id, clock_offset_s FROM fleet_rows ORDER BY "
                               "kiosk_id, seq").fetchall()
    assert offsets == [("new", 0.0), ("old", None)]
    with pytest.raises(RateLimited):  # the older row, read as recorded, still counts
        try_(new, right, "S-1")
