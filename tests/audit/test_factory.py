"""open_kiosk_log: the kiosk's way in, from the settings and the data folder."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from keyring.backends import fail

from kiosk.audit import KeyUnavailable, create_key_file, open_kiosk_log
from kiosk.audit.keys import FALLBACK_KEY_NAME
from kiosk.reasons import Reason
from kiosk.settings import Settings
from tests.audit.conftest import DIGEST, FakeClock, make_record

JPEG = b"\xff\xd8\xff\xe0" + b"pixels" * 100


def test_opens_in_the_data_folder_with_a_fallback_subject_key(tmp_path: Path,
                                                              clock: FakeClock) -> None:
    settings = Settings().replace("kiosk", kiosk_id="lobby")
    audit = open_kiosk_log(settings, tmp_path / "data", clock=clock,
                           keyring_backend=fail.Keyring())
    try:
        assert audit.path == str(tmp_path / "data" / "kiosk.db")
        assert audit.config.kiosk_id == "lobby"
        ref = audit.subject_ref("P-1")
        audit.begin_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                            settings_digest=DIGEST)
    finally:
        audit.close()
    key = tmp_path / "data" / FALLBACK_KEY_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    clock.advance(minutes=1)
    # A restart closes the attempt the previous run left open, with the same subject key.
    audit = open_kiosk_log(settings, tmp_path / "data", clock=clock,
                           keyring_backend=fail.Keyring())
    try:
        stored = audit.get_attempt(1)
        assert stored.record is not None and stored.record.reasons == (Reason.INTERRUPTED,)
        assert audit.subject_ref("P-1") == ref == stored.subject_ref
    finally:
        audit.close()


def test_best_frames_need_a_key_file_when_there_is_no_keyring(tmp_path: Path,
                                                              clock: FakeClock) -> None:
    settings = Settings().replace("audit", store_best_frame=True)
    with pytest.raises(KeyUnavailable, match="no key file is configured"):
        open_kiosk_log(settings, tmp_path, clock=clock, keyring_backend=fail.Keyring())
    assert not (tmp_path / "kiosk.db").exists()
    key_file = tmp_path / "secret" / "audit.key"
    create_key_file(key_file)
    settings = settings.replace("audit", key_file=str(key_file),
                                db_path=str(tmp_path / "db" / "audit.db"))
    audit = open_kiosk_log(settings, tmp_path, clock=clock, keyring_backend=fail.Keyring())
    try:
        result = audit.record_attempt(make_record(clock), best_frame=JPEG)
        assert audit.best_frame(result.attempt_id) == JPEG
        assert audit.path == str(tmp_path / "db" / "audit.db")
    finally:
        audit.close()
    assert not (tmp_path / "db" / FALLBACK_KEY_NAME).exists()  # the key file served both
