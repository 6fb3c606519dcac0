"""``kiosk audit new-log``: begin a log in place of one lost for good.

The kiosk refuses to open a path whose registered log is gone (:mod:`kiosk.audit.register`):
an empty log there would forget every lockout. When staff know the old log cannot be put
back, this command begins the new one; its first row records who declared which log lost,
and why.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from kiosk.audit.register import Replacement, read_registration
from kiosk.cli.audit.who import who
from kiosk.errors import InputError
from kiosk.settings import default_data_dir

EXIT_OK = 0


def run(path: Path, args: argparse.Namespace, ctx: Any) -> int:
    """Begin the new log at ``path`` (``--by`` and ``--reason`` in ``args``).

    Raises
    ------
    InputError
        No log is registered for ``path``, a file is still there, or the operator name or
        reason cannot be recorded; nothing is created then.
    """
    from kiosk.audit import open_kiosk_log

    by, reason = who(args.by, args.reason)
    lost = read_registration(path, ctx.settings.audit.key_file or None)
    if lost is None:
        raise InputError(f"no audit log is registered for {path}, so none was lost: the kiosk "
                         "begins a log by itself where there is none")
    try:
        replacement = Replacement(lost, by, reason)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if os.path.lexists(path):
        raise InputError(f"{path} exists: a new log is begun only where the registered one "
                         f"(log {lost.db_id[:8]}) is missing. If that file holds another log, "
                         "move it aside (keep it as evidence) and run this again")
    settings = ctx.settings.replace("audit", db_path=str(path))
    with open_kiosk_log(settings, default_data_dir(ctx.environ), fleet=False,
                        replacing=replacement) as audit:
        new = audit.chain_head().db_id or ""
    out = ctx.stdout
    print(f"began audit log {new[:8]} at {path} in place of the lost log {lost.db_id[:8]}; its "
          f"first row records the loss, by {by}", file=out)
    print("the lockouts and failure counts of the lost log are not in it", file=out)
    if ctx.settings.fleet.url:
        print(f"the fleet server holds the lost log's chain under kiosk id "
              f"{ctx.settings.kiosk.kiosk_id!r} and takes no second chain under it: give this "
              "kiosk a new kiosk.kiosk_id before it starts", file=out)
    return EXIT_OK
