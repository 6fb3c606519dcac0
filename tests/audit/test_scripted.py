"""Scripted evaluation runs (``kiosk verify --script``) in the audit log: recorded and marked
(``attempts.mode``, schema 5), covered by the chain, never a verification, counted toward no
lockout."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from kiosk.audit import AuditError, AuditLog
from kiosk.audit.canonical import canonical_json, keyed_row_hash
from kiosk.audit.export import write_export
from tests.audit.conftest import CHAIN_KEY, FakeClock, make_record
from tests.audit.test_tamper import first_break_after


def run(audit: AuditLog, clock: FakeClock, subject: str, *, scripted: bool,
        reasons=("LIVENESS_FAILED",), decision: str = "fail"):
    ref = audit.subject_ref(subject)
    attempt = audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                 settings_digest="ab" * 32, scripted=scripted)
    clock.advance(seconds=10)
    record = make_record(clock, decision=decision, subject_ref=ref, reasons=list(reasons),
                         scripted=scripted)
    return audit.finish_attempt(attempt, record)


def test_scripted_failures_lock_nobody_and_are_counted_apart(keyed_log, clock) -> None:
    limit = keyed_log.config.limits.limit("subject")
    for _ in range(limit + 2):
        assert run(keyed_log, clock, "S-1", scripted=True).lockouts == ()
    ref = keyed_log.subject_ref("S-1")
    assert keyed_log.active_lockout(ref) is None and keyed_log.active_lockout(None) is None
    stored = keyed_log.list_attempts(limit=None)
    assert [a.scripted for a in stored] == [True] * (limit + 2)
    assert all(a.record is not None and a.record.scripted for a in stored)
    stats = keyed_log.stats()
    assert (stats.total, stats.scripted, stats.by_reason) == (0, limit + 2, {})
    # The same failures run by the kiosk itself lock the subject at the limit.
    results = [run(keyed_log, clock, "S-1", scripted=False) for _ in range(limit)]
    assert [bool(r.lockouts) for r in results] == [False] * (limit - 1) + [True]
    assert keyed_log.stats().total == limit


def test_a_scripted_run_is_still_refused_for_a_locked_subject(keyed_log, clock) -> None:
    for _ in range(keyed_log.config.limits.limit("subject")):
        run(keyed_log, clock, "S-2", scripted=False)
    from kiosk.audit import RateLimited
    with pytest.raises(RateLimited):
        run(keyed_log, clock, "S-2", scripted=True)


@pytest.mark.parametrize("scripted, edit", [(True, "NULL"), (False, "'scripted'")])
def test_the_mode_is_covered_by_the_row_mac(keyed_log, clock, db_path: Path, hasher,
                                            chain_key, scripted: bool, edit: str) -> None:
    # Passing a scripted run off as a verification, or hiding a verification as a script,
    # changes the row's content.
    run(keyed_log, clock, "S-3", scripted=False, decision="pass", reasons=())
    edited = run(keyed_log, clock, "S-4", scripted=scripted, decision="pass", reasons=())
    assert keyed_log.verify().ok
    found = first_break_after(
        keyed_log, db_path, f"UPDATE attempts SET mode = {edit} WHERE id = {edited.attempt_id}",
        clock=clock, hasher=hasher, chain_key=chain_key)
    assert found is not None and found.seq == edited.seq


@pytest.mark.parametrize("column, value", [("mode", "scripted"), ("variant", "accessible"),
                                           ("camera", '{"device":"/dev/video0","kind":"camera"}')])
def test_rows_without_an_added_column_hash_as_before_it_existed(column: str,
                                                               value: str) -> None:
    """Schema 5's ``mode``, schema 7's ``variant`` and schema 8's ``camera``: NULL is left out
    of the content."""
    row = {"id": 1, "seq": 1, "status": "complete", "kiosk_id": "k", "started_at": "t",
           "ended_at": "t", "recorded_at": "t", "subject_ref": None, "decision": "pass",
           "liveness_score": 97.0, "reasons": "[]", "challenges": "[]", "signals": "{}",
           "match": None, "cloud_calls": "[]", "app_version": "0.1.0",
           "settings_digest": "ab" * 32, "frame_sha256": None, "attack": 0}
    before = keyed_row_hash(CHAIN_KEY, "0" * 64, "attempts", row)
    assert keyed_row_hash(CHAIN_KEY, "0" * 64, "attempts", {**row, column: None}) == before
    assert keyed_row_hash(CHAIN_KEY, "0" * 64, "attempts", {**row, column: value}) != before
    assert canonical_json({column: None}) != canonical_json({})  # why NULL is left out


def test_a_scripted_run_has_no_decision_to_override(keyed_log, clock) -> None:
    result = run(keyed_log, clock, "S-5", scripted=True, decision="pass", reasons=())
    with pytest.raises(AuditError, match="scripted evaluation run .* cannot be overridden"):
        keyed_log.override(result.attempt_id, "fail", actor="staff", reason="test")


def test_a_scripted_run_cut_short_stays_scripted(keyed_log, clock) -> None:
    ref = keyed_log.subject_ref("S-6")
    for _ in range(keyed_log.config.limits.limit("subject") + 1):
        opened = keyed_log.open_attempt(started_at=clock.now, subject_ref=ref,
                                        app_version="0.1.0", settings_digest="ab" * 32,
                                        scripted=True)
        closed = keyed_log.abandon_attempt(opened)
        assert closed.lockouts == ()
        assert keyed_log.get_attempt(opened).scripted
        clock.advance(seconds=5)
    assert keyed_log.active_lockout(ref) is None and keyed_log.verify().ok


#: How an attempt was opened (a keyword of open_attempt and AttemptRecord) and its column.
OPENED_AS = [("scripted", "mode"), ("accessible", "variant")]


@pytest.mark.parametrize("flag, column", OPENED_AS)
def test_a_record_must_be_finished_as_it_was_opened(keyed_log, clock, flag: str,
                                                    column: str) -> None:
    ref = keyed_log.subject_ref("S-7")
    opened = keyed_log.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                    settings_digest="ab" * 32, **{flag: True})
    with pytest.raises(ValueError, match=f"{flag} differs"):
        keyed_log.finish_attempt(opened, make_record(clock, decision="fail", subject_ref=ref))


@pytest.mark.parametrize("flag, column", OPENED_AS)
def test_the_open_row_mac_covers_how_it_was_opened(keyed_log, clock, db_path: Path, flag: str,
                                                   column: str) -> None:
    ref = keyed_log.subject_ref("S-8")
    opened = keyed_log.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                    settings_digest="ab" * 32, **{flag: True})
    raw = sqlite3.connect(db_path)
    raw.execute(f"UPDATE attempts SET {column} = NULL WHERE id = ?", [opened])
    raw.commit()
    raw.close()
    with pytest.raises(AuditError, match="not opened by this kiosk"):
        keyed_log.finish_attempt(opened, make_record(clock, decision="fail", subject_ref=ref,
                                                     **{flag: True}))


def test_exports_carry_the_mode(keyed_log, clock) -> None:
    run(keyed_log, clock, "S-9", scripted=True)
    run(keyed_log, clock, "S-9", scripted=False)
    out = io.StringIO()
    write_export(keyed_log.iter_attempts(), out, "jsonl")
    assert sorted(str(json.loads(line)["mode"]) for line in out.getvalue().splitlines()) == [
        "None", "scripted"]
    out = io.StringIO()
    write_export(keyed_log.iter_attempts(), out, "csv")
    header, *rows = out.getvalue().splitlines()
    column = header.split(",").index("mode")
    assert sorted(r.split(",")[column] for r in rows) == ["", "scripted"]
