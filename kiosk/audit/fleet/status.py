"""``kiosk fleet status``: the sender's backlog, what the server acknowledged, whether it
answers, and the clock skew between it and this kiosk.

A command asks once, so :func:`probe_server` first makes one direct connection and says why
it failed (refused, host not found, timed out, login refused...). Through the pool alone a
command would wait the whole connect time-out and learn only that: the pool's worker retries
a failed connection in the background, with back-off, until ``reconnect_timeout``, and never
hands its error to the caller waiting for a connection. That suits the running kiosk, whose
sender retries anyway; not a command asked why the server cannot be reached.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from kiosk.audit.fleet import pgschema
from kiosk.audit.fleet.errors import FleetError, FleetUnavailable
from kiosk.audit.fleet.store import FleetStore
from kiosk.audit.outbox import FleetState, LocalHead
from kiosk.audit.timeutil import Clock, utc_now

__all__ = ["FleetStatus", "connect_failure", "fleet_status", "probe_server"]

#: Why a connection failed, from libpq's message (no SQLSTATE exists before the server has
#: answered): the first pattern found wins. ``{timeout}`` is the connect time-out. None
#: names a user, a password or a connection parameter.
_FAILURES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), text) for pattern, text in (
        (r"connection refused",
         "refused the connection: nothing listens on that host and port (is the server "
         "running, and is the port right?)"),
        (r"failed to resolve host|could not translate host name|name or service not known|"
         r"nodename nor servname|no address associated",
         "cannot be found: its host name does not resolve (check the host in fleet.url and "
         "the DNS)"),
        (r"definition of service .* not found|service file .* not found",
         "is named by a service that is not defined (check the service name and the "
         "connection service file, PGSERVICEFILE or ~/.pg_service.conf)"),
        (r"timeout expired|timed out",
         "did not answer within {timeout:g} s (timed out: the host is down or a firewall "
         "drops the packets)"),
        (r"password authentication failed|authentication failed|no password supplied|"
         r"password is required",
         "refused the login: authentication failed (check the role, and its password in "
         "~/.pgpass, PGPASSWORD or the service file)"),
        (r"role .* does not exist",
         "refused the login: authentication failed (the server has no such role)"),
        (r"no pg_hba\.conf entry",
         "refused the login: no pg_hba.conf entry admits this host, role and database"),
        (r"database .* does not exist", "has no such database"),
        (r"no such file or directory",
         "has no socket there: no server runs on that socket (or the socket folder is "
         "wrong)"),
        (r"starting up|shutting down|in recovery mode",
         "is starting up, shutting down or recovering: try again shortly"),
        (r"too many (clients|connections)", "has too many connections open"),
        (r"invalid (uri|connection option|.* value)",
         "is given by a connection string libpq refuses (check fleet.url for an unknown "
         "option or a bad value)"),
        (r"ssl", "failed the SSL negotiation (is it a PostgreSQL server on that port?)"),
    ))

#: Quoted names and ``key=value`` parameters left out of an unrecognised message.
_QUOTED = re.compile(r'"[^"]*"')
_PARAMETER = re.compile(r"\b(password|user|passfile|sslpassword)\s*=\s*\S+", re.IGNORECASE)


def connect_failure(exc: BaseException, *, timeout_s: float) -> str:
    """What a failed connection means, in words for staff (follows "the fleet server X").

    Parameters
    ----------
    exc : Exception
        psycopg's error for the connection.
    timeout_s : float
        The connect time-out, for a time-out's message.

    Returns
    -------
    str
        A phrase naming the failure; for a message no pattern knows, libpq's first line with
        quoted names (users, roles, databases) and credentials left out.
    """
    text = str(exc).strip()
    if isinstance(exc, psycopg.errors.ConnectionTimeout):
        text = "timeout expired"
    for pattern, phrase in _FAILURES:
        if pattern.search(text):
            return phrase.format(timeout=timeout_s)
    first = text.splitlines()[0] if text else type(exc).__name__
    return "is unavailable: " + _PARAMETER.sub(r"\1=...", _QUOTED.sub('"..."', first))


def probe_server(url: str, *, where: str, timeout_s: float) -> None:
    """One direct connection to the server, closed at once.

    Parameters
    ----------
    url : str
        libpq URL or connection string (``fleet.url``).
    where : str
        The server for messages (host and database).
    timeout_s : float
        The connect time-out (libpq counts whole seconds, at least 2, as the store does).

    Raises
    ------
    FleetUnavailable
        The connection failed; the message says why (:func:`connect_failure`).
    """
    try:
        with psycopg.connect(url, connect_timeout=max(2, int(round(timeout_s))),
                             application_name="liveness-kiosk"):
            pass
    except psycopg.Error as exc:  # a bad option is a ProgrammingError, before any network
        raise FleetUnavailable(f"the fleet server {where} "
                               f"{connect_failure(exc, timeout_s=timeout_s)}") from None


@dataclass(frozen=True)
class FleetStatus:
    """See :func:`fleet_status`; ``as_dict`` gives plain JSON values."""

    server: str
    kiosk_id: str
    reachable: bool
    error: str | None
    round_trip_ms: float | None
    schema_version: int | None
    kiosks: int | None
    local_head: int
    server_seq: int | None
    acknowledged_from: str
    backlog: int | None
    last_contact: datetime | None
    clock_skew_s: float | None
    registered_db_matches: bool | None
    sender_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["last_contact"] = self.last_contact.isoformat() if self.last_contact else None
        return out


def fleet_status(store: FleetStore, *, kiosk_id: str, head: LocalHead,
                 state: FleetState | None, clock: Clock = utc_now,
                 url: str | None = None) -> FleetStatus:
    """Ask the server (once, with the connect time-out) and combine with the local record.

    When the server does not answer, the acknowledged position and the skew come from the
    local record of the last contact (``acknowledged_from`` says which: ``"server"``,
    ``"local record"``, or ``"none"`` when no acknowledgement was ever recorded).

    Parameters
    ----------
    url : str, optional
        The store's URL: :func:`probe_server` tries it first, so an unreachable server is
        reported at once and with its cause, not after the pool's time-out.
    """
    try:
        if url is not None:
            probe_server(url, where=store.where, timeout_s=store.connect_timeout_s)
        t0, local0 = time.monotonic(), clock()
        server_now = store.server_time()
        t1, local1 = time.monotonic(), clock()
        version = store.schema_version()
        kiosks = registered = server_head = None
        if version == 0:
            kiosks, server_head = 0, 0  # no kiosk has shipped yet
        elif version == pgschema.SCHEMA_VERSION:
            kiosks = int(store.query("SELECT count(*) FROM fleet_kiosks")[0][0])
            reg = store.registration(kiosk_id)
            registered = None if reg is None else reg.db_id == head.db_id
            found = store.head(kiosk_id)
            server_head = found[0] if found is not None else 0
    except FleetError as exc:
        seq = state.server_seq if state is not None else None
        return FleetStatus(store.where, kiosk_id, False, str(exc), None, None, None,
                           head.head_seq, seq, "local record" if seq is not None else "none",
                           head.head_seq - seq if seq is not None else None,
                           state.last_contact if state else None,
                           state.skew_s if state else None, None,
                           state.last_error if state else None)
    skew = (server_now - (local0 + (local1 - local0) / 2)) / timedelta(seconds=1)
    backlog = None if server_head is None else \
        head.head_seq - max(server_head, head.anchor_seq)
    return FleetStatus(store.where, kiosk_id, True, None, round((t1 - t0) * 1000, 1),
                       version, kiosks, head.head_seq, server_head, "server", backlog,
                       local1, round(skew, 3), registered,
                       state.last_error if state else None)
