"""Best frames: never stored unless enabled, then only encrypted, bound to their attempt."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk.audit import AuditConfig, AuditError, AuditLog, FrameCipher, KeyUnavailable
from tests.audit.conftest import FakeClock, make_record

JPEG = b"\xff\xd8\xff\xe0" + b"\x10JFIF-best-frame-pixels" * 40
KEY = bytes(range(32))


def all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())


def test_a_stored_frame_can_be_neither_changed_nor_deleted_but_by_a_purge(
        tmp_path: Path, clock: FakeClock) -> None:
    config = AuditConfig(store_best_frame=True)
    with AuditLog.open(tmp_path / "k.db", config, clock=clock,
                       frame_cipher=FrameCipher(KEY)) as audit:
        audit.record_attempt(make_record(clock), best_frame=JPEG)
    raw = sqlite3.connect(tmp_path / "k.db")
    try:
        with pytest.raises(sqlite3.IntegrityError, match="audit frames are append-only"):
            raw.execute("UPDATE frames SET attempt_id = attempt_id")
        with pytest.raises(sqlite3.IntegrityError, match="removed only by a purge"):
            raw.execute("DELETE FROM frames")
        assert raw.execute("SELECT count(*) FROM frames").fetchone()[0] == 1
    finally:
        raw.close()


def test_frames_are_dropped_by_default(tmp_path: Path, clock: FakeClock) -> None:
    with AuditLog.open(tmp_path / "k.db", clock=clock) as audit:
        result = audit.record_attempt(make_record(clock), best_frame=JPEG)
        assert not audit.get_attempt(result.attempt_id).has_frame
        assert audit.best_frame(result.attempt_id) is None
    assert b"best-frame-pixels" not in all_bytes(tmp_path)


def test_enabled_frames_are_stored_encrypted(tmp_path: Path, clock: FakeClock) -> None:
    config = AuditConfig(store_best_frame=True)
    with AuditLog.open(tmp_path / "k.db", config, clock=clock,
                       frame_cipher=FrameCipher(KEY)) as audit:
        result = audit.record_attempt(make_record(clock), best_frame=JPEG)
        assert audit.get_attempt(result.attempt_id).has_frame
        assert audit.best_frame(result.attempt_id) == JPEG
        assert audit.verify().ok
    assert b"best-frame-pixels" not in all_bytes(tmp_path)
    assert KEY not in all_bytes(tmp_path)
    other_key = FrameCipher(bytes(32))
    with AuditLog.open(tmp_path / "k.db", config, clock=clock, frame_cipher=other_key) as audit, \
            pytest.raises(AuditError, match="encrypted with another key"):
        audit.best_frame(result.attempt_id)


def test_enabling_frames_without_a_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyUnavailable, match="store_best_frame is on") as info:
        AuditLog.open(tmp_path / "k.db", AuditConfig(store_best_frame=True))
    assert info.value.reason == "no_key"


def test_only_jpeg_bytes_are_accepted(memory_log: AuditLog, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="JPEG"):
        memory_log.record_attempt(make_record(clock), best_frame=b"\x89PNG....")
    with pytest.raises(ValueError, match="JPEG bytes"):
        memory_log.record_attempt(make_record(clock), best_frame="not bytes")  # type: ignore[arg-type]
    assert memory_log.list_attempts() == []


def test_a_frame_moved_or_altered_breaks_verify(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "k.db"
    config = AuditConfig(store_best_frame=True)
    with AuditLog.open(path, config, clock=clock, frame_cipher=FrameCipher(KEY)) as audit:
        audit.record_attempt(make_record(clock), best_frame=JPEG)
        audit.record_attempt(make_record(clock), best_frame=JPEG[:-10])
    raw = sqlite3.connect(path)
    try:
        raw.execute("DROP TRIGGER frames_no_update")
        raw.execute("UPDATE frames SET ciphertext = (SELECT ciphertext FROM frames WHERE "
                    "attempt_id = 1) WHERE attempt_id = 2")
        raw.commit()
    finally:
        raw.close()
    with AuditLog.open(path, config, clock=clock, frame_cipher=FrameCipher(KEY),
                       read_only=True) as audit:
        report = audit.verify()
        assert report.first_break is not None
        assert (report.first_break.row_id, report.first_break.problem) == (
            2, "its encrypted best frame was altered or replaced")
        with pytest.raises(AuditError, match="does not decrypt"):
            audit.best_frame(2)
