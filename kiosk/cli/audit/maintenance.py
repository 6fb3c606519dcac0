"""``kiosk audit verify``, ``anchor``, ``purge`` and ``keygen``: the log's integrity checked
and kept checkable, its old rows removed, a key file created."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kiosk.audit import create_key_file
from kiosk.audit.anchor import read_anchor
from kiosk.audit.register import unguarded
from kiosk.cli.audit.fleet import verify_with_fleet
from kiosk.cli.audit.opening import open_log
from kiosk.cli.audit.output import create_private
from kiosk.cli.audit.text import stamp
from kiosk.cli.audit.who import who
from kiosk.errors import InputError

EXIT_OK = 0
EXIT_BROKEN = 1


def cmd_verify(args: argparse.Namespace, ctx: Any) -> int:
    anchor = None
    if args.anchor is not None:
        try:
            anchor = read_anchor(Path(args.anchor).expanduser().read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"--anchor {args.anchor}: cannot read it ({exc})") from None
    with open_log(args, ctx, integrity=True, chain=True) as audit:
        report = audit.verify()
        checked = audit.check_anchor(anchor) if anchor is not None else None
        # Only the kiosk's own log is registered (not a copy given with --db).
        gap = None if args.db else unguarded(audit.path, audit.chain_head().db_id,
                                             key_file=ctx.settings.audit.key_file or None)
    out = ctx.stdout
    if not report.ok:
        print(f"chain BROKEN at {report.first_break}", file=out)
        print(f"({report.rows} row(s) checked; the recorded head is seq {report.head_seq})",
              file=out)
        return EXIT_BROKEN
    first = report.anchor_seq + 1
    print(f"chain OK: {report.rows} row(s), seq {first}-{report.head_seq}; "
          f"{report.incomplete} incomplete attempt(s)", file=out)
    print(f"head hash: {report.head_hash}", file=out)
    if not report.keyed:
        print("warning: this log is not keyed (it was never opened by a kiosk with its audit "
              "key): anyone can recompute its hashes", file=out)
    elif report.unkeyed_rows:
        print(f"note: {report.unkeyed_rows} row(s) were chained by an older kiosk before the "
              "log was keyed; only those could be recomputed without the key", file=out)
    if gap is not None:
        print(f"warning: {gap}", file=out)
    if checked is not None:
        print(f"anchor {'OK' if checked.ok else 'BROKEN'}: {checked.message}", file=out)
        if not checked.ok:
            return EXIT_BROKEN
    if args.fleet:
        with open_log(args, ctx, chain=True) as audit:
            return verify_with_fleet(audit, ctx)
    return EXIT_OK


def cmd_anchor(args: argparse.Namespace, ctx: Any) -> int:
    with open_log(args, ctx, integrity=True, chain=True) as audit:
        report = audit.verify()
        if not report.ok:
            raise InputError(f"the chain is broken at {report.first_break}; no anchor exported "
                             "(run `kiosk audit verify`)")
        anchor = audit.export_anchor()
    text = json.dumps(anchor, sort_keys=True) + "\n"
    if args.output is None:
        ctx.stdout.write(text)
    else:
        with create_private(Path(args.output).expanduser()) as fh:
            fh.write(text)
        print(f"anchor of seq {anchor['seq']} written to {args.output}; keep it away from the "
              "kiosk and check later with `kiosk audit verify --anchor FILE`", file=ctx.stderr)
    return EXIT_OK


def cmd_purge(args: argparse.Namespace, ctx: Any) -> int:
    actor, reason = who(args.by or ctx.environ.get("USER") or "operator", args.reason)
    with open_log(args, ctx, write=True) as audit:
        result = audit.purge(args.older_than, actor=actor, reason=reason)
    out = ctx.stdout
    if result.held:
        print(f"kept {result.held} row(s) old enough to go: the fleet server has not received "
              "them yet (`kiosk fleet status`)", file=out)
    if result.action_id is None:
        print(f"nothing to purge before {stamp(result.cutoff)} UTC", file=out)
        return EXIT_OK
    print(f"purged before {stamp(result.cutoff)} UTC: {result.attempts} attempt(s), "
          f"{result.frames} frame(s), {result.lockouts} lockout(s), {result.operator_actions} "
          f"operator action(s), {result.incomplete} unfinished attempt(s)", file=out)
    recorded = (f"operator action #{result.action_id}" if result.steps == 1 else
                f"one operator action for each of its {result.steps} steps, the last "
                f"#{result.action_id}")
    print(f"chain anchor now at seq {result.anchor_seq}; purge recorded as {recorded}",
          file=out)
    return EXIT_OK


def cmd_keygen(args: argparse.Namespace, ctx: Any) -> int:
    path = args.key_file or ctx.settings.audit.key_file
    if not path:
        raise InputError("give --key-file PATH (or set audit.key_file in the settings)")
    target = Path(path).expanduser()
    try:
        create_key_file(target)
    except FileExistsError:
        raise InputError(f"{target} exists; a key is never overwritten (a new key cannot read "
                         "earlier frames or match earlier subjects)") from None
    except OSError as exc:
        raise InputError(f"cannot create {target}: {exc.strerror or exc}") from None
    print(f"created key file {target} (mode 0600); set audit.key_file = \"{target}\" and back "
          "it up apart from the database", file=ctx.stdout)
    return EXIT_OK
