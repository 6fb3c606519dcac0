"""The retention of the fleet server's copy: staff remove rows older than an age.

The kiosks' roles may never delete (:mod:`kiosk.audit.fleet.pgschema`); a login in the
``kiosk_fleet_purger`` group may. Without a purge the server kept every row for good, while
the consent notice promised ``audit.retention_days`` for the record of a check.

What stays, whatever the age (as the local purge keeps what it must):

- each kiosk's newest row, so its chain goes on from the server's copy;
- a lockout still in force, and the unlocks of its target (a lockout whose unlock was
  removed would be in force again at every kiosk).

Rows are judged by ``at`` (the kiosk's time of the row, on the server's clock) against the
server's ``now()``; failures inside the rate-limit window are younger than the least age
allowed (:data:`MIN_AGE`).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from kiosk.audit.fleet.store import FleetStore

#: The least age a purge of the server takes: a day, far beyond the failure window and the
#: clock offsets between kiosks, so no failure the fleet's lockout check counts is removed.
MIN_AGE = timedelta(days=1)

_PURGE = """
DELETE FROM fleet_rows r
WHERE r.at < now() - %(age)s
  AND r.seq < (SELECT max(m.seq) FROM fleet_rows m WHERE m.kiosk_id = r.kiosk_id)
  AND NOT (r.tbl = 'lockouts' AND r.until > now())
  AND NOT (r.action = 'unlock' AND EXISTS (
      SELECT 1 FROM fleet_rows l WHERE l.tbl = 'lockouts' AND l.until > now()
                                   AND l.scope = r.scope AND l.target = r.target))
RETURNING r.tbl
"""


def check_age(older_than: timedelta) -> None:
    """ValueError when ``older_than`` is under :data:`MIN_AGE`."""
    if older_than < MIN_AGE:
        raise ValueError(f"a purge of the fleet server keeps at least {MIN_AGE.days} day of "
                         "rows (the lockout check counts recent failures at every kiosk)")


def purge_server(store: FleetStore, older_than: timedelta) -> Counter[str]:
    """Remove the server's rows older than ``older_than`` (one transaction); the number
    removed per table (``attempts``, ``lockouts``, ``operator_actions``).

    Raises
    ------
    ValueError
        ``older_than`` is under :data:`MIN_AGE`.
    FleetError
        The server cannot be reached, or refuses (a role outside ``kiosk_fleet_purger``:
        :class:`~kiosk.audit.fleet.errors.FleetSchemaError`).
    """
    check_age(older_than)
    with store.connection() as conn:
        removed = conn.execute(_PURGE, {"age": older_than}).fetchall()
    return Counter(table for (table,) in removed)
