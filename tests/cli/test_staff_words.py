"""Names and reasons staff type into the commands that record what they did (locale audit,
finding 4): names in every script are recorded, what a record cannot hold is refused naming
the option, and no command answers with an unexpected error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from wcwidth import wcswidth

from tests.cli.test_audit import db, env, run  # noqa: F401  (fixtures, registered by import)

PERSIAN = "\u0645\u0647\u062f\u06cc\u200c\u0632\u0627\u062f\u0647"  # with a zero-width non-joiner
DOCTOR = "\U0001f469\u200d\u2695\ufe0f Dr Rao"  # an emoji sequence joined by ZWJ
FRENCH = "Motif\u00a0: pi\u00e8ce v\u00e9rifi\u00e9e\u202f!"  # French no-break spaces


def actors(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT actor, reason FROM operator_actions ORDER BY seq").fetchall()


def test_names_and_reasons_in_several_scripts_are_recorded_as_typed(
        db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    for argv in (["override", "2", "--to", "pass", "--by", PERSIAN, "--reason", FRENCH],
                 ["unlock", "--kiosk", "kiosk-1", "--by", DOCTOR, "--reason", FRENCH],
                 ["pin-reset", "--by", f"  {PERSIAN}  ", "--reason", FRENCH]):
        status, _, err = run(capsys, env, *argv, "--db", str(db))
        assert status == 0, err
    assert actors(db) == [(PERSIAN, FRENCH), (DOCTOR, FRENCH),
                          (PERSIAN, f"PIN refusals ended by staff: {FRENCH}")]


@pytest.mark.parametrize(("command", "said"), [
    (["override", "2", "--to", "pass", "--by", "Dana"], "--reason holds U+202E (RIGHT-TO-LEFT "
                                                          "OVERRIDE), which cannot be recorded"),
    (["pin-reset", "--by", "Dana"], "--reason holds U+202E"),
    (["purge", "--older-than", "3650d", "--by", "Dana"], "--reason holds U+202E"),
    (["unlock", "--kiosk", "kiosk-1", "--by", "Dana"], "--reason holds U+202E"),
])
def test_what_a_record_cannot_hold_is_refused_by_name_before_anything_is_written(
        db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str],  # noqa: F811
        command: list[str], said: str) -> None:
    """A direction override can make a log line say something else: refused. Before,
    pin-reset and purge answered 'unexpected error (ValueError)'."""
    status, out, err = run(capsys, env, *command, "--reason", "ok \u202egnikcehc",
                           "--db", str(db))
    assert status == 2 and out == ""
    assert said in err and "unexpected" not in err
    assert actors(db) == []


def test_pin_reset_says_how_long_a_reason_may_be(db: Path, env: dict[str, str],  # noqa: F811
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Its record puts 29 characters before the reason: 471 are left, and saying 500 (or
    answering with an unexpected error) was wrong."""
    status, _, err = run(capsys, env, "pin-reset", "--by", "Dana", "--reason", "x" * 472,
                         "--db", str(db))
    assert status == 2
    assert "give a reason (1-471 characters, one line) in --reason" in err
    status, _, err = run(capsys, env, "pin-reset", "--by", "Dana", "--reason", "x" * 471,
                         "--db", str(db))
    assert status == 0, err


def test_a_latin1_terminal_reads_every_listing_and_gets_no_half_export(
        db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str],  # noqa: F811
        tmp_path: Path) -> None:
    """In a legacy 8-bit locale, `kiosk audit actions` stopped at the first Persian name with
    an encoding error, and `export` to standard output left a truncated file."""
    import os
    import subprocess
    import sys

    status, _, err = run(capsys, env, "unlock", "--kiosk", "kiosk-1", "--by", PERSIAN,
                         "--reason", FRENCH, "--db", str(db))
    assert status == 0, err
    latin1 = {**os.environ, **env, "PYTHONIOENCODING": "latin-1"}

    def kiosk(*argv: str) -> subprocess.CompletedProcess:
        # The console script's own entry, as a terminal starts it.
        return subprocess.run([sys.executable, "-c", "import sys; from kiosk.cli import "
                               "console; sys.exit(console())", "audit", *argv, "--db", str(db)],
                              env=latin1, capture_output=True, timeout=120)

    shown = kiosk("actions")
    assert shown.returncode == 0, shown.stderr[-500:]
    assert b"\\u0645\\u0647\\u062f\\u06cc\\u200c" in shown.stdout  # escaped, not a crash
    exported = kiosk("export")
    assert exported.returncode == 2 and exported.stdout == b""
    assert b"standard output writes iso8859-1, which cannot hold every character" in (
        exported.stderr)
    written = kiosk("export", "--output", str(tmp_path / "out.csv"))
    assert written.returncode == 0, written.stderr[-500:]
    assert "kiosk-1" in (tmp_path / "out.csv").read_text(encoding="utf-8")


def test_wide_names_keep_the_actions_table_in_line(
        db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    """Columns were sized with len(): a name in CJK or with an emoji takes two terminal
    columns a character, and pushed the columns after it out of line (locale audit, 11)."""
    for name in ("\u5c71\u7530\u592a\u90ce", DOCTOR, "Rene\u0301e", "Bob"):  # 山田太郎, NFD é
        status, _, err = run(capsys, env, "pin-reset", "--by", name, "--reason", "ok",
                             "--db", str(db))
        assert status == 0, err
    status, out, _ = run(capsys, env, "actions", "--db", str(db))
    assert status == 0
    lines = out.splitlines()[:5]
    # Where ABOUT starts, in terminal columns, on the header and on each row.
    starts = {wcswidth(line[:line.index("ABOUT" if i == 0 else "  -  ") + (0 if i == 0 else 2)])
              for i, line in enumerate(lines)}
    assert len(starts) == 1, lines
