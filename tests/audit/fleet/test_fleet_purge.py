"""``kiosk fleet purge``: the fleet server's copy kept as long as the kiosks' own logs, not for
good (privacy audit, F3c), without reviving a lockout or ending a kiosk's chain (real
PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from kiosk.audit.fleet import FleetStore
from kiosk.audit.fleet.pgschema import PURGER_ROLE, WRITER_ROLE
from kiosk.audit.fleet.purge import purge_server
from kiosk.audit.timeutil import utc_now
from tests.audit.fleet.test_shared_lockouts import fail, staff
from tests.audit.fleet.test_store import login

ROW = ("INSERT INTO fleet_rows (kiosk_id, seq, tbl, row_id, prev_hash, row_hash, content, at, "
       "scope, target, until, action) VALUES ('k', %s, %s, %s, %s, %s, '{}', "
       "now() - %s, %s, %s, now() + %s, %s)")


def seqs(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [s for (s,) in conn.execute("SELECT seq FROM fleet_rows WHERE kiosk_id = 'k' "
                                           "ORDER BY seq")]


def test_a_lockout_in_force_its_unlock_and_the_newest_row_stay(fleet_url):
    with FleetStore(fleet_url, where="test") as store:
        store.migrate()
        with psycopg.connect(fleet_url) as conn:
            conn.execute("INSERT INTO fleet_kiosks (kiosk_id, db_id, first_seq, "
                         "first_prev_hash) VALUES ('k', 'db', 1, 'p')")
            old, day = timedelta(days=60), timedelta(days=1)
            for seq, table, scope, target, until, action in [
                    (1, "lockouts", "subject", "T", day, None),      # in force for a day more
                    (2, "operator_actions", "subject", "T", day, "unlock"),  # lifts it
                    (3, "lockouts", "subject", "U", -old, None),     # ended long ago
                    (4, "operator_actions", "subject", "U", day, "unlock"),
                    (5, "attempts", None, None, day, None),
                    (6, "attempts", None, None, day, None)]:         # the newest: its age
                prev = "p" if seq == 1 else f"h{seq - 1}"  # each row continues the chain
                conn.execute(ROW, [seq, table, seq, prev, f"h{seq}", old, scope, target, until,
                                   action])
        removed = purge_server(store, timedelta(days=30))
    assert removed == {"lockouts": 1, "operator_actions": 1, "attempts": 1}
    assert seqs(fleet_url) == [1, 2, 6]


def test_staff_purge_the_fleets_copy_by_age_and_kiosks_cannot(open_kiosk, clock, fleet_url,
                                                              pg_cluster, site_key):
    clock.now = utc_now() - timedelta(days=40)
    east = open_kiosk("east")
    for _ in range(2):
        fail(east, clock, "D-1")
    clock.now = utc_now() - timedelta(hours=1)
    fail(east, clock, "D-2")  # recent: stays
    # The kiosk's own role may not delete: it is refused, naming the server's reason.
    as_kiosk = login(fleet_url, pg_cluster, "east", WRITER_ROLE)
    status, out = staff(["fleet", "purge", "--older-than", "30d", "--url", as_kiosk], None,
                        site_key, "east")
    assert status == 2 and out == ""
    as_staff = login(fleet_url, pg_cluster, "staff_purge", PURGER_ROLE)
    status, out = staff(["fleet", "purge", "--older-than", "30d", "--url", as_staff], None,
                        site_key, "east")
    assert status == 0, out
    assert out.startswith("purged rows older than 30 day(s) from the fleet server ")
    assert ": 2 attempt(s), 0 lockout(s), 0 operator action(s);" in out
    _, listed = staff(["audit", "list", "--fleet"], fleet_url, site_key, "east")
    assert listed.splitlines()[-1] == "1 attempt(s) of the fleet, newest first", listed
    # The kiosk's own copy still verifies against what the server kept.
    status, verified = staff(["audit", "verify", "--fleet", "--db", east.path], fleet_url,
                             site_key, "east")
    assert status == 0, verified


@pytest.mark.parametrize("age", ["12h", "23h"])
def test_a_fleet_purge_keeps_at_least_a_day(age, site_key, fleet_url):
    status, out = staff(["fleet", "purge", "--older-than", age], fleet_url, site_key, "east")
    assert status == 2 and out == ""
