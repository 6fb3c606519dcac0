"""``kiosk audit override``: what the operator panel's override does, from a shell (before,
only the panel could change a decision, so a back office without the kiosk's screen could
not settle a review)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk.audit import AuditLog
from tests.audit.conftest import FakeClock, make_record
from tests.cli.test_audit import db, env, run  # noqa: F401  (fixtures, registered by import)


def actions(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT COUNT(*) FROM operator_actions").fetchone()[0]


def test_an_override_is_recorded_and_read_as_the_decision_in_force(
        db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    status, out, err = run(capsys, env, "override", "2", "--to", "pass", "--by", "Dana",
                           "--reason", "ID checked by hand", "--db", str(db))
    assert status == 0, err
    assert out.splitlines() == [
        "override #1 recorded by Dana: attempt #2 review, now pass",
        "  it lifts no lockout and leaves the failure counted: kiosk audit unlock ends a "
        "lockout"]
    _, shown, _ = run(capsys, env, "show", "2", "--db", str(db))
    assert "ID checked by hand" in shown and "to pass by Dana" in shown
    _, passed, _ = run(capsys, env, "list", "--decision", "pass", "--db", str(db))
    assert [int(line.split()[0]) for line in passed.splitlines()[1:-1]] == [8, 3, 2, 1]
    # A second override changes it again, from the decision then in force.
    status, out, _ = run(capsys, env, "override", "2", "--to", "fail", "--by", "Eli",
                         "--reason", "the ID was not his", "--db", str(db))
    assert status == 0 and out.splitlines() == [
        "override #2 recorded by Eli: attempt #2 pass, now fail"]
    status, out, _ = run(capsys, env, "verify", "--db", str(db))
    assert status == 0 and out.startswith("chain OK: 11 row(s)")


def test_an_override_to_pass_leaves_the_lockout(db: Path, env: dict[str, str],  # noqa: F811
                                                capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, env, "override", "7", "--to", "pass", "--by", "Dana",
                         "--reason", "a known member", "--db", str(db))
    assert status == 0, err
    _, locked, _ = run(capsys, env, "lockouts", "--db", str(db))
    assert locked.splitlines()[-1].startswith("1 lockout")


@pytest.mark.parametrize(("argv", "said"), [
    (["1", "--to", "pass"], "attempt 1 already has the decision 'pass'"),
    (["99", "--to", "pass"], "there is no attempt 99 in the audit log"),
    (["3", "--to", "review", "--by", " "], "type your name (1-100 characters) in --by"),
    (["9", "--to", "pass"], "attempt 9 is a scripted evaluation run"),
], ids=["same-decision", "no-such-attempt", "blank-name", "scripted"])
def test_what_cannot_be_overridden_is_refused_and_nothing_recorded(
        db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str],  # noqa: F811
        argv: list[str], said: str) -> None:
    with AuditLog.open(db) as audit:  # attempt 9: a kiosk verify --script run
        audit.record_attempt(make_record(FakeClock(), decision="fail", scripted=True))
    before = actions(db)
    if "--by" not in argv:
        argv = [*argv, "--by", "Dana"]
    status, out, err = run(capsys, env, "override", *argv, "--reason", "checked", "--db",
                           str(db))
    assert status == 2 and out == ""
    assert said in err
    assert actions(db) == before


def test_a_bad_decision_is_refused_by_name(db: Path, env: dict[str, str],  # noqa: F811
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, env, "override", "2", "--to", "approved", "--by", "Dana", "--reason", "x",
            "--db", str(db))
    assert exited.value.code == 2
    assert "argument --to: invalid choice: 'approved' (choose from 'pass', 'fail', 'review')" in (
        capsys.readouterr().err)


def test_no_override_on_an_altered_log(db: Path, env: dict[str, str],  # noqa: F811
                                       capsys: pytest.CaptureFixture[str]) -> None:
    raw = sqlite3.connect(db)
    raw.execute("DROP TRIGGER attempts_append_only")
    raw.execute("UPDATE attempts SET decision = 'pass' WHERE id = 4")
    raw.commit()
    raw.close()
    status, out, err = run(capsys, env, "override", "2", "--to", "pass", "--by", "Dana",
                           "--reason", "ID checked by hand", "--db", str(db))
    assert status == 2 and out == ""
    assert "was altered: attempts #4 (seq 4)" in err and "kiosk audit verify" in err
    assert actions(db) == 0
