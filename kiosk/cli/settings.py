"""``kiosk settings``: the settings in force, the README table of every setting, or
``kiosk settings hash-pin`` to store the operator PIN as a salted hash."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import sys

from kiosk.audit import AuditUnavailable, resolve_db_path
from kiosk.audit.factory import check_configured_folder
from kiosk.cli.streams import utf8
from kiosk.errors import InputError
from kiosk.settings import default_data_dir, hash_pin, markdown_table, settings_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "settings", help="show the settings in force",
        description="Print the validated settings (file, environment overrides, defaults).")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table of every setting with its default instead")
    parser.set_defaults(func=run)
    sub = parser.add_subparsers(dest="settings_command", metavar="SUBCOMMAND")
    summary = ("print the salted hash of an operator PIN for kiosk.operator_pin (the PIN is "
               "read from the terminal, or one line of standard input; never an argument)")
    hashing = sub.add_parser("hash-pin", help=summary, description=summary.capitalize())
    # Runs whatever the settings hold: the error for a plain PIN in a readable settings file
    # sends the user here to hash it.
    hashing.set_defaults(func=run_hash_pin, needs_settings=False)


def run(args: argparse.Namespace, ctx) -> int:
    if args.markdown:
        ctx.stdout.write(markdown_table() + "\n")
        return 0
    settings = ctx.settings
    values = settings.as_dict()
    if values["kiosk"]["operator_pin"]:
        values["kiosk"]["operator_pin"] = "(set)"
    # The database actually used, also when the setting is empty (the platform default).
    db_path = resolve_db_path(settings, default_data_dir(ctx.environ))
    values["audit"]["db_path"] = str(db_path)
    try:
        # Valid as a setting, but the kiosk will refuse it: said now, while setting up.
        check_configured_folder(settings, db_path)
    except AuditUnavailable as exc:
        print(f"kiosk settings: warning: {exc}", file=ctx.stderr)
    # Where a settings file is read from, also when there is none yet (setting a kiosk up).
    config = settings_file(ctx.config_path, ctx.environ)
    shown = {"source": settings.source, "config_file": str(config),
             "config_file_exists": config.is_file(), "digest": settings.digest(), **values}
    ctx.stdout.write(_json(shown, ctx.stdout) + "\n")
    return 0


def _json(value: dict, stream) -> str:
    """``value`` as JSON that keeps "Zürich" readable (it was ``Z\\u00fcrich``), escaped
    where the stream is not UTF-8 or a path holds bytes that are not text."""
    if utf8(stream):
        text = json.dumps(value, indent=2, ensure_ascii=False)
        with contextlib.suppress(UnicodeEncodeError):
            text.encode("utf-8")
            return text
    return json.dumps(value, indent=2)


def _read_pin(stdin) -> str:
    if stdin.isatty():
        first = getpass.getpass("Operator PIN (4-12 digits): ")
        if getpass.getpass("Again: ") != first:
            raise InputError("the two PINs differ; nothing printed")
        return first
    return stdin.readline().rstrip("\r\n")


def run_hash_pin(args: argparse.Namespace, ctx) -> int:
    pin = _read_pin(sys.stdin)
    try:
        hashed = hash_pin(pin)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    ctx.stdout.write(f'operator_pin = "{hashed}"\n')
    print("put this line in the [kiosk] section of the settings file; the PIN itself is not "
          "stored anywhere", file=ctx.stderr)
    return 0
