"""The fleet server: a PostgreSQL database shared by the kiosks of a site (psycopg 3 and its
connection pool). The only module family that imports psycopg.

:class:`FleetStore` ships chained rows idempotently (keyed by kiosk id and chain position, in
order, checked against the chain the server already holds), and serves the lockout check's
question (:mod:`.lookup`), the fleet-wide views and the comparison of ``kiosk audit verify
--fleet``. Every failure to reach the server is a :class:`FleetUnavailable` naming the
server by host and database only. Times of other kiosks are read on the server's clock (see
:mod:`kiosk.audit.fleet.skew`): :func:`on_server` gives the SQL.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from kiosk.audit.fleet import migrations
from kiosk.audit.fleet.errors import (
    FleetConflict,
    FleetRefused,
    FleetSchemaError,
    FleetTimeout,
    FleetUnavailable,
)
from kiosk.audit.fleet.offsets import HeldOffset
from kiosk.audit.fleet.probe import probe_server
from kiosk.audit.fleet.skew import offset_between
from kiosk.audit.outbox import ShippedRow
from kiosk.audit.timeutil import Clock

log = logging.getLogger(__name__)
# The pool logs every failed reconnection while the server is down; the sender reports the
# outage once, in the kiosk's words (see kiosk.audit.fleet.sender).
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

__all__ = ["FleetStore", "Registration", "on_server"]

_INSERT = """
INSERT INTO fleet_rows (kiosk_id, seq, tbl, row_id, prev_hash, row_hash, content, at,
                        subject_ref, decision, attack, reasons, scope, target, until, action,
                        failures, mode, clock_offset_s)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (kiosk_id, seq) DO NOTHING
"""

_SERVER_ROWS = """
SELECT seq, tbl, row_id, prev_hash, row_hash, content, at, subject_ref, decision, attack,
       reasons, scope, target, until, action, failures, mode
FROM fleet_rows WHERE kiosk_id = %s AND seq BETWEEN %s AND %s ORDER BY seq
"""

# Each row's clock offset with the batch that stored it (one, should an edit make batches
# overlap).
_HELD_OFFSETS = """
SELECT DISTINCT ON (r.seq) r.seq, r.tbl, r.row_id, r.clock_offset_s, b.id
FROM fleet_rows r LEFT JOIN fleet_batches b
    ON b.kiosk_id = r.kiosk_id AND r.seq BETWEEN b.first_seq AND b.last_seq
WHERE r.kiosk_id = %s AND r.seq BETWEEN %s AND %s ORDER BY r.seq, b.id
"""

# This login's name when the server's row-level security (schema 3) would refuse its rows for
# the kiosk id; no row for the owner and superusers, whom the policies do not bind.
_REFUSED_ROLE = """
SELECT current_user::text WHERE row_security_active('fleet_rows') AND current_user::text <> %s
"""

_HOLDS_OFFSETS = """
SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass('fleet_rows')
               AND attname = 'clock_offset_s' AND NOT attisdropped)
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
    server_clock : callable, optional
        Stands in for the server's clock (tests whose time is moved by hand); None reads the
        server's ``clock_timestamp()``.
    """

    def __init__(self, url: str, *, where: str, connect_timeout_s: float = 3.0,
                 statement_timeout_s: float = 10.0, max_size: int = 3,
                 server_clock: Clock | None = None) -> None:
        self.where = where
        self.connect_timeout_s = float(connect_timeout_s)
        self.server_clock = server_clock
        self._holds_offsets = False  # the server's schema has clock_offset_s (schema 4)
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

    # -- schema (kiosk.audit.fleet.migrations) ----------------------------------------------

    def schema_version(self) -> int:
        """The server's schema version (0 before the first migration)."""
        return migrations.schema_version(self)

    def migrate(self) -> int:
        """Bring the server's schema to this kiosk's version; return the version found
        before (see :func:`kiosk.audit.fleet.migrations.migrate`)."""
        return migrations.migrate(self)

    def check_schema(self) -> None:
        """Raise :class:`FleetSchemaError` unless the schema is this kiosk's version."""
        migrations.check_schema(self)

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

    def ship(self, kiosk_id: str, db_id: str, rows: Sequence[ShippedRow], *,
             subject_key_id: str | None, kiosk_time: datetime,
             offsets: Sequence[float | None] | None = None) -> tuple[int, str]:
        """Store ``rows`` (consecutive chain positions of one kiosk) exactly once; return the
        server's head for the kiosk afterwards.

        ``offsets`` gives each row's ``clock_offset_s`` (the server's clock minus the kiosk's
        as it read when the row was written, in seconds; None: unknown, read as 0).

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
        offsets = [None] * len(rows) if offsets is None else list(offsets)
        if len(offsets) != len(rows):
            raise ValueError("offsets must give one value per row")
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
                    cur.executemany(_INSERT, [(*_values(kiosk_id, r), offset)
                                              for r, offset in zip(rows, offsets, strict=True)
                                              if r.seq > held])
                conn.execute("INSERT INTO fleet_batches (kiosk_id, db_id, first_seq, last_seq, "
                             "head_hash, kiosk_time) VALUES (%s, %s, %s, %s, %s, %s)",
                             [kiosk_id, db_id, new[0].seq, new[-1].seq, new[-1].row_hash,
                              kiosk_time])
                return new[-1].seq, new[-1].row_hash
            assert head is not None
            return head

    # -- the server's clock ------------------------------------------------------------------

    def server_time(self) -> datetime:
        """The server's clock now."""
        with self.connection() as conn:
            return self._now(conn)

    def _now(self, conn: psycopg.Connection) -> datetime:
        if self.server_clock is not None:
            return self.server_clock()
        row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        return row[0]

    def offset(self, conn: psycopg.Connection, clock: Clock) -> tuple[datetime, timedelta]:
        """The server's clock now, and it minus ``clock``, read inside ``conn``'s transaction."""
        before = clock()
        server = self._now(conn)
        return server, offset_between(server, before, clock())

    def holds_offsets(self, conn: psycopg.Connection | None = None) -> bool:
        """Whether the server's rows carry clock offsets (schema 4). A kiosk upgraded before
        the server reads the times of an older schema as recorded, as it did before."""
        if not self._holds_offsets:  # once there, it stays: asked until then
            if conn is None:
                with self.connection() as own:
                    row = own.execute(_HOLDS_OFFSETS).fetchone()
            else:
                row = conn.execute(_HOLDS_OFFSETS).fetchone()
            self._holds_offsets = bool(row and row[0])
        return self._holds_offsets

    # -- reading -------------------------------------------------------------------------

    def server_rows(self, kiosk_id: str, first: int, last: int) -> list[ShippedRow]:
        """The rows the server holds for a kiosk at positions ``first..last``: the hashed
        content, and the columns the lockout check and the views read (which the content
        does not protect)."""
        with self.connection() as conn:
            found = conn.execute(_SERVER_ROWS, [kiosk_id, first, last]).fetchall()
        return [_server_row(row) for row in found]

    def held_offsets(self, kiosk_id: str, first: int, last: int) -> list[HeldOffset]:
        """The clock offsets the server holds for a kiosk's rows at positions
        ``first..last``, each with the batch that stored it (schema 4)."""
        with self.connection() as conn:
            found = conn.execute(_HELD_OFFSETS, [kiosk_id, first, last]).fetchall()
        return [HeldOffset(int(seq), table, int(row_id), offset, batch)
                for seq, table, row_id, offset, batch in found]

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


def on_server(column: str, *, held: bool = True) -> str:
    """SQL for a time column of ``fleet_rows`` (``at``, ``until``, or qualified: ``l.at``)
    read on the server's clock: plus the row's ``clock_offset_s`` (unknown: 0). ``held``
    false (:meth:`FleetStore.holds_offsets`): the column as recorded."""
    if not held:
        return column
    table, _, _ = column.rpartition(".")
    offset = f"{table}.clock_offset_s" if table else "clock_offset_s"
    return f"({column} + make_interval(secs => coalesce({offset}, 0)))"
