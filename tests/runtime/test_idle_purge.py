"""The automatic purge at a kiosk nobody uses (privacy audit, F3b): before, it ran only at the
kiosk's start and after a write, so an idle kiosk kept records past audit.retention_days."""

from __future__ import annotations

import sqlite3
import time

from kiosk.audit import open_kiosk_log
from tests.audit.conftest import FakeClock, Monotonic, make_record
from tests.runtime.test_runtime_faults import start, stop


def count(db: str, sql: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as raw:
        return int(raw.execute(sql).fetchone()[0])


def test_an_idle_kiosk_purges_what_it_no_longer_keeps(settings, tmp_path):
    clock = FakeClock()
    mono = Monotonic(clock)  # the kiosk runs through the days: no clock change recorded
    settings = settings.replace("audit", retention_days=3)
    db = settings.audit.db_path
    with open_kiosk_log(settings, tmp_path, clock=clock, monotonic=mono) as audit:
        audit.record_attempt(make_record(clock))
    runtime, thread, _ = start(settings, tmp_path, audit=lambda s: open_kiosk_log(
        s, tmp_path, clock=clock, monotonic=mono))
    try:
        deadline = time.monotonic() + 10
        while runtime.audit is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runtime.audit is not None and count(db, "SELECT count(*) FROM attempts") == 1
        clock.advance(days=4)  # and no session, no write
        deadline = time.monotonic() + 10
        while count(db, "SELECT count(*) FROM attempts") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count(db, "SELECT count(*) FROM attempts") == 0
        assert count(db, "SELECT count(*) FROM operator_actions WHERE action = 'purge' AND "
                         "actor = 'retention'") == 1
    finally:
        stop(runtime, thread)
