"""Export formats, including the guard against spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json

import pytest

from kiosk.audit import AuditConfig, AuditLog
from kiosk.audit.export import CSV_COLUMNS, write_export
from tests.audit.conftest import DIGEST, FakeClock, make_record


@pytest.mark.parametrize("text", ["+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"])
def test_no_formula_start_survives_a_csv_cell(clock: FakeClock, text: str) -> None:
    # Each start a spreadsheet runs (OWASP's list), not only "=": a guard cut down to "="
    # passed the test below. (A tab or a carriage return cannot reach a cell: every text
    # the log keeps is one printable line.)
    config = AuditConfig(kiosk_id=text)
    with AuditLog.open(":memory:", config, clock=clock) as audit:
        audit.record_attempt(make_record(clock, kiosk_id=text))
        out = io.StringIO()
        write_export(audit.iter_attempts(), out, "csv")
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["kiosk_id"] == "'" + text


def test_csv_cells_cannot_become_formulas(clock: FakeClock) -> None:
    config = AuditConfig(kiosk_id="=HYPERLINK(1)")
    with AuditLog.open(":memory:", config, clock=clock) as audit:
        audit.record_attempt(make_record(clock, kiosk_id="=HYPERLINK(1)"))
        out = io.StringIO()
        assert write_export(audit.iter_attempts(), out, "csv") == 1
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(row) == list(CSV_COLUMNS)
    assert row["kiosk_id"] == "'=HYPERLINK(1)"
    out = io.StringIO()
    with AuditLog.open(":memory:", config, clock=clock) as audit:
        audit.record_attempt(make_record(clock, kiosk_id="=HYPERLINK(1)"))
        write_export(audit.iter_attempts(), out, "jsonl")
    assert json.loads(out.getvalue())["kiosk_id"] == "=HYPERLINK(1)"  # JSON stays exact


def test_incomplete_attempts_are_exported_with_what_is_known(memory_log: AuditLog,
                                                             clock: FakeClock) -> None:
    memory_log.open_attempt(started_at=clock.now, subject_ref=None, app_version="0.1.0",
                             settings_digest=DIGEST)
    out = io.StringIO()
    write_export(memory_log.iter_attempts(), out, "jsonl")
    item = json.loads(out.getvalue())
    assert (item["status"], item["decision"], item["seq"]) == ("incomplete", "incomplete", None)
    assert "challenges" not in item
    out = io.StringIO()
    write_export(memory_log.iter_attempts(), out, "csv")
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["status"], row["decision"], row["reasons"], row["seq"]) == (
        "incomplete", "incomplete", "", "")


def test_unknown_format_is_refused(memory_log: AuditLog) -> None:
    with pytest.raises(ValueError, match="format must be one of"):
        write_export(memory_log.iter_attempts(), io.StringIO(), "xlsx")
