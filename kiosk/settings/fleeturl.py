"""The fleet server's address (``fleet.url``): checked here, shown without secrets.

``fleet.url`` is a libpq connection URI (``postgresql://user@host:port/dbname?sslmode=...``)
or a libpq keyword/value string (``service=site``, ``host=db user=kiosk dbname=kiosks``). A
password in it (or ``sslpassword``, the passphrase of the client's TLS key) is refused: it
would end up in the settings file, in ``kiosk settings`` and in the operator's record of a
settings change. libpq's own places hold it instead: the password file (``~/.pgpass`` or ``PGPASSFILE``), ``PGPASSWORD``, or a service file
(``~/.pg_service.conf`` or ``PGSERVICEFILE``). TLS (``sslmode``, ``sslrootcert``, ``sslcert``,
``sslkey``) goes in the URL or the service file like any libpq parameter.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["fleet_url_problem", "fleet_where"]

_SCHEMES = ("postgresql", "postgres")
_URI = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]*://")
_KEYWORD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")


def _keywords(text: str) -> dict[str, str] | None:
    """The keyword/value pairs of a libpq connection string; None when it is not one."""
    pairs, pos = {}, 0
    text = text.strip()
    while pos < len(text):
        found = _KEYWORD.match(text, pos)
        if found is None:
            return None
        pairs[found.group(1).lower()] = found.group(2).strip("'")
        pos = found.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return pairs or None


_PASSWORD = ("it contains a password; put the password in ~/.pgpass (or PGPASSFILE), "
             "PGPASSWORD or a service file instead")

#: Parameters that hold a secret: the password, and libpq's passphrase of the client's TLS key
#: (``sslpassword``), which would end up in the same places.
_SECRETS = ("password", "sslpassword")


def _nested(dbname: str | None) -> str | None:
    """libpq reads a database name holding ``=`` or a URI prefix as a connection string of
    its own (its password included), so such a name is refused rather than looked into."""
    if dbname and ("=" in dbname or dbname.startswith(tuple(f"{s}:" for s in _SCHEMES))):
        return ("its database name is itself a connection string; write those parameters "
                "in the URL or keyword string directly")
    return None


def fleet_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be ``fleet.url`` (a plain sentence), or None when it can."""
    if _URI.match(url):
        try:
            parts = urlsplit(url)
            query = dict(parse_qsl(parts.query))
            _ = parts.port
        except ValueError as exc:
            return f"it is not a valid URL ({exc})"
        if parts.scheme not in _SCHEMES:
            return "a URL must start with postgresql:// (or postgres://)"
        if parts.password is not None or any(k.lower() in _SECRETS for k in query):
            return _PASSWORD
        return _nested(query.get("dbname") or unquote(parts.path.lstrip("/")))
    pairs = _keywords(url)
    if pairs is None:
        return ("allowed: a postgresql:// URL or a libpq keyword/value string such as "
                "'service=site'")
    if any(k in _SECRETS for k in pairs):
        return _PASSWORD
    return _nested(pairs.get("dbname"))


def fleet_where(url: str) -> str:
    """A short description of the server for messages and logs: host, port and database
    (never user names or parameters)."""
    if _URI.match(url):
        try:
            parts = urlsplit(url)
            host = parts.hostname or "local socket"
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            return "the fleet server"
        db = parts.path.lstrip("/") or "default database"
        return f"{host}{port}/{db}"
    pairs = _keywords(url) or {}
    if "service" in pairs:
        return f"service {pairs['service']}"
    host = pairs.get("host") or pairs.get("hostaddr") or "local socket"
    port = f":{pairs['port']}" if "port" in pairs else ""
    return f"{host}{port}/{pairs.get('dbname', 'default database')}"
