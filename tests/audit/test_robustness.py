"""Locked, read-only, full and corrupt databases; threads; a writer killed mid-stream."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kiosk.audit import AuditConfig, AuditLog, AuditUnavailable, ChainKey, SubjectHasher
from tests.audit.conftest import FakeClock, make_record

REPO = Path(__file__).resolve().parents[2]


def page_count(path: Path) -> tuple[int, int]:
    raw = sqlite3.connect(path)
    try:
        return (raw.execute("PRAGMA page_count").fetchone()[0],
                raw.execute("PRAGMA page_size").fetchone()[0])
    finally:
        raw.close()


def test_locked_database_gives_a_clear_error_and_writes_nothing(db_path: Path,
                                                                clock: FakeClock) -> None:
    config = AuditConfig(busy_timeout_s=0.2)
    with AuditLog.open(db_path, config, clock=clock) as audit:
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            with pytest.raises(AuditUnavailable, match=r"locked by another program \(waited "
                                                       r"0.2 s while recording an attempt\)"
                               ) as info:
                audit.record_attempt(make_record(clock))
            assert info.value.reason == "locked"
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert audit.list_attempts() == []
        audit.record_attempt(make_record(clock))  # usable again once the lock is gone
        assert audit.verify().rows == 1


def test_read_only_database_gives_a_clear_error(db_path: Path, clock: FakeClock) -> None:
    AuditLog.open(db_path, clock=clock).close()
    with AuditLog.open(db_path, clock=clock, read_only=True) as audit:
        with pytest.raises(AuditUnavailable, match="read-only, so attempts cannot be recorded"
                           ) as info:
            audit.record_attempt(make_record(clock))
        assert info.value.reason == "read_only"
        assert audit.verify().rows == 0


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="file permissions do not bind root")
def test_read_only_file_fails_at_open_not_at_the_first_attempt(db_path: Path,
                                                               clock: FakeClock) -> None:
    AuditLog.open(db_path, clock=clock).close()
    db_path.chmod(0o400)
    db_path.parent.chmod(0o500)
    try:
        with pytest.raises(AuditUnavailable) as info:
            AuditLog.open(db_path, clock=clock)
        assert info.value.reason in ("read_only", "cannot_open")
    finally:
        db_path.parent.chmod(0o700)
        db_path.chmod(0o600)


def test_full_database_gives_a_clear_error_and_stays_consistent(db_path: Path,
                                                                clock: FakeClock) -> None:
    AuditLog.open(db_path, clock=clock).close()
    pages, size = page_count(db_path)
    config = AuditConfig(max_db_bytes=(pages + 3) * size)
    committed = 0
    with AuditLog.open(db_path, config, clock=clock) as audit:
        with pytest.raises(AuditUnavailable, match="full or the database reached its size "
                                                   "limit") as info:
            for _ in range(500):
                audit.record_attempt(make_record(clock, decision="fail"))
                committed += 1
                clock.advance(hours=1)
        assert info.value.reason == "full"
        assert 0 < committed < 500
        report = audit.verify()
        assert (report.ok, report.rows, report.incomplete) == (True, committed, 0)
    with AuditLog.open(db_path, clock=clock) as audit:  # space freed: writes resume
        audit.record_attempt(make_record(clock))
        assert audit.verify().rows == committed + 1


def test_garbage_file_is_reported_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    path.write_bytes(random.Random(1).randbytes(16384))
    with pytest.raises(AuditUnavailable, match="damaged or not a database") as info:
        AuditLog.open(path)
    assert info.value.reason == "corrupt"


def test_damaged_page_is_reported_corrupt(db_path: Path, clock: FakeClock) -> None:
    with AuditLog.open(db_path, clock=clock) as audit:
        for _ in range(200):
            audit.record_attempt(make_record(clock))
            clock.advance(hours=1)
    _, size = page_count(db_path)
    data = bytearray(db_path.read_bytes())
    rng = random.Random(7)
    for page in (5, 6):
        data[page * size:(page + 1) * size] = rng.randbytes(size)
    db_path.write_bytes(bytes(data))
    with pytest.raises(AuditUnavailable, match="damaged") as info:
        AuditLog.open(db_path, clock=clock)
    assert info.value.reason == "corrupt"


def test_writer_and_reader_threads_at_once(file_log: AuditLog, clock: FakeClock,
                                           hasher: SubjectHasher) -> None:
    done, reading = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    seen: list[int] = []
    refs = [hasher.ref(f"S{i}") for i in range(4)]

    def write(offset: int) -> None:
        try:
            reading.wait(timeout=30)  # start once the reader is running, so they overlap
            for i in range(60):
                file_log.record_attempt(make_record(clock, decision=("pass", "review")[i % 2],
                                                    subject_ref=refs[(i + offset) % 4]))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def read() -> None:
        try:
            while True:
                last_round = done.is_set()
                report = file_log.verify()
                assert report.ok, report.first_break
                seen.append(report.rows)
                file_log.list_attempts(limit=5)
                file_log.stats()
                reading.set()
                if last_round:
                    return
        except BaseException as exc:
            errors.append(exc)
            reading.set()

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=write, args=(k,)) for k in range(2)]
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reader.join()
    assert errors == []
    assert seen == sorted(seen) and seen[0] < 120 and seen[-1] == 120
    report = file_log.verify()
    assert (report.ok, report.rows, report.head_seq) == (True, 120, 120)


CHILD = r"""
import sys
from datetime import UTC, datetime
from kiosk.audit import AttemptRecord, AuditConfig, AuditLog, ChainKey, RateLimitPolicy

config = AuditConfig(limits=RateLimitPolicy(max_failures=3, kiosk_max_failures=4))
audit = AuditLog.open(sys.argv[1], config, chain_key=ChainKey(bytes(range(32, 64))))
audit.recover_interrupted()
i = 0
while True:
    i += 1
    now = datetime.now(UTC)
    record = AttemptRecord(kiosk_id="kiosk-1", started_at=now, ended_at=now, subject_ref=None,
                           decision=("pass", "fail", "review")[i % 3], app_version="0.1.0",
                           settings_digest="ab" * 32, reasons=["CHILD"],
                           challenges=[{"action": "blink", "prompted_at": now,
                                        "outcome": "passed"}])
    if i % 2:
        attempt_id = audit.record_attempt(record).attempt_id
    else:
        attempt_id = audit.open_attempt(started_at=now, subject_ref=None, app_version="0.1.0",
                                        settings_digest="ab" * 32)
        audit.finish_attempt(attempt_id, record)
    if i % 7 == 0:
        audit.unlock("kiosk", "kiosk-1", actor="child", reason="keep writing")
    print(attempt_id, flush=True)
"""


def test_sigkill_in_the_middle_of_writes_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    rng = random.Random(42)
    reported: set[int] = set()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _round in range(3):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=REPO, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert child.stdout is not None
        wanted = rng.randint(15, 40)
        for _ in range(wanted):
            line = child.stdout.readline()
            assert line, "the writer stopped on its own"
            reported.add(int(line))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        reported.update(int(line) for line in child.stdout.read().split())
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
    with AuditLog.open(path, read_only=True, chain_key=ChainKey(bytes(range(32, 64)))) as audit:
        assert audit.verify().ok
        stored = {a.id: a for a in audit.iter_attempts()}
    missing = sorted(reported - set(stored))
    assert missing == []
    assert all(stored[i].status == "complete" for i in reported)
    assert len(reported) >= 45


def test_a_log_deleted_while_open_refuses_to_write_on(tmp_path, clock, hasher) -> None:
    from kiosk.audit import AuditConfig, AuditLog, AuditUnavailable
    from tests.audit.conftest import make_record

    path = tmp_path / "kiosk.db"
    with AuditLog.open(path, AuditConfig(), clock=clock, subject_hasher=hasher) as audit:
        audit.record_attempt(make_record(clock))
        for part in tmp_path.glob("kiosk.db*"):
            part.unlink()  # the connection still holds the unlinked file
        with pytest.raises(AuditUnavailable, match="moved, deleted or replaced") as info:
            audit.record_attempt(make_record(clock))
        assert info.value.reason == "missing" and info.value.path == str(path)
    assert not path.exists()  # nothing written behind the operator's back


def test_sqlites_report_of_a_damage_becomes_one_line(tmp_path: Path) -> None:
    """quick_check reports a damaged page as "*** in database main ***" and the pages on the
    lines below: the error shows the first real line only."""
    from kiosk.audit.database import quick_check

    class Reported:
        def execute(self, sql: str):
            assert sql == "PRAGMA quick_check(5)"
            rows = [("*** in database main ***\nPage 5: btreeInitPage() returns error code 11\n"
                     "Page 9: never used",), ("Page 12: never used",)]
            return type("Cursor", (), {"fetchall": lambda self: rows})()

    with pytest.raises(AuditUnavailable) as info:
        quick_check(Reported(), tmp_path / "kiosk.db")  # type: ignore[arg-type]
    assert str(info.value) == (f"the audit database {tmp_path / 'kiosk.db'} is damaged (Page 5: "
                               "btreeInitPage() returns error code 11); move it aside and "
                               "restore a backup")
    assert info.value.reason == "corrupt"


@pytest.mark.parametrize(("free", "reason", "words"), [
    (0, "full", "is full (no room left for the database's journal) while opening it"),
    (10_000_000, "io_error", "reported an I/O error while opening it"),
])
def test_an_io_error_on_a_disk_with_no_room_is_called_full(tmp_path: Path, monkeypatch,
                                                           free, reason, words):
    """SQLite reports a disk with no space at all as "disk I/O error" (no room for the
    journal's files, measured on a full 2 MB tmpfs): the kiosk says it is full, and what to
    do, instead of blaming the disk."""
    import shutil
    import sqlite3

    from kiosk.audit import errors as audit_errors
    from kiosk.audit.database import OPENING, unavailable

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda p: usage._replace(free=free))
    exc = sqlite3.OperationalError("disk I/O error")
    exc.sqlite_errorcode = sqlite3.SQLITE_IOERR_WRITE  # type: ignore[attr-defined]
    err = unavailable(exc, tmp_path / "kiosk.db", 5.0, OPENING)
    assert err.reason == getattr(audit_errors, reason.upper())
    assert words in str(err)
