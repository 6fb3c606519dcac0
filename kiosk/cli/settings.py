"""``kiosk settings``: the settings in force, or the README table of every setting."""

from __future__ import annotations

import argparse
import json

from kiosk.audit import resolve_db_path
from kiosk.settings import default_data_dir, markdown_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "settings", help="show the settings in force",
        description="Print the validated settings (file, environment overrides, defaults).")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table of every setting with its default instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx) -> int:
    if args.markdown:
        ctx.stdout.write(markdown_table() + "\n")
        return 0
    settings = ctx.settings
    values = settings.as_dict()
    if values["kiosk"]["operator_pin"]:
        values["kiosk"]["operator_pin"] = "(set)"
    # The database actually used, also when the setting is empty (the platform default).
    values["audit"]["db_path"] = str(resolve_db_path(settings, default_data_dir(ctx.environ)))
    ctx.stdout.write(json.dumps({"source": settings.source, "digest": settings.digest(),
                                 **values}, indent=2) + "\n")
    return 0
