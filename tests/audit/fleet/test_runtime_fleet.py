"""The kiosk's runtime with a fleet: it starts the sender with the audit log (its rows reach
the server) and its sessions are refused by a lockout recorded at another kiosk."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg

from kiosk.reasons import Reason
from kiosk.session import SessionRequest
from kiosk.vocabulary import Verdict
from tests.audit.fleet.conftest import kiosk_settings
from tests.audit.fleet.test_shared_lockouts import fail
from tests.runtime.test_sessions import Kiosk


def test_the_runtime_ships_its_rows_and_honours_the_fleets_lockouts(tmp_path, site_key,
                                                                     fleet_url, open_kiosk,
                                                                     clock):
    clock.now = datetime.now(UTC) - timedelta(minutes=2)  # the runtime runs on the real clock
    west = open_kiosk("west")
    for _ in range(5):
        fail(west, clock, "D-42")
    settings = kiosk_settings(tmp_path, "east", fleet_url, site_key)
    east = Kiosk(settings, tmp_path)
    try:
        made = east.verify(SessionRequest(subject_number="D-42"))
        assert made.decision.decision == Verdict.FAIL
        assert made.decision.reasons == (Reason.RATE_LIMITED,)
        passed = east.verify()
        assert passed.decision.decision == Verdict.PASS, passed.decision.reasons
        deadline = time.monotonic() + 15
        shipped: list = []
        while time.monotonic() < deadline and len(shipped) < 2:
            with psycopg.connect(fleet_url) as conn:
                shipped = conn.execute("SELECT content FROM fleet_rows WHERE kiosk_id = 'east' "
                                       "AND tbl = 'attempts' ORDER BY seq").fetchall()
            time.sleep(0.05)
        assert len(shipped) == 2
        assert 'RATE_LIMITED' in shipped[0][0] and '"decision":"pass"' in shipped[1][0]
    finally:
        east.close()
