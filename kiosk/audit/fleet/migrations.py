"""Bringing the fleet server's schema to this kiosk's version (:mod:`.pgschema` holds the
migrations), through a :class:`~kiosk.audit.fleet.store.FleetStore`.

Each migration runs in its own transaction with its version row, under an advisory lock, so
kiosks that start together apply each exactly once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kiosk.audit.fleet import pgschema
from kiosk.audit.fleet.errors import FleetSchemaError

if TYPE_CHECKING:
    from kiosk.audit.fleet.store import FleetStore

log = logging.getLogger(__name__)

__all__ = ["check_schema", "migrate", "schema_version"]


def schema_version(store: FleetStore) -> int:
    """The server's schema version (0 before the first migration)."""
    with store.connection() as conn:
        exists = conn.execute("SELECT to_regclass('fleet_schema') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return 0
        row = conn.execute("SELECT coalesce(max(version), 0) FROM fleet_schema").fetchone()
    return int(row[0]) if row else 0


def _newer(store: FleetStore, found: int) -> FleetSchemaError:
    return FleetSchemaError(f"the fleet server {store.where} has schema {found}, newer than "
                            f"this kiosk's {pgschema.SCHEMA_VERSION}: upgrade the kiosk")


def migrate(store: FleetStore) -> int:
    """Bring the server's schema to :data:`pgschema.SCHEMA_VERSION`; return the version found
    before.

    Raises
    ------
    FleetSchemaError
        The schema is newer than this kiosk knows, or this role may not upgrade it.
    """
    found = schema_version(store)
    if found > pgschema.SCHEMA_VERSION:
        raise _newer(store, found)
    for version in range(found + 1, pgschema.SCHEMA_VERSION + 1):
        try:
            with store.connection() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [pgschema.MIGRATION_LOCK])
                conn.execute(pgschema.SCHEMA_TABLE)
                row = conn.execute("SELECT coalesce(max(version), 0) FROM fleet_schema"
                                   ).fetchone()
                if row is not None and int(row[0]) >= version:
                    continue
                name, statements = pgschema.MIGRATIONS[version - 1]
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO fleet_schema (version, description) "
                             "VALUES (%s, %s)", [version, name])
        except FleetSchemaError as exc:
            raise FleetSchemaError(f"the fleet schema is at version {found} and this kiosk "
                                   f"needs {pgschema.SCHEMA_VERSION}, but this role may not "
                                   f"upgrade it ({exc}); run `kiosk fleet migrate` with the "
                                   "owner's URL") from None
        log.info("fleet schema upgraded to version %d (%s)", version, name)
    return found


def check_schema(store: FleetStore) -> None:
    """Raise :class:`FleetSchemaError` unless the schema is this kiosk's version."""
    found = schema_version(store)
    if found > pgschema.SCHEMA_VERSION:
        raise _newer(store, found)
    if found < pgschema.SCHEMA_VERSION:
        raise FleetSchemaError(f"the fleet server {store.where} has schema {found}; this kiosk "
                               f"needs {pgschema.SCHEMA_VERSION} (`kiosk fleet migrate`)")
