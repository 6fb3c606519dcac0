"""``--fleet`` of ``kiosk audit list/stats/lockouts/actions/verify``: every kiosk of the site, read
from the fleet server (``fleet.url``), with the kiosk of each row; ``verify --fleet`` compares
the local chain with the server's copy and names the first row that differs. Also what the
local ``lockouts`` and ``unlock`` ask the server.

Decisions and staff actions read as in the local commands (:mod:`kiosk.cli.audit.text`)."""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from kiosk.audit import key_store
from kiosk.audit.errors import AuditError
from kiosk.audit.results import SCRIPTED_NOTE
from kiosk.audit.timeutil import utc_now
from kiosk.cli.audit import subject
from kiosk.cli.audit.opening import db_path
from kiosk.cli.audit.text import (
    column_width,
    lifted_by,
    lockout_targets,
    pad,
    print_actions,
    print_by_reason,
    short_ref,
    shown_decision,
    staff_actions,
    stamp,
)
from kiosk.errors import InputError

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BROKEN = 1

@contextlib.contextmanager
def fleet_store(ctx: Any) -> Iterator[Any]:
    """The fleet server of the settings (InputError when none is configured; FleetUnavailable
    naming the cause when it cannot be reached)."""
    from kiosk.audit.fleet import FleetConfig, FleetStore

    config = FleetConfig.from_settings(ctx.settings)
    if config is None:
        raise InputError("no fleet is configured: set fleet.url in the settings or "
                         "KIOSK_FLEET_URL")
    store = FleetStore(config.url, where=config.where,
                       connect_timeout_s=config.connect_timeout_s)
    # One direct try first: the pool would retry a refused or unknown server until its
    # time-out and report only that (see kiosk.audit.fleet.probe).
    store.probe()
    with store:
        store.check_schema()
        yield store


def fleet_kiosk_ids(ctx: Any) -> list[str] | None:
    """The kiosks registered on the fleet server (those that shipped rows), sorted; None
    when no fleet is configured.

    Raises
    ------
    FleetError
        The server cannot be reached or has not this kiosk's schema.
    """
    from kiosk.audit.fleet import FleetConfig

    if FleetConfig.from_settings(ctx.settings) is None:
        return None
    with fleet_store(ctx) as store:
        rows = store.query("SELECT kiosk_id FROM fleet_kiosks ORDER BY kiosk_id")
    return [str(row[0]) for row in rows]


def _asked(ctx: Any, read: Callable[[Any], Any]) -> tuple[Any, str | None]:
    """``read(store)`` of the fleet server and None; or None and why it could not be asked."""
    from kiosk.audit.fleet.errors import FleetError

    try:
        with fleet_store(ctx) as store:
            return read(store), None
    except FleetError as exc:
        return None, str(exc)


def cmd_list(args: argparse.Namespace, ctx: Any) -> int:
    from kiosk.audit.fleet.views import fleet_attempts

    if args.decision == "incomplete":
        raise InputError("--fleet lists finished attempts only (open ones are not shipped)")
    number, ref = subject.given(args)
    if number is not None:  # every kiosk of a site hashes with the site's one subject key
        hasher = key_store(ctx.settings, db_path(args, ctx), create=False).subject_hasher()
        ref = subject.reference(hasher.ref, number, None)
    with fleet_store(ctx) as store:
        rows = fleet_attempts(store, decision=args.decision, since=args.since,
                              until=args.until, subject_ref=ref, limit=args.limit)
    out = ctx.stdout
    decisions = [shown_decision(a.decision, a.scripted, a.overridden_to) for a in rows]
    width = column_width("DECISION", decisions)
    kw = column_width("KIOSK", (a.kiosk_id for a in rows))
    print(f"{pad('KIOSK', kw)}  {'ID':>7}  {'RECORDED (UTC)':19}  {'SUBJECT':12}  "
          f"{'DECISION':{width}}  {'LIVENESS':>8}  REASONS", file=out)
    for a, decision in zip(rows, decisions, strict=True):
        liveness = "-" if a.liveness_score is None else f"{a.liveness_score:.1f}"
        print(f"{pad(a.kiosk_id, kw)}  {a.id:>7}  {stamp(a.recorded_at):19}  "
              f"{short_ref(a.subject_ref):12}  {decision:{width}}  "
              f"{liveness:>8}  {','.join(a.reasons) or '-'}", file=out)
    print(f"{len(rows)} attempt(s) of the fleet, newest first", file=out)
    if any(a.scripted for a in rows):
        print(f"(scripted): {SCRIPTED_NOTE}", file=out)
    return EXIT_OK


def cmd_stats(args: argparse.Namespace, ctx: Any) -> int:
    from kiosk.audit.fleet.views import fleet_stats

    with fleet_store(ctx) as store:
        s = fleet_stats(store, since=args.since, until=args.until)
    out = ctx.stdout
    print(f"attempts of the fleet: {s.total}", file=out)
    if s.scripted:
        print(f"scripted evaluation runs, not counted: {s.scripted}", file=out)
    kw = column_width("KIOSK", s.by_kiosk)
    print(f"  {pad('KIOSK', kw)}{'pass':>8}{'fail':>8}{'review':>8}", file=out)
    for kiosk, counts in s.by_kiosk.items():
        print(f"  {pad(kiosk, kw)}" + "".join(f"{counts[d]:>8}" for d in
                                          ("pass", "fail", "review")), file=out)
    print(staff_actions(s.lockouts, s.unlocks, s.overrides), file=out)
    print_by_reason(s.by_reason, out)
    return EXIT_OK


def cmd_lockouts(args: argparse.Namespace, ctx: Any) -> int:
    from kiosk.audit.fleet.views import fleet_lockouts

    now = utc_now()
    with fleet_store(ctx) as store:
        found = fleet_lockouts(store, now, active_only=not args.all, limit=args.limit)
    out = ctx.stdout
    targets, tw = lockout_targets(found)
    kw = column_width("KIOSK", (lk.kiosk_id for lk in found))
    print(f"{pad('KIOSK', kw)}  {'ID':>6}  {'SCOPE':7}  {'TARGET':{tw}}  {'STARTED (UTC)':19}  "
          f"{'UNTIL (UTC)':19}  {'FAILURES':>8}  STATE", file=out)
    for lk, target in zip(found, targets, strict=True):
        state = ("active" if lk.active(now) else
                 lifted_by(*lk.lifted_by) if lk.lifted_by else "expired")
        print(f"{pad(lk.kiosk_id, kw)}  {lk.id:>6}  {lk.scope:7}  {pad(target, tw)}  "
              f"{stamp(lk.started_at):19}  {stamp(lk.until):19}  {lk.failures:>8}  {state}",
              file=out)
    print(f"{len(found)} lockout(s) of the fleet{'' if args.all else ' in force'}", file=out)
    return EXIT_OK


def cmd_actions(args: argparse.Namespace, ctx: Any) -> int:
    from kiosk.audit.fleet.views import fleet_actions

    with fleet_store(ctx) as store:
        found = fleet_actions(store, action=args.action, since=args.since, until=args.until,
                              limit=args.limit)
    print_actions([f.action for f in found], ctx.stdout, [f.kiosk_id for f in found])
    print(f"{len(found)} action(s) of the fleet, newest first", file=ctx.stdout)
    return EXIT_OK


def verify_with_fleet(audit: Any, ctx: Any) -> int:
    """Print the comparison of the local chain with the server's copy; 0 or 1."""
    from kiosk.audit.fleet.compare import compare_with_server, kiosk_of_database

    head, state = audit.chain_head(), audit.fleet_state()
    with fleet_store(ctx) as store:
        kiosk_id = kiosk_of_database(store, head.db_id) or audit.config.kiosk_id
        result = compare_with_server(store, kiosk_id, head, audit.chained_rows,
                                     shipped=state.shipped_offset if state else None)
    out = ctx.stdout
    if result.server_head == 0:
        print(f"fleet: the server holds no row of kiosk {kiosk_id!r} yet "
              f"({result.unshipped} local row(s) not shipped)", file=out)
        return EXIT_OK
    if not result.ok:
        print(f"fleet copy DIFFERS at {result.first_difference}", file=out)
        print(f"(kiosk {kiosk_id!r}; {result.compared} row(s) matched before it; the server "
              f"holds seq {result.server_first}-{result.server_head})", file=out)
        return EXIT_BROKEN
    if head.anchor_seq > result.server_head:
        # The kiosk's sender stops there for good: the server's copy can never be completed.
        print(f"fleet copy INCOMPLETE: rows {result.server_head + 1}-{head.anchor_seq} were "
              "purged from the local log before the server received them (kiosk "
              f"{kiosk_id!r}; {result.compared} row(s) match the server's)", file=out)
        return EXIT_BROKEN
    print(f"fleet copy OK: {result.compared} row(s) of kiosk {kiosk_id!r} match the server's "
          f"(seq {result.server_first}-{result.server_head}); {result.unshipped} not shipped "
          "yet", file=out)
    return EXIT_OK


def lifted_at_fleet(ctx: Any, lockouts: Sequence[Any], starts: Sequence[datetime]
                    ) -> tuple[dict[int, tuple[str, int]], str | None]:
    """Which of this log's lockouts (not lifted here) an unlock the fleet server holds has
    lifted: lockout id to (kiosk, unlock id), and None; or nothing and why the server could
    not be asked. The other kiosks already honour those unlocks. ``starts`` gives each
    lockout's start on this kiosk's clock as it is now (``AuditReader.lockout_starts``): the
    fleet's times are read on that clock."""
    from kiosk.audit.fleet.views import fleet_unlocks

    wanted = [(lk.id, lk.scope, lk.target, start)
              for lk, start in zip(lockouts, starts, strict=True) if lk.lifted_by is None]
    if not wanted:
        return {}, None
    found, why = _asked(ctx, lambda store: fleet_unlocks(store, wanted))
    return found or {}, why


def lockouts_elsewhere(ctx: Any, scope: str, target: str) -> tuple[list[Any], str | None]:
    """The fleet's lockouts of ``scope``/``target`` in force and recorded at other kiosks,
    and None; or no lockouts and why the server could not be asked.

    An unlock at this kiosk lifts them once the server holds it (the other kiosks honour the
    server's copy), so staff are told about them rather than "no lockout was in force".
    """
    from kiosk.audit.fleet.views import fleet_lockouts

    now = utc_now()
    found, why = _asked(ctx, lambda store: fleet_lockouts(store, now, active_only=True,
                                                           limit=None))
    own = ctx.settings.kiosk.kiosk_id
    return [lk for lk in found or () if lk.scope == scope and lk.target == target
            and lk.kiosk_id != own and lk.active(now)], why


def fleet_key_id(audit: Any, ctx: Any) -> str:
    """The subject key the fleet knows this kiosk by ("" without a fleet): asked before a
    command records anything, so a missing key stops it with nothing recorded."""
    if not ctx.settings.fleet.url:
        return ""
    return key_store(ctx.settings, audit.path, create=False).subject_hasher().key_id


def ship_recorded(audit: Any, ctx: Any, subject_key_id: str) -> bool:
    """Ship what this command recorded to the fleet server now, within ``fleet.flush_timeout_s``
    (else the kiosk ships it at its next contact); True when the server holds it."""
    from kiosk.audit.factory import attach_fleet

    try:
        attach_fleet(audit, ctx.settings, subject_key_id=subject_key_id)
        audit.start_fleet()
    except AuditError as exc:  # recorded already: the kiosk sends it later
        log.warning("the fleet link could not be opened to send it now: %s", exc)
        return False
    shipped = bool(audit.fleet.sender.flush(ctx.settings.fleet.flush_timeout_s))
    if not shipped:  # one wait, not a second one when the log closes
        audit.fleet.sender.stop(0.0, join=False)
    return shipped
