"""``kiosk audit override``: change a finished attempt's decision, recording who and why, as
the operator panel does; with a fleet, the other kiosks and the fleet's views see it once
the server holds it.

The attempt's row stays as recorded: the override is a chained operator action that
``list``, ``show``, ``stats`` and the panel read as the decision in force. It changes no
failure count and lifts no lockout (``kiosk audit unlock`` does). Like the panel after its
audit check, it refuses to write on a log whose chain is broken.
"""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.audit.startup import altered
from kiosk.cli.audit.fleet import fleet_key_id, ship_recorded
from kiosk.cli.audit.opening import open_log
from kiosk.cli.audit.who import who
from kiosk.errors import InputError

EXIT_OK = 0


def cmd_override(args: argparse.Namespace, ctx: Any) -> int:
    by, reason = who(args.by, args.reason)
    fleet = bool(ctx.settings.fleet.url)
    with open_log(args, ctx, write=True, integrity=True, chain=True) as audit:
        report = audit.verify()
        if report.first_break is not None:
            raise altered(audit.path, report.first_break)
        key_id = fleet_key_id(audit, ctx)
        try:
            action = audit.override(args.id, args.to, actor=by, reason=reason)
        except ValueError as exc:  # already this decision; a bad name or reason
            raise InputError(str(exc)) from None
        shipped = ship_recorded(audit, ctx, key_id) if fleet else False
    out = ctx.stdout
    print(f"override #{action.id} recorded by {by}: attempt #{args.id} "
          f"{action.details['from']}, now {action.details['to']}", file=out)
    if fleet:
        print("  the fleet server holds it" if shipped else
              "  the fleet server did not take it now; it is kept and sent later", file=out)
    if args.to == "pass":
        print("  it lifts no lockout and leaves the failure counted: kiosk audit unlock "
              "ends a lockout", file=out)
    return EXIT_OK
