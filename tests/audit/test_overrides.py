"""Overrides, recorded events (settings, refused PINs) and the schema 2 upgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk.audit import AuditConfig, AuditError, AuditLog, RecordNotFound, SubjectHasher
from kiosk.audit.canonical import row_hash
from kiosk.audit.schema import SCHEMA_VERSION
from tests.audit.conftest import FakeClock, make_record


def test_override_is_chained_with_who_why_and_from_to(memory_log: AuditLog,
                                                      clock: FakeClock) -> None:
    attempt = memory_log.record_attempt(make_record(clock, decision="fail")).attempt_id
    clock.advance(minutes=2)
    action = memory_log.override(attempt, "pass", actor="alice",
                                 reason="ID checked by hand at the desk")
    assert (action.action, action.actor, action.scope, action.target) == \
        ("override", "alice", "attempt", str(attempt))
    assert action.reason == "ID checked by hand at the desk"
    assert action.details == {"from": "fail", "to": "pass"}
    assert action.acted_at == clock.now
    assert action.seq == 2
    # The attempt row is untouched; the override is read back by kind and target.
    assert memory_log.get_attempt(attempt).decision == "fail"
    assert memory_log.operator_actions(action="override", target=str(attempt)) == [action]
    report = memory_log.verify()
    assert (report.ok, report.rows, report.head_seq) == (True, 2, 2)


def test_second_override_starts_from_the_first(memory_log: AuditLog, clock: FakeClock) -> None:
    attempt = memory_log.record_attempt(make_record(clock, decision="review")).attempt_id
    memory_log.override(attempt, "fail", actor="bob", reason="second look: a photo")
    with pytest.raises(ValueError, match="already has the decision 'fail'"):
        memory_log.override(attempt, "fail", actor="bob", reason="again")
    second = memory_log.override(attempt, "pass", actor="carol", reason="checked the badge")
    assert second.details == {"from": "fail", "to": "pass"}
    assert [a.actor for a in memory_log.operator_actions(action="override")] == ["carol", "bob"]


def test_override_refuses_bad_input(memory_log: AuditLog, clock: FakeClock) -> None:
    attempt = memory_log.record_attempt(make_record(clock)).attempt_id
    with pytest.raises(RecordNotFound, match="no attempt 99"):
        memory_log.override(99, "fail", actor="a", reason="r")
    with pytest.raises(ValueError, match="decision must be one of"):
        memory_log.override(attempt, "maybe", actor="a", reason="r")
    with pytest.raises(ValueError, match="reason must be a non-empty string"):
        memory_log.override(attempt, "fail", actor="a", reason="  ")
    open_id = memory_log.open_attempt(started_at=clock.now, subject_ref=None,
                                       app_version="0.1.0", settings_digest="ab" * 32)
    with pytest.raises(AuditError, match="not finished"):
        memory_log.override(open_id, "fail", actor="a", reason="r")
    assert memory_log.operator_actions() == []
    assert memory_log.verify().head_seq == 1


def test_override_does_not_change_failure_counts(memory_log: AuditLog, clock: FakeClock,
                                                 hasher: SubjectHasher) -> None:
    ref = hasher.ref("A1")
    ids = []
    for _ in range(4):
        ids.append(memory_log.record_attempt(make_record(clock, decision="fail",
                                                         subject_ref=ref)).attempt_id)
        clock.advance(minutes=1)
    memory_log.override(ids[0], "pass", actor="alice", reason="known person")
    result = memory_log.record_attempt(make_record(clock, decision="fail", subject_ref=ref))
    assert [lk.scope for lk in result.lockouts] == ["subject"]


def test_events_record_flat_details(memory_log: AuditLog) -> None:
    changed = memory_log.record_action(
        "settings", actor="alice", reason="fewer false rejects",
        details={"liveness.confidence_threshold": [90.0, 85.0], "digest": "ab" * 32})
    assert changed.details == {"digest": "ab" * 32,
                               "liveness.confidence_threshold": [90.0, 85.0]}
    refused = memory_log.record_action("pin_refused", actor="operator panel",
                                       reason="wrong operator PIN", details={"in_a_row": 2})
    assert [a.action for a in memory_log.operator_actions()] == ["pin_refused", "settings"]
    assert refused.scope is None and refused.target is None
    assert memory_log.verify().ok


@pytest.mark.parametrize(("action", "details", "message"), [
    ("unlock", None, "action must be one of"),
    ("settings", {"bad key!": 1}, "details key must be a code"),
    ("settings", {"k": {"nested": 1}}, "must be a number, string, bool or None"),
    ("settings", {"k": list(range(9))}, "at most 8 values"),
])
def test_event_refuses_bad_input(memory_log: AuditLog, action: str, details: dict | None,
                                 message: str) -> None:
    with pytest.raises(ValueError, match=message):
        memory_log.record_action(action, actor="a", reason="r", details=details)
    assert memory_log.operator_actions() == []


def test_action_filter_is_checked(memory_log: AuditLog) -> None:
    with pytest.raises(ValueError, match="action must be one of"):
        memory_log.operator_actions(action="delete")


def test_edited_override_is_detected(db_path: Path, clock: FakeClock) -> None:
    with AuditLog.open(db_path, clock=clock) as audit:
        attempt = audit.record_attempt(make_record(clock, decision="fail")).attempt_id
        audit.override(attempt, "pass", actor="alice", reason="checked")
    raw = sqlite3.connect(db_path)
    raw.execute("DROP TRIGGER operator_actions_append_only")
    raw.execute("""UPDATE operator_actions SET details = '{"from":"fail","to":"review"}'""")
    raw.commit()
    raw.close()
    with AuditLog.open(db_path, read_only=True) as audit:
        report = audit.verify()
    assert not report.ok
    assert (report.first_break.table, report.first_break.row_id, report.first_break.seq) == \
        ("operator_actions", 1, 2)


def test_schema_1_upgrades_keeping_rows_hashes_and_ids(tmp_path: Path, clock: FakeClock,
                                                      legacy_log) -> None:
    """A log written by a schema-1 kiosk (with an unlock and a purge) upgrades, keeps its ids
    and unkeyed hashes, and is keyed from its next row on."""
    db_path, keys = legacy_log("schema1")
    before = _rows(db_path)
    with AuditLog.open(db_path, AuditConfig(), clock=clock, subject_hasher=keys.subject_hasher(),
                       chain_key=keys.chain_key()) as audit:
        assert audit.schema_version == SCHEMA_VERSION == 9
        assert [(a.id, a.seq, a.action) for a in audit.operator_actions()] == \
            [(2, 7, "purge")]
        report = audit.verify()
        assert (report.ok, report.keyed, report.unkeyed_rows, report.head_seq) == \
            (True, True, 3, 8)
        kept = audit.list_attempts(decision="fail")[0].id
        action = audit.override(kept, "review", actor="bob", reason="second look")
        assert action.id == 3  # ids continue after the highest ever given
        assert action.seq == 9
        report = audit.verify()
        assert (report.ok, report.unkeyed_rows, report.rows) == (True, 3, 4)
    after = _rows(db_path)
    chain = ("seq", "prev_hash", "row_hash", "decision", "reasons")
    assert all({c: after[k][c] for c in chain if c in row} == {c: row[c] for c in chain if c in row}
               for k, row in before.items())  # old rows keep their values and hashes
    raw = sqlite3.connect(db_path)
    try:
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        stored = after[("operator_actions", action.id)]
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("UPDATE operator_actions SET actor = 'x'")
        with pytest.raises(sqlite3.IntegrityError, match="only by a purge"):
            raw.execute("DELETE FROM operator_actions")
    finally:
        raw.close()
    assert {"operator_actions_target", "operator_actions_append_only",
            "operator_actions_purge_only", "chain_state_keyed_once"} <= names
    assert "operator_actions_new" not in names
    # The new row is keyed: its unkeyed hash is not what is stored.
    assert row_hash(stored["prev_hash"], "operator_actions", stored) != stored["row_hash"]


def _rows(path: Path) -> dict[tuple[str, int], dict]:
    raw = sqlite3.connect(path)
    raw.row_factory = sqlite3.Row
    try:
        return {(table, row["id"]): dict(row)
                for table in ("attempts", "lockouts", "operator_actions")
                for row in raw.execute(f"SELECT * FROM {table}")}
    finally:
        raw.close()
