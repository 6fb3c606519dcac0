"""open_kiosk_log creates a new key file only for a log that can take it.

A database that cannot be opened, created or written, or that cannot take a new key (written
without one, or with another key now missing), leaves no key file behind and no warning to
back one up. The failures here stop root too (CI runs the tests as root).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from keyring.backends import fail

from kiosk.audit import AuditLog, AuditUnavailable, KeyUnavailable, open_kiosk_log
from kiosk.audit.keystore import KEY_FILE_NAME, KeyStore
from kiosk.settings import Settings
from tests.audit.conftest import FakeClock, make_record

BACK_IT_UP = "back it up"


def open_at(db: Path, clock: FakeClock) -> AuditLog:
    if not db.parent.exists():
        db.parent.mkdir(parents=True)  # a configured path's folder is made by whoever sets it
    settings = Settings().replace("audit", db_path=str(db))
    return open_kiosk_log(settings, db.parent, clock=clock, keyring_backend=fail.Keyring())


def key_dir(db: Path) -> Path:
    """Where the default key file of ``db`` goes: ``<db folder>-keys``."""
    return db.parent.with_name(db.parent.name + "-keys")


def assert_no_new_key(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert not key_dir(db).exists()
    assert BACK_IT_UP not in caplog.text


def _folder_at_the_path(db: Path) -> None:
    db.mkdir(parents=True)


def _file_in_place_of_the_folder(db: Path) -> None:
    db.parent.write_text("not a folder")


def _not_a_database(db: Path) -> None:
    db.parent.mkdir()
    db.write_bytes(b"this is not an SQLite database, just some bytes" * 100)


@pytest.mark.parametrize("make, message, reason", [
    (_folder_at_the_path, "is a folder, not an audit database", "cannot_open"),
    (_file_in_place_of_the_folder, "a part of its path is a file", "cannot_open"),
    (_not_a_database, "damaged or not a database", "corrupt"),
], ids=["folder-at-the-path", "file-in-place-of-the-folder", "not-a-database"])
def test_a_database_that_cannot_be_opened_leaves_no_key(
        tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture, make,
        message: str, reason: str) -> None:
    db = tmp_path / "data" / "kiosk.db"
    make(db)
    with caplog.at_level(logging.WARNING), pytest.raises(AuditUnavailable, match=message) as info:
        open_at(db, clock)
    assert info.value.reason == reason
    assert_no_new_key(db, caplog)


def test_a_log_written_without_a_key_gets_no_new_key(tmp_path: Path, clock: FakeClock,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "data" / "kiosk.db"
    with AuditLog.open(db, clock=clock) as tool:
        tool.record_attempt(make_record(clock))
    with caplog.at_level(logging.WARNING), \
            pytest.raises(AuditUnavailable, match="written without the kiosk's audit key"):
        open_at(db, clock)
    assert_no_new_key(db, caplog)


def test_a_log_whose_key_is_missing_gets_no_new_key(tmp_path: Path, clock: FakeClock,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "data" / "kiosk.db"
    with open_at(db, clock) as audit:
        audit.record_attempt(make_record(clock))
    key = key_dir(db) / KEY_FILE_NAME
    key.rename(tmp_path / "lost.key")  # an operator moved the key away
    caplog.clear()
    with caplog.at_level(logging.WARNING), \
            pytest.raises(KeyUnavailable, match="restore the key it was written with"):
        open_at(db, clock)
    assert not key.exists()
    assert BACK_IT_UP not in caplog.text


def test_a_database_that_opens_gets_its_new_key_and_the_warning(
        tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "data" / "kiosk.db"
    with caplog.at_level(logging.WARNING), open_at(db, clock) as audit:
        ref = audit.subject_ref("P-1")
        audit.record_attempt(make_record(clock, subject_ref=ref))
    assert (key_dir(db) / KEY_FILE_NAME).is_file()
    assert caplog.text.count(BACK_IT_UP) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING), open_at(db, clock) as audit:
        assert audit.verify().ok
        assert audit.get_attempt(1).subject_ref == audit.subject_ref("P-1") == ref
    assert BACK_IT_UP not in caplog.text


def test_a_failed_open_after_the_check_keeps_the_key(tmp_path: Path, clock: FakeClock,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A key, once written, is never removed, even when the open then fails."""
    db = tmp_path / "data" / "kiosk.db"

    rehearse = AuditLog.open  # the check's own open succeeds; the kiosk's then fails

    def refuse(*args: object, **kwargs: object) -> AuditLog:
        if kwargs.get("rehearse"):
            return rehearse(*args, **kwargs)  # type: ignore[arg-type]
        raise AuditUnavailable("locked", reason="locked", path=str(db))

    monkeypatch.setattr(AuditLog, "open", refuse)
    with pytest.raises(AuditUnavailable, match="locked"):
        open_at(db, clock)
    assert (key_dir(db) / KEY_FILE_NAME).is_file()
    raw = sqlite3.connect(db)
    try:  # the check created the new log, empty
        assert raw.execute("SELECT count(*) FROM attempts").fetchone() == (0,)
    finally:
        raw.close()


def test_a_second_open_of_a_new_log_takes_the_key_the_first_made_meanwhile(
        tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two `kiosk verify` on the same new ``--db`` at once: the second looks for a key before
    the first has made one, and the first then makes it and keys the log. The second's check
    found the log keyed with a key it did not hold, and said that key was missing."""
    db = tmp_path / "data" / "kiosk.db"
    look = KeyStore.new_key_file
    seen: list[Path | None] = []

    def first_opens_meanwhile(store: KeyStore) -> Path | None:
        seen.append(look(store))
        monkeypatch.setattr(KeyStore, "new_key_file", look)
        with open_at(db, clock) as first:
            first.record_attempt(make_record(clock, subject_ref=first.subject_ref("P-1")))
        return seen[0]

    monkeypatch.setattr(KeyStore, "new_key_file", first_opens_meanwhile)
    with open_at(db, clock) as second:
        assert seen == [key_dir(db) / KEY_FILE_NAME]  # it looked before the key existed
        assert second.verify().ok
        assert second.get_attempt(1).subject_ref == second.subject_ref("P-1")
