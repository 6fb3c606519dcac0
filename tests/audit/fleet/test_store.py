"""The fleet server's store: migrations, idempotent shipping, the continuity guard, least
privilege, row-level security, the pool across a server restart, and the comparison of
``verify --fleet`` (real PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from kiosk.audit.fleet import (
    FleetConflict,
    FleetRefused,
    FleetSchemaError,
    FleetStore,
    FleetUnavailable,
)
from kiosk.audit.fleet.compare import compare_with_server
from kiosk.audit.fleet.lookup import remote_view
from kiosk.audit.fleet.pgschema import PURGER_ROLE, SCHEMA_VERSION, WRITER_ROLE
from kiosk.audit.outbox import LocalHead, ShippedRow
from kiosk.lab.pgcluster import PgCluster
from tests.audit.fleet.conftest import new_database

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


def login(fleet_url: str, pg_cluster, role: str, group: str) -> str:
    """The URL of ``fleet_url``'s database for a new login role in ``group``."""
    with psycopg.connect(fleet_url, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{role}"; CREATE ROLE "{role}" LOGIN IN ROLE {group}')
    return pg_cluster.url(fleet_url.split("///")[1].split("?")[0], user=role)


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
    as_kiosk = login(fleet_url, pg_cluster, "east", WRITER_ROLE)  # named as its kiosk id
    as_staff = login(fleet_url, pg_cluster, "staff_purge", PURGER_ROLE)
    with FleetStore(as_kiosk, where="test") as kiosk:
        assert kiosk.migrate() == SCHEMA_VERSION  # nothing to do, and it may not anyway
        rows = chain(3)
        assert ship(kiosk, rows) == (3, rows[-1].row_hash)
        assert kiosk.head("east") == (3, rows[-1].row_hash)
    with psycopg.connect(as_kiosk) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM fleet_rows")
    with psycopg.connect(as_kiosk) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE fleet_kiosks SET db_id = 'x'")
    with psycopg.connect(as_staff) as conn:
        conn.execute("DELETE FROM fleet_rows WHERE seq < 3")
    with FleetStore(as_kiosk, where="test") as kiosk:
        more = chain(2, start=4, prev=rows[-1].row_hash)
        assert ship(kiosk, more) == (5, more[-1].row_hash)  # the chain goes on after a purge


def test_a_kiosk_role_writes_only_under_its_own_kiosk_id(store, fleet_url, pg_cluster):
    """Before schema 3 any writer could record an unlock under any kiosk id, even a made-up
    one, and every kiosk honoured it."""
    rows = chain(2)
    with FleetStore(login(fleet_url, pg_cluster, "east", WRITER_ROLE), where="test") as east:
        ship(east, rows)
    as_west = login(fleet_url, pg_cluster, "west", WRITER_ROLE)
    unlock = ("INSERT INTO fleet_rows (kiosk_id, seq, tbl, row_id, prev_hash, row_hash, "
              "content, at, scope, target, action) VALUES (%s, %s, 'operator_actions', 1, %s, "
              "'f', '{}', now(), 'subject', 'someone', 'unlock')")
    forgeries = [
        ("INSERT INTO fleet_kiosks (kiosk_id, db_id, first_seq, first_prev_hash) VALUES "
         "('ghost', 'x', 1, 'x')", []),
        (unlock, ["east", 3, rows[-1].row_hash]),  # continues east's chain: only RLS refuses
        ("INSERT INTO fleet_batches (kiosk_id, db_id, first_seq, last_seq, head_hash, "
         "kiosk_time) VALUES ('east', 'db-1', 3, 3, 'f', now())", []),
    ]
    for sql, params in forgeries:
        with psycopg.connect(as_west) as conn, \
                pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(sql, params)
    with FleetStore(as_west, where="test") as west:
        with pytest.raises(FleetRefused, match="the server refused rows for kiosk 'east' from "
                           "role 'west': name each kiosk's role after its kiosk id"):
            ship(west, chain(1, start=3, prev=rows[-1].row_hash))
        assert west.refusal("east") is not None and west.refusal("west") is None
        assert west.head("east") == (2, rows[-1].row_hash)  # reading stays open
    assert store.refusal("east") is None  # the owner is not bound by the policies
    ship(store, chain(1, start=3, prev=rows[-1].row_hash))


def test_a_role_that_may_not_create_the_schema_gets_a_plain_error(fleet_url, pg_cluster):
    with psycopg.connect(fleet_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS reader; CREATE ROLE reader LOGIN")
    dbname = fleet_url.split("///")[1].split("?")[0]
    with FleetStore(pg_cluster.url(dbname, user="reader"), where="test") as store, \
            pytest.raises(FleetSchemaError, match="kiosk fleet migrate"):
        store.migrate()


def test_an_older_kiosk_is_told_to_upgrade_not_to_migrate(store):
    store.query("INSERT INTO fleet_schema (version, description) VALUES (99, 'future') "
                "RETURNING version")
    with pytest.raises(FleetSchemaError) as refused:
        store.check_schema()
    assert "upgrade the kiosk" in str(refused.value)
    assert "migrate" not in str(refused.value)


def test_times_are_read_in_utc_whatever_the_servers_time_zone(fleet_url):
    with psycopg.connect(fleet_url, autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f"ALTER DATABASE {name} SET timezone = 'America/New_York'")
    with FleetStore(fleet_url, where="test") as store:
        ((now,),) = store.query("SELECT now()")
    assert now.utcoffset() == timedelta(0)


def test_the_first_check_after_a_server_restart_gets_an_answer_in_time():
    """Before, the pool's dead connections cost the lockout check its whole 0.5 s, and the
    kiosk decided on its own counts alone."""
    with PgCluster() as cluster:
        url = new_database(cluster)
        with FleetStore(url, where="test") as store:
            store.migrate()
            busy = [threading.Thread(target=lambda: store.query("SELECT pg_sleep(0.3)"))
                    for _ in range(2)]
            for thread in busy:
                thread.start()
            for thread in busy:
                thread.join()  # the pool now holds two connections ...
            cluster.stop()
            cluster.start()  # ... which the restart killed
            for _ in range(3):
                t0 = time.monotonic()
                remote_view(store, "east", "someone", T, db_id=None, timeout=0.5)
                assert time.monotonic() - t0 < 0.5


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


def test_the_comparison_catches_columns_rewritten_on_the_server(store, fleet_url):
    """The owner can switch the append-only trigger off; a failure rewritten as a scripted
    run locks nobody out, while content and hashes still match."""
    rows = [ShippedRow(**{**r.__dict__, "decision": "fail"}) for r in chain(3)]
    ship(store, rows)
    with psycopg.connect(fleet_url) as conn:
        conn.execute("ALTER TABLE fleet_rows DISABLE TRIGGER fleet_rows_no_update")
        conn.execute("UPDATE fleet_rows SET mode = 'scripted', decision = 'pass' WHERE seq = 2")
        conn.execute("ALTER TABLE fleet_rows ENABLE TRIGGER fleet_rows_no_update")
    result = compare_with_server(store, "east", LocalHead("db-1", 3, "x", 0, "0" * 64),
                                 lambda a, b: [r for r in rows if a <= r.seq <= b])
    assert not result.ok and result.seq == 2 and result.compared == 1
    assert result.first_difference == (
        "seq 2 (attempts id 2): the server's decision, mode column(s) differ from the row's "
        "content (changed on the server: the lockout check and the fleet's views read them)")
