"""Tamper evidence: verify names the first broken row after an edit, insertion or deletion,
on a keyed chain as the kiosk writes it (and, where it differs, on an unkeyed one)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk.audit import (
    AuditConfig,
    AuditLog,
    ChainKey,
    RateLimitPolicy,
    SubjectHasher,
    VerifyReport,
)
from kiosk.audit.canonical import row_hash
from tests.audit.conftest import CHAIN_KEY, FakeClock, make_record

KEY = ChainKey(CHAIN_KEY)


def fill(db_path: Path, clock: FakeClock, hasher: SubjectHasher,
         chain_key: ChainKey | None) -> None:
    """Six attempts, then a lockout and an unlock: seq 1-6 attempts, 7 lockout, 8 unlock."""
    config = AuditConfig(limits=RateLimitPolicy(max_failures=3, kiosk_max_failures=100))
    with AuditLog.open(db_path, config, clock=clock, subject_hasher=hasher,
                       chain_key=chain_key) as audit:
        ref = audit.subject_ref("A1")
        for decision in ["pass", "fail", "review", "fail", "pass", "fail"]:
            audit.record_attempt(make_record(clock, decision=decision, subject_ref=ref))
            clock.advance(minutes=1)
        assert audit.active_lockout(ref) is not None
        audit.unlock("subject", ref, actor="alice", reason="identity checked at the desk")
        report = audit.verify()
    assert (report.ok, report.rows, report.head_seq) == (True, 8, 8)
    assert report.keyed == (chain_key is not None)


@pytest.fixture
def populated(db_path: Path, clock: FakeClock, hasher: SubjectHasher) -> Path:
    fill(db_path, clock, hasher, KEY)
    return db_path


@pytest.fixture
def unkeyed(tmp_path: Path, clock: FakeClock, hasher: SubjectHasher) -> Path:
    path = tmp_path / "unkeyed" / "kiosk.db"
    fill(path, clock, hasher, None)
    return path


def tamper(path: Path, *statements: str, params: tuple = ()) -> None:
    """Change the file as an attacker with write access would: drop the guards first."""
    raw = sqlite3.connect(path)
    try:
        triggers = raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for (name,) in triggers:
            raw.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            raw.execute(statement, params if "?" in statement else ())
        raw.commit()
    finally:
        raw.close()


def verify(path: Path) -> VerifyReport:
    with AuditLog.open(path, read_only=True, chain_key=KEY) as audit:
        return audit.verify()


def broken(path: Path) -> tuple[str, int | None, int | None, str]:
    report = verify(path)
    assert not report.ok and report.first_break is not None
    brk = report.first_break
    return brk.table, brk.row_id, brk.seq, brk.problem


def test_edited_row_is_named(populated: Path) -> None:
    tamper(populated, "UPDATE attempts SET decision = 'pass' WHERE id = 4")
    table, row_id, seq, problem = broken(populated)
    assert (table, row_id, seq) == ("attempts", 4, 4)
    assert "edited" in problem


def test_first_of_two_edits_is_named(populated: Path) -> None:
    tamper(populated, "UPDATE attempts SET liveness_score = 99.0 WHERE id = 5",
           "UPDATE attempts SET kiosk_id = 'elsewhere' WHERE id = 2")
    assert broken(populated)[:3] == ("attempts", 2, 2)


def _forge_decision(path: Path) -> None:
    """Edit attempt 4 and recompute its hash without the key (all anyone can do)."""
    raw = sqlite3.connect(path)
    raw.row_factory = sqlite3.Row
    row = dict(raw.execute("SELECT * FROM attempts WHERE id = 4").fetchone())
    raw.close()
    row["decision"] = "pass"
    forged = row_hash(row["prev_hash"], "attempts", row)
    tamper(path, "UPDATE attempts SET decision = 'pass', attack = 0, row_hash = ? WHERE id = 4",
           params=(forged,))


def test_edit_with_recomputed_hash_breaks_the_next_link_when_unkeyed(unkeyed: Path) -> None:
    _forge_decision(unkeyed)
    table, row_id, seq, problem = broken(unkeyed)
    assert (table, row_id, seq) == ("attempts", 5, 5)
    assert "prev_hash does not match attempts #4 (seq 4)" in problem


def test_edit_with_recomputed_hash_is_caught_at_the_row_when_keyed(populated: Path) -> None:
    _forge_decision(populated)
    table, row_id, seq, problem = broken(populated)
    assert (table, row_id, seq) == ("attempts", 4, 4)
    assert "recomputed without the key" in problem


def test_deleted_middle_row_is_named(populated: Path) -> None:
    tamper(populated, "DELETE FROM attempts WHERE id = 3")
    table, row_id, seq, problem = broken(populated)
    assert (table, row_id, seq) == ("attempts", 4, 4)
    assert "chain position 3 after attempts #2 (seq 2) is missing" in problem


def test_deleted_last_row_is_detected(populated: Path) -> None:
    tamper(populated, "DELETE FROM operator_actions WHERE seq = 8")
    table, row_id, seq, problem = broken(populated)
    assert (table, seq) == ("chain", 8)
    assert "after lockouts #1 (seq 7) is missing: the newest rows were deleted" in problem


@pytest.mark.parametrize("keyed", [True, False])
def test_deleted_oldest_rows_without_a_purge_are_detected(populated: Path, unkeyed: Path,
                                                          keyed: bool) -> None:
    path = populated if keyed else unkeyed
    tamper(path, "DELETE FROM attempts WHERE seq <= 2")
    assert broken(path)[:3] == ("attempts", 3, 3)
    # Moving the anchor to hide the deletion: the head record's MAC (keyed) or the missing
    # purge record (unkeyed) gives it away.
    raw = sqlite3.connect(path)
    anchor = raw.execute("SELECT prev_hash FROM attempts WHERE seq = 3").fetchone()[0]
    raw.close()
    tamper(path, "UPDATE chain_state SET anchor_seq = 2, anchor_hash = ?", params=(anchor,))
    table, _, seq, problem = broken(path)
    assert table == "chain"
    assert ("head record's MAC" in problem) if keyed else \
        (seq == 2 and "no purge is recorded" in problem)


def test_inserted_row_with_a_taken_position_is_named(populated: Path) -> None:
    tamper(populated, "INSERT INTO lockouts (seq, prev_hash, row_hash, scope, target, kiosk_id, "
           "started_at, until, failures) SELECT 3, prev_hash, row_hash, 'kiosk', 'kiosk-1', "
           "'kiosk-1', started_at, started_at, 9 FROM attempts WHERE id = 3")
    table, _, seq, problem = broken(populated)
    assert (table, seq) == ("lockouts", 3)
    assert "taken twice" in problem


def test_inserted_row_with_renumbering_is_named(populated: Path) -> None:
    tamper(populated,
           "UPDATE operator_actions SET seq = seq + 1 WHERE seq >= 4",
           "UPDATE lockouts SET seq = seq + 1 WHERE seq >= 4",
           "UPDATE attempts SET seq = -(seq + 1) WHERE seq >= 4",
           "UPDATE attempts SET seq = -seq WHERE seq < 0",
           "INSERT INTO attempts (seq, prev_hash, row_hash, status, kiosk_id, started_at, "
           "ended_at, recorded_at, subject_ref, decision, reasons, challenges, signals, "
           "cloud_calls, app_version, settings_digest) SELECT 4, row_hash, row_hash, status, "
           "kiosk_id, started_at, ended_at, recorded_at, subject_ref, 'pass', '[]', '[]', '{}', "
           "'[]', app_version, settings_digest FROM attempts WHERE id = 3")
    table, row_id, seq, problem = broken(populated)
    assert (table, row_id, seq) == ("attempts", 7, 4)
    assert "edited" in problem


def test_appended_forged_row_is_detected(populated: Path) -> None:
    raw = sqlite3.connect(populated)
    raw.row_factory = sqlite3.Row
    row = dict(raw.execute("SELECT * FROM attempts WHERE id = 6").fetchone())
    head_hash = raw.execute("SELECT head_hash FROM chain_state").fetchone()[0]
    raw.close()
    row.update(id=7, seq=9, prev_hash=head_hash, decision="pass")
    row["row_hash"] = row_hash(head_hash, "attempts", row)
    names = ", ".join(row)
    tamper(populated, f"INSERT INTO attempts ({names}) VALUES ({', '.join('?' * len(row))})",
           params=tuple(row.values()))
    table, row_id, seq, problem = broken(populated)
    assert (table, row_id, seq) == ("attempts", 7, 9)
    assert "beyond the recorded head" in problem


def test_edited_lockout_and_operator_action_are_named(populated: Path) -> None:
    tamper(populated, "UPDATE operator_actions SET actor = 'mallory' WHERE seq = 8")
    assert broken(populated)[:3] == ("operator_actions", 1, 8)
    tamper(populated, "UPDATE lockouts SET until = started_at WHERE seq = 7")
    assert broken(populated)[:3] == ("lockouts", 1, 7)


@pytest.mark.parametrize("table", ["attempts", "lockouts", "operator_actions"])
def test_every_chained_table_refuses_edits_and_deletes(populated: Path, table: str) -> None:
    # Before, the guard test tried an update of attempts and a delete of lockouts only:
    # dropping the delete guard of attempts (the rows that matter most) went unnoticed.
    raw = sqlite3.connect(populated)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="audit rows are append-only"):
            raw.execute(f"UPDATE {table} SET seq = seq")
        with pytest.raises(sqlite3.IntegrityError, match="audit rows are removed only by a purge"):
            raw.execute(f"DELETE FROM {table}")
        assert raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0
    finally:
        raw.close()
    assert verify(populated).ok


def test_guards_refuse_ordinary_edits_and_deletes(populated: Path) -> None:
    raw = sqlite3.connect(populated)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("UPDATE attempts SET decision = 'pass' WHERE id = 2")
        with pytest.raises(sqlite3.IntegrityError, match="only by a purge"):
            raw.execute("DELETE FROM lockouts")
        with pytest.raises(sqlite3.IntegrityError, match="only moves forward"):
            raw.execute("UPDATE chain_state SET head_seq = 1")
    finally:
        raw.close()
    assert verify(populated).ok
