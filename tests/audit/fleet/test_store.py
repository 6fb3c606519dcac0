"""The fleet server's store: migrations, idempotent shipping, the continuity guard, least
privilege, and the comparison of ``verify --fleet`` (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from kiosk.audit.fleet import FleetConflict, FleetSchemaError, FleetStore, FleetUnavailable
from kiosk.audit.fleet.compare import compare_with_server
from kiosk.audit.fleet.pgschema import PURGER_ROLE, SCHEMA_VERSION, WRITER_ROLE
from kiosk.audit.outbox import LocalHead, ShippedRow

T = datetime(2026, 5, 1, 12, tzinfo=UTC)


def chain(n: int, *, start: int = 1, prev: str = "0" * 64) -> list[ShippedRow]:
    rows = []
    for seq in range(start, start + n):
        digest = f"{seq:064x}"
        rows.append(ShippedRow(seq=seq, table="attempts", row_id=seq, prev_hash=prev,
                               row_hash=digest, content=f'{{"decision":"pass","seq":{seq}}}',
                               at=T, decision="pass", reasons=()))
        prev = digest
    return rows


@pytest.fixture
def store(fleet_url: str):
    with FleetStore(fleet_url, where="test") as opened:
        assert opened.migrate() == 0
        yield opened


def ship(store: FleetStore, rows, kiosk="east", db="db-1"):
    return store.ship(kiosk, db, rows, subject_key_id="k1", kiosk_time=T)


def test_migrations_are_versioned_and_applied_once(fleet_url):
    with FleetStore(fleet_url, where="test") as store:
        assert store.schema_version() == 0
        assert store.migrate() == 0
        assert store.migrate() == SCHEMA_VERSION
        assert store.schema_version() == SCHEMA_VERSION
        versions = store.query("SELECT version FROM fleet_schema ORDER BY version")
    assert [v for (v,) in versions] == list(range(1, SCHEMA_VERSION + 1))


def test_a_newer_server_schema_is_refused(store):
    store.query("INSERT INTO fleet_schema (version, description) VALUES (99, 'future') "
                "RETURNING version")
    with pytest.raises(FleetSchemaError, match="newer than this kiosk"):
        store.migrate()


def test_a_resent_batch_is_stored_once(store):
    rows = chain(10)
    assert ship(store, rows[:6]) == (6, rows[5].row_hash)
    assert ship(store, rows[:6]) == (6, rows[5].row_hash)  # the acknowledgement was lost
    assert ship(store, rows[3:]) == (10, rows[9].row_hash)  # overlapping: the rest only
    seqs = store.query("SELECT seq FROM fleet_rows WHERE kiosk_id = 'east' ORDER BY seq")
    assert [s for (s,) in seqs] == list(range(1, 11))
    batches = store.query("SELECT first_seq, last_seq FROM fleet_batches ORDER BY id")
    assert batches == [(1, 6), (7, 10)]


def test_a_changed_row_sent_again_is_a_conflict(store):
    rows = chain(4)
    ship(store, rows)
    changed = [*rows[:2], ShippedRow(**{**rows[2].__dict__, "row_hash": "f" * 64}), rows[3]]
    with pytest.raises(FleetConflict) as caught:
        ship(store, changed)
    assert caught.value.seq == 3


def test_a_gap_is_refused_by_the_store_and_by_the_server(store, fleet_url):
    rows = chain(6)
    ship(store, rows[:2])
    with pytest.raises(FleetConflict, match="does not continue"):
        ship(store, rows[3:])
    # the server's own trigger refuses a gap even from a client that skips the checks
    with psycopg.connect(fleet_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO fleet_rows (kiosk_id, seq, tbl, row_id, prev_hash, "
                     "row_hash, content, at) VALUES ('east', 5, 'attempts', 5, %s, %s, '{}', "
                     "now())", [rows[3].row_hash, rows[4].row_hash])


def test_another_database_under_the_same_kiosk_id_is_a_conflict(store):
    ship(store, chain(3))
    with pytest.raises(FleetConflict, match="another audit database"):
        ship(store, chain(3), db="db-2")


def test_one_database_cannot_ship_under_two_kiosk_ids(store):
    ship(store, chain(3))
    with pytest.raises(FleetConflict, match="already ships as kiosk 'east'"):
        ship(store, chain(3), kiosk="west")


def test_a_kiosk_may_join_with_a_purged_log(store):
    rows = chain(5, start=41, prev="a" * 64)
    assert ship(store, rows) == (45, rows[-1].row_hash)
    assert store.registration("east").first_seq == 41


def test_rows_are_append_only_even_for_the_owner(store, fleet_url):
    ship(store, chain(2))
    with psycopg.connect(fleet_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE fleet_rows SET decision = 'fail' WHERE seq = 1")


def test_the_kiosk_role_inserts_and_reads_but_never_updates_or_deletes(store, fleet_url,
                                                                        pg_cluster):
    with psycopg.connect(fleet_url, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS kiosk_east; CREATE ROLE kiosk_east LOGIN IN ROLE "
                     f"{WRITER_ROLE}")
        conn.execute(f"DROP ROLE IF EXISTS staff_purge; CREATE ROLE staff_purge LOGIN IN ROLE "
                     f"{PURGER_ROLE}")
    dbname = fleet_url.split("///")[1].split("?")[0]
    as_kiosk = pg_cluster.url(dbname, user="kiosk_east")
    with FleetStore(as_kiosk, where="test") as kiosk:
        assert kiosk.migrate() == SCHEMA_VERSION  # nothing to do, and it may not anyway
        rows = chain(3)
        assert ship(kiosk, rows) == (3, rows[-1].row_hash)
        assert kiosk.head("east") == (3, rows[-1].row_hash)
    with psycopg.connect(as_kiosk) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM fleet_rows")
    with psycopg.connect(as_kiosk) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE fleet_kiosks SET db_id = 'x'")
    with psycopg.connect(pg_cluster.url(dbname, user="staff_purge")) as conn:
        conn.execute("DELETE FROM fleet_rows WHERE seq < 3")
    with FleetStore(as_kiosk, where="test") as kiosk:
        more = chain(2, start=4, prev=rows[-1].row_hash)
        assert ship(kiosk, more) == (5, more[-1].row_hash)  # the chain goes on after a purge


def test_a_role_that_may_not_create_the_schema_gets_a_plain_error(fleet_url, pg_cluster):
    with psycopg.connect(fleet_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS reader; CREATE ROLE reader LOGIN")
    dbname = fleet_url.split("///")[1].split("?")[0]
    with FleetStore(pg_cluster.url(dbname, user="reader"), where="test") as store, \
            pytest.raises(FleetSchemaError, match="kiosk fleet migrate"):
        store.migrate()


def test_an_absent_server_is_unavailable_quickly(tmp_path):
    url = f"postgresql:///x?host={tmp_path}&port=5999"
    with FleetStore(url, where="nowhere", connect_timeout_s=2) as store, \
            pytest.raises(FleetUnavailable, match="nowhere"):
        store.head("east")


def test_the_comparison_names_the_first_row_that_differs(store):
    rows = chain(8)
    ship(store, rows)
    head = LocalHead("db-1", 9, "x", 0, "0" * 64)
    local = [*rows[:4], ShippedRow(**{**rows[4].__dict__,
                                      "content": '{"decision":"fail","seq":5}'}), *rows[5:]]
    result = compare_with_server(store, "east", head, lambda a, b: [r for r in local
                                                                    if a <= r.seq <= b])
    assert not result.ok and result.seq == 5 and result.compared == 4
    assert result.first_difference == "seq 5 (attempts id 5): decision differ from the " \
        "server's copy"
    assert result.unshipped == 1
    truncated = LocalHead("db-1", 6, rows[5].row_hash, 0, "0" * 64)
    result = compare_with_server(store, "east", truncated, lambda a, b: [r for r in rows
                                                                         if a <= r.seq <= b])
    assert not result.ok and result.seq == 7 and "ends at seq 6" in result.first_difference
    same = compare_with_server(store, "east", LocalHead("db-1", 8, "x", 0, "0" * 64),
                               lambda a, b: [r for r in rows if a <= r.seq <= b])
    assert same.ok and same.compared == 8
    other = compare_with_server(store, "east", LocalHead("db-2", 8, "x", 0, "0" * 64),
                                lambda a, b: rows)
    assert not other.ok and "database id differs" in other.first_difference
