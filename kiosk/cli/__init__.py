"""The ``kiosk`` command: headless access to everything the GUI does.

Each module in this package that defines ``register(subparsers)`` adds one command; it sets
``func(args, ctx) -> int`` as the parser default. This module is a composition root: it reads
the environment, loads and validates the settings once before any command runs (a command
that must run with broken settings sets ``needs_settings=False`` as a parser default) and
turns typed errors into a plain message and exit status 2. Any other exception is a bug: its
traceback goes to the log file (:mod:`kiosk.crashlog`) and the command prints one line and
exits 2, never a traceback and never 1 (which a script reads as "not verified").
"""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import os
import pkgutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

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
        """The settings, loaded on first use (:func:`main` loads them before the command)."""
        return self.load()

    def load(self) -> Settings:
        """The settings, loaded and validated once.

        Raises
        ------
        ConfigError
            The settings file or an override is invalid (the message names the key).
        """
        if self._settings is None:
            self._settings = load_settings(self.config_path, self.environ)
        return self._settings


Command = Callable[[argparse.Namespace, Context], int]


class KioskParser(argparse.ArgumentParser):
    """An ArgumentParser whose every (sub-)command reports its own unknown arguments.

    Plain argparse hands a sub-command's unknown arguments up to the top-level parser, which
    prints its own usage (``kiosk audit list --bogus`` shows ``kiosk``'s), and checks required
    arguments before unknown ones (``kiosk --bogus`` only says COMMAND is missing). Here each
    parser refuses its unknown arguments first, with its own usage, and checks a required
    sub-command itself afterwards.
    """

    _required_command: argparse.Action | None = None

    def add_subparsers(self, **kwargs: Any) -> Any:
        """As argparse's; ``required=True`` is checked by :meth:`parse_known_args`."""
        required = kwargs.pop("required", False)
        action = super().add_subparsers(required=False, **kwargs)
        if required:
            self._required_command = action
        return action

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None,
                         ) -> tuple[argparse.Namespace, list[str]]:
        """As argparse's, but unknown arguments are an error here, at the parser they were
        given to (so ``extras`` is always empty)."""
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(unrecognized(extras))
        command = self._required_command
        if command is not None and getattr(parsed, command.dest, None) is None:
            self.error(f"the following arguments are required: {command.metavar or command.dest}")
        return parsed, extras


def unrecognized(extras: Sequence[str]) -> str:
    """The error for arguments no option takes. Options (a misspelt ``--sbject``) are named;
    bare words are only counted: most are the rest of a value with a space typed without
    quotes, such as a badge number (``--subject AB 4711``), which must not be echoed."""
    options = [word for word in extras if word.startswith("-")]
    words = len(extras) - len(options)
    parts = [f"unrecognized arguments: {' '.join(options)}"] if options else []
    if words:
        parts.append(f"{words} unexpected word{'s' if words > 1 else ''} (not shown): quote a "
                     'value that holds a space, e.g. --subject "AB 4711"')
    return "; ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with one subcommand per module of this package."""
    parser = KioskParser(
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
        if getattr(args, "needs_settings", True):
            # Before the command does anything: a bad key stops every command alike, also
            # those that would never read the settings.
            ctx.load()
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
    from kiosk.cli.streams import utf8

    if not utf8(sys.stdout) and isinstance(sys.stdout, io.TextIOWrapper):
        # A terminal in a legacy 8-bit locale: what it cannot show is escaped (\u0645...)
        # rather than ending a listing half way with an encoding error.
        sys.stdout.reconfigure(errors="backslashreplace")
    argv = sys.argv[1:]
    options = argv[:next((i for i, a in enumerate(argv) if not a.startswith("-")), len(argv))]
    if "-v" in options or "--verbose" in options:
        return main(argv)
    with NativeLogFilter():
        return main(argv)
