"""The lockout check's question to the fleet server: what the other kiosks recorded about one
subject and this kiosk (:class:`~kiosk.audit.remote.RemoteView`).

Asked before each session and after each failure, with a short time-out. The rows' times are
judged on the server's clock (see :mod:`kiosk.audit.fleet.skew`) and handed back on this
kiosk's clock, measured against the server's inside the same transaction, so the lockout
check compares them with its own times as they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.audit.fleet.store import FleetStore, on_server
from kiosk.audit.remote import RemoteEvent, RemoteView
from kiosk.audit.timeutil import Clock

__all__ = ["remote_view"]

# Times as {at} and {until}: on the server's clock (store.on_server).
_VIEW = """
SELECT kiosk_id, tbl, scope, target, {at}, {until}, coalesce(failures, 0), row_id, seq
FROM fleet_rows
WHERE (kiosk_id <> %(me)s OR NOT EXISTS (
           SELECT 1 FROM fleet_kiosks WHERE kiosk_id = %(me)s AND db_id = %(db)s))
    AND {at} > %(horizon)s AND (
    (tbl = 'attempts' AND decision = 'fail' AND mode IS NULL AND subject_ref = %(subject)s)
    OR ((tbl = 'lockouts' OR action = 'unlock')
        AND ((scope = 'subject' AND target = %(subject)s) OR (scope = 'kiosk' AND target = %(me)s))))
"""


def remote_view(store: FleetStore, kiosk_id: str, subject_ref: str | None,
                horizon: datetime, *, db_id: str | None, timeout: float | None = None,
                clock: Clock | None = None) -> RemoteView:
    """The other kiosks' failures of ``subject_ref``, and lockouts and unlocks of it or of
    this kiosk, that happened after ``horizon``.

    Parameters
    ----------
    store : FleetStore
    kiosk_id : str
        This kiosk.
    subject_ref : str or None
    horizon : datetime
        Older facts no longer matter (the failure window and the lockout length before now).
    db_id : str or None
        This log's database id. Rows under ``kiosk_id`` count as another kiosk's too unless
        the server registered this log under it: a second kiosk given the same id (whose own
        rows the server refuses), or a reinstalled one, still honours that id's lockouts.
    timeout : float, optional
        Seconds to wait for a connection.
    clock : callable, optional
        This kiosk's clock: ``horizon`` and the times returned are on it (the server's time
        less this kiosk's offset to the server, measured in the query). Without it, the
        server's clock.

    Raises
    ------
    FleetError
        The server cannot be read.
    """
    with store.connection(timeout) as conn:
        offset = store.offset(conn, clock)[1] if clock is not None else timedelta(0)
        held = store.holds_offsets(conn)
        sql = _VIEW.format(at=on_server("at", held=held), until=on_server("until", held=held))
        found = conn.execute(sql, {"me": kiosk_id, "subject": subject_ref,
                                   "horizon": horizon + offset, "db": db_id}).fetchall()
    events = []
    for kiosk, tbl, scope, target, at, until, failures, row_id, seq in found:
        if tbl == "attempts":
            events.append(RemoteEvent("failure", kiosk, "subject", subject_ref or "", at,
                                      row_id=row_id, seq=seq))
        else:
            kind = "lockout" if tbl == "lockouts" else "unlock"
            events.append(RemoteEvent(kind, kiosk, scope, target, at, until=until,
                                      failures=failures, row_id=row_id, seq=seq))
    return RemoteView.on_server(events, offset)
