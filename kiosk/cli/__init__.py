"""The ``kiosk`` command: headless access to everything the GUI does.

Each module in this package that defines ``register(subparsers)`` adds one command; it sets
``func(args, ctx) -> int`` as the parser default. This module is a composition root: it reads
the environment, loads the settings once and turns typed errors into a plain message and exit
status 2. Any other exception is a bug: its traceback goes to the log file
(:mod:`kiosk.crashlog`) and the command prints one line and exits 2, never a traceback and
never 1 (which a script reads as "not verified").
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from kiosk import __version__
from kiosk.errors import KioskError
from kiosk.settings import Settings, load_settings

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_ERROR = 2


@dataclass
class Context:
    """What a command needs from the composition root."""

    config_path: str | None
    environ: Mapping[str, str]
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """The settings, loaded on first use so commands that need none never fail on them."""
        if self._settings is None:
            self._settings = load_settings(self.config_path, self.environ)
        return self._settings


Command = Callable[[argparse.Namespace, Context], int]


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with one subcommand per module of this package."""
    parser = argparse.ArgumentParser(
        prog="kiosk", description="The liveness kiosk without a screen: everything the kiosk "
        "does (track, analyze, verify, match, enroll, evaluate, simulate, audit), run headless.")
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument("--config", metavar="PATH", help="settings TOML file "
                        "(default: the platform config folder)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the ``kiosk`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx = Context(config_path=args.config, environ=os.environ if environ is None else environ)
    func: Command = args.func
    try:
        return func(args, ctx)
    except KioskError as exc:
        print(f"kiosk {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"kiosk {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        return EXIT_OK
    except Exception as exc:
        from kiosk.crashlog import one_line, record_unexpected
        from kiosk.settings import default_data_dir

        context = f"kiosk {args.command}"
        where = record_unexpected(exc, default_data_dir(ctx.environ), context)
        print(one_line(exc, context, where), file=sys.stderr)
        return EXIT_ERROR


def console() -> int:
    """The ``kiosk`` console script: :func:`main` with MediaPipe's native log lines hidden
    unless ``-v`` comes before the command."""
    from kiosk.cli.quiet import NativeLogFilter

    argv = sys.argv[1:]
    options = argv[:next((i for i, a in enumerate(argv) if not a.startswith("-")), len(argv))]
    if "-v" in options or "--verbose" in options:
        return main(argv)
    with NativeLogFilter():
        return main(argv)
