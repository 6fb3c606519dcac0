"""One person's attempts looked up by badge or ID number, for a request to see one's data
(privacy audit, F2): before, only ``unlock --subject`` took a number, and it recorded an
action and started the person's failure count again."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from keyring.backends import fail

from kiosk.audit import AuditConfig, AuditLog, key_store
from kiosk.cli import main
from kiosk.settings import Settings
from tests.audit.conftest import make_record
from tests.cli.test_audit import NUMBER, db, env, run  # noqa: F401  (fixtures, registered by import)


def unlocks(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as raw:
        return int(raw.execute("SELECT count(*) FROM operator_actions").fetchone()[0])


def test_list_and_export_find_one_persons_attempts_and_record_nothing(
        db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    before = unlocks(db)
    # The number typed another way (case, spaces) names the same person.
    status, out, _ = run(capsys, env, "list", "--subject", "zx 4471 09", "--db", str(db))
    assert status == 0
    assert [int(line.split()[0]) for line in out.splitlines()[1:-1]] == [7, 6, 5, 4, 3, 2, 1]
    assert out.splitlines()[-1] == "7 attempt(s), newest first"
    status, out, err = run(capsys, env, "export", "--subject", NUMBER, "--format", "jsonl",
                           "--db", str(db))
    assert status == 0 and err.strip() == "exported 7 attempt(s) as jsonl"
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert len({r["subject_ref"] for r in rows}) == 1
    ref = rows[0]["subject_ref"]
    status, out, _ = run(capsys, env, "list", "--subject-ref", ref.upper(), "--db", str(db))
    assert status == 0 and out.splitlines()[-1] == "7 attempt(s), newest first"
    status, out, _ = run(capsys, env, "list", "--subject", "ZX-0000-00", "--db", str(db))
    assert status == 0 and out.splitlines()[-1] == "0 attempt(s), newest first"
    assert unlocks(db) == before  # a look-up: nothing recorded, no count started again


def test_a_subject_lookup_refuses_what_names_nobody(
        db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    status, _, err = run(capsys, env, "list", "--subject-ref", "ZX-4471-09", "--db", str(db))
    assert status == 2 and "--subject-ref is not a subject reference" in err
    status, _, err = run(capsys, env, "export", "--subject", " - ", "--db", str(db))
    assert status == 2 and "--subject:" in err


@pytest.fixture
def framed(tmp_path: Path, clock) -> Path:
    """A log that keeps best frames: attempt 1 with one, attempt 2 without."""
    path = tmp_path / "framed" / "kiosk.db"
    keys = key_store(Settings(), path, keyring_backend=fail.Keyring())
    with AuditLog.open(path, AuditConfig(store_best_frame=True), clock=clock,
                       subject_hasher=keys.subject_hasher(),
                       frame_cipher=keys.frame_cipher()) as audit:
        audit.record_attempt(make_record(clock), best_frame=JPEG)
        audit.record_attempt(make_record(clock))
    return path


#: A stand-in for a face: any JPEG's bytes come back as stored.
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"


def test_the_picture_an_attempt_kept_is_written_for_the_person_or_staff(
        framed: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str],  # noqa: F811
        tmp_path: Path) -> None:
    """No command could show a kept frame, so it could be given neither to the person who
    asked for their data nor to staff reviewing a case (privacy audit, F2)."""
    target = tmp_path / "attempt-1.jpg"
    status, out, _ = run(capsys, env, "frame", "1", "--output", str(target), "--db", str(framed))
    assert status == 0 and "readable by you only" in out
    assert target.read_bytes() == JPEG
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # Never over another file; an attempt without one says why.
    status, _, err = run(capsys, env, "frame", "1", "--output", str(target), "--db", str(framed))
    assert status == 2 and "exists; choose another --output" in err
    status, _, err = run(capsys, env, "frame", "2", "--output", str(tmp_path / "2.jpg"),
                         "--db", str(framed))
    assert status == 2 and "attempt 2 kept no picture" in err
    assert not (tmp_path / "2.jpg").exists()


@pytest.mark.parametrize("command", ["unlock", "override", "pin-reset", "new-log", "purge"])
def test_every_reason_staff_type_says_it_is_kept_and_holds_no_personal_details(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A reason naming the person and their address was accepted into the chain and the
    fleet's copy with no word of warning (privacy audit, F6)."""
    with pytest.raises(SystemExit):
        main(["audit", command, "--help"], {})
    text = " ".join(capsys.readouterr().out.split())
    assert "shipped to the fleet" in text and "never a person's name, address or health" in text
