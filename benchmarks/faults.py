"""Fault injection against real processes and a real database file (issue 13).

Usage: python benchmarks/faults.py [--dir DIR] [--sessions] [--clip PATH]

Each case runs small driver processes that use the audit API as the kiosk's session does
(``open_kiosk_log``, ``open_attempt``, ``finish_attempt``), kills them with SIGKILL, runs them
concurrently, moves their clock (an offset on the wall clock inside the driver; the machine's
clock is never touched), or edits the file as someone with write access but without the key,
then checks the outcome with ``kiosk audit`` and a fresh kiosk start. With ``--sessions`` the
kill and concurrency cases also run whole sessions through ``kiosk verify --source CLIP --db
PATH --subject X`` (marked "session"); a session is killed once its attempt row exists.
Prints a table: case, expected, observed, held.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared/data/KwaiVGI_LivePortrait/assets/examples/driving/d0.mp4"
KIOSK = [sys.executable, "-m", "kiosk"]

DRIVER = textwrap.dedent(r"""
    import json, os, signal, sys, time
    from datetime import UTC, datetime, timedelta
    from kiosk.audit import AttemptRecord, RateLimited, open_kiosk_log
    from kiosk.settings import load_settings
    cmd, data, offset = sys.argv[1], sys.argv[2], float(sys.argv[3])
    settings = load_settings(None, os.environ)
    clock = lambda: datetime.now(UTC) + timedelta(seconds=offset)
    audit = open_kiosk_log(settings, data, clock=clock)
    out = {"clock_report": str(audit.clock_report) if audit.clock_report else None}
    ref = audit.subject_ref(sys.argv[4]) if len(sys.argv) > 4 else None
    def record(start, reasons):
        return AttemptRecord(kiosk_id=settings.kiosk.kiosk_id, started_at=start,
                             ended_at=clock(), subject_ref=ref, decision="fail",
                             app_version="faults", settings_digest=settings.digest(),
                             reasons=reasons)
    if cmd in ("open-and-die", "concurrent", "fail"):
        go = os.environ.get("FAULTS_GO")
        while go and not os.path.exists(go):
            time.sleep(0.005)
        start = clock()
        try:
            attempt = audit.open_attempt(started_at=start, subject_ref=ref,
                                         app_version="faults",
                                         settings_digest=settings.digest())
        except RateLimited as exc:
            print(json.dumps({**out, "refused": exc.scope}), flush=True)
            raise SystemExit(0)
        if cmd == "open-and-die":
            print(json.dumps({**out, "opened": attempt}), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.4 if cmd == "concurrent" else 0)
        audit.finish_attempt(attempt, record(start, ["LIVENESS_FAILED"]))
        print(json.dumps({**out, "ran": attempt}), flush=True)
    elif cmd == "status":
        out["locked"] = audit.active_lockout(ref) is not None
        out["attempts"] = len(audit.list_attempts(limit=None))
        out["interrupted"] = sum(1 for a in audit.list_attempts(limit=None)
                                 if a.record and "INTERRUPTED" in a.record.reasons)
        out["ran"] = sum(1 for a in audit.list_attempts(limit=None)
                         if a.record and "LIVENESS_FAILED" in a.record.reasons)
        out["refusals"] = sum(1 for a in audit.list_attempts(limit=None)
                              if a.record and "RATE_LIMITED" in a.record.reasons)
        print(json.dumps(out), flush=True)
    elif cmd == "jump":
        # The wall clock jumps ahead while the kiosk runs (the monotonic clock does not).
        ref_locked = ref
        step = float(sys.argv[5])
        audit._clock = lambda: datetime.now(UTC) + timedelta(seconds=offset + step)
        audit._watch._clock = audit._clock
        out["locked"] = audit.active_lockout(ref_locked) is not None
        print(json.dumps(out), flush=True)
""")


class Lab:
    """One folder per case: a data folder (the database) and a key file outside it."""

    def __init__(self, root: Path, name: str) -> None:
        self.folder = root / name
        self.data = self.folder / "data"
        self.key = self.folder / "keys" / "audit.key"
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(self.folder),
                    "KIOSK_AUDIT_KEY_FILE": str(self.key), "KIOSK_AUDIT_MAX_FAILURES": "5",
                    "KIOSK_AUDIT_DB_PATH": str(self.data / "kiosk.db")}
        self.folder.mkdir(parents=True)
        subprocess.run([*KIOSK, "audit", "keygen", "--key-file", str(self.key)], env=self.env,
                       capture_output=True, check=True)

    @property
    def db(self) -> Path:
        return self.data / "kiosk.db"

    def driver(self, *args: str, offset: float = 0.0, env: dict | None = None,
               background: bool = False) -> subprocess.Popen | dict:
        argv = [sys.executable, "-c", DRIVER, args[0], str(self.data), str(offset), *args[1:]]
        proc = subprocess.Popen(argv, cwd=REPO, env={**self.env, **(env or {})},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if background:
            return proc
        out, err = proc.communicate(timeout=300)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if proc.returncode not in (0, -signal.SIGKILL) or not lines:
            return {"error": (err.strip().splitlines() or ["no output"])[-1]}
        return json.loads(lines[-1])

    def kiosk(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([*KIOSK, *argv], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=600, check=False)

    def tamper(self, *statements: str) -> None:
        raw = sqlite3.connect(self.db)
        try:
            for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type='trigger'"
                                       ).fetchall():
                raw.execute(f"DROP TRIGGER {name}")
            for statement in statements:
                raw.execute(statement)
            raw.commit()
        finally:
            raw.close()


Row = tuple[str, str, str, bool]


def kill_ten(root: Path) -> Row:
    lab = Lab(root, "kill")
    for _ in range(10):
        lab.driver("open-and-die", "VICTIM")
    s = lab.driver("status", "VICTIM")
    held = s.get("locked") is True and s.get("interrupted", 0) >= 5
    return ("10 x SIGKILL after open_attempt (one subject)",
            "each killed try counted (INTERRUPTED); locked after 5",
            f"{s.get('interrupted')} interrupted, {s.get('refusals')} refused, locked "
            f"{s.get('locked')}", held)


def concurrent_twelve(root: Path) -> Row:
    lab = Lab(root, "concurrent")
    lab.driver("status")  # creates and keys the log
    go = lab.folder / "go"
    procs = [lab.driver("concurrent", "VICTIM", env={"FAULTS_GO": str(go)}, background=True)
             for _ in range(12)]
    time.sleep(3)
    go.touch()
    for proc in procs:
        assert isinstance(proc, subprocess.Popen)
        proc.communicate(timeout=300)
    s = lab.driver("status", "VICTIM")
    return ("12 concurrent processes, one subject", "at most 5 tries run",
            f"{s.get('ran')} ran, {s.get('refusals')} refused, locked {s.get('locked')}",
            0 < s.get("ran", 99) <= 5)


def sigkill_writes(root: Path) -> Row:
    lab = Lab(root, "sigkill-writes")
    for _ in range(5):
        proc = lab.driver("concurrent", env={"FAULTS_GO": ""}, background=True)
        assert isinstance(proc, subprocess.Popen)
        time.sleep(1.2)
        proc.kill()
        proc.wait()
    done = lab.kiosk("audit", "verify")
    return ("SIGKILL during writes, 5 times", "chain verifies (exit 0)",
            f"exit {done.returncode}: {done.stdout.splitlines()[0] if done.stdout else ''}",
            done.returncode == 0)


def _locked_lab(root: Path, name: str) -> Lab:
    lab = Lab(root, name)
    for _ in range(5):
        lab.driver("fail", "VICTIM")
    return lab


def clock_restart_ahead(root: Path) -> Row:
    lab = _locked_lab(root, "clock-31min")
    s = lab.driver("status", "VICTIM", offset=31 * 60)
    return ("restart with the clock 31 min ahead, subject locked (30 min)",
            "still locked; gap reported", f"locked {s.get('locked')}; "
            f"report: {s.get('clock_report')}", s.get("locked") is True
            and bool(s.get("clock_report")))


def clock_jump_running(root: Path) -> Row:
    lab = _locked_lab(root, "clock-jump")
    s = lab.driver("jump", "VICTIM", "0", str(31 * 60))
    return ("clock jumps 31 min ahead while running, subject locked", "still locked",
            f"locked {s.get('locked')}", s.get("locked") is True)


def clock_month_ahead(root: Path) -> Row:
    lab = Lab(root, "clock-31days")
    for _ in range(3):
        lab.driver("fail", "SOMEONE")
    s = lab.driver("status", offset=31 * 86400)
    return ("start with the clock 31 days ahead (retention 30 days)",
            "gap reported; nothing purged", f"{s.get('attempts')} of 3 attempts kept; report: "
            f"{s.get('clock_report')}", s.get("attempts") == 3 and bool(s.get("clock_report")))


def clock_behind(root: Path) -> Row:
    lab = Lab(root, "clock-behind")
    lab.driver("fail", "SOMEONE")
    s = lab.driver("status", offset=-3600)
    return ("start with the clock 1 h behind the last row", "reported",
            f"report: {s.get('clock_report')}", bool(s.get("clock_report")))


def _verify(lab: Lab, *extra: str) -> tuple[int, str]:
    done = lab.kiosk("audit", "verify", *extra)
    text = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, (text[0] if text else "")[:90]


def tamper_recompute(root: Path) -> Row:
    lab = _locked_lab(root, "tamper-recompute")
    sys.path.insert(0, str(REPO))
    from kiosk.audit.canonical import GENESIS, row_hash

    raw = sqlite3.connect(lab.db)
    raw.row_factory = sqlite3.Row
    rows = sorted(((r["seq"], t, dict(r)) for t in ("attempts", "lockouts", "operator_actions")
                   for r in raw.execute(f"SELECT * FROM {t} WHERE seq IS NOT NULL")),
                  key=lambda x: x[0])
    raw.close()
    prev, sql = GENESIS, ["UPDATE attempts SET decision = 'pass', attack = 0 WHERE seq = 1"]
    for _, table, row in rows:
        if table == "attempts" and row["seq"] == 1:
            row["decision"], row["attack"] = "pass", 0
        new = row_hash(prev, table, row)
        sql.append(f"UPDATE {table} SET prev_hash = '{prev}', row_hash = '{new}' "
                   f"WHERE id = {row['id']}")
        prev = new
    sql.append(f"UPDATE chain_state SET head_hash = '{prev}'")
    lab.tamper(*sql)
    code, line = _verify(lab)
    return ("edit a failure, recompute every hash without the key", "verify exit 1",
            f"exit {code}: {line}", code == 1)


def tamper_truncate(root: Path) -> Row:
    lab = _locked_lab(root, "tamper-truncate")
    raw = sqlite3.connect(lab.db)
    head = raw.execute("SELECT row_hash FROM attempts WHERE seq = 3").fetchone()[0]
    raw.close()
    lab.tamper("DELETE FROM attempts WHERE seq > 3", "DELETE FROM lockouts",
               f"UPDATE chain_state SET head_seq = 3, head_hash = '{head}'")
    code, line = _verify(lab)
    return ("truncate the newest rows and rewrite the head", "verify exit 1",
            f"exit {code}: {line}", code == 1)


def tamper_wipe(root: Path) -> Row:
    lab = _locked_lab(root, "tamper-wipe")
    lab.tamper("DELETE FROM attempts", "DELETE FROM lockouts", "DELETE FROM operator_actions",
               "UPDATE chain_state SET head_seq = 0, head_hash = '" + "0" * 64 + "'")
    code, line = _verify(lab)
    return ("wipe every row and reset the head", "verify exit 1", f"exit {code}: {line}",
            code == 1)


def tamper_open_row(root: Path) -> Row:
    lab = Lab(root, "tamper-open-row")
    lab.driver("fail", "SOMEONE")
    raw = sqlite3.connect(lab.db)
    ref = raw.execute("SELECT subject_ref FROM attempts LIMIT 1").fetchone()[0]
    raw.close()
    lab.tamper("INSERT INTO attempts (status, kiosk_id, started_at, subject_ref, app_version, "
               "settings_digest) VALUES ('incomplete', 'kiosk-1', "
               f"'2026-01-01T00:00:00.000000+00:00', '{ref}', 'x', '{'ab' * 32}')")
    code, line = _verify(lab)
    start = lab.driver("status", "SOMEONE")
    return ("insert an unchained open row for a victim", "verify exit 1; never the victim's "
            "failure; the kiosk refuses to start", f"exit {code}: {line}; start: "
            f"{start.get('error', 'started')[:60]}", code == 1 and "error" in start)


def tamper_lockouts(root: Path) -> Row:
    lab = _locked_lab(root, "tamper-lockouts")
    lab.tamper("DELETE FROM lockouts")
    start = lab.driver("status", "VICTIM")
    return ("drop the guard triggers, delete the lockout rows", "the kiosk refuses to start "
            "(out of service)", f"start: {start.get('error', 'started: locked ' + str(start.get('locked')))[:80]}",
            "error" in start)


def tamper_restore(root: Path) -> Row:
    lab = _locked_lab(root, "tamper-restore")
    old = lab.folder / "old.db"
    shutil.copyfile(lab.db, old)
    lab.driver("fail", "OTHER")
    anchor = lab.folder / "anchor.json"
    lab.kiosk("audit", "anchor", "--output", str(anchor))
    shutil.copyfile(old, lab.db)
    for suffix in ("-wal", "-shm"):
        Path(f"{lab.db}{suffix}").unlink(missing_ok=True)
    plain, _ = _verify(lab)
    code, line = _verify(lab, "--anchor", str(anchor))
    return ("restore an older copy of the whole file", "verify --anchor exit 1",
            f"plain verify exit {plain}; with anchor exit {code}", code == 1)


CASES: list[Callable[[Path], Row]] = [
    kill_ten, concurrent_twelve, sigkill_writes, clock_restart_ahead, clock_jump_running,
    clock_month_ahead, clock_behind, tamper_recompute, tamper_truncate, tamper_wipe,
    tamper_open_row, tamper_lockouts, tamper_restore,
]


def _rows(db: Path) -> int:
    """Attempt rows in ``db`` (read-only; 0 while it does not exist yet)."""
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
        try:
            return int(con.execute("SELECT count(*) FROM attempts").fetchone()[0])
        except sqlite3.Error:
            return 0


def session_kill(root: Path, clip: Path) -> Row:
    lab = Lab(root, "session-kill")
    for k in range(3):
        proc = subprocess.Popen([*KIOSK, "verify", "--source", str(clip), "--subject",
                                 "VICTIM"], cwd=REPO, env=lab.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # Killed in the middle of its session: once its attempt row exists, then a little on.
        deadline = time.monotonic() + 120
        while _rows(lab.db) < k + 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        proc.kill()
        proc.wait()
    s = lab.driver("status", "VICTIM")
    return ("[session] kiosk verify killed mid-session, 3 times", "3 INTERRUPTED failures",
            f"{s.get('interrupted')} interrupted, {s.get('attempts')} rows",
            s.get("interrupted") == 3)


def session_concurrent(root: Path, clip: Path) -> Row:
    lab = Lab(root, "session-concurrent")
    procs = [subprocess.Popen([*KIOSK, "verify", "--source", str(clip), "--subject", "VICTIM",
                               "--json"], cwd=REPO, env=lab.env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for _ in range(8)]
    ran = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        with contextlib.suppress(ValueError, KeyError):
            ran += "RATE_LIMITED" not in json.loads(out)["reasons"]
    return ("[session] 8 concurrent kiosk verify, one subject (limit 5)",
            "at most 5 sessions run", f"{ran} ran", ran <= 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--sessions", action="store_true",
                        help="also run whole sessions through `kiosk verify` (slow)")
    parser.add_argument("--clip", type=Path, default=CLIP, help="clip for the sessions")
    args = parser.parse_args()
    root = Path(args.dir or tempfile.mkdtemp(prefix="faults-"))
    rows = []
    for case in CASES:
        started = time.perf_counter()
        try:
            row = case(root)
        except Exception as exc:  # noqa: BLE001  (a case that crashes is a case not held)
            row = (case.__name__, "-", f"crashed: {type(exc).__name__}: {exc}"[:100], False)
        rows.append(row)
        print(f"{'held' if row[3] else 'NOT HELD':8} {time.perf_counter() - started:5.1f} s  "
              f"{row[0]}", file=sys.stderr, flush=True)
    if args.sessions:
        for session_case in (session_kill, session_concurrent):
            rows.append(session_case(root, args.clip))
    print("| case | expected | observed | held |")
    print("|---|---|---|---|")
    for case_name, expected, observed, held in rows:
        print(f"| {case_name} | {expected} | {observed} | {'yes' if held else 'NO'} |")
    print(f"\n{sum(r[3] for r in rows)} of {len(rows)} cases held (work folder {root})")


if __name__ == "__main__":
    main()
