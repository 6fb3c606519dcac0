"""The fleet store: the kiosks of a site share lockouts and one central audit trail on
PostgreSQL, with store-and-forward when the network is down.

Enabled by one setting, ``fleet.url`` (also ``KIOSK_FLEET_URL``); without it nothing here is
used and the kiosk behaves as a stand-alone one. The local SQLite log stays the source of
truth: rows are committed there first and shipped by :class:`FleetSender`. The only package
that imports psycopg (checked by import-linter).

- :mod:`.store`: the server (connection pool, shipping, queries; :mod:`.migrations` and
  :mod:`.pgschema` its schema);
- :mod:`.sender`: store-and-forward in the background;
- :mod:`.link`: the audit log's hook (the other kiosks' view for the lockout check,
  :mod:`.lookup`; the unreachable-server policy, :mod:`.silence`);
- :mod:`.skew`: every fleet time judged on the server's clock; :mod:`.trail` the kiosk's
  clock changes since each row it ships;
- :mod:`.compare`: the local chain against the server's copy (``audit verify --fleet``),
  the rows' clock offsets against the local log's record (:mod:`.offsets`);
- :mod:`.views`: fleet-wide lists, counts and lockouts (``audit list/stats/lockouts
  --fleet``, the operator panel);
- :mod:`.status`: ``kiosk fleet status``.
"""

from kiosk.audit.fleet.config import POLICIES, FleetConfig
from kiosk.audit.fleet.errors import (
    FleetConflict,
    FleetError,
    FleetRefused,
    FleetSchemaError,
    FleetUnavailable,
)
from kiosk.audit.fleet.link import FleetLink
from kiosk.audit.fleet.sender import FleetSender
from kiosk.audit.fleet.store import FleetStore

__all__ = ["POLICIES", "FleetConfig", "FleetConflict", "FleetError", "FleetLink",
           "FleetRefused", "FleetSchemaError", "FleetSender", "FleetStore", "FleetUnavailable"]
