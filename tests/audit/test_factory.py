"""open_kiosk_log: the kiosk's way in, from the settings and the data folder."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from keyring.backends import fail

from kiosk.audit import AuditUnavailable, KeyUnavailable, create_key_file, open_kiosk_log
from kiosk.audit.keystore import KEY_FILE_NAME
from kiosk.reasons import Reason
from kiosk.settings import Settings
from tests.audit.conftest import FakeClock, make_record

JPEG = b"\xff\xd8\xff\xe0" + b"pixels" * 100


def test_opens_in_the_data_folder_with_a_key_outside_it(tmp_path: Path, clock: FakeClock
                                                        ) -> None:
    settings = Settings().replace("kiosk", kiosk_id="lobby")
    data = tmp_path / "share" / "liveness-kiosk"
    audit = open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring())
    try:
        assert audit.path == str(data / "kiosk.db")
        assert audit.config.kiosk_id == "lobby"
        assert audit.keyed
        ref = audit.subject_ref("P-1")
        audit.record_attempt(make_record(clock, subject_ref=ref, kiosk_id="lobby"))
    finally:
        audit.close()
    key = tmp_path / "share" / "liveness-kiosk-keys" / KEY_FILE_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert sorted(p.name for p in data.iterdir() if not p.name.startswith("kiosk.db")) == []
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(data.parent.stat().st_mode) == 0o700  # intermediate folders too
    audit = open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring())
    try:
        assert audit.subject_ref("P-1") == ref == audit.get_attempt(1).subject_ref
    finally:
        audit.close()


def test_a_configured_path_in_a_missing_folder_starts_no_log(tmp_path: Path,
                                                             clock: FakeClock) -> None:
    """A mistyped audit.db_path would start a new, empty log knowing none of the lockouts
    (the default path's folder, the kiosk's data folder, is still made: above)."""
    typo = tmp_path / "srv" / "kiosk-audti" / "kiosk.db"
    settings = Settings().replace("audit", db_path=str(typo))
    with pytest.raises(AuditUnavailable, match=r"the folder .*kiosk-audti does not exist") as info:
        open_kiosk_log(settings, tmp_path / "share", clock=clock, keyring_backend=fail.Keyring())
    assert info.value.reason == "missing"
    assert sorted(p.name for p in tmp_path.rglob("*")) == []  # no folder, key or database
    typo.parent.mkdir(parents=True)
    open_kiosk_log(settings, tmp_path / "share", clock=clock,
                   keyring_backend=fail.Keyring()).close()
    assert typo.exists()


def test_a_restart_closes_the_attempt_a_killed_kiosk_left_open(tmp_path: Path,
                                                               clock: FakeClock) -> None:
    key = tmp_path / "keys" / "audit.key"
    create_key_file(key)
    (tmp_path / "db").mkdir()
    settings = Settings().replace("audit", db_path=str(tmp_path / "db" / "kiosk.db"),
                                  key_file=str(key))
    open_kiosk_log(settings, tmp_path, clock=clock).close()
    killed = killed_child_with(settings, tmp_path)
    audit = open_kiosk_log(settings, tmp_path, clock=clock)
    try:
        stored = audit.get_attempt(killed)
        assert stored.record is not None and stored.record.reasons == (Reason.INTERRUPTED,)
        assert stored.subject_ref == audit.subject_ref("P-1")
    finally:
        audit.close()


def killed_child_with(settings: Settings, data: Path) -> int:
    """A kiosk process (the real open_kiosk_log) that opens an attempt and is killed."""
    import os
    import signal
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    code = (
        "import os, signal, sys\n"
        "from datetime import UTC, datetime\n"
        "from kiosk.audit import open_kiosk_log\n"
        "from kiosk.settings import Settings\n"
        f"s = Settings().replace('audit', db_path={settings.audit.db_path!r}, "
        f"key_file={settings.audit.key_file!r})\n"
        f"audit = open_kiosk_log(s, {str(data)!r})\n"
        "print(audit.open_attempt(started_at=datetime.now(UTC), subject_ref="
        "audit.subject_ref('P-1'), app_version='0.1.0', settings_digest=s.digest()), "
        "flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(repo)}, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    return int(done.stdout)


def test_best_frames_need_a_key(tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings().replace("audit", store_best_frame=True)
    with pytest.raises(KeyUnavailable, match="no key file is configured"):
        open_kiosk_log(settings, tmp_path / "data", clock=clock,
                       keyring_backend=fail.Keyring())
    assert not (tmp_path / "data" / "kiosk.db").exists()
    key_file = tmp_path / "secret" / "audit.key"
    create_key_file(key_file)
    (tmp_path / "db").mkdir()
    settings = settings.replace("audit", key_file=str(key_file),
                                db_path=str(tmp_path / "db" / "audit.db"))
    audit = open_kiosk_log(settings, tmp_path, clock=clock, keyring_backend=fail.Keyring())
    try:
        result = audit.record_attempt(make_record(clock), best_frame=JPEG)
        assert audit.best_frame(result.attempt_id) == JPEG
        assert audit.path == str(tmp_path / "db" / "audit.db")
    finally:
        audit.close()
    # The key file served every purpose: no default key folder, the log's registration
    # beside the key.
    assert not (tmp_path / "db-keys").exists()
    assert sorted(p.suffix for p in (tmp_path / "secret").iterdir()) == [".key", ".log-id"]


def test_a_log_written_without_the_key_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    from kiosk.audit import AuditLog

    settings = Settings().replace("audit", db_path=str(tmp_path / "db" / "kiosk.db"))
    with AuditLog.open(settings.audit.db_path, clock=clock) as tool:
        tool.record_attempt(make_record(clock, decision="pass"))
    with pytest.raises(AuditUnavailable, match="written without the kiosk's audit key") as info:
        open_kiosk_log(settings, tmp_path, clock=clock, keyring_backend=fail.Keyring())
    assert info.value.reason == "unkeyed"


def test_an_old_kiosks_log_is_migrated_and_keyed(legacy_log, tmp_path: Path,
                                                 clock: FakeClock) -> None:
    db_path, _ = legacy_log("schema2")
    settings = Settings().replace("audit", db_path=str(db_path))
    clock.now = clock.now.replace(day=2)
    audit = open_kiosk_log(settings, tmp_path, clock=clock, keyring_backend=fail.Keyring())
    try:
        report = audit.verify()
        assert (report.ok, report.keyed, report.unkeyed_rows) == (True, True, report.head_seq)
        ref = audit.subject_ref("B2")  # the moved key still gives the old references
        assert {a.subject_ref for a in audit.list_attempts()} >= {ref}
        audit.record_attempt(make_record(clock, subject_ref=ref))
        assert audit.verify().ok
    finally:
        audit.close()
    assert not (db_path.parent / KEY_FILE_NAME).exists()
    assert (tmp_path / "schema2-keys" / KEY_FILE_NAME).exists()
    raw = sqlite3.connect(db_path)
    try:
        attack = dict(raw.execute("SELECT id, attack FROM attempts WHERE status = 'complete'"))
    finally:
        raw.close()
    # WRONG_ACTION suggests an attack; a time-out and a lost face do not; a review never counts.
    assert [attack[i] for i in (1, 2, 3, 4)] == [1, 0, 0, 0]
