"""``kiosk audit lockouts``, ``actions`` and ``pin-reset``: the lockouts in force, what staff
and the kiosk recorded, and the operator PIN's refusals ended (``unlock`` is
:mod:`kiosk.cli.audit.unlock`)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from kiosk.audit import Lockout
from kiosk.cli.audit.fleet import lifted_at_fleet
from kiosk.cli.audit.opening import open_log
from kiosk.cli.audit.text import lifted_by, lockout_targets, pad, print_actions, stamp
from kiosk.cli.audit.who import who

EXIT_OK = 0

RESET_REASON = "PIN refusals ended by staff: "
"""What the record of ``pin-reset`` says before the reason given."""


def cmd_pin_reset(args: argparse.Namespace, ctx: Any) -> int:
    """End the operator PIN's refusals, as a right PIN would, recording who and why.

    A guesser's refusals grow to a day (:mod:`kiosk.operator.pin`) and refuse the right PIN
    too; staff with the kiosk's account end them here. A running kiosk reads the reset at the
    next PIN entry.
    """
    by, reason = who(args.by, args.reason, reason_limit=500 - len(RESET_REASON))
    with open_log(args, ctx, write=True) as audit:
        wrong, until, _ = audit.pin_state()
        action = audit.record_action("pin_accepted", actor=by, reason=RESET_REASON + reason)
    out = ctx.stdout
    said = (f"refused until {stamp(until)} UTC after {wrong} wrong PIN(s)" if until is not None
            else f"{wrong} wrong PIN(s) since the last right one, no refusal in force")
    print(f"PIN refusals ended: action #{action.id} recorded by {by} (was: {said})",
          file=out)
    print("a running kiosk reads it at the next PIN entry", file=out)
    return EXIT_OK


def cmd_lockouts(args: argparse.Namespace, ctx: Any) -> int:
    # Checked whole first: the lockout table can sit on pages a damage spared, and "0 lockouts
    # in force" read from a damaged log would be a false all-clear.
    fleet = bool(ctx.settings.fleet.url)
    with open_log(args, ctx, integrity=True) as audit:
        found = audit.lockouts(active_only=not args.all, limit=args.limit)
        now = audit.now()
        starts = audit.lockout_starts(found) if fleet else []
    # The other kiosks honour an unlock recorded at any kiosk: so does this list.
    lifted, unasked = lifted_at_fleet(ctx, found, starts) if fleet else ({}, None)
    if not args.all:
        found = [lk for lk in found if lk.id not in lifted]
    out = ctx.stdout
    targets, tw = lockout_targets(found)
    print(f"{'ID':>6}  {'SCOPE':7}  {'TARGET':{tw}}  {'STARTED (UTC)':19}  "
          f"{'UNTIL (UTC)':19}  {'FAILURES':>8}  STATE", file=out)
    for lk, target in zip(found, targets, strict=True):
        print(f"{lk.id:>6}  {lk.scope:7}  {pad(target, tw)}  {stamp(lk.started_at):19}  "
              f"{stamp(lk.until):19}  {lk.failures:>8}  {_lockout_state(lk, now, lifted)}",
              file=out)
    print(f"{len(found)} lockout(s){'' if args.all else ' in force'}", file=out)
    if unasked:
        print(f"the fleet server could not be asked ({unasked}): a lockout lifted at another "
              "kiosk may show as in force here", file=out)
    if fleet:
        print("every kiosk's lockouts, as the fleet sees them: `kiosk audit lockouts --fleet`",
              file=out)
    return EXIT_OK


def _lockout_state(lk: Lockout, now: datetime, lifted: dict[int, tuple[str, int]]) -> str:
    """Active, expired, or lifted by an unlock here or (``lifted``) at a kiosk of the fleet."""
    if lk.lifted_by is not None:
        return f"lifted by unlock #{lk.lifted_by}"
    if lk.id in lifted:
        return lifted_by(*lifted[lk.id])
    return "active" if lk.active(now) else "expired"


def cmd_actions(args: argparse.Namespace, ctx: Any) -> int:
    with open_log(args, ctx) as audit:
        found = audit.operator_actions(action=args.action, since=args.since, until=args.until,
                                       limit=args.limit)
    print_actions(found, ctx.stdout)
    print(f"{len(found)} action(s), newest first", file=ctx.stdout)
    return EXIT_OK
