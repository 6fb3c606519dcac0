"""``kiosk audit ...``: every subcommand, its exit status and what it never prints."""

from __future__ import annotations

import csv
import io
import json
import random
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from keyring.backends import fail

from kiosk.audit import AuditConfig, AuditLog, RateLimitPolicy, key_store
from kiosk.cli import main
from kiosk.settings import Settings
from tests.audit.conftest import FakeClock, make_record
from tests.audit.test_camera import WEBCAM

NUMBER = "ZX-4471-09"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "share")}


@pytest.fixture
def db(tmp_path: Path, clock: FakeClock) -> Path:
    """Eight attempts over four days; the subject is locked out after the last failures.

    The commands run on the real clock, so the lockout lasts ten years to be in force.
    """
    path = tmp_path / "audit" / "kiosk.db"
    keys = key_store(Settings(), path, keyring_backend=fail.Keyring())
    config = AuditConfig(limits=RateLimitPolicy(max_failures=3, kiosk_max_failures=100,
                                                lockout=timedelta(days=3650)))
    with AuditLog.open(path, config, clock=clock, subject_hasher=keys.subject_hasher()) as audit:
        ref = audit.subject_ref(NUMBER)
        for decision in ["pass", "review", "pass", "fail"]:
            audit.record_attempt(make_record(clock, decision=decision, subject_ref=ref))
            clock.advance(hours=20)
        for _ in range(3):
            audit.record_attempt(make_record(clock, decision="fail", subject_ref=ref))
            clock.advance(minutes=2)
        # The last: the accessible check, its first prompt paused and then a second chance,
        # on a camera the log names.
        end = clock.now
        audit.record_attempt(make_record(clock, decision="pass", subject_ref=None,
                                         accessible=True, camera=WEBCAM, challenges=[
            {"action": "smile", "prompted_at": end - timedelta(seconds=8), "responded_at": None,
             "outcome": "retried", "reason": "CHALLENGE_TIMEOUT", "paused_s": 2.5},
            {"action": "blink", "prompted_at": end - timedelta(seconds=3),
             "responded_at": end - timedelta(seconds=2), "outcome": "passed", "retry": True}]))
    return path


def run(capsys: pytest.CaptureFixture[str], env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    status = main(["audit", *argv], environ=env)
    out, err = capsys.readouterr()
    return status, out, err


def test_list_filters_and_never_shows_the_number(db: Path, env: dict[str, str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, env, "list", "--db", str(db))
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "STARTED", "(UTC)"]
    assert [int(line.split()[0]) for line in lines[1:-1]] == [8, 7, 6, 5, 4, 3, 2, 1]
    assert lines[-1] == "8 attempt(s), newest first"
    assert NUMBER not in out and NUMBER.replace("-", "") not in out
    status, out, _ = run(capsys, env, "list", "--db", str(db), "--decision", "fail",
                         "--limit", "2")
    assert [int(line.split()[0]) for line in out.splitlines()[1:-1]] == [7, 6]
    status, out, _ = run(capsys, env, "list", "--db", str(db), "--since", "2026-05-02")
    assert [int(line.split()[0]) for line in out.splitlines()[1:-1]] == [8, 7, 6, 5, 4, 3, 2]


def test_show_prints_the_whole_attempt(db: Path, env: dict[str, str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, env, "show", "4", "--db", str(db))
    assert status == 0
    assert out.startswith("attempt 4 (complete, seq 4)\n")
    for expected in ("decision:         fail", "reasons:          SCREEN_SUSPECTED",
                     "liveness score:   42.50", "cloud calls:      CompareFaces",
                     "1. blink: passed", "(+0.650 s)", "2. turn_left: timeout",
                     "moire: score 0.710, confidence 0.55, reason SCREEN_SUSPECTED",
                     # a cue's code only where it moved the decision (not PRINT_SUSPECTED)
                     "texture: score 0.120, confidence 0.80, reason -,",
                     "lbp_chi2=0.031 levels=32", "best frame:       none"):
        assert expected in out
    assert NUMBER not in out
    assert "check:            standard" in out and "paused" not in out
    assert "camera:           not recorded" in out
    status, out, _ = run(capsys, env, "show", "8", "--db", str(db))
    assert status == 0
    for expected in ("check:            the accessible check, chosen by the person",
                     "camera:           /dev/video0 'HD Webcam C615' uvcvideo usb 046d:0825\n",
                     "1. smile: retried", "reason CHALLENGE_TIMEOUT, paused 2.5 s",
                     "2. blink: passed", "reason -, second chance"):
        assert expected in out
    status, _, err = run(capsys, env, "show", "99", "--db", str(db))
    assert status == 2 and "there is no attempt 99" in err


def test_show_says_whose_clock_a_recordings_times_are_on(tmp_path: Path, clock: FakeClock,
                                                        env: dict[str, str],
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    # kiosk verify reads a file faster than real time: the stored times are when its frames
    # were processed, not the reactions judged. An action under way before its prompt read
    # "(+-0.076 s)".
    path = tmp_path / "v.db"
    with AuditLog.open(path, AuditConfig(), clock=clock) as audit:
        end = clock.now
        audit.record_attempt(make_record(
            clock, decision="fail", camera={"kind": "video file", "name": "clip.mp4"},
            challenges=[{"action": "smile", "prompted_at": end - timedelta(seconds=3),
                         "responded_at": end - timedelta(seconds=3, milliseconds=76),
                         "outcome": "failed", "reason": "ACTION_BEFORE_PROMPT"}]))
    status, out, _ = run(capsys, env, "show", "1", "--db", str(path))
    assert status == 0 and "+-" not in out
    assert "challenges (1), at the times the recording's frames were processed:" in out
    assert "(0.076 s before the prompt)" in out


def test_export_csv_and_jsonl(db: Path, env: dict[str, str], tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, env, "export", "--db", str(db), "--format", "csv")
    assert status == 0 and err.strip() == "exported 8 attempt(s) as csv"
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 9)]
    assert rows[3]["decision"] == "fail" and rows[3]["reasons"] == "SCREEN_SUSPECTED"
    assert json.loads(rows[3]["challenges"])[0]["action"] == "blink"
    status, out, _ = run(capsys, env, "export", "--db", str(db), "--format", "jsonl",
                         "--since", "2026-05-03T00:00:00")
    items = [json.loads(line) for line in out.splitlines()]
    assert [i["id"] for i in items] == [3, 4, 5, 6, 7, 8]
    assert items[0]["match"] == {"matched": True, "matcher": "local", "reasons": [],
                                 "similarity": 96.25}
    target = tmp_path / "out.jsonl"
    assert run(capsys, env, "export", "--db", str(db), "--format", "jsonl", "--output",
               str(target))[0] == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(target.read_text().splitlines()) == 8
    status, _, err = run(capsys, env, "export", "--db", str(db), "--output", str(target))
    assert status == 2 and "exists" in err
    for text in (out, target.read_text()):
        assert NUMBER not in text


def test_stats(db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, env, "stats", "--db", str(db))
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "attempts: 8 (pass 3, fail 4, review 1); incomplete: 0"
    assert lines[1] == ("lockouts: 1; operator unlocks: 0; decisions overridden by staff: 0 "
                        "(the counts above are the decisions as recorded)")
    assert lines[3].split() == ["SCREEN_SUSPECTED", "5"]
    assert lines[4].split() == ["by", "day", "(UTC):", "pass", "fail", "review"]
    assert [line.split() for line in lines[5:]] == [["2026-05-01", "1", "0", "0"],
                                                     ["2026-05-02", "0", "0", "1"],
                                                     ["2026-05-03", "1", "1", "0"],
                                                     ["2026-05-04", "1", "3", "0"]]


def test_an_override_shows_in_list_show_and_stats(db: Path, env: dict[str, str], clock,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Before, only the operator panel showed it: `kiosk audit show` and `list` said fail
    for an attempt staff had changed to pass."""
    keys = key_store(Settings(), db, keyring_backend=fail.Keyring())
    with AuditLog.open(db, AuditConfig(), clock=clock,
                       subject_hasher=keys.subject_hasher()) as audit:
        audit.override(4, "pass", actor="alice", reason="ID checked by hand")
    status, out, _ = run(capsys, env, "show", "4", "--db", str(db))
    assert status == 0 and "decision:         fail" in out
    assert "override:         to pass by alice at " in out and "UTC: ID checked by hand" in out
    status, out, _ = run(capsys, env, "list", "--db", str(db))
    row = next(line for line in out.splitlines() if line.split()[0] == "4")
    assert "fail, now pass" in row
    status, out, _ = run(capsys, env, "stats", "--db", str(db))
    assert "decisions overridden by staff: 1" in out.splitlines()[1]
    # The filter finds what the list shows: attempt 4 under pass, no more under fail; the
    # export keeps the rows as recorded.
    ids = {}
    for decision in ("pass", "fail"):
        _, out, _ = run(capsys, env, "list", "--decision", decision, "--db", str(db))
        ids[decision] = [int(line.split()[0]) for line in out.splitlines()[1:-1]]
    assert 4 in ids["pass"] and 4 not in ids["fail"] and ids["fail"] == [7, 6, 5]
    _, out, _ = run(capsys, env, "export", "--decision", "fail", "--format", "jsonl", "--db",
                    str(db))
    assert [json.loads(line)["id"] for line in out.splitlines()] == [4, 5, 6, 7]


def test_unlock_by_number_records_who_and_why(db: Path, env: dict[str, str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, env, "unlock", "--subject", "zx 4471 09", "--by", "Dana",
                         "--reason", "passport checked at the desk", "--db", str(db))
    assert status == 0
    assert out.splitlines()[0].startswith("unlock #1 recorded by Dana for subject ")
    assert "lifted lockout #1" in out and NUMBER not in out
    with AuditLog.open(db, read_only=True) as audit:
        action = audit.operator_actions()[0]
        assert (action.actor, action.reason, action.details) == (
            "Dana", "passport checked at the desk", {"lifted": [1]})
        assert audit.lockouts() == []
    status, out, _ = run(capsys, env, "unlock", "--subject-ref", action.target, "--by", "Dana",
                         "--reason", "again", "--db", str(db))
    assert status == 0 and "no lockout was in force" in out
    status, out, _ = run(capsys, env, "unlock", "--kiosk", "kiosk-1", "--by", "Dana",
                         "--reason", "reset", "--db", str(db))
    assert status == 0 and "for kiosk kiosk-1" in out


def test_unlock_names_whom_it_unlocks(db: Path, env: dict[str, str],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    # A bare argument used to be taken as a subject number, whatever it looked like.
    for argv in (["kiosk-1"], [], ["--subject", "x", "--kiosk", "kiosk-1"]):
        with pytest.raises(SystemExit) as exit_:
            main(["audit", "unlock", *argv, "--by", "Dana", "--reason", "r", "--db", str(db)],
                 env)
        assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "one of the arguments --subject --subject-ref --kiosk is required" in err
    with AuditLog.open(db, read_only=True) as audit:
        assert audit.operator_actions() == []


def test_unlock_reads_the_number_from_stdin(db: Path, env: dict[str, str],
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(NUMBER + "\n"))
    status, out, _ = run(capsys, env, "unlock", "--subject", "-", "--by", "Eve", "--reason", "ok",
                         "--db", str(db))
    assert status == 0 and "lifted lockout #1" in out


def test_verify_passes_then_names_the_edited_row(db: Path, env: dict[str, str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, env, "verify", "--db", str(db))
    assert status == 0
    assert out.splitlines()[0] == "chain OK: 9 row(s), seq 1-9; 0 incomplete attempt(s)"
    raw = sqlite3.connect(db)
    raw.execute("DROP TRIGGER attempts_append_only")
    raw.execute("UPDATE attempts SET decision = 'pass' WHERE id = 2")
    raw.commit()
    raw.close()
    status, out, _ = run(capsys, env, "verify", "--db", str(db))
    assert status == 1
    assert out.splitlines()[0] == ("chain BROKEN at attempts #2 (seq 2): its content does not "
                                   "match its row hash: the row was edited")


def test_purge_keeps_the_chain_verifiable(db: Path, env: dict[str, str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, env, "purge", "--older-than", "1d", "--by", "Fay",
                         "--db", str(db))
    assert status == 0 and out.startswith("purged before ")
    status, out, _ = run(capsys, env, "verify", "--db", str(db))
    assert status == 0
    status, out, _ = run(capsys, env, "purge", "--older-than", "3650d", "--db", str(db))
    assert status == 0 and out.startswith("nothing to purge")



@pytest.mark.parametrize("age", ["99999999999d", "999999999d", "36526d", "5220w"])
def test_an_age_beyond_a_century_is_refused_in_one_line(db: Path, env: dict[str, str],
                                                        capsys: pytest.CaptureFixture[str],
                                                        age: str) -> None:
    """Ages past Python's dates overflowed with a traceback (or an "unexpected error")."""
    before = db.read_bytes()
    with pytest.raises(SystemExit) as exit_:
        run(capsys, env, "purge", "--older-than", age, "--db", str(db))
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    assert err.rstrip().endswith(f"argument --older-than: '{age}': the duration must be at "
                                 "most 36525 days (a century)")
    assert db.read_bytes() == before


def test_default_database_comes_from_the_settings(tmp_path: Path, env: dict[str, str],
                                                  clock: FakeClock,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    default = tmp_path / "share" / "liveness-kiosk" / "kiosk.db"
    with AuditLog.open(default, clock=clock) as audit:
        audit.record_attempt(make_record(clock))
    status, out, _ = run(capsys, env, "list")
    assert status == 0 and out.splitlines()[-1] == "1 attempt(s), newest first"
    configured = tmp_path / "elsewhere.db"
    with AuditLog.open(configured, clock=clock) as audit:
        for _ in range(2):
            audit.record_attempt(make_record(clock))
    status, out, _ = run(capsys, {**env, "KIOSK_AUDIT_DB_PATH": str(configured)}, "list")
    assert out.splitlines()[-1] == "2 attempt(s), newest first"


def test_errors_exit_2_with_a_plain_message(tmp_path: Path, env: dict[str, str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.db"
    status, _, err = run(capsys, env, "verify", "--db", str(missing))
    assert status == 2 and err.strip() == f"kiosk audit: there is no audit database at {missing}"
    assert not missing.exists()
    with pytest.raises(SystemExit) as info:
        main(["audit", "list", "--since", "yesterday"], environ=env)
    assert info.value.code == 2
    assert "not a date" in capsys.readouterr().err


def test_keygen_creates_a_private_key_once(tmp_path: Path, env: dict[str, str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "keys" / "audit.key"
    status, out, _ = run(capsys, env, "keygen", "--key-file", str(key))
    assert status == 0 and str(key) in out
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    secret = key.read_text().strip()
    assert len(secret) == 64 and secret not in out
    status, _, err = run(capsys, env, "keygen", "--key-file", str(key))
    assert status == 2 and "never overwritten" in err
    assert key.read_text().strip() == secret


def test_lockouts_lists_those_in_force_and_their_history(db: Path, env: dict[str, str],
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    status, out, _ = run(capsys, env, "lockouts", "--db", str(db))
    assert status == 0
    lines = out.splitlines()
    assert lines[1].split()[:2] == ["1", "subject"] and lines[1].endswith("3  active")
    assert lines[-1] == "1 lockout(s) in force"
    run(capsys, env, "unlock", "--subject", NUMBER, "--by", "Gus", "--reason", "ok",
        "--db", str(db))
    status, out, _ = run(capsys, env, "lockouts", "--db", str(db))
    assert out.splitlines()[-1] == "0 lockout(s) in force"
    status, out, _ = run(capsys, env, "lockouts", "--all", "--db", str(db))
    assert out.splitlines()[1].endswith("lifted by unlock #1")


def damage(db: Path) -> None:
    """Overwrite two of the log's pages with noise (after a checkpoint, so the file holds
    every row): what a failing disk does."""
    raw = sqlite3.connect(db)
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = raw.execute("PRAGMA page_size").fetchone()[0]
    finally:
        raw.close()
    data = bytearray(db.read_bytes())
    noise = random.Random(7)
    for page in (3, 4):
        data[page * size:(page + 1) * size] = noise.randbytes(size)
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("command", [["lockouts"], ["lockouts", "--all"], ["verify"],
                                     ["anchor"]])
def test_a_damaged_log_is_refused_in_one_line(db: Path, env: dict[str, str],
                                              capsys: pytest.CaptureFixture[str],
                                              command: list[str]) -> None:
    """"0 lockouts in force" read from a damaged log was a false all-clear; SQLite's report of
    the damage spans lines, the error one."""
    damage(db)
    status, out, err = run(capsys, env, *command, "--db", str(db))
    assert status == 2 and out == ""
    assert err.startswith(f"kiosk audit: the audit database {db} is damaged (")
    assert err.count("\n") == 1 and "***" not in err


def test_an_empty_file_is_no_log_and_is_left_as_it_is(tmp_path: Path, env: dict[str, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Purge used to turn it into a new, empty log (and verify then said "chain OK")."""
    empty = tmp_path / "lost" / "kiosk.db"
    empty.parent.mkdir()
    empty.touch()
    for command in (["purge", "--older-than", "30d"], ["list"], ["verify"], ["lockouts"]):
        status, out, err = run(capsys, env, *command, "--db", str(empty))
        assert (status, out) == (2, "")
        assert err == (f"kiosk audit: the audit database {empty} holds no audit log (an empty "
                       "file): the kiosk's log is elsewhere, or this one was lost\n")
    assert empty.stat().st_size == 0 and sorted(p.name for p in empty.parent.iterdir()) == [
        "kiosk.db"]


def test_an_export_that_fails_half_way_leaves_no_file(db: Path, env: dict[str, str],
                                                      tmp_path: Path, monkeypatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A log damaged past its first rows fails while the export is written: no partial file
    may take the name the retry needs."""
    import kiosk.cli.audit.reading as audit_cli
    from kiosk.audit import AuditUnavailable

    real = audit_cli.write_export

    def fails_after_the_header(attempts, out, fmt):
        out.write("id,started_at\n")
        raise AuditUnavailable("the audit database is damaged (test)", reason="corrupt")

    monkeypatch.setattr(audit_cli, "write_export", fails_after_the_header)
    target = tmp_path / "out.csv"
    status, _, err = run(capsys, env, "export", "--db", str(db), "--output", str(target))
    assert status == 2 and "damaged (test)" in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".out", "out"))) == []
    monkeypatch.setattr(audit_cli, "write_export", real)
    status, _, err = run(capsys, env, "export", "--db", str(db), "--output", str(target))
    assert status == 0 and len(target.read_text().splitlines()) == 9  # header and 8 rows
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize("spoil, message", [
    (lambda key: key.chmod(0o644), "can be read by other users (mode 0644)"),
    (lambda key: key.write_text("abc123\n"), "must hold at least 64 hex digits"),
], ids=["mode", "content"])
@pytest.mark.parametrize("command", [["verify"], ["anchor"],
                                     ["purge", "--older-than", "30d", "--by", "staff"]])
def test_the_default_key_file_that_cannot_be_used_is_named(
        db: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str], spoil, message: str,
        command: list[str]) -> None:
    """They said the log 'needs its audit key' as if none were there, sending staff to look
    for a key that was beside the log all along."""
    key = db.parent.with_name(db.parent.name + "-keys") / "kiosk-audit.key"
    assert key.is_file()
    spoil(key)
    status, out, err = run(capsys, env, *command, "--db", str(db))
    assert (status, out) == (2, "")
    assert message in err and str(key) in err and "needs its audit key" not in err


def test_a_configured_key_file_that_cannot_be_used_is_named(db: Path, env: dict[str, str],
                                                            tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    """verify said only that it "needs its audit key (audit.key_file, ...)" when the file
    given there was the problem."""
    bad = tmp_path / "short.key"
    bad.write_text("abc123\n")
    bad.chmod(0o600)
    status, out, err = run(capsys, {**env, "KIOSK_AUDIT_KEY_FILE": str(bad)}, "verify",
                           "--db", str(db))
    assert (status, out) == (2, "")
    assert err == f"kiosk audit: the key file {bad} must hold at least 64 hex digits\n"


def test_the_local_list_shows_whole_kiosk_ids(tmp_path: Path, env: dict[str, str], clock,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Cut at 12 characters, reception-floor-1 and reception-floor-2 read alike (the fleet's
    listing shows them whole since this stop; so does the local one)."""
    path = tmp_path / "kiosk.db"
    keys = key_store(Settings(), path, keyring_backend=fail.Keyring())
    for kiosk_id in ("reception-floor-1", "reception-floor-2"):
        config = AuditConfig(kiosk_id=kiosk_id)
        with AuditLog.open(path, config, clock=clock,
                           subject_hasher=keys.subject_hasher()) as audit:
            audit.record_attempt(make_record(clock, decision="fail", kiosk_id=kiosk_id))
        clock.advance(minutes=1)
    status, out, _ = run(capsys, env, "list", "--db", str(path))
    assert status == 0
    header, *rows, _ = out.splitlines()
    assert [row.split()[3] for row in rows] == ["reception-floor-2", "reception-floor-1"]
    assert header.index("SUBJECT") == rows[0].index("-  ")  # the columns stay aligned


VIRTUAL = {"kind": "camera", "device": "/dev/video2", "name": "OBS Virtual Camera",
           "driver": "v4l2loopback", "virtual": "driver 'v4l2loopback'"}


def test_actions_lists_staff_actions_and_the_kiosks_own_events(
        db: Path, env: dict[str, str], clock: FakeClock,
        capsys: pytest.CaptureFixture[str]) -> None:
    keys = key_store(Settings(), db, keyring_backend=fail.Keyring())
    with AuditLog.open(db, AuditConfig(), clock=clock,
                       subject_hasher=keys.subject_hasher()) as audit:
        clock.advance(minutes=5)
        audit.record_camera_refused(VIRTUAL)
        with pytest.raises(ValueError, match="describe a live camera"):
            audit.record_action("camera_refused", actor="kiosk", reason="x",
                                details={"kind": "video file", "name": "clip.mp4"})
    run(capsys, env, "unlock", "--subject", NUMBER, "--by", "Gus", "--reason", "known to staff",
        "--db", str(db))
    status, out, _ = run(capsys, env, "actions", "--db", str(db))
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "WHEN", "(UTC)", "ACTION"]
    assert lines[-1] == "2 action(s), newest first"
    unlock, refused = lines[1].split(), lines[2]
    assert unlock[3:5] == ["unlock", "Gus"] and "known to staff: 1 lockout(s) lifted" in lines[1]
    assert refused.split()[3:5] == ["camera_refused", "kiosk"]
    assert refused.endswith("virtual camera refused: /dev/video2 'OBS Virtual Camera' "
                            "v4l2loopback; flagged virtual: driver 'v4l2loopback'")
    status, out, _ = run(capsys, env, "actions", "--action", "camera_refused", "--db", str(db))
    assert [line.split()[3] for line in out.splitlines()[1:-1]] == ["camera_refused"]
    status, out, _ = run(capsys, env, "actions", "--until", "2000-01-01", "--db", str(db))
    assert out.splitlines()[-1] == "0 action(s), newest first"
    with pytest.raises(SystemExit) as refused_kind:
        run(capsys, env, "actions", "--action", "reboot", "--db", str(db))
    assert refused_kind.value.code == 2
    assert "invalid choice: 'reboot'" in capsys.readouterr().err
