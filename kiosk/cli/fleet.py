"""``kiosk fleet status`` and ``kiosk fleet migrate``: this kiosk and the site's fleet server
(``fleet.url``, also ``KIOSK_FLEET_URL``).

``status`` prints the sender's backlog (rows of the local log the server does not hold yet),
the last position the server acknowledged, whether the server answers (and how fast, or why
not: refused, host not found, timed out, login refused...), and the clock skew between the
server and this machine; exit 0 when this kiosk's rows can reach the server, 1 when they
cannot: it does not answer (the local record of the last contact is shown then), refuses
them, or holds a chain the local log does not continue (an older copy of the log put back).
``migrate`` creates or
upgrades the server's schema; run it with the owner's URL when the kiosks' role may only
insert and read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.audit import AuditConfig, AuditLog, AuditUnavailable, resolve_db_path
from kiosk.audit.errors import MISSING
from kiosk.audit.outbox import LocalHead
from kiosk.audit.timeutil import parse_duration
from kiosk.cli.args import parsed
from kiosk.cli.audit.opening import kept_there
from kiosk.errors import InputError
from kiosk.settings import default_data_dir

EXIT_OK = 0
EXIT_UNREACHABLE = 1


def _config(ctx: Any) -> Any:
    from kiosk.audit.fleet import FleetConfig

    config = FleetConfig.from_settings(ctx.settings)
    if config is None:
        raise InputError("no fleet is configured: set fleet.url in the settings or "
                         "KIOSK_FLEET_URL")
    return config


def run_status(args: argparse.Namespace, ctx: Any) -> int:
    from kiosk.audit.fleet import FleetStore
    from kiosk.audit.fleet.status import fleet_status

    config = _config(ctx)
    path = Path(args.db).expanduser() if args.db else \
        resolve_db_path(ctx.settings, default_data_dir(ctx.environ))
    settings_config = AuditConfig.from_settings(ctx.settings, store_best_frame=False)
    with contextlib.ExitStack() as opened:
        try:
            audit = opened.enter_context(AuditLog.open(
                path, settings_config, read_only=True, create=False, check_integrity=False,
                probe_write=False))
        except AuditUnavailable as exc:
            # Before the kiosk's first start (setting a site up) the server is still worth
            # asking; a log the kiosk kept and lost is not that.
            if exc.reason != MISSING:
                raise
            lost = kept_there(exc, path, ctx.settings.audit.key_file)
            if lost is not None:
                raise lost from None
            audit = None
        begun = audit is not None
        head = audit.chain_head() if audit else LocalHead(None, 0, "", 0, "")
        # Not entered as a context: the pool starts connecting only once fleet_status's
        # probe has reached the server, so an unreachable one is reported without the
        # pool's retries. The log stays open for the one row compared with the server's.
        store = FleetStore(config.url, where=config.where,
                           connect_timeout_s=config.connect_timeout_s)
        try:
            status = fleet_status(store, kiosk_id=ctx.settings.kiosk.kiosk_id, head=head,
                                  state=audit.fleet_state() if audit else None,
                                  local_rows=audit.chained_rows if audit else None)
        finally:
            store.close()
    out = ctx.stdout
    if args.json:
        out.write(json.dumps({**status.as_dict(), "local_log": begun}, sort_keys=True) + "\n")
        return EXIT_OK if status.shipping else EXIT_UNREACHABLE
    print(f"fleet server: {status.server}", file=out)
    if status.reachable:
        print(f"  reachable: yes ({status.round_trip_ms} ms); schema {status.schema_version}; "
              f"{status.kiosks if status.kiosks is not None else '?'} kiosk(s) registered",
              file=out)
    else:
        print("  reachable: NO", file=out)
        print(f"  why: {status.error}", file=out)
    if begun:
        print(f"kiosk: {status.kiosk_id}; local log head seq {status.local_head}", file=out)
    else:
        print(f"kiosk: {status.kiosk_id}; no local audit log yet at {path} (the kiosk has "
              "not run: nothing to ship)", file=out)
    print(f"  last acknowledged: {acknowledged(status)}", file=out)
    print(f"  sender backlog: {backlog_text(status)}", file=out)
    contact = status.last_contact.isoformat(timespec="seconds") if status.last_contact else \
        "never"
    print(f"  last contact: {contact}", file=out)
    skew = "unknown" if status.clock_skew_s is None else \
        f"{status.clock_skew_s:+.3f} s (server minus this machine)"
    print(f"  clock skew: {skew}", file=out)
    if status.clock_warning:
        print(f"  WARNING: {status.clock_warning}", file=out)
    if status.refused:
        print(f"  REFUSED: {status.refused}; the rows stay in the local log", file=out)
    if status.diverged:
        print(f"  NOT SHIPPING: the local log no longer continues the server's copy "
              f"({status.diverged}). If an older copy of the log was put back, keep the newer "
              "file as evidence and give this kiosk a new kiosk.kiosk_id; `kiosk audit verify "
              "--fleet` names the first row that differs", file=out)
    if status.sender_error:
        print(f"  sender's last error ({error_age(status)}): {status.sender_error}", file=out)
    if status.registered_db_matches is False:
        if begun:
            print("  WARNING: the server registered another audit database under this kiosk "
                  "id", file=out)
        else:
            print(f"  WARNING: the server already holds another kiosk's chain under the id "
                  f"{status.kiosk_id!r}: give this kiosk its own kiosk.kiosk_id before it "
                  "starts", file=out)
    return EXIT_OK if status.shipping else EXIT_UNREACHABLE


def backlog_text(status: Any) -> str:
    """The sender's backlog in words.

    Parameters
    ----------
    status : kiosk.audit.fleet.status.FleetStatus
    """
    if status.diverged:
        return "none can ship (see NOT SHIPPING below)"
    return "unknown" if status.backlog is None else f"{status.backlog} row(s)"


def error_age(status: Any) -> str:
    """When the sender's last error was recorded, as far as the local log tells: it keeps
    the error without its time, and a successful contact clears it.

    Parameters
    ----------
    status : kiosk.audit.fleet.status.FleetStatus
    """
    contact: datetime | None = status.sender_contact
    when = "the sender never reached the server from this log" if contact is None else \
        f"recorded after the sender's last successful contact, " \
        f"{contact.isoformat(timespec='seconds')}"
    return f"{when}; the server answers this check now" if status.reachable else when


def acknowledged(status: Any) -> str:
    """The last position the server acknowledged, and where that is known from.

    Parameters
    ----------
    status : kiosk.audit.fleet.status.FleetStatus
    """
    seq, source = status.server_seq, status.acknowledged_from
    if seq is None:
        if source == "none":
            return "never (no acknowledgement from the server is recorded here)"
        return "unknown (the server's schema is not the one this kiosk reads)"
    where = "the server" if source == "server" else "the local record of the last contact"
    return f"{'nothing yet' if seq == 0 else f'seq {seq}'} (from {where})"


def run_migrate(args: argparse.Namespace, ctx: Any) -> int:
    from kiosk.audit.fleet import FleetStore
    from kiosk.audit.fleet.pgschema import SCHEMA_VERSION

    config = _config(ctx)
    store = FleetStore(config.url, where=config.where,
                       connect_timeout_s=config.connect_timeout_s)
    store.probe()  # before the pool: an unreachable server is named with its cause at once
    with store:
        found = store.migrate()
    if found == SCHEMA_VERSION:
        print(f"fleet schema on {config.where} is already at version {found}", file=ctx.stdout)
    else:
        print(f"fleet schema on {config.where} upgraded from version {found} to "
              f"{SCHEMA_VERSION}", file=ctx.stdout)
    return EXIT_OK


def run_purge(args: argparse.Namespace, ctx: Any) -> int:
    from kiosk.audit.fleet import FleetStore
    from kiosk.audit.fleet.purge import check_age, purge_server
    from kiosk.settings.fleeturl import fleet_url_problem, fleet_where

    try:
        check_age(args.older_than)
    except ValueError as exc:
        raise InputError(f"--older-than: {exc}") from None
    url = args.url or _config(ctx).url
    problem = fleet_url_problem(url)
    if problem is not None:
        raise InputError(f"--url is not usable: {problem}")
    where = fleet_where(url)
    store = FleetStore(url, where=where, connect_timeout_s=ctx.settings.fleet.connect_timeout_s)
    store.probe()  # an unreachable server or a refused login is named with its cause at once
    with store:
        removed = purge_server(store, args.older_than)
    counts = ", ".join(f"{removed[table]} {label}(s)" for table, label in
                       (("attempts", "attempt"), ("lockouts", "lockout"),
                        ("operator_actions", "operator action")))
    print(f"purged rows older than {args.older_than.days} day(s) from the fleet server "
          f"{where}: {counts}; each kiosk's newest row and the lockouts in force stay",
          file=ctx.stdout)
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``kiosk fleet`` and its subcommands."""
    summary = "this kiosk and the site's fleet server (fleet.url)"
    parser = subparsers.add_parser("fleet", help=summary, description=summary.capitalize())
    sub = parser.add_subparsers(dest="fleet_command", metavar="SUBCOMMAND", required=True)
    text = ("sender backlog, last acknowledged sequence, server reachability and clock skew; "
            "exit 1 when this kiosk's rows cannot reach the server: it does not answer, "
            "refuses this login, holds another log under this kiosk id, or holds rows the "
            "local log does not continue (an older copy of the log put back)")
    p = sub.add_parser("status", help=text, description=text)
    p.add_argument("--db", metavar="PATH", help="audit database (default: audit.db_path, else "
                   "kiosk.db in the platform data folder)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=run_status)
    text = "create or upgrade the fleet server's schema (needs the database owner's role)"
    p = sub.add_parser("migrate", help=text, description=text)
    p.set_defaults(func=run_migrate)
    text = ("remove the fleet server's rows older than AGE, as each kiosk's own purge does "
            "(run daily with the kiosks' audit.retention_days, which the consent notice "
            "promises; needs a login in the kiosk_fleet_purger group)")
    p = sub.add_parser("purge", help=text, description=text)
    p.add_argument("--older-than", type=parsed(parse_duration), required=True, metavar="AGE",
                   help="e.g. 30d (at least 1d)")
    p.add_argument("--url", metavar="URL", help="the purger's login (default: fleet.url, "
                   "whose kiosk role may not delete); keep its password in ~/.pgpass or a "
                   "service file, never on the command line")
    p.set_defaults(func=run_purge)
