"""A kiosk process for the fleet's process tests: ``python -m tests.audit.fleet.driver CMD``.

Settings come from the environment (``KIOSK_FLEET_URL``, ``KIOSK_KIOSK_KIOSK_ID``,
``KIOSK_AUDIT_DB_PATH``, ``KIOSK_AUDIT_KEY_FILE``, ...), as for the kiosk itself.

- ``burst N PAUSE``: N attempts (open, then finish as a pass) PAUSE seconds apart with the
  sender running, then close (which flushes for ``fleet.flush_timeout_s``);
- ``write N``: N attempts with no fleet link (the rows wait in the local log);
- ``ship``: start the sender and wait until everything is shipped.

Prints one JSON line: the local head and what the sender acknowledged.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta

from kiosk.audit import AttemptRecord, open_kiosk_log
from kiosk.settings import load_settings


def main(argv: list[str]) -> int:
    settings = load_settings(None, os.environ)
    data = os.path.dirname(settings.audit.db_path)
    cmd = argv[0]
    audit = open_kiosk_log(settings, data, fleet=cmd != "write")
    try:
        if cmd in ("burst", "write"):
            count = int(argv[1])
            pause = float(argv[2]) if len(argv) > 2 else 0.0
            if cmd == "burst":
                audit.start_fleet()
            for _ in range(count):
                start = datetime.now(UTC)
                attempt = audit.open_attempt(started_at=start, subject_ref=None,
                                             app_version="driver",
                                             settings_digest=settings.digest())
                audit.finish_attempt(attempt, AttemptRecord(
                    kiosk_id=settings.kiosk.kiosk_id, started_at=start,
                    ended_at=start + timedelta(milliseconds=1), subject_ref=None,
                    decision="pass", app_version="driver", settings_digest=settings.digest()))
                if pause:
                    time.sleep(pause)
        elif cmd == "ship":
            audit.start_fleet()
            assert audit.fleet is not None
            deadline = time.monotonic() + 120
            while not audit.fleet.sender.flush(5) and time.monotonic() < deadline:
                pass
        head = audit.chain_head().head_seq
        shipped = audit.fleet.shipped_seq() if audit.fleet is not None else None
    finally:
        audit.close()
    state = None
    with open_kiosk_log(settings, data, fleet=False) as reread:
        found = reread.fleet_state()
        state = found.server_seq if found is not None else None
    print(json.dumps({"head": head, "shipped": shipped, "state": state}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
