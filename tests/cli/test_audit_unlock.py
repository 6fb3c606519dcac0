"""``kiosk audit unlock``: whom it names is checked, and said in the options' words."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kiosk.audit import AuditLog
from tests.audit.conftest import make_record
from tests.audit.fleet.conftest import (  # noqa: F401  (fixtures, registered by import)
    fleet_url,
    open_kiosk,
    pg_cluster,
    site_key,
)
from tests.cli.test_audit import db, env, run  # noqa: F401  (fixtures, registered by import)


def unlock(capsys, env, db, *whom: str) -> tuple[int, str, str]:  # noqa: F811
    return run(capsys, env, "unlock", *whom, "--by", "Dana", "--reason", "r", "--db", str(db))


def recorded(db: Path) -> list:  # noqa: F811
    with AuditLog.open(db, read_only=True) as audit:
        return audit.operator_actions()


def test_a_malformed_subject_ref_says_what_to_give(db, env, capsys):  # noqa: F811
    status, _, err = unlock(capsys, env, db, "--subject-ref", "zzz")
    assert status == 2
    assert "subject_ref()" not in err
    assert err.startswith("kiosk audit: --subject-ref is not a subject reference (3 characters "
                          "given): give the 64 hex digits `kiosk audit show ID` prints")
    assert "zzz" not in err  # what was typed there by mistake is often the badge number
    assert "--subject NUMBER" in err
    assert recorded(db) == []


def test_an_unknown_kiosk_is_refused_with_the_known_ones(db, env, capsys):  # noqa: F811
    status, _, err = unlock(capsys, env, db, "--kiosk", "nokiosk")
    assert status == 2
    assert err == "kiosk audit: --kiosk nokiosk: no such kiosk; the kiosks known to this log: " \
                  "kiosk-1\n"
    assert recorded(db) == []
    # This kiosk (the settings' id) may always be unlocked, even before its first attempt.
    status, out, _ = unlock(capsys, {**env, "KIOSK_KIOSK_KIOSK_ID": "desk-2"}, db,
                            "--kiosk", "desk-2")
    assert status == 0 and "for kiosk desk-2" in out


@pytest.mark.parametrize("number", ["", "   ", " - "])
def test_an_empty_subject_is_refused_before_the_key_is_needed(db, env, capsys, number,  # noqa: F811
                                                              monkeypatch):
    status, _, err = unlock(capsys, env, db, "--subject", number)
    assert status == 2
    assert err == ("kiosk audit: --subject: the subject number is empty once spaces, dashes "
                   "and invisible characters are removed; give the badge or ID number\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(number + "\n"))
    assert unlock(capsys, env, db, "--subject", "-")[2] == err
    # Refused alike where the key cannot be found: the number is checked first.
    no_key = {**env, "KIOSK_AUDIT_KEY_FILE": str(db.parent / "missing.key")}
    assert unlock(capsys, no_key, db, "--subject", number)[2] == err
    assert recorded(db) == []


def test_a_kiosk_of_the_fleet_may_be_unlocked_from_another_kiosk(
        open_kiosk, clock, tmp_path, fleet_url, site_key, capsys):  # noqa: F811
    west = open_kiosk("west")
    attempt = west.open_attempt(started_at=clock.now, subject_ref=None, app_version="0.1.0",
                                settings_digest="ab" * 32)
    west.finish_attempt(attempt, make_record(clock, kiosk_id="west"))
    assert west.fleet is not None and west.fleet.sender.flush(10)
    east = open_kiosk("east", start=False)
    east.close()
    east_env = {"HOME": str(tmp_path), "KIOSK_FLEET_URL": fleet_url,
                "KIOSK_KIOSK_KIOSK_ID": "east", "KIOSK_AUDIT_KEY_FILE": str(site_key)}
    status, out, _ = unlock(capsys, east_env, east.path, "--kiosk", "west")
    assert status == 0 and "for kiosk west" in out
    status, _, err = unlock(capsys, east_env, east.path, "--kiosk", "north")
    assert status == 2
    assert err == ("kiosk audit: --kiosk north: no such kiosk; the kiosks known to this log or "
                   "the fleet server: east, west\n")
