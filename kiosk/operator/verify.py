"""The audit chain check as the operator sees it: one sentence and the first broken row."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.audit import AuditError, AuditReader, ChainBreak, VerifyReport
from kiosk.operator.attempts import fmt_time


@dataclass(frozen=True)
class VerifyOutcome:
    """Result of :meth:`OperatorContext.verify`.

    ``broken_row`` holds the first broken row as it is stored now, as ``(label, value)``
    lines (it may be the altered copy); empty when the chain is intact or the break is not a
    row (missing newest rows, a wrong head or anchor). ``unguarded`` says why the log's loss
    would go unnoticed (:func:`kiosk.audit.register.unguarded`), empty when it would not.
    """

    ok: bool
    summary: str
    report: VerifyReport
    first_break: ChainBreak | None
    broken_row: tuple[tuple[str, str], ...]
    unguarded: str = ""


def _row_lines(audit: AuditReader, brk: ChainBreak) -> tuple[tuple[str, str], ...]:
    if brk.row_id is None:
        return ()
    try:
        if brk.table == "attempts":
            a = audit.get_attempt(brk.row_id)
            r = a.record
            return (("attempt", str(a.id)), ("status", a.status), ("kiosk", a.kiosk_id),
                    ("started", fmt_time(a.started_at)),
                    ("recorded", fmt_time(a.recorded_at)), ("decision", a.decision),
                    ("reasons", ", ".join(r.reasons) if r and r.reasons else "-"),
                    ("row hash", a.row_hash or "-"))
        if brk.table == "lockouts":
            found = [lk for lk in audit.lockouts(active_only=False, limit=None)
                     if lk.id == brk.row_id]
            if found:
                lk = found[0]
                return (("lockout", str(lk.id)), ("scope", lk.scope), ("target", lk.target),
                        ("from", fmt_time(lk.started_at)), ("until", fmt_time(lk.until)),
                        ("failures", str(lk.failures)))
        if brk.table == "operator_actions":
            acts = [a for a in audit.operator_actions(limit=None) if a.id == brk.row_id]
            if acts:
                act = acts[0]
                return (("operator action", str(act.id)), ("action", act.action),
                        ("by", act.actor), ("when", fmt_time(act.acted_at)),
                        ("reason", act.reason))
    except (AuditError, ValueError) as exc:
        # A row edited badly enough may not even parse; say so instead of failing the check.
        return (("row", f"{brk.table} #{brk.row_id} cannot be read: {exc}"),)
    return (("row", f"{brk.table} #{brk.row_id} is no longer in the database"),)


def verify(audit: AuditReader) -> VerifyOutcome:
    """Walk the hash chain and describe the result.

    Raises
    ------
    AuditUnavailable
        The path no longer names the file the log has open (moved, deleted or replaced): the
        walk read the open file, which says nothing of the log at the path.
    """
    report = audit.verify()
    # The check every write of the log makes; a read of the open file never makes it.
    audit.check_same_file()
    if report.ok:
        summary = (f"The audit log is intact: {report.rows} rows checked, head seq "
                   f"{report.head_seq}, head hash {report.head_hash}.")
        if report.incomplete:
            summary += f" {report.incomplete} attempt(s) still open (not an error)."
        return VerifyOutcome(True, summary, report, None, ())
    brk = report.first_break
    if brk is None:
        raise AuditError("the chain check failed without naming where")
    summary = f"The audit log is BROKEN at {brk} ({report.rows} rows read)."
    return VerifyOutcome(False, summary, report, brk, _row_lines(audit, brk))
