"""Audit log costs: recording attempts, verifying the chain, opening, purging.

Usage: python benchmarks/audit.py [--attempts N] [--dir DIR]

Records N attempts (default 10,000) into a new file database in a temporary folder (or DIR),
one ``record_attempt`` transaction each, with the kiosk's connection settings (WAL,
``synchronous=FULL``: every commit is on disk) and its keyed chain (an HMAC per row and per
head update, under a key file kept outside the database's folder). The attempts are realistic in size (three
challenges, five signals, a match) and mix: 70 % pass, 20 % fail, 10 % review over 500
subjects, 30 s apart on an injected clock, so some lockouts start along the way.

Then it times the outcomes the operator panel's charts count (against reading the whole
records, the way they were once counted), ``AuditLog.verify`` in process, ``kiosk audit verify`` as a subprocess (Python
start-up, integrity check and chain walk: what an operator waits for), ``AuditLog.open``
(with ``PRAGMA quick_check``), and a purge of the older half. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.audit import (
    AttemptRecord,
    AuditConfig,
    AuditLog,
    KeyStore,
    RateLimited,
    create_key_file,
)

SIGNALS = ("texture", "moire", "glare", "flow", "pulse")
ACTIONS = ("blink", "turn_left", "turn_right", "smile", "open_mouth")


def make_record(rng: random.Random, now: datetime, ref: str) -> AttemptRecord:
    """One attempt of typical size ending at ``now``."""
    decision = rng.choices(("pass", "fail", "review"), weights=(7, 2, 1))[0]
    start = now - timedelta(seconds=12)
    challenges = []
    for i, action in enumerate(rng.sample(ACTIONS, 3)):
        prompted = start + timedelta(seconds=2 + 3 * i)
        challenges.append({"action": action, "prompted_at": prompted,
                           "responded_at": prompted + timedelta(milliseconds=rng.randint(300, 1500)),
                           "outcome": "passed", "confidence": round(rng.random(), 3)})
    signals = {name: {"score": rng.random(), "confidence": rng.random(),
                      "reason": f"{name.upper()}_SUSPECTED",
                      "details": {"value": rng.random(), "frames": rng.randint(10, 90)}}
               for name in SIGNALS}
    return AttemptRecord(
        kiosk_id="kiosk-1", started_at=start, ended_at=now, subject_ref=ref, decision=decision,
        app_version="0.1.0", settings_digest="ab" * 32, challenges=challenges, signals=signals,
        liveness_score=rng.uniform(0, 100),
        match={"matcher": "rekognition", "similarity": rng.uniform(80, 100),
               "matched": decision == "pass", "reasons": []},
        reasons=[] if decision == "pass" else ["SCREEN_SUSPECTED", "LOW_LIVENESS"],
        cloud_calls=["CompareFaces"])


def run(folder: Path, attempts: int) -> dict[str, float | int]:
    path = folder / "db" / "kiosk.db"
    key_file = folder / "keys" / "audit.key"
    create_key_file(key_file)
    keys = KeyStore(key_file=key_file)
    hasher, chain_key = keys.subject_hasher(), keys.chain_key()
    rng = random.Random(20260501)
    refs = [hasher.ref(f"ID{i:05d}") for i in range(500)]
    clock_now = [datetime(2026, 5, 1, 8, 0, tzinfo=UTC)]
    config = AuditConfig(retention_days=0)
    records = []
    for _ in range(attempts):
        clock_now[0] += timedelta(seconds=30)
        records.append((clock_now[0], make_record(rng, clock_now[0], rng.choice(refs))))

    audit = AuditLog.open(path, config, clock=lambda: clock_now[0], subject_hasher=hasher,
                          chain_key=chain_key)
    lockouts = 0
    start = time.perf_counter()
    for when, record in records:
        clock_now[0] = when
        lockouts += len(audit.record_attempt(record).lockouts)
    record_s = time.perf_counter() - start

    # The session's way: open_attempt (limits checked, open row) then finish_attempt.
    pairs = min(1000, attempts)
    start = time.perf_counter()
    for i in range(pairs):
        clock_now[0] += timedelta(seconds=30)
        record = make_record(rng, clock_now[0], refs[i % len(refs)])
        try:
            opened = audit.open_attempt(started_at=record.started_at,
                                        subject_ref=record.subject_ref,
                                        app_version=record.app_version,
                                        settings_digest=record.settings_digest)
        except RateLimited:
            continue
        lockouts += len(audit.finish_attempt(opened, record).lockouts)
    pair_s = time.perf_counter() - start

    # The operator panel's charts count decisions and reasons: from the outcomes alone,
    # against the whole records they were once counted from (the baseline, same run).
    start = time.perf_counter()
    outcomes = audit.outcomes()
    outcomes_s = time.perf_counter() - start
    start = time.perf_counter()
    whole = sum(1 for a in audit.iter_attempts() if a.status == "complete")
    whole_s = time.perf_counter() - start
    assert len(outcomes) == whole

    start = time.perf_counter()
    report = audit.verify()
    verify_s = time.perf_counter() - start
    assert report.ok, report
    audit.close()
    size_mb = sum(p.stat().st_size for p in path.parent.iterdir()) / 1e6

    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kiosk", "audit", "verify", "--db", str(path)],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "KIOSK_AUDIT_KEY_FILE": str(key_file)})
    cli_verify_s = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"kiosk audit verify failed: {done.stdout}{done.stderr}")

    start = time.perf_counter()
    audit = AuditLog.open(path, config, clock=lambda: clock_now[0], subject_hasher=hasher,
                          chain_key=chain_key)
    open_s = time.perf_counter() - start
    span = records[-1][0] - records[0][0]
    start = time.perf_counter()
    purged = audit.purge(span / 2)
    purge_s = time.perf_counter() - start
    assert audit.verify().ok
    audit.close()

    print(f"recorded {attempts} attempts in {record_s:.2f} s: {attempts / record_s:.0f} "
          f"attempts/s ({1000 * record_s / attempts:.2f} ms each, one fsync'd transaction); "
          f"{lockouts} lockouts started")
    print(f"open_attempt + finish_attempt: {1000 * pair_s / pairs:.2f} ms per attempt "
          f"({pairs} attempts, two fsync'd transactions each)")
    print(f"database: {size_mb:.1f} MB ({1000 * size_mb / attempts:.2f} kB per attempt)")
    print(f"chart counts: {outcomes_s:.3f} s for {len(outcomes)} outcomes, against "
          f"{whole_s:.3f} s reading the whole records ({whole_s / outcomes_s:.0f}x)")
    print(f"verify in process: {verify_s:.3f} s for {report.rows} chained rows "
          f"({1e6 * verify_s / report.rows:.0f} us per row)")
    print(f"kiosk audit verify (subprocess, with quick_check): {cli_verify_s:.3f} s")
    print(f"open with quick_check: {1000 * open_s:.0f} ms; purge of the older half "
          f"({purged.attempts} attempts): {purge_s:.3f} s")
    return {"attempts": attempts, "attempts_per_s": round(attempts / record_s, 1),
            "ms_per_attempt": round(1000 * record_s / attempts, 3),
            "ms_per_open_finish": round(1000 * pair_s / pairs, 3),
            "outcomes_s": round(outcomes_s, 3), "whole_records_s": round(whole_s, 3),
            "verify_s": round(verify_s, 3), "cli_verify_s": round(cli_verify_s, 3),
            "open_ms": round(1000 * open_s, 1), "purge_s": round(purge_s, 3),
            "db_mb": round(size_mb, 2), "lockouts": lockouts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, help="folder for the database (default: a "
                        "temporary folder, removed afterwards)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # lockout warnings are expected here
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        if any(args.dir.iterdir()):
            raise SystemExit(f"{args.dir} is not empty")
        result = run(args.dir, args.attempts)
    else:
        with tempfile.TemporaryDirectory(prefix="audit-bench-") as folder:
            result = run(Path(folder), args.attempts)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
