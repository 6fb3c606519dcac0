"""The accessible check in the audit log (``attempts.variant``, schema 7) and what each
prompt's entry says about a paused timer and a second chance: recorded, covered by the chain,
counted toward the lockouts as any session, and shown to staff."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.audit import AuditLog
from kiosk.audit.export import write_export
from kiosk.audit.results import step_note
from kiosk.operator.attempts import attempt_detail
from tests.audit.conftest import FakeClock, make_record
from tests.audit.test_tamper import first_break_after


def run(audit: AuditLog, clock: FakeClock, subject: str, *, accessible: bool,
        decision: str = "fail", reasons=("LIVENESS_FAILED",), challenges=None):
    ref = audit.subject_ref(subject)
    attempt = audit.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                 settings_digest="ab" * 32, accessible=accessible)
    clock.advance(seconds=10)
    extra = {} if challenges is None else {"challenges": challenges(clock.now)}
    record = make_record(clock, decision=decision, subject_ref=ref, reasons=list(reasons),
                         accessible=accessible, **extra)
    return audit.finish_attempt(attempt, record)


def test_an_accessible_check_is_recorded_and_counts_toward_the_lockout(keyed_log, clock,
                                                                       db_path: Path) -> None:
    # The accessible check is a verification like any other: the same limit locks.
    limit = keyed_log.config.limits.limit("subject")
    results = [run(keyed_log, clock, "S-1", accessible=True) for _ in range(limit)]
    assert [bool(r.lockouts) for r in results] == [False] * (limit - 1) + [True]
    stored = keyed_log.list_attempts(limit=None)
    assert all(a.accessible and a.record is not None and a.record.accessible for a in stored)
    assert keyed_log.stats().total == limit and keyed_log.verify().ok
    raw = sqlite3.connect(db_path)
    assert {v for (v,) in raw.execute("SELECT variant FROM attempts")} == {"accessible"}
    raw.close()


@pytest.mark.parametrize("accessible, edit", [(True, "NULL"), (False, "'accessible'")])
def test_the_variant_is_covered_by_the_row_mac(keyed_log, clock, db_path: Path, hasher,
                                               chain_key, accessible: bool, edit: str) -> None:
    # Hiding that a decision rests on the accessible check, or claiming it did, breaks the
    # chain (that rows without the column hash as before: tests/audit/test_scripted.py).
    run(keyed_log, clock, "S-2", accessible=False, decision="pass", reasons=())
    edited = run(keyed_log, clock, "S-3", accessible=accessible, decision="pass", reasons=())
    assert keyed_log.verify().ok
    found = first_break_after(
        keyed_log, db_path,
        f"UPDATE attempts SET variant = {edit} WHERE id = {edited.attempt_id}",
        clock=clock, hasher=hasher, chain_key=chain_key)
    assert found is not None and found.seq == edited.seq


def test_an_accessible_attempt_cut_short_stays_accessible(keyed_log, clock) -> None:
    ref = keyed_log.subject_ref("S-6")
    opened = keyed_log.open_attempt(started_at=clock.now, subject_ref=ref, app_version="0.1.0",
                                    settings_digest="ab" * 32, accessible=True)
    keyed_log.abandon_attempt(opened)
    stored = keyed_log.get_attempt(opened)
    assert stored.accessible and stored.record is not None and stored.record.accessible
    assert keyed_log.verify().ok


def _paused_retry(end):
    return [
        {"action": "turn_left", "prompted_at": end - timedelta(seconds=9),
         "responded_at": None, "outcome": "timeout", "confidence": None,
         "reason": "CHALLENGE_TIMEOUT", "paused_s": 0.0, "retry": False},
        {"action": "blink", "prompted_at": end - timedelta(seconds=4),
         "responded_at": end - timedelta(seconds=1), "outcome": "passed", "confidence": 0.9,
         "reason": None, "paused_s": 1.25, "retry": True},
    ]


def test_a_paused_prompt_and_a_second_chance_reach_staff(keyed_log, clock) -> None:
    result = run(keyed_log, clock, "S-7", accessible=True, decision="pass", reasons=(),
                 challenges=_paused_retry)
    stored = keyed_log.get_attempt(result.attempt_id)
    assert stored.record is not None
    first, second = stored.record.challenges
    # Nothing to say is left out, so such an entry reads as it did before schema 7.
    assert "paused_s" not in first and "retry" not in first
    assert (second["paused_s"], second["retry"]) == (1.25, True)
    detail = attempt_detail(stored, ())
    assert detail.accessible
    assert [(t.paused_s, t.retry) for t in detail.timeline] == [(0.0, False), (1.25, True)]
    assert step_note(1.25, True) == "second chance, paused 1.2 s"
    assert step_note(0.0, False) == ""
    assert keyed_log.verify().ok


@pytest.mark.parametrize("bad, message", [({"paused_s": -1.0}, "paused_s must be between"),
                                          ({"retry": "yes"}, "retry must be a bool")])
def test_a_bad_pause_or_retry_is_refused(clock, bad, message) -> None:
    def challenges(end):
        return [{**_paused_retry(end)[1], **bad}]
    with pytest.raises(ValueError, match=message):
        make_record(clock, challenges=challenges(clock.now))


def test_exports_carry_the_variant(keyed_log, clock) -> None:
    run(keyed_log, clock, "S-8", accessible=True)
    run(keyed_log, clock, "S-8", accessible=False)
    out = io.StringIO()
    write_export(keyed_log.iter_attempts(), out, "jsonl")
    assert sorted(str(json.loads(line)["variant"]) for line in out.getvalue().splitlines()) \
        == ["None", "accessible"]
    out = io.StringIO()
    write_export(keyed_log.iter_attempts(), out, "csv")
    header, *rows = out.getvalue().splitlines()
    column = header.split(",").index("variant")
    assert sorted(r.split(",")[column] for r in rows) == ["", "accessible"]
