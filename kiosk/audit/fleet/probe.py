"""One direct connection to the fleet server, and why it failed in words for staff.

A command asks once, so it first makes one direct connection and says why it failed
(refused, host not found, timed out, login refused...). Through the pool alone a command
would wait the whole connect time-out and learn only that: the pool's worker retries a
failed connection in the background, with back-off, until ``reconnect_timeout``, and never
hands its error to the caller waiting for a connection. That suits the running kiosk, whose
sender retries anyway; not a command asked why the server cannot be reached.
"""

from __future__ import annotations

import re

import psycopg

from kiosk.audit.fleet.errors import FleetUnavailable

__all__ = ["connect_failure", "probe_server"]

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
