"""The fleet store against a local PostgreSQL server: shipping rate, lockout propagation, and
the backlog drained after an outage.

Usage: python benchmarks/fleet.py [--rows N] [--propagations N] [--outage-min M] [--rate R]

Starts a throwaway PostgreSQL cluster (``kiosk/lab/pgcluster.py``: the Debian package's
server, Unix socket, fsync off) and measures, with the kiosk's own code (audit log, fleet
link, sender):

1. rows shipped per second: N finished attempts (default 3,000) wait in a kiosk's local log;
   the sender is started and timed until the server acknowledged the last one;
2. lockout propagation: kiosk ``east`` records the fifth failure of a subject (which starts
   the lockout); the time until kiosk ``west``'s lockout check (``active_lockout``, what the
   idle screen and ``open_attempt`` ask) reports it, repeated N times (default 20); target
   under 2 s with the server up;
3. the backlog after an outage: the server is stopped, a kiosk records M minutes (default 10)
   of simulated traffic at R attempts per second (default 1: a busy entrance) with the
   sender retrying, the server is started again, and the drain is timed from the restart.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.audit import AttemptRecord, AuditLog, create_key_file, open_kiosk_log
from kiosk.lab.pgcluster import PgCluster
from kiosk.settings import Settings

DIGEST = "ab" * 32


class Clock:
    """Wall time plus an offset the benchmark moves (simulated traffic)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def kiosk(root: Path, kiosk_id: str, url: str, key: Path, clock: Clock, **fleet) -> AuditLog:
    folder = root / kiosk_id
    folder.mkdir(exist_ok=True)
    settings = (Settings().replace("kiosk", kiosk_id=kiosk_id)
                .replace("audit", db_path=str(folder / "kiosk.db"), key_file=str(key))
                .replace("fleet", url=url, **fleet))
    return open_kiosk_log(settings, folder, clock=clock)


def attempt(audit: AuditLog, clock: Clock, *, subject: str | None = None,
            decision: str = "pass") -> AttemptRecord:
    ref = audit.subject_ref(subject) if subject else None
    start = clock()
    opened = audit.open_attempt(started_at=start, subject_ref=ref, app_version="bench",
                                settings_digest=DIGEST)
    record = AttemptRecord(kiosk_id=audit.config.kiosk_id, started_at=start,
                           ended_at=clock(), subject_ref=ref, decision=decision,
                           reasons=("LIVENESS_FAILED",) if decision == "fail" else (),
                           liveness_score=12.0 if decision == "fail" else 95.0,
                           signals={"texture": {"score": 0.4, "confidence": 0.8,
                                                "reason": None}},
                           app_version="bench", settings_digest=DIGEST)
    return audit.finish_attempt(opened, record)


def shipping_rate(root: Path, url: str, key: Path, rows: int) -> dict:
    clock = Clock()
    audit = kiosk(root, "rate", url, key, clock)
    for _ in range(rows):
        attempt(audit, clock)
    head = audit.chain_head().head_seq
    t0 = time.perf_counter()
    audit.start_fleet()
    assert audit.fleet is not None
    while not audit.fleet.sender.flush(60):
        pass
    elapsed = time.perf_counter() - t0
    audit.close()
    return {"rows": head, "seconds": round(elapsed, 3), "rows_per_s": round(head / elapsed)}


def propagation(root: Path, url: str, key: Path, repeats: int) -> dict:
    clock = Clock()
    east = kiosk(root, "east", url, key, clock)
    west = kiosk(root, "west", url, key, clock)
    east.start_fleet()
    west.start_fleet()
    times = []
    for n in range(repeats):
        subject = f"P-{n}"
        for _ in range(4):
            attempt(east, clock, subject=subject, decision="fail")
        ref = west.subject_ref(subject)
        result = attempt(east, clock, subject=subject, decision="fail")
        t0 = time.perf_counter()
        assert result.lockouts, "the fifth failure must start a lockout"
        while west.active_lockout(ref) is None:
            time.sleep(0.005)
            if time.perf_counter() - t0 > 30:
                raise SystemExit("the lockout never reached the other kiosk")
        times.append(time.perf_counter() - t0)
        clock.offset += timedelta(minutes=16)  # the next subject starts from a clean window
    east.close()
    west.close()
    return {"repeats": repeats, "median_s": round(statistics.median(times), 3),
            "max_s": round(max(times), 3), "target_s": 2.0}


def outage(root: Path, cluster: PgCluster, url: str, key: Path, minutes: float,
           rate: float) -> dict:
    clock = Clock()
    audit = kiosk(root, "outage", url, key, clock, retry_max_s=5.0, query_timeout_s=0.1)
    audit.start_fleet()
    attempt(audit, clock)
    assert audit.fleet is not None and audit.fleet.sender.flush(30)
    cluster.stop("immediate")
    count = int(minutes * 60 * rate)
    t0 = time.perf_counter()
    for _ in range(count):
        clock.offset += timedelta(seconds=1 / rate)
        attempt(audit, clock)
    written = time.perf_counter() - t0
    backlog = audit.chain_head().head_seq - (audit.fleet.shipped_seq() or 0)
    cluster.start()
    t1 = time.perf_counter()
    while not audit.fleet.sender.flush(120):
        pass
    drained = time.perf_counter() - t1
    audit.close()
    return {"outage_min": minutes, "attempts": count, "backlog_rows": backlog,
            "written_in_s": round(written, 1), "drained_in_s": round(drained, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--propagations", type=int, default=20)
    parser.add_argument("--outage-min", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=1.0, help="attempts per second")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp, PgCluster() as cluster:
        root = Path(tmp)
        key = root / "keys" / "site.key"
        create_key_file(key)
        url = cluster.url()
        rate = shipping_rate(root, url, key, args.rows)
        print(f"shipping: {rate['rows']} rows in {rate['seconds']} s = {rate['rows_per_s']} "
              "rows/s")
        spread = propagation(root, url, key, args.propagations)
        print(f"lockout propagation east -> west: median {spread['median_s']} s, max "
              f"{spread['max_s']} s over {spread['repeats']} lockouts (target < 2 s)")
        after = outage(root, cluster, url, key, args.outage_min, args.rate)
        print(f"outage of {after['outage_min']} min simulated: {after['backlog_rows']} rows "
              f"waited locally; drained in {after['drained_in_s']} s after the restart")
    print(json.dumps({"shipping": rate, "propagation": spread, "outage": after}))


if __name__ == "__main__":
    main()
