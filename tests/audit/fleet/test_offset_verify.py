"""``kiosk audit verify --fleet`` and the rows' clock offsets (real PostgreSQL; the site's time
stands for the server's clock).

``fleet_rows.clock_offset_s`` is no part of a row's hashed content. Before, the owner could
move every time a kiosk shipped on every other kiosk's clock (a lockout ending half an hour
early everywhere else) and the fleet's verification still said OK.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from kiosk.audit import AuditLog
from kiosk.audit.fleet import FleetStore
from tests.audit.fleet.conftest import kiosk_settings
from tests.audit.fleet.skewed import KioskClock, relink, since_start
from tests.audit.fleet.test_clock_skew import lock_out, try_
from tests.audit.fleet.test_clock_skew_staff import server_at_schema_3
from tests.audit.fleet.test_shared_lockouts import staff

FIELDS = ("kiosk_id, seq, tbl, row_id, prev_hash, row_hash, content, at, subject_ref, "
          "decision, attack, reasons, scope, target, until, action, failures, mode")


def ship_a_trail(audit: AuditLog, slow: KioskClock, settings) -> None:
    """Sessions under a clock 45 minutes slow, shipped one batch each; then three waiting
    offline across the clock being put right (the log records the jump between them), shipped
    in one batch; then a lockout."""
    for _ in range(2):
        try_(audit, slow, "P-1")
        assert audit.fleet is not None and audit.fleet.sender.flush(10)
    relink(audit, settings, slow.site, slow, since_start(slow.site))  # not shipping
    try_(audit, slow, "P-2")
    slow.advance(minutes=1)
    slow.error = timedelta(0)  # NTP puts the clock right while the server is out of reach
    try_(audit, slow, "P-3")
    try_(audit, slow, "P-4")
    assert [a.details["kind"] for a in audit.operator_actions(action="clock")] == ["jump"]
    audit.start_fleet()
    assert audit.fleet is not None and audit.fleet.sender.flush(10)
    lock_out(audit, slow, "S-1")


def verify(audit: AuditLog, fleet_url: str, site_key) -> tuple[int, str]:
    db = audit.path
    audit.close()
    return staff(["audit", "verify", "--fleet", "--db", db], fleet_url, site_key, "east")


def tamper(fleet_url: str, where: str, change: str = "clock_offset_s - 1800") -> None:
    """As the owner would: the append-only trigger off, ``clock_offset_s`` rewritten."""
    with psycopg.connect(fleet_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE fleet_rows DISABLE TRIGGER fleet_rows_no_update")
        changed = conn.execute(f"UPDATE fleet_rows SET clock_offset_s = {change} "
                               f"WHERE kiosk_id = 'east' AND {where}").rowcount
        conn.execute("ALTER TABLE fleet_rows ENABLE TRIGGER fleet_rows_no_update")
    assert changed


@pytest.fixture
def east_settings(tmp_path, fleet_url, site_key):
    return kiosk_settings(tmp_path, "east", fleet_url, site_key)


@pytest.fixture
def east(open_kiosk, clock, east_settings):
    """East, whose clock was 45 minutes slow until NTP put it right, and its shipped rows."""
    slow = KioskClock(clock, timedelta(minutes=-45))
    audit = open_kiosk("east", kiosk_clock=slow, monotonic=since_start(clock))
    ship_a_trail(audit, slow, east_settings)
    return audit


def offsets(fleet_url: str) -> list[tuple[int, str, float | None]]:
    with psycopg.connect(fleet_url) as conn:
        return conn.execute("SELECT seq, tbl, clock_offset_s FROM fleet_rows WHERE kiosk_id = "
                            "'east' ORDER BY seq").fetchall()


def test_an_untampered_trail_across_a_clock_correction_verifies(east, fleet_url, site_key):
    shipped = offsets(fleet_url)
    assert {round(o or 0) for _, _, o in shipped} == {0, 2700}  # both clocks, as shipped
    state = east.fleet_state()
    assert state is not None and state.shipped_offset is not None
    assert state.shipped_offset.seq == shipped[-1][0]
    status, text = verify(east, fleet_url, site_key)
    assert status == 0, text
    assert f"fleet copy OK: {len(shipped)} row(s) of kiosk 'east' match" in text


def test_a_lockout_moved_half_an_hour_earlier_is_reported(east, fleet_url, site_key):
    (lockout,) = [seq for seq, table, _ in offsets(fleet_url) if table == "lockouts"]
    tamper(fleet_url, f"seq = {lockout}")
    status, text = verify(east, fleet_url, site_key)
    assert status == 1, text
    assert f"fleet copy DIFFERS at seq {lockout} (lockouts id 1): the server's clock_offset_s " \
           "is -1800.000 s off the rows shipped with it" in text
    assert "changed on the server: every kiosk reads the row's times through it" in text


def test_a_batch_moved_on_the_server_is_reported(east, fleet_url, site_key):
    """The rows of one batch moved together still differ from the batch before them."""
    with psycopg.connect(fleet_url) as conn:
        first, last = conn.execute("SELECT first_seq, last_seq FROM fleet_batches WHERE "
                                   "kiosk_id = 'east' ORDER BY id OFFSET 2 LIMIT 1").fetchone()
    assert last > first  # the rows shipped across the correction of the clock
    tamper(fleet_url, f"seq BETWEEN {first} AND {last}", "clock_offset_s + 600")
    status, text = verify(east, fleet_url, site_key)
    assert status == 1, text
    assert f"DIFFERS at seq {first} " in text
    assert "is +600.0 s off the rows shipped before it, more than the clock changes this log " \
           "recorded between them explain" in text


def test_every_offset_of_a_kiosk_moved_together_is_reported(east, fleet_url, site_key):
    """Against one another they still agree; the offset the kiosk kept does not."""
    tamper(fleet_url, "true")
    newest = offsets(fleet_url)[-1][0]
    status, text = verify(east, fleet_url, site_key)
    assert status == 1, text
    assert f"DIFFERS at seq {newest} " in text
    assert "is -1800.0 s off the one this kiosk shipped it with (kept in its log)" in text


def test_an_offset_removed_is_reported(east, fleet_url, site_key):
    """A row without an offset reads as recorded: as though shipped before fleet schema 4,
    which only the rows before the first offset can be."""
    seq = offsets(fleet_url)[3][0]
    tamper(fleet_url, f"seq = {seq}", "NULL")
    status, text = verify(east, fleet_url, site_key)
    assert status == 1, text
    assert f"DIFFERS at seq {seq} " in text
    assert f"the server has no clock_offset_s for it but has one for seq {seq - 1} before " \
           "it" in text


def ship_as_schema_3(audit: AuditLog, fleet_url: str) -> None:
    """The rows ``audit`` holds, shipped in one batch as a kiosk of fleet schema 3 did (no
    offset column)."""
    head = audit.chain_head()
    rows = audit.chained_rows(1, head.head_seq)
    with psycopg.connect(fleet_url, autocommit=True) as conn:
        conn.execute("INSERT INTO fleet_kiosks (kiosk_id, db_id, subject_key_id, first_seq, "
                     "first_prev_hash) VALUES ('east', %s, NULL, 1, %s)",
                     [head.db_id, rows[0].prev_hash])
        for r in rows:
            conn.execute(f"INSERT INTO fleet_rows ({FIELDS}) VALUES ('east', %s, %s, %s, %s, "
                         "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         [r.seq, r.table, r.row_id, r.prev_hash, r.row_hash, r.content, r.at,
                          r.subject_ref, r.decision, r.attack,
                          Jsonb(list(r.reasons or ())), r.scope, r.target,
                          r.until, r.action, r.failures, r.mode])
        conn.execute("INSERT INTO fleet_batches (kiosk_id, db_id, first_seq, last_seq, "
                     "head_hash, kiosk_time) VALUES ('east', %s, 1, %s, %s, now())",
                     [head.db_id, rows[-1].seq, rows[-1].row_hash])


def test_a_kiosk_upgraded_from_fleet_schema_3_verifies_and_its_new_offsets_are_held(
        open_kiosk, clock, fleet_url, site_key, east_settings):
    """Its rows shipped before the server's schema 4 carry no offset and verify with the rows
    after, which do; an offset given to one of the older rows later is reported."""
    server_at_schema_3(fleet_url)
    slow = KioskClock(clock, timedelta(minutes=-45))
    east = open_kiosk("east", kiosk_clock=slow, monotonic=since_start(clock), start=False)
    for _ in range(3):
        try_(east, slow, "P-1")
    ship_as_schema_3(east, fleet_url)
    with FleetStore(fleet_url, where="owner") as owner:
        assert owner.migrate() == 3
    east.start_fleet()
    ship_a_trail(east, slow, east_settings)
    shipped = offsets(fleet_url)
    assert [o for _, _, o in shipped[:3]] == [None] * 3 and None not in shipped[3]
    db = east.path
    status, text = verify(east, fleet_url, site_key)
    assert status == 0, text
    tamper(fleet_url, "seq = 2", "3600")
    status, text = staff(["audit", "verify", "--fleet", "--db", db], fleet_url, site_key,
                         "east")
    assert status == 1, text
    assert "DIFFERS at seq 2 " in text and "has a clock_offset_s for it but none for seq 1" in text
