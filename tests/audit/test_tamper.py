"""The keyed chain against someone who can write the file but has no key (issue 13 cases 3
and 5): recomputed hashes, a truncated and rewritten head, wiped rows, an inserted open row
for a victim, a restored older copy; and the kiosk's start-up check."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from keyring.backends import fail

from kiosk.audit import AuditLog, AuditUnavailable, key_store, open_kiosk_log
from kiosk.audit.canonical import GENESIS, row_hash
from kiosk.audit.errors import RateLimited
from kiosk.cli import main
from kiosk.reasons import Reason
from kiosk.settings import Settings
from tests.audit.conftest import DIGEST, FakeClock, make_record

NUMBER = "VICTIM-7"


@pytest.fixture
def kiosk(tmp_path: Path, clock: FakeClock):
    """A kiosk's log with a lockout, failures and passes: returns (settings, data folder)."""
    data = tmp_path / "data"
    settings = Settings().replace("audit", max_failures=3)

    def opened():
        return open_kiosk_log(settings, data, clock=clock, keyring_backend=fail.Keyring())

    with opened() as audit:
        ref = audit.subject_ref(NUMBER)
        for decision in ("pass", "fail", "fail", "fail", "pass"):
            audit.record_attempt(make_record(clock, decision=decision, subject_ref=ref))
            clock.advance(minutes=1)
        assert audit.active_lockout(ref) is not None
    return settings, data, opened


def db_of(data: Path) -> Path:
    return data / "kiosk.db"


def first_break_after(audit, path: Path, statement: str, *, clock, hasher, chain_key):
    """Close ``audit``, edit its file with ``statement`` (:func:`tamper`), and return the
    first break ``verify`` finds in it reopened read-only (None when the chain holds)."""
    from kiosk.audit import AuditLog

    audit.close()
    tamper(path, statement)
    with AuditLog.open(path, audit.config, clock=clock, subject_hasher=hasher,
                       chain_key=chain_key, read_only=True) as reopened:
        return reopened.verify().first_break


def tamper(path: Path, *statements: str, params: tuple = ()) -> None:
    """Edit the file as someone with write access but no key: drop the guards first."""
    raw = sqlite3.connect(path)
    try:
        for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                   ).fetchall():
            raw.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            raw.execute(statement, params if "?" in statement else ())
        raw.commit()
    finally:
        raw.close()


def restore_guards(path: Path) -> None:
    """Put the schema's guard triggers back, as a careful attacker would."""
    from kiosk.audit.schema import _V1_TABLES, _V3_COLUMNS, _append_only_triggers, _split

    script = "".join(_append_only_triggers(t) for t in ("attempts", "lockouts",
                                                        "operator_actions"))
    wanted = [s for s in _split(_V1_TABLES + _V3_COLUMNS) if s.startswith("CREATE TRIGGER")]
    raw = sqlite3.connect(path)
    try:
        for statement in _split(script) + wanted:
            raw.execute(statement)
        raw.commit()
    finally:
        raw.close()


def recompute_without_key(path: Path) -> None:
    """Rewrite every row's hash and the head with unkeyed SHA-256, after an edit."""
    raw = sqlite3.connect(path)
    raw.row_factory = sqlite3.Row
    rows = []
    for table in ("attempts", "lockouts", "operator_actions"):
        rows += [(r["seq"], table, dict(r)) for r in raw.execute(
            f"SELECT * FROM {table} WHERE seq IS NOT NULL")]
    prev = GENESIS
    updates = []
    for _, table, row in sorted(rows, key=lambda r: r[0]):
        row["prev_hash"] = prev
        prev = row_hash(prev, table, row)
        updates.append((table, row["id"], row["prev_hash"], prev))
    raw.close()
    tamper(path, *[f"UPDATE {t} SET prev_hash = '{p}', row_hash = '{h}' WHERE id = {i}"
                   for t, i, p, h in updates],
           f"UPDATE chain_state SET head_hash = '{prev}', keyed_from = NULL")


def cli_verify(data: Path, settings: Settings, *extra: str) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = main(["audit", "verify", "--db", str(db_of(data)), *extra],
                      environ={"HOME": str(data.parent)})
    return status, out.getvalue()


def test_recomputing_every_hash_without_the_key_is_detected(kiosk, tmp_path: Path) -> None:
    settings, data, opened = kiosk
    tamper(db_of(data), "UPDATE attempts SET decision = 'pass', attack = 0 WHERE id = 3")
    recompute_without_key(db_of(data))
    status, out = cli_verify(data, settings)
    assert status == 1 and out.startswith("chain BROKEN at chain")
    with pytest.raises(AuditUnavailable, match="tampered with") as info:
        opened()
    assert info.value.reason == "tampered"


def test_truncating_and_rewriting_the_head_is_detected(kiosk) -> None:
    settings, data, _ = kiosk
    raw = sqlite3.connect(db_of(data))
    new_head = raw.execute("SELECT row_hash FROM attempts WHERE seq = 3").fetchone()[0]
    raw.close()
    tamper(db_of(data), "DELETE FROM attempts WHERE seq > 3", "DELETE FROM lockouts",
           f"UPDATE chain_state SET head_seq = 3, head_hash = '{new_head}'")
    status, out = cli_verify(data, settings)
    assert status == 1 and "head record's MAC does not match" in out


def test_wiping_every_row_is_detected(kiosk) -> None:
    settings, data, opened = kiosk
    tamper(db_of(data), "DELETE FROM attempts", "DELETE FROM lockouts",
           "DELETE FROM operator_actions",
           f"UPDATE chain_state SET head_seq = 0, head_hash = '{GENESIS}'")
    status, out = cli_verify(data, settings)
    assert status == 1 and "head record's MAC does not match" in out
    tamper(db_of(data), "UPDATE chain_state SET keyed_from = NULL, head_mac = NULL")
    status, out = cli_verify(data, settings)
    assert status == 1 and "first keyed position was removed" in out
    with pytest.raises(AuditUnavailable, match="tampered with"):
        opened()


def test_an_inserted_open_row_for_a_victim_is_not_their_failure(kiosk, clock: FakeClock
                                                                ) -> None:
    settings, data, opened = kiosk
    with opened() as audit:
        victim = audit.subject_ref("OTHER-1")
    tamper(db_of(data), "INSERT INTO attempts (status, kiosk_id, started_at, subject_ref, "
           "app_version, settings_digest) VALUES ('incomplete', 'kiosk-1', "
           f"'2026-05-01T12:00:00.000000+00:00', '{victim}', '0.1.0', '{DIGEST}')")
    status, out = cli_verify(data, settings)
    assert status == 1 and "unfinished attempt row was not written by this kiosk" in out
    # The kiosk refuses to start on it (with the guards back in place too) ...
    with pytest.raises(AuditUnavailable, match="guard triggers"):
        opened()
    restore_guards(db_of(data))
    with pytest.raises(AuditUnavailable, match="not written by this kiosk") as info:
        opened()
    assert info.value.reason == "tampered"
    # ... and a log already open ignores it: never closed as the victim's failure.
    keys = key_store(settings, db_of(data), keyring_backend=fail.Keyring())
    with AuditLog.open(db_of(data), clock=clock, subject_hasher=keys.subject_hasher(),
                       chain_key=keys.chain_key()) as audit:
        clock.advance(hours=1)
        assert audit.recover_interrupted() == []
        attempt = audit.open_attempt(started_at=clock.now, subject_ref=victim,
                                     app_version="0.1.0", settings_digest=DIGEST)
        audit.finish_attempt(attempt, make_record(clock, subject_ref=victim))
        fails = [a for a in audit.list_attempts(decision="fail") if a.subject_ref == victim]
        assert fails == []
        assert audit.list_attempts(decision="incomplete")[0].subject_ref == victim


def test_dropped_guards_and_deleted_lockouts_stop_the_kiosk(kiosk, clock: FakeClock) -> None:
    settings, data, opened = kiosk
    tamper(db_of(data), "DELETE FROM lockouts")
    with pytest.raises(AuditUnavailable, match="guard triggers .* were removed") as info:
        opened()
    assert info.value.reason == "tampered"
    restore_guards(db_of(data))  # putting the triggers back does not hide the deletion
    with pytest.raises(AuditUnavailable, match="missing: a row was deleted") as info:
        opened()
    assert info.value.reason == "tampered"


def test_an_intact_log_opens_and_the_lockout_holds(kiosk) -> None:
    _, _, opened = kiosk
    with opened() as audit:
        ref = audit.subject_ref(NUMBER)
        with pytest.raises(RateLimited):
            audit.open_attempt(started_at=audit.now(), subject_ref=ref, app_version="0.1.0",
                               settings_digest=DIGEST)


def test_an_anchor_catches_a_restored_older_copy(kiosk, tmp_path: Path,
                                                 clock: FakeClock) -> None:
    settings, data, opened = kiosk
    old = tmp_path / "old.db"
    shutil.copyfile(db_of(data), old)
    with opened() as audit:
        audit.record_attempt(make_record(clock, decision="fail", reasons=[Reason.WRONG_ACTION]))
    anchor = tmp_path / "anchor.json"
    assert main(["audit", "anchor", "--db", str(db_of(data)), "--output", str(anchor)],
                environ={"HOME": str(tmp_path)}) == 0
    exported = json.loads(anchor.read_text())
    assert exported["seq"] == 7 and len(exported["mac"]) == 64
    status, out = cli_verify(data, settings, "--anchor", str(anchor))
    assert status == 0 and "anchor OK: the exported head (seq 7) is in the log" in out
    shutil.copyfile(old, db_of(data))  # the older copy verifies on its own ...
    for suffix in ("-wal", "-shm"):
        Path(str(db_of(data)) + suffix).unlink(missing_ok=True)
    status, out = cli_verify(data, settings)
    assert status == 0
    status, out = cli_verify(data, settings, "--anchor", str(anchor))  # ... not with the anchor
    assert status == 1 and "the log ends at seq 6, before the anchor's seq 7" in out
    forged = {**exported, "seq": 6}
    anchor.write_text(json.dumps(forged))
    status, out = cli_verify(data, settings, "--anchor", str(anchor))
    assert status == 1 and "anchor's MAC does not match" in out


def test_appending_to_a_broken_chain_warns(kiosk, clock: FakeClock,
                                           caplog: pytest.LogCaptureFixture) -> None:
    settings, data, opened = kiosk
    with opened() as audit:
        tamper(db_of(data), "UPDATE attempts SET decision = 'pass', attack = 0 WHERE seq = "
               "(SELECT head_seq FROM chain_state) OR id = 5",
               "UPDATE chain_state SET head_hash = 'x'")
        audit.record_attempt(make_record(clock))
        assert audit.chain_warning == "the head record's MAC does not match"
    assert "appending to an audit chain that is already broken" in caplog.text
