"""The fleet server: a PostgreSQL database shared by the kiosks of a site (psycopg 3 and its
connection pool). The only module family that imports psycopg.

:class:`FleetStore` ships chained rows idempotently (keyed by kiosk id and chain position, in
order, checked against the chain the server already holds), reads what other kiosks recorded
for the lockout check, and serves the fleet-wide views and the comparison of ``kiosk audit
verify --fleet``. Every failure to reach the server is a :class:`FleetUnavailable` naming the
server by host and database only.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from kiosk.audit.fleet import pgschema
from kiosk.audit.fleet.errors import (
    FleetConflict,
    FleetRefused,
    FleetSchemaError,
    FleetTimeout,
    FleetUnavailable,
)
from kiosk.audit.fleet.probe import probe_server
from kiosk.audit.outbox import ShippedRow
from kiosk.audit.remote import RemoteEvent, RemoteView

log = logging.getLogger(__name__)
# The pool logs every failed reconnection while the server is down; the sender reports the
# outage once, in the kiosk's words (see kiosk.audit.fleet.sender).
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

__all__ = ["FleetStore", "Registration"]

_INSERT = """
INSERT INTO fleet_rows (kiosk_id, seq, tbl, row_id, prev_hash, row_hash, content, at,
                        subject_ref, decision, attack, reasons, scope, target, until, action,
                        failures, mode)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (kiosk_id, seq) DO NOTHING
"""

_VIEW = """
SELECT kiosk_id, tbl, action, scope, target, at, until, coalesce(failures, 0), row_id, seq
FROM fleet_rows
WHERE (kiosk_id <> %(me)s OR NOT EXISTS (
           SELECT 1 FROM fleet_kiosks WHERE kiosk_id = %(me)s AND db_id = %(db)s))
    AND at > %(horizon)s AND (
    (tbl = 'attempts' AND decision = 'fail' AND mode IS NULL AND subject_ref = %(subject)s)
    OR ((tbl = 'lockouts' OR action = 'unlock')
        AND ((scope = 'subject' AND target = %(subject)s) OR (scope = 'kiosk' AND target = %(me)s))))
"""

_SERVER_ROWS = """
SELECT seq, tbl, row_id, prev_hash, row_hash, content, at, subject_ref, decision, attack,
       reasons, scope, target, until, action, failures, mode
FROM fleet_rows WHERE kiosk_id = %s AND seq BETWEEN %s AND %s ORDER BY seq
"""

# This login's name when the server's row-level security (schema 3) would refuse its rows for
# the kiosk id; no row for the owner and superusers, whom the policies do not bind.
_REFUSED_ROLE = """
SELECT current_user::text WHERE row_security_active('fleet_rows') AND current_user::text <> %s
"""


@dataclass(frozen=True)
class Registration:
    """A kiosk as the server knows it."""

    kiosk_id: str
    db_id: str
    subject_key_id: str | None
    first_seq: int
    first_prev_hash: str


class FleetStore:
    """A connection pool to the fleet server and the statements the kiosk runs there.

    Parameters
    ----------
    url : str
        libpq URL or connection string (see :mod:`kiosk.settings.fleeturl`).
    where : str
        The server for messages (host and database).
    connect_timeout_s : float
        libpq ``connect_timeout`` and the longest wait for a pooled connection.
    statement_timeout_s : float
        The server cancels a statement running longer (a server that is slow, not down).
    max_size : int
        Connections at most (the sender, the lockout check, a command).
    """

    def __init__(self, url: str, *, where: str, connect_timeout_s: float = 3.0,
                 statement_timeout_s: float = 10.0, max_size: int = 3) -> None:
        self.where = where
        self.connect_timeout_s = float(connect_timeout_s)
        self._url = url
        self._statement_ms = int(statement_timeout_s * 1000)
        # No pool-side check: after a failed one the pool waits a reconnection back-off (1 s
        # and more), longer than the lockout check's budget (see _checkout).
        self._pool = ConnectionPool(
            url, min_size=1, max_size=max_size, open=False, name="kiosk-fleet",
            configure=_utc_session, reconnect_timeout=max(5.0, connect_timeout_s),
            kwargs={"connect_timeout": max(2, int(round(connect_timeout_s))),
                    "application_name": "liveness-kiosk"})
        self._opened = False

    def open(self) -> None:
        """Start connecting in the background (never blocks, never fails)."""
        if not self._opened:
            self._pool.open(wait=False)
            self._opened = True

    def probe(self) -> None:
        """One direct connection, closed at once, before a command relies on the pool.

        Raises
        ------
        FleetUnavailable
            The server cannot be reached; the message says why (refused, host not found,
            timed out, login refused ...: :func:`~kiosk.audit.fleet.probe.connect_failure`).
        """
        probe_server(self._url, where=self.where, timeout_s=self.connect_timeout_s)

    def close(self) -> None:
        if self._opened:
            self._pool.close(timeout=1.0)
            self._opened = False

    def __enter__(self) -> FleetStore:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        """A pooled connection inside one transaction; errors reaching the server become
        :class:`FleetUnavailable`."""
        self.open()
        wait = self.connect_timeout_s if timeout is None else timeout
        try:
            conn = self._checkout(time.monotonic() + wait)
            try:
                with conn.transaction():
                    conn.execute(f"SET LOCAL statement_timeout = {self._statement_ms}")
                    yield conn
            finally:
                self._pool.putconn(conn)
        except PoolTimeout:
            raise FleetTimeout(f"the fleet server {self.where} did not answer within "
                                   f"{wait:g} s") from None
        except pg_errors.UndefinedTable:
            raise FleetSchemaError(f"the fleet server {self.where} has no kiosk schema yet: "
                                   "start a kiosk whose role owns the database, or run `kiosk "
                                   "fleet migrate` with the owner's URL") from None
        except pg_errors.UndefinedColumn:
            # An older schema (being upgraded by another kiosk right now, or waiting for the
            # owner): this kiosk's statements need the columns of its own version.
            raise FleetSchemaError(f"the fleet server {self.where} has an older schema than "
                                   "this kiosk's: start a kiosk whose role owns the database, "
                                   "or run `kiosk fleet migrate` with the owner's URL") from None
        except psycopg.IntegrityError as exc:
            raise FleetConflict(f"the fleet server {self.where} refused the rows: "
                                f"{exc.diag.message_primary}") from None
        except pg_errors.InsufficientPrivilege as exc:
            raise FleetSchemaError(f"the fleet server {self.where} refused: "
                                   f"{exc.diag.message_primary}") from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FleetUnavailable(f"the fleet server {self.where} is unavailable: "
                                   f"{first}") from None

    def _checkout(self, deadline: float) -> psycopg.Connection:
        """A pooled connection that answers, by ``deadline`` (``time.monotonic()``).

        A connection the server dropped (it restarted, or a network device forgot the
        connection) fails its check at once; it and every other dead one the pool holds are
        discarded and the pool opens fresh ones, so the next try waits only for a new
        connection. Without this, the first lockout check after a server restart would spend
        its whole budget on dead connections and decide on this kiosk's counts alone.

        Raises
        ------
        PoolTimeout
            No connection that answers by ``deadline``.
        """
        while True:
            conn = self._pool.getconn(timeout=max(deadline - time.monotonic(), 0.0))
            try:
                ConnectionPool.check_connection(conn)
            except (psycopg.OperationalError, psycopg.InterfaceError):
                self._pool.putconn(conn)  # broken: the pool replaces it
                self._pool.check()  # its siblings died with it: replace them all now
                continue
            return conn

    # -- schema -----------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The server's schema version (0 before the first migration)."""
        with self.connection() as conn:
            exists = conn.execute("SELECT to_regclass('fleet_schema') IS NOT NULL").fetchone()
            if not exists or not exists[0]:
                return 0
            row = conn.execute("SELECT coalesce(max(version), 0) FROM fleet_schema").fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> int:
        """Bring the server's schema to :data:`pgschema.SCHEMA_VERSION`; return the version
        found before.

        Raises
        ------
        FleetSchemaError
            The schema is newer than this kiosk knows, or this role may not upgrade it.
        """
        found = self.schema_version()
        if found > pgschema.SCHEMA_VERSION:
            raise FleetSchemaError(f"the fleet server {self.where} has schema {found}, newer "
                                   f"than this kiosk's {pgschema.SCHEMA_VERSION}: upgrade "
                                   "the kiosk")
        for version in range(found + 1, pgschema.SCHEMA_VERSION + 1):
            try:
                with self.connection() as conn:
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
                raise FleetSchemaError(f"the fleet schema is at version {found} and this "
                                       f"kiosk needs {pgschema.SCHEMA_VERSION}, but this role "
                                       f"may not upgrade it ({exc}); run `kiosk fleet "
                                       "migrate` with the owner's URL") from None
            log.info("fleet schema upgraded to version %d (%s)", version, name)
        return found

    def check_schema(self) -> None:
        """Raise :class:`FleetSchemaError` unless the schema is this kiosk's version."""
        found = self.schema_version()
        if found > pgschema.SCHEMA_VERSION:
            raise FleetSchemaError(f"the fleet server {self.where} has schema {found}, newer "
                                   f"than this kiosk's {pgschema.SCHEMA_VERSION}: upgrade "
                                   "the kiosk")
        if found < pgschema.SCHEMA_VERSION:
            raise FleetSchemaError(f"the fleet server {self.where} has schema {found}; this "
                                   f"kiosk needs {pgschema.SCHEMA_VERSION} (`kiosk fleet "
                                   "migrate`)")

    # -- shipping ---------------------------------------------------------------------------

    def refusal(self, kiosk_id: str) -> FleetRefused | None:
        """Why the server would refuse this login's rows for ``kiosk_id`` (its role is not
        named as the kiosk id), or None when it takes them."""
        with self.connection() as conn:
            return _refusal(conn, kiosk_id)

    def registration(self, kiosk_id: str) -> Registration | None:
        with self.connection() as conn:
            return _registration(conn, kiosk_id)

    def head(self, kiosk_id: str) -> tuple[int, str] | None:
        """The last position and hash the server holds for a kiosk, or None."""
        with self.connection() as conn:
            return _head(conn, kiosk_id)

    def server_time(self) -> datetime:
        with self.connection() as conn:
            row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        return row[0]

    def ship(self, kiosk_id: str, db_id: str, rows: Sequence[ShippedRow], *,
             subject_key_id: str | None, kiosk_time: datetime) -> tuple[int, str]:
        """Store ``rows`` (consecutive chain positions of one kiosk) exactly once; return the
        server's head for the kiosk afterwards.

        Rows the server already holds are skipped after checking that their hashes match; the
        rest must continue the server's copy. One transaction, under an advisory lock per
        kiosk, so two senders of one kiosk never interleave.

        Raises
        ------
        FleetConflict
            The server holds another database's chain under this kiosk id, a row it holds
            differs, or the rows would leave a gap.
        FleetRefused
            This login's role is not named as ``kiosk_id`` (row-level security); nothing was
            stored.
        FleetUnavailable
            The server could not be reached; nothing was stored.
        """
        if not rows:
            raise ValueError("rows must not be empty")
        with self.connection() as conn:
            refused = _refusal(conn, kiosk_id)
            if refused is not None:
                raise refused
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", [kiosk_id])
            reg = _registration(conn, kiosk_id)
            if reg is None:
                other = conn.execute("SELECT kiosk_id FROM fleet_kiosks WHERE db_id = %s",
                                     [db_id]).fetchone()
                if other is not None:
                    raise FleetConflict(f"this audit database already ships as kiosk "
                                        f"{other[0]!r}: one database per kiosk id")
                conn.execute("INSERT INTO fleet_kiosks (kiosk_id, db_id, subject_key_id, "
                              "first_seq, first_prev_hash) VALUES (%s, %s, %s, %s, %s)",
                              [kiosk_id, db_id, subject_key_id, rows[0].seq, rows[0].prev_hash])
            elif reg.db_id != db_id:
                raise FleetConflict(f"the server holds the chain of another audit database "
                                    f"under kiosk id {kiosk_id!r}: this log was replaced, or "
                                    "two kiosks share one kiosk id")
            head = _head(conn, kiosk_id)
            held = head[0] if head is not None else 0
            _check_overlap(conn, kiosk_id, [r for r in rows if r.seq <= held])
            new = [r for r in rows if r.seq > held]
            if new:
                expected = (held + 1, head[1]) if head is not None else \
                    (rows[0].seq if reg is None else reg.first_seq,
                     rows[0].prev_hash if reg is None else reg.first_prev_hash)
                if (new[0].seq, new[0].prev_hash) != expected:
                    raise FleetConflict(f"seq {new[0].seq} does not continue the server's copy "
                                        f"of kiosk {kiosk_id!r} (it holds up to seq {held})",
                                        seq=new[0].seq)
                with conn.cursor() as cur:
                    cur.executemany(_INSERT, [_values(kiosk_id, r) for r in new])
                conn.execute("INSERT INTO fleet_batches (kiosk_id, db_id, first_seq, last_seq, "
                             "head_hash, kiosk_time) VALUES (%s, %s, %s, %s, %s, %s)",
                             [kiosk_id, db_id, new[0].seq, new[-1].seq, new[-1].row_hash,
                              kiosk_time])
                return new[-1].seq, new[-1].row_hash
            assert head is not None
            return head

    # -- what other kiosks recorded ----------------------------------------------------------

    def view(self, kiosk_id: str, subject_ref: str | None, horizon: datetime, *,
             db_id: str | None, timeout: float | None = None) -> RemoteView:
        """The other kiosks' failures of ``subject_ref``, and lockouts and unlocks of it or of
        this kiosk, recorded after ``horizon``.

        Rows under ``kiosk_id`` count as another kiosk's too unless the server registered
        this log (``db_id``) under it: a second kiosk given the same id (whose own rows the
        server refuses), or a reinstalled one, still honours that id's lockouts.
        """
        with self.connection(timeout) as conn:
            found = conn.execute(_VIEW, {"me": kiosk_id, "subject": subject_ref,
                                         "horizon": horizon, "db": db_id}).fetchall()
        events = []
        for kiosk, tbl, _action, scope, target, at, until, failures, row_id, seq in found:
            if tbl == "attempts":
                events.append(RemoteEvent("failure", kiosk, "subject", subject_ref or "", at,
                                          row_id=row_id, seq=seq))
            else:
                kind = "lockout" if tbl == "lockouts" else "unlock"
                events.append(RemoteEvent(kind, kiosk, scope, target, at, until=until,
                                          failures=failures, row_id=row_id, seq=seq))
        return RemoteView.of(events)

    def server_rows(self, kiosk_id: str, first: int, last: int) -> list[ShippedRow]:
        """The rows the server holds for a kiosk at positions ``first..last``: the hashed
        content, and the columns the lockout check and the views read (which the content
        does not protect)."""
        with self.connection() as conn:
            found = conn.execute(_SERVER_ROWS, [kiosk_id, first, last]).fetchall()
        return [_server_row(row) for row in found]

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Rows of a read-only query (the fleet-wide views)."""
        with self.connection() as conn:
            return conn.execute(sql, params).fetchall()


def _server_row(row: tuple[Any, ...]) -> ShippedRow:
    """A row of :data:`_SERVER_ROWS` in the shape the kiosk shipped it (reasons a tuple)."""
    (seq, table, row_id, prev_hash, row_hash, content, at, subject_ref, decision, attack,
     reasons, scope, target, until, action, failures, mode) = row
    return ShippedRow(seq, table, row_id, prev_hash, row_hash, content, at, subject_ref,
                      decision, attack, None if reasons is None else tuple(reasons), scope,
                      target, until, action, failures, mode)


def _utc_session(conn: psycopg.Connection) -> None:
    """Each new pooled connection reads times in UTC, as the commands label them, whatever
    the server's or the database's ``TimeZone``."""
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


def _refusal(conn: psycopg.Connection, kiosk_id: str) -> FleetRefused | None:
    row = conn.execute(_REFUSED_ROLE, [kiosk_id]).fetchone()
    return FleetRefused(kiosk_id, row[0]) if row is not None else None


def _registration(conn: psycopg.Connection, kiosk_id: str) -> Registration | None:
    row = conn.execute("SELECT kiosk_id, db_id, subject_key_id, first_seq, first_prev_hash "
                       "FROM fleet_kiosks WHERE kiosk_id = %s", [kiosk_id]).fetchone()
    return Registration(*row) if row is not None else None


def _head(conn: psycopg.Connection, kiosk_id: str) -> tuple[int, str] | None:
    row = conn.execute("SELECT seq, row_hash FROM fleet_rows WHERE kiosk_id = %s "
                       "ORDER BY seq DESC LIMIT 1", [kiosk_id]).fetchone()
    return (int(row[0]), row[1]) if row is not None else None


def _check_overlap(conn: psycopg.Connection, kiosk_id: str, rows: list[ShippedRow]) -> None:
    """Rows sent again must be the ones the server holds (a resent batch is then a no-op)."""
    if not rows:
        return
    held: dict[int, str] = dict(conn.execute("SELECT seq, row_hash FROM fleet_rows WHERE kiosk_id = %s AND "
                             "seq = ANY(%s)", [kiosk_id, [r.seq for r in rows]]).fetchall())
    for r in rows:
        if r.seq in held and held[r.seq] != r.row_hash:
            raise FleetConflict(f"seq {r.seq} of kiosk {kiosk_id!r} differs from the copy the "
                                "server received earlier: the local row was changed after "
                                "it was shipped (run `kiosk audit verify --fleet`)", seq=r.seq)


def _values(kiosk_id: str, r: ShippedRow) -> tuple[Any, ...]:
    return (kiosk_id, r.seq, r.table, r.row_id, r.prev_hash, r.row_hash, r.content, r.at,
            r.subject_ref, r.decision, r.attack,
            Jsonb(list(r.reasons)) if r.reasons is not None else None, r.scope, r.target,
            r.until, r.action, r.failures, r.mode)
