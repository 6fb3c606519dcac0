"""A log that disappears is noticed: the kiosk refuses to begin an empty one in its place
until staff say it is lost for good (``kiosk audit new-log``), which the new log records."""

from __future__ import annotations

import hashlib
import json
import logging
import stat
from pathlib import Path

import pytest
from keyring.backends import fail

from kiosk.audit import AuditLog, AuditUnavailable, create_key_file, open_kiosk_log
from kiosk.audit import errors as e
from kiosk.audit.register import read_registration, register_file
from kiosk.audit.timeutil import Clock, utc_now
from kiosk.cli import main
from kiosk.reasons import Reason
from kiosk.settings import Settings
from tests.audit.conftest import FakeClock, make_record


@pytest.fixture
def site(tmp_path: Path) -> Settings:
    """A kiosk with a configured key file (as every fleet site has), its log in ``db/``."""
    key = tmp_path / "secret" / "site.key"
    create_key_file(key)
    (tmp_path / "db").mkdir()  # a configured database's folder is made by whoever sets it
    return Settings().replace("audit", key_file=str(key),
                              db_path=str(tmp_path / "db" / "kiosk.db"))


def opened(settings: Settings, tmp_path: Path, clock: Clock) -> AuditLog:
    Path(settings.audit.db_path).parent.mkdir(parents=True, exist_ok=True)  # the site's step
    return open_kiosk_log(settings, tmp_path, clock=clock, keyring_backend=fail.Keyring())


def fail_once(settings: Settings, tmp_path: Path, clock: FakeClock, subject: str = "P-1") -> str:
    """Record one failure of ``subject`` and return the log's id."""
    with opened(settings, tmp_path, clock) as audit:
        audit.record_attempt(make_record(clock, decision="fail", subject_ref=audit.subject_ref(
            subject), reasons=(Reason.SCREEN_SUSPECTED,)))
        return audit.chain_head().db_id


def move_away(db: Path, to: Path) -> None:
    to.mkdir(exist_ok=True)
    for part in db.parent.glob(db.name + "*"):
        part.rename(to / part.name)


def registered_at(settings: Settings) -> Path:
    return register_file(settings.audit.db_path, settings.audit.key_file)


@pytest.mark.parametrize("configured", [True, False])
def test_the_first_open_registers_the_log_in_the_private_key_folder(site, tmp_path, clock,
                                                                    configured):
    if not configured:  # the default key file, made by the kiosk in db-keys/
        site = site.replace("audit", key_file="")
    db_id = fail_once(site, tmp_path, clock)
    db = tmp_path / "db" / "kiosk.db"
    digest = hashlib.sha256(str(db).encode()).hexdigest()[:12]
    file = tmp_path / ("secret" if configured else "db-keys") / \
        (f"kiosk.db-{digest}.log-id" if configured else "kiosk.db.log-id")
    assert registered_at(site) == file
    assert (tmp_path / "db-keys").exists() is not configured  # no folder made just for it
    assert json.loads(file.read_text()) == {"db_id": db_id,
                                            "registered_at": "2026-05-01T12:00:00.000000+00:00"}
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    clock.advance(seconds=60)
    assert fail_once(site, tmp_path, clock) == db_id  # the same log: nothing rewritten
    assert read_registration(db, site.audit.key_file).registered_at.startswith(
        "2026-05-01T12:00:00")


def test_a_deleted_log_is_not_silently_begun_again(site, tmp_path, clock):
    fail_once(site, tmp_path, clock)
    db = tmp_path / "db" / "kiosk.db"
    move_away(db, tmp_path / "elsewhere")
    with pytest.raises(AuditUnavailable) as raised:
        opened(site, tmp_path, clock)
    assert raised.value.reason == e.LOST
    message = str(raised.value)
    assert message.startswith(f"the audit log {db} is gone (log ")
    assert f"kiosk audit new-log --db {db} --by NAME --reason TEXT" in message
    assert list(db.parent.iterdir()) == []  # nothing was created in its place
    # Put back, it opens with its failure (and its chain) intact.
    move_away(tmp_path / "elsewhere" / "kiosk.db", db.parent)
    with opened(site, tmp_path, clock) as audit:
        assert len(audit.list_attempts()) == 1 and audit.verify().ok


def test_an_emptied_log_is_refused_before_anything_writes_to_it(site, tmp_path, clock):
    """A file truncated to nothing: SQLite would begin a new log in it, and the emptied file
    (evidence) would be overwritten before the register's check saw the new log's id."""
    fail_once(site, tmp_path, clock)
    db = tmp_path / "db" / "kiosk.db"
    move_away(db, tmp_path / "elsewhere")
    db.touch()
    with pytest.raises(AuditUnavailable) as raised:
        opened(site, tmp_path, clock)
    assert raised.value.reason == e.LOST
    assert str(raised.value).startswith(f"the audit log {db} is empty (log ")
    assert db.stat().st_size == 0 and sorted(p.name for p in db.parent.iterdir()) == ["kiosk.db"]


def test_another_log_put_in_its_place_is_refused(site, tmp_path, clock):
    fail_once(site, tmp_path, clock)
    other = site.replace("audit", db_path=str(tmp_path / "other" / "kiosk.db"))
    fail_once(other, tmp_path, clock, subject="P-2")
    db = tmp_path / "db" / "kiosk.db"
    move_away(db, tmp_path / "mine")
    (tmp_path / "other" / "kiosk.db").rename(db)
    with pytest.raises(AuditUnavailable, match="holds another audit log") as raised:
        opened(site, tmp_path, clock)
    assert raised.value.reason == e.REPLACED


def test_an_unreadable_registration_is_refused(site, tmp_path, clock):
    fail_once(site, tmp_path, clock)
    registered_at(site).write_text("{not json")
    with pytest.raises(AuditUnavailable, match="cannot be read") as raised:
        opened(site, tmp_path, clock)
    assert raised.value.reason == e.CANNOT_OPEN


def test_beside_a_configured_key_the_folder_beside_the_database_is_not_needed(site, tmp_path,
                                                                              clock):
    # A database in a system folder: the kiosk cannot make a folder beside it (a file
    # stands in for that here, since root may write anywhere), and the site configured
    # a key file elsewhere. The register goes beside the key, so the log's loss is noticed.
    (tmp_path / "db-keys").write_text("not a folder the kiosk can use")
    fail_once(site, tmp_path, clock)
    move_away(Path(site.audit.db_path), tmp_path / "gone")
    with pytest.raises(AuditUnavailable) as raised:
        opened(site, tmp_path, clock)
    assert raised.value.reason == e.LOST


def test_one_key_file_serves_two_databases_of_one_name(site, tmp_path, clock):
    other = site.replace("audit", db_path=str(tmp_path / "test" / "kiosk.db"))
    mine, theirs = fail_once(site, tmp_path, clock), fail_once(other, tmp_path, clock)
    assert mine != theirs and registered_at(site) != registered_at(other)
    assert read_registration(site.audit.db_path, site.audit.key_file).db_id == mine
    assert read_registration(other.audit.db_path, other.audit.key_file).db_id == theirs


def test_a_register_from_before_the_key_file_was_configured_still_counts(site, tmp_path, clock):
    db_id = fail_once(site, tmp_path, clock)
    earlier = tmp_path / "db-keys" / "kiosk.db.log-id"  # where a kiosk kept it before
    earlier.parent.mkdir(mode=0o700)
    registered_at(site).rename(earlier)
    move_away(Path(site.audit.db_path), tmp_path / "gone")
    with pytest.raises(AuditUnavailable) as raised:
        opened(site, tmp_path, clock)
    assert raised.value.reason == e.LOST
    move_away(tmp_path / "gone" / "kiosk.db", tmp_path / "db")
    clock.advance(seconds=60)
    assert fail_once(site, tmp_path, clock) == db_id
    # Moved beside the key, keeping the day the kiosk first kept the log.
    assert not earlier.exists()
    found = read_registration(site.audit.db_path, site.audit.key_file)
    assert (found.file, found.db_id) == (registered_at(site), db_id)
    assert found.registered_at.startswith("2026-05-01T12:00:00")


def test_a_register_that_cannot_be_written_leaves_the_log_usable(site, tmp_path, clock, caplog,
                                                                 monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr("kiosk.audit.register.write_private_file", refuse)
    with caplog.at_level(logging.WARNING, logger="kiosk.audit.register"):
        fail_once(site, tmp_path, clock)
    assert "if that log is deleted, the kiosk will not notice" in caplog.text
    assert "Permission denied" in caplog.text


def test_verify_warns_when_the_kiosk_could_not_register_its_log(site, tmp_path, clock, capsys,
                                                               monkeypatch):
    env = {"HOME": str(tmp_path), "KIOSK_AUDIT_KEY_FILE": site.audit.key_file,
           "KIOSK_AUDIT_DB_PATH": site.audit.db_path}
    fail_once(site, tmp_path, clock)
    assert main(["audit", "verify"], environ=env) == 0
    assert "warning" not in capsys.readouterr().out  # registered: nothing to say
    registered_at(site).unlink()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr("kiosk.audit.register.write_private_file", refuse)
    fail_once(site, tmp_path, clock)  # the kiosk cannot write it: a warning in its log only
    assert main(["audit", "verify"], environ=env) == 0
    out = capsys.readouterr().out
    assert out.startswith("chain OK")
    assert (f"warning: no record of this log is kept in {tmp_path / 'secret'}: if this log is "
            "deleted or moved, the kiosk will not notice") in out
    # A copy checked elsewhere is nobody's registered log: nothing to warn about.
    assert main(["audit", "verify", "--db", site.audit.db_path], environ=env) == 0
    assert "warning" not in capsys.readouterr().out


def new_log(tmp_path: Path, site: Settings, *extra: str) -> int:
    env = {"HOME": str(tmp_path), "KIOSK_AUDIT_KEY_FILE": site.audit.key_file}
    return main(["audit", "new-log", "--db", site.audit.db_path, "--by", "Dana",
                 "--reason", "disk failed, no backup", *extra], environ=env)


def test_new_log_records_the_loss_in_the_new_log(site, tmp_path, clock, capsys):
    lost = fail_once(site, tmp_path, clock)
    assert new_log(tmp_path, site) == 2  # the log is still there: nothing to replace
    assert "a new log is begun only where the registered one" in capsys.readouterr().err
    move_away(Path(site.audit.db_path), tmp_path / "gone")
    assert new_log(tmp_path, site) == 0
    out = capsys.readouterr().out
    assert f"in place of the lost log {lost[:8]}" in out
    # Read on the real clock, as the command wrote it.
    with opened(site, tmp_path, utc_now) as audit:
        actions = audit.operator_actions()
        head = audit.chain_head()
        assert audit.list_attempts() == [] and audit.verify().ok
    assert [(a.action, a.actor, a.reason, a.details) for a in actions] == [
        ("log_replaced", "Dana", "disk failed, no backup",
         {"lost_log": lost, "lost_log_kept_since": "2026-05-01T12:00:00.000000+00:00"})]
    assert head.head_seq == 1  # the statement is the new log's first row
    assert read_registration(site.audit.db_path, site.audit.key_file).db_id == head.db_id != lost


def test_new_log_needs_a_registered_log(site, tmp_path, capsys):
    assert new_log(tmp_path, site) == 2
    assert "no audit log is registered" in capsys.readouterr().err
    assert not Path(site.audit.db_path).exists()


def test_the_reading_commands_say_a_kept_log_is_gone(site, tmp_path, clock, capsys):
    lost = fail_once(site, tmp_path, clock)
    move_away(Path(site.audit.db_path), tmp_path / "gone")
    env = {"HOME": str(tmp_path), "KIOSK_AUDIT_KEY_FILE": site.audit.key_file}
    assert main(["audit", "verify", "--db", site.audit.db_path], environ=env) == 2
    assert capsys.readouterr().err == (
        f"kiosk audit: there is no audit database at {site.audit.db_path}, though the kiosk "
        f"kept its log {lost[:8]} there (since 2026-05-01): it was deleted or moved\n")


def test_new_log_at_a_fleet_kiosk_asks_for_a_new_kiosk_id(site, tmp_path, clock, capsys):
    fail_once(site, tmp_path, clock)
    move_away(Path(site.audit.db_path), tmp_path / "gone")
    env = {"HOME": str(tmp_path), "KIOSK_AUDIT_KEY_FILE": site.audit.key_file,
           "KIOSK_FLEET_URL": "postgresql://kiosk-east@db.invalid/kiosks"}
    assert main(["audit", "new-log", "--db", site.audit.db_path, "--by", "Dana", "--reason",
                 "stolen disk"], environ=env) == 0  # the server is not needed for this
    assert ("holds the lost log's chain under kiosk id 'kiosk-1' and takes no second chain "
            "under it: give this kiosk a new kiosk.kiosk_id") in capsys.readouterr().out


@pytest.mark.parametrize(("by", "reason"), [("", "disk failed"), ("Dana", "x" * 501),
                                            ("Dana", "two\nlines")])
def test_new_log_checks_who_and_why_before_it_begins_the_log(site, tmp_path, clock, capsys,
                                                              by, reason):
    lost = fail_once(site, tmp_path, clock)
    move_away(Path(site.audit.db_path), tmp_path / "gone")
    env = {"HOME": str(tmp_path), "KIOSK_AUDIT_KEY_FILE": site.audit.key_file}
    assert main(["audit", "new-log", "--db", site.audit.db_path, "--by", by, "--reason",
                 reason], environ=env) == 2
    assert "unexpected error" not in capsys.readouterr().err
    # Nothing was begun: the lost log is still the registered one, and the path still empty.
    assert not Path(site.audit.db_path).exists()
    assert read_registration(site.audit.db_path, site.audit.key_file).db_id == lost
