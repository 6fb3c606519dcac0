"""A badge or ID number longer than the cap is refused by each command that takes one, in
the option's words, before anything is opened or recorded."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kiosk.audit import AuditLog
from kiosk.cli import main
from tests.cli.test_audit import db, env, run  # noqa: F401  (fixtures, registered by import)
from tests.cli.test_verify_input import write_noise_video

LONG = "A" * 500
TOO_LONG = ("the subject number is longer than 64 characters (500 once spaces, dashes and "
            "invisible characters are removed); give the badge or ID number alone\n")


def verify(capsys: pytest.CaptureFixture[str], environ: dict[str, str], video: Path,
           audit_db: Path, number: str) -> tuple[int, str, str]:
    status = main(["verify", "--source", str(video), "--db", str(audit_db),
                   "--subject", number], environ=environ)
    out, err = capsys.readouterr()
    return status, out, err


def test_verify_refuses_a_long_number_before_the_log_is_opened(
        capsys: pytest.CaptureFixture[str], env: dict[str, str],  # noqa: F811
        tmp_path: Path) -> None:
    video = write_noise_video(tmp_path / "clip.mp4")
    audit_db = tmp_path / "audit.db"
    # Before: hashed and run, an attempt recorded under a 500-character "number".
    status, out, err = verify(capsys, env, video, audit_db, LONG)
    assert (status, out, err) == (
        2, "", f"kiosk verify: --subject: the badge or ID number cannot be used: {TOO_LONG}")
    assert not audit_db.exists()


@pytest.mark.parametrize("number", ["", " - "])
def test_verify_refuses_a_number_that_names_nobody(
        capsys: pytest.CaptureFixture[str], env: dict[str, str], tmp_path: Path,  # noqa: F811
        number: str) -> None:
    # Before: an empty --subject ran the session under no subject at all.
    audit_db = tmp_path / "audit.db"
    status, _, err = verify(capsys, env, write_noise_video(tmp_path / "clip.mp4"), audit_db,
                            number)
    assert status == 2
    assert err.startswith("kiosk verify: --subject: the badge or ID number cannot be used: the "
                          "subject number is empty once spaces")
    assert not audit_db.exists()


def test_audit_unlock_refuses_a_long_number_and_records_nothing(
        db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    whom = ("--by", "Dana", "--reason", "r", "--db", str(db))
    refused = (2, "", f"kiosk audit: --subject: {TOO_LONG}")
    assert run(capsys, env, "unlock", "--subject", LONG, *whom) == refused
    monkeypatch.setattr("sys.stdin", io.StringIO(LONG + "\n"))
    assert run(capsys, env, "unlock", "--subject", "-", *whom) == refused
    with AuditLog.open(db, read_only=True) as audit:
        assert audit.operator_actions() == []
