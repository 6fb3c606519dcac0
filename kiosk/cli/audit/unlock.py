"""``kiosk audit unlock``: lift a lockout early, recording who and why, for the subject or
kiosk named by ``--subject``, ``--subject-ref`` or ``--kiosk``; with a fleet, also at the
other kiosks once the server holds the unlock."""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.audit import AuditLog
from kiosk.cli.audit.fleet import (
    fleet_key_id,
    fleet_kiosk_ids,
    lockouts_elsewhere,
    ship_recorded,
)
from kiosk.cli.audit.opening import open_log
from kiosk.cli.audit.subject import given, reference
from kiosk.cli.audit.text import short_ref, stamp
from kiosk.cli.audit.who import who
from kiosk.errors import InputError

EXIT_OK = 0

def _kiosks_in_log(audit: AuditLog, ctx: Any) -> set[str]:
    """Every kiosk this log knows: this one (the settings), the kiosks of its attempts and
    those its lockouts name."""
    known = {ctx.settings.kiosk.kiosk_id}
    known.update(a.kiosk_id for a in audit.iter_attempts())
    for lk in audit.lockouts(active_only=False, limit=None):
        known.add(lk.kiosk_id)
        if lk.scope == "kiosk":
            known.add(lk.target)
    return known


def _check_kiosk(audit: AuditLog, kiosk_id: str, ctx: Any) -> None:
    """InputError unless ``kiosk_id`` is a kiosk this log or the fleet server knows.

    An unlock of a kiosk that never wrote here lifts nothing and resets no count here; it
    matters only when shipped to a fleet whose kiosks honour it. A mistyped id would be
    recorded, chained and never undone, so it is refused.
    """
    if kiosk_id == ctx.settings.kiosk.kiosk_id or audit.list_attempts(kiosk_id=kiosk_id,
                                                                       limit=1):
        return
    known = _kiosks_in_log(audit, ctx)
    if kiosk_id in known:
        return
    from kiosk.audit.fleet.errors import FleetError  # psycopg loads slowly: only when asked

    try:
        fleet = fleet_kiosk_ids(ctx)
    except FleetError as exc:
        raise InputError(f"--kiosk {kiosk_id}: no such kiosk in this log (it knows "
                         f"{', '.join(sorted(known))}), and the fleet server could not be "
                         f"asked: {exc}") from None
    if fleet is not None and kiosk_id in fleet:
        return
    where = "this log or the fleet server" if fleet is not None else "this log"
    listed = ", ".join(sorted(known.union(fleet or ())))
    raise InputError(f"--kiosk {kiosk_id}: no such kiosk; the kiosks known to {where}: "
                     f"{listed}")


def _whom(args: argparse.Namespace, audit: AuditLog, ctx: Any, subject: str | None,
          ref: str | None) -> tuple[str, str]:
    """The unlock's scope and target from the one of --kiosk, --subject-ref, --subject given."""
    if args.kiosk is not None:
        _check_kiosk(audit, args.kiosk, ctx)
        return "kiosk", args.kiosk
    target = reference(audit.subject_ref, subject, ref)
    assert target is not None  # argparse requires one of the three
    return "subject", target


def cmd_unlock(args: argparse.Namespace, ctx: Any) -> int:
    # argparse makes exactly one of --subject, --subject-ref and --kiosk required; the
    # subject's forms are checked before the log is opened (no key is needed to refuse).
    by, reason = who(args.by, args.reason)
    subject, ref = given(args)
    fleet = bool(ctx.settings.fleet.url)
    with open_log(args, ctx, write=True, hasher=subject is not None) as audit:
        scope, target = _whom(args, audit, ctx, subject, ref)
        # Asked before the unlock is recorded, as is the key the fleet knows this kiosk by.
        key_id = fleet_key_id(audit, ctx)
        elsewhere, unasked = lockouts_elsewhere(ctx, scope, target) if fleet else ([], None)
        try:
            result = audit.unlock(scope, target, actor=by, reason=reason)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        shipped = ship_recorded(audit, ctx, key_id) if fleet else False
    out = ctx.stdout
    shown = target if scope == "kiosk" else short_ref(target)
    print(f"unlock #{result.action_id} recorded by {by} for {scope} {shown}", file=out)
    for lk in result.lifted:
        print(f"  lifted lockout #{lk.id} (was until {stamp(lk.until)} UTC)", file=out)
    for lk in elsewhere:
        print(f"  lockout #{lk.id} of kiosk {lk.kiosk_id} (until {stamp(lk.until)} UTC): "
              + ("lifted at every kiosk" if shipped else "still refused there until the "
                 "fleet server receives this unlock (the kiosk sends it when it next can)"),
              file=out)
    if fleet and not shipped:
        print("  the fleet server did not take the unlock now"
              + (f" ({unasked})" if unasked else "") + "; it is kept and sent later", file=out)
    if not result.lifted and not elsewhere:
        print("  no lockout was in force"
              + (" (the fleet's lockouts could not be read)" if unasked else "")
              + "; the failure count starts again", file=out)
    return EXIT_OK
