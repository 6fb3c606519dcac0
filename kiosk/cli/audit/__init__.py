"""``kiosk audit``: list, show, export, stats, lockouts, actions, unlock, override, pin-reset,
verify, anchor, purge, new-log, keygen.

Every subcommand takes ``--db PATH``; the default is ``settings.audit.db_path`` or, when that
is empty, ``kiosk.db`` in the platform data folder. Reading commands open the database
read-only (a write-protected evidence copy too) and never create it or a key. Nothing printed
contains an ID number (the log holds none), a frame or an embedding; subjects appear as their
keyed-hash references.

This module wires the parser; the commands are in

- :mod:`.reading`: list, show, export, stats;
- :mod:`.staff`: lockouts, actions, pin-reset; :mod:`.unlock`: unlock; :mod:`.override`:
  override;
- :mod:`.maintenance`: verify, anchor, purge, keygen; :mod:`.new_log`: new-log;
- :mod:`.fleet`: the ``--fleet`` forms and what the local commands ask the fleet server;

with :mod:`.opening` (finding and opening the log), :mod:`.text` (what the local and fleet
forms print alike) and :mod:`.output` (the files written with ``--output``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from kiosk.audit.export import FORMATS
from kiosk.audit.queries import DECISION_FILTERS
from kiosk.audit.schema import OPERATOR_ACTIONS
from kiosk.audit.timeutil import parse_duration, parse_when
from kiosk.cli.args import POSITIVE_WHOLE_NUMBER, parsed
from kiosk.cli.audit import fleet, maintenance, new_log, override, reading, staff, unlock
from kiosk.cli.audit.opening import db_path
from kiosk.cli.audit.subject import add_subject_options
from kiosk.vocabulary import Verdict

WHEN = parsed(parse_when)
DURATION = parsed(parse_duration)

Command = Callable[[argparse.Namespace, Any], int]


def _fleet_option(parser: argparse.ArgumentParser, local: Command, fleetwide: Command,
                  help_text: str) -> None:
    """Add ``--fleet`` to a subcommand: ``fleetwide`` runs with it, ``local`` without."""
    parser.add_argument("--fleet", action="store_true", help=help_text)
    parser.set_defaults(func=lambda args, ctx: fleetwide(args, ctx) if args.fleet
                        else local(args, ctx))


def _since_until(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=WHEN, metavar="DATE",
                        help="from this UTC date or ISO date-time (inclusive)")
    parser.add_argument("--until", type=WHEN, metavar="DATE",
                        help="up to this UTC date or ISO date-time (exclusive)")


#: Said wherever staff type a reason: it stays in the chain until the purge, and on the fleet.
REASON_HELP = ("why (recorded, kept with the log and shipped to the fleet: what was done and "
               "why, never a person's name, address or health)")


def _one_person(parser: argparse.ArgumentParser) -> None:
    """``--subject`` or ``--subject-ref``: only that person's attempts, for a request to see
    one's data; a look-up only (``unlock --subject`` records an action and starts the
    person's failure count again)."""
    add_subject_options(parser.add_mutually_exclusive_group(),
                        number_help="only this person's attempts, by badge or ID number "
                        "(a look-up: nothing is recorded)")


def register(subparsers: Any) -> None:
    """Add ``kiosk audit`` and its subcommands."""
    summary = "inspect, export, verify and maintain the audit log"
    parser = subparsers.add_parser("audit", help=summary, description=summary.capitalize())
    sub = parser.add_subparsers(dest="audit_command", metavar="SUBCOMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", help="audit database (default: "
                        "audit.db_path, else kiosk.db in the platform data folder)")

    def add(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = add("list", reading.cmd_list, "list attempts, newest first")
    p.add_argument("--decision", choices=DECISION_FILTERS)
    _one_person(p)
    _since_until(p)
    p.add_argument("--limit", type=POSITIVE_WHOLE_NUMBER, default=50, help="at most N rows "
                   "(default 50)")
    _fleet_option(p, reading.cmd_list, fleet.cmd_list, "every kiosk of the fleet "
                  "(from fleet.url)")

    p = add("show", reading.cmd_show, "show one attempt in full (no frame is ever printed)")
    p.add_argument("id", type=POSITIVE_WHOLE_NUMBER, metavar="ID")

    p = add("frame", reading.cmd_frame, "write the picture an attempt kept "
            "(audit.store_best_frame), decrypted, to a new file readable by you only")
    p.add_argument("id", type=POSITIVE_WHOLE_NUMBER, metavar="ID")
    p.add_argument("--output", required=True, metavar="FILE", help="the JPEG file to create "
                   "(never overwritten)")

    p = add("export", reading.cmd_export, "export attempts as CSV or JSON Lines")
    _since_until(p)
    p.add_argument("--decision", choices=DECISION_FILTERS)
    _one_person(p)
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--output", metavar="FILE", help="write to FILE (created 0600, never "
                   "overwritten) instead of standard output")

    p = add("stats", reading.cmd_stats, "counts by decision, reason code and day")
    _since_until(p)
    _fleet_option(p, reading.cmd_stats, fleet.cmd_stats, "every kiosk of the fleet, "
                  "by kiosk")

    p = add("lockouts", staff.cmd_lockouts, "list the lockouts in force (--all: every lockout)")
    p.add_argument("--all", action="store_true", help="include expired and lifted ones")
    p.add_argument("--limit", type=POSITIVE_WHOLE_NUMBER, default=100, help="at most N rows "
                   "(default 100)")
    _fleet_option(p, staff.cmd_lockouts, fleet.cmd_lockouts, "lockouts recorded at "
                  "any kiosk of the fleet")

    p = add("actions", staff.cmd_actions, "list operator actions (unlocks, overrides, "
            "settings, PINs, purges) and the kiosk's own events (clock gaps, refused cameras), "
            "newest first")
    p.add_argument("--action", choices=OPERATOR_ACTIONS, help="only this kind")
    _since_until(p)
    p.add_argument("--limit", type=POSITIVE_WHOLE_NUMBER, default=50, help="at most N rows "
                   "(default 50)")
    _fleet_option(p, staff.cmd_actions, fleet.cmd_actions, "those recorded at "
                  "any kiosk of the fleet")

    p = add("unlock", unlock.cmd_unlock, "lift a lockout early, recording who and why: give "
            "--subject, --subject-ref or --kiosk")
    whom = p.add_mutually_exclusive_group(required=True)
    add_subject_options(whom, number_help="the person's badge or ID number")
    whom.add_argument("--kiosk", metavar="KIOSK_ID", help="lift the lockout of this kiosk "
                      "(one that wrote to this log, or with a fleet one the server knows)")
    p.add_argument("--by", required=True, metavar="NAME", help="operator name (recorded)")
    p.add_argument("--reason", required=True, metavar="TEXT", help=REASON_HELP)

    p = add("override", override.cmd_override, "change a finished attempt's decision, "
            "recording who and why (the attempt's row stays as recorded)")
    p.add_argument("id", type=POSITIVE_WHOLE_NUMBER, metavar="ID")
    p.add_argument("--to", required=True, choices=[str(v) for v in Verdict], help="the decision in force "
                   "from now on")
    p.add_argument("--by", required=True, metavar="NAME", help="operator name (recorded)")
    p.add_argument("--reason", required=True, metavar="TEXT", help=REASON_HELP)

    p = add("pin-reset", staff.cmd_pin_reset, "end the operator PIN's refusals after wrong "
            "entries, as a right PIN would, recording who and why")
    p.add_argument("--by", required=True, metavar="NAME", help="operator name (recorded)")
    p.add_argument("--reason", required=True, metavar="TEXT", help=REASON_HELP)

    p = add("verify", maintenance.cmd_verify, "check the hash chain and the file; exit 1 "
            "naming the first broken row")
    p.add_argument("--anchor", metavar="FILE", help="also check that the log still holds the "
                   "head exported earlier by `kiosk audit anchor` into FILE")
    p.add_argument("--fleet", action="store_true", help="also compare the chain with the fleet "
                   "server's copy and name the first row that differs")

    p = add("anchor", maintenance.cmd_anchor, "export the chain's head (sequence, hash, MAC) "
            "to keep elsewhere; `verify --anchor` checks it later")
    p.add_argument("--output", metavar="FILE", help="write to FILE (created 0600, never "
                   "overwritten) instead of standard output")

    p = add("purge", maintenance.cmd_purge, "remove rows older than a given age; the chain "
            "stays verifiable")
    p.add_argument("--older-than", type=DURATION, required=True, metavar="AGE",
                   help="e.g. 30d, 12h, 2w")
    p.add_argument("--by", metavar="NAME", help="operator name (default: $USER)")
    p.add_argument("--reason", default="manual purge", metavar="TEXT", help=REASON_HELP)

    p = add("new-log", lambda args, ctx: new_log.run(db_path(args, ctx), args, ctx),
            "begin a new log in place of one that is lost for good "
            "(the kiosk refuses to start while its log is missing); the loss is recorded")
    p.add_argument("--by", required=True, metavar="NAME", help="operator name (recorded)")
    p.add_argument("--reason", required=True, metavar="TEXT",
                   help=f"{REASON_HELP}, e.g. what happened to the old log")

    p = add("keygen", maintenance.cmd_keygen, "create a new key file for subject references "
            "and frames")
    p.add_argument("--key-file", metavar="PATH", help="where (default: audit.key_file)")
