"""The database file itself (issue 13 case 11): write-protected evidence copies, a full disk,
link loops and folders given as the database."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.audit import AuditConfig, AuditLog, AuditUnavailable, KeyStore, create_key_file
from kiosk.cli import main
from tests.audit.conftest import FakeClock, make_record


def run(*argv: str, home: Path, **env: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = main(["audit", *argv], environ={"HOME": str(home), **env})
    return status, out.getvalue()


@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A real file system of ``size`` (tmpfs), unmounted afterwards; skip without root."""
    where.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}",
                                            "tmpfs", str(where)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small file system needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount_read_only(where: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)


def test_a_write_protected_copy_is_read_with_immutable(tmp_path: Path, clock: FakeClock) -> None:
    with small_disk(tmp_path / "evidence", "8m") as disk:
        source = tmp_path / "kiosk.db"
        with AuditLog.open(source, clock=clock) as audit:
            for _ in range(3):
                audit.record_attempt(make_record(clock))
        shutil.copyfile(source, disk / "kiosk.db")  # checkpointed: no WAL left
        remount_read_only(disk)
        status, out = run("list", "--db", str(disk / "kiosk.db"), home=tmp_path)
        assert status == 0 and out.splitlines()[-1] == "3 attempt(s), newest first"
        status, out = run("verify", "--db", str(disk / "kiosk.db"), home=tmp_path)
        assert status == 0 and out.startswith("chain OK: 3 row(s)")


def test_a_write_protected_copy_with_a_live_wal_keeps_its_rows(tmp_path: Path,
                                                               clock: FakeClock) -> None:
    with small_disk(tmp_path / "evidence", "8m") as disk:
        source = tmp_path / "kiosk.db"
        audit = AuditLog.open(source, clock=clock)
        reader = sqlite3.connect(source)
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM attempts").fetchone()  # blocks checkpoints
            for _ in range(4):
                audit.record_attempt(make_record(clock))
            for suffix in ("", "-wal"):  # copied while the kiosk runs
                shutil.copyfile(f"{source}{suffix}", disk / f"kiosk.db{suffix}")
        finally:
            reader.close()
            audit.close()
        assert (disk / "kiosk.db-wal").stat().st_size > 0
        remount_read_only(disk)
        status, out = run("list", "--db", str(disk / "kiosk.db"), home=tmp_path)
        assert status == 0 and out.splitlines()[-1] == "4 attempt(s), newest first"


def test_purge_works_on_a_full_disk(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    clock = FakeClock(now - timedelta(days=60))
    key_file = tmp_path / "keys" / "audit.key"
    create_key_file(key_file)
    key = KeyStore(key_file=key_file).chain_key()
    with small_disk(tmp_path / "disk", "16m") as disk:
        path = disk / "kiosk.db"
        config = AuditConfig(reserve_bytes=1024 * 1024, retention_days=0)
        with AuditLog.open(path, config, clock=clock, chain_key=key, reserve=True) as audit:
            assert (disk / "kiosk.db-reserve").stat().st_size == 1024 * 1024
            for _ in range(200):  # 50 days of attempts
                audit.record_attempt(make_record(clock, decision="fail",
                                                 reasons=["CHALLENGE_TIMEOUT"]))
                clock.advance(hours=6)
            filler = disk / "filler"
            with filler.open("wb") as fh, contextlib.suppress(OSError):
                while True:  # fill the rest of the disk
                    fh.write(b"\0" * 65536)
                    fh.flush()
            with pytest.raises(AuditUnavailable, match="full") as info:
                for _ in range(100_000):
                    audit.record_attempt(make_record(clock, decision="fail",
                                                     reasons=["CHALLENGE_TIMEOUT"]))
                    clock.advance(minutes=10)
            assert info.value.reason == "full"
            assert "kiosk audit purge" in str(info.value)
            written = len(audit.list_attempts(limit=None))
        assert written >= 200
        status, out = run("purge", "--older-than", "1d", "--db", str(path), home=tmp_path,
                          KIOSK_AUDIT_KEY_FILE=str(key_file))
        assert status == 0 and out.startswith("purged before "), out
        clock.now = now
        with AuditLog.open(path, config, clock=clock, chain_key=key, reserve=True) as audit:
            audit.record_attempt(make_record(clock))  # the kiosk can record again
            report = audit.verify()
            assert report.ok and report.anchor_seq > 0


def fill(disk: Path, leave: int) -> Path:
    """Take all but ``leave`` bytes of ``disk``'s free space."""
    filler = disk / "filler"
    with filler.open("wb") as fh:
        fh.truncate(0)
        os.posix_fallocate(fh.fileno(), 0, max(shutil.disk_usage(disk).free - leave, 0))
    return filler


def test_a_session_does_not_start_when_its_record_cannot_be_kept(tmp_path: Path,
                                                                  clock: FakeClock) -> None:
    """With 200 KB left, sessions ran to the end, failed to record and were closed as
    INTERRUPTED at the next start: failures charged to the people, then a lockout."""
    with small_disk(tmp_path / "disk", "8m") as disk:
        path = disk / "kiosk.db"
        config = AuditConfig(reserve_bytes=0)

        def start(audit: AuditLog) -> int:
            return audit.open_attempt(started_at=clock.now, subject_ref=None,
                                      app_version="0.1.0", settings_digest="ab" * 32)

        with AuditLog.open(path, config, clock=clock, reserve=True) as audit:
            audit.record_attempt(make_record(clock))
            filler = fill(disk, 200 * 1024)
            with pytest.raises(AuditUnavailable, match=r"has \d+ KB free, less than the "
                                                      "1024 KB one session's record") as info:
                start(audit)
            assert info.value.reason == "full" and "kiosk audit purge" in str(info.value)
            assert len(audit.list_attempts(limit=None)) == 1  # nothing opened, nobody charged
        with pytest.raises(AuditUnavailable, match="KB free"):  # the kiosk stays out of service
            AuditLog.open(path, config, clock=clock, reserve=True)
        filler.unlink()
        with AuditLog.open(path, config, clock=clock, reserve=True) as audit:
            audit.finish_attempt(start(audit), make_record(clock))
            assert [a.status for a in audit.list_attempts(limit=None)] == ["complete"] * 2


def test_a_session_does_not_start_near_the_size_cap(tmp_path: Path, clock: FakeClock) -> None:
    config = AuditConfig(max_db_bytes=1024 * 1024, reserve_bytes=0)
    with AuditLog.open(tmp_path / "kiosk.db", config, clock=clock) as audit:
        with pytest.raises(AuditUnavailable, match="of its size limit") as info:
            for _ in range(10_000):  # the cap's own error would say "reached its size limit"
                opened = audit.open_attempt(started_at=clock.now, subject_ref=None,
                                            app_version="0.1.0", settings_digest="ab" * 32)
                audit.finish_attempt(opened, make_record(clock))
        assert info.value.reason == "full"
        assert "audit.max_db_mb" in str(info.value)


def test_link_loops_and_folders_get_plain_messages(tmp_path: Path) -> None:
    loop = tmp_path / "loop.db"
    loop.symlink_to(loop)
    status, out = run("list", "--db", str(loop), home=tmp_path)
    assert status == 2 and "symbolic link on its path points back to itself" in out
    # Said once: not "cannot be opened while opening it".
    with pytest.raises(AuditUnavailable, match="cannot be opened: a symbolic link on its path "
                                               "points back to itself"):
        AuditLog.open(loop)
    folder = tmp_path / "folder.db"
    folder.mkdir()
    status, out = run("verify", "--db", str(folder), home=tmp_path)
    assert status == 2 and f"{folder} is a folder, not an audit database file" in out
    with pytest.raises(AuditUnavailable, match="is a folder"):
        AuditLog.open(folder)
    dangling = tmp_path / "gone.db"
    dangling.symlink_to(tmp_path / "nowhere" / "k.db")
    with pytest.raises(AuditUnavailable, match="symbolic link to .* which does not exist"):
        AuditLog.open(dangling)


def test_intermediate_folders_are_private(tmp_path: Path) -> None:
    AuditLog.open(tmp_path / "a" / "b" / "c" / "kiosk.db").close()
    for folder in ("a", "a/b", "a/b/c"):
        assert (tmp_path / folder).stat().st_mode & 0o077 == 0
