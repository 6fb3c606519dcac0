"""``kiosk service unit``: the systemd user unit that keeps an unattended kiosk running.

An unattended kiosk must come back by itself after a crash (a native library aborting, the
out-of-memory killer) and start with the desktop session, without a second copy fighting the
first over the camera. systemd's user manager does exactly that, so the kiosk ships no
supervisor of its own: this command prints a unit for this installation (its interpreter,
the settings file given with ``kiosk --config``) to save in ``~/.config/systemd/user/``, or
writes it there itself with ``--output``.

The unit restarts the kiosk on any failure, however often (a display that is not up yet is a
failure too, and an out-of-service screen beats a bare desktop), except for
:data:`~kiosk.ui.instance.EXIT_ALREADY_RUNNING`: another kiosk holds the data folder, and
starting again cannot change that. A kiosk that staff stop (``systemctl --user stop``, or a
signal) exits 0 and stays stopped. The kiosk runs with ``--supervised``: a bug that leaves it
out of service (an error in the window, a runtime that stopped) ends the process after a short
pause, and the unit starts a fresh one.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from kiosk.cli.evaluate import write_output
from kiosk.errors import InputError
from kiosk.settings import SCHEMA, settings_file
from kiosk.ui.instance import EXIT_ALREADY_RUNNING

UNIT_NAME = "liveness-kiosk.service"

RESTART_SEC = 5
"""Seconds between a failure and the next start: long enough not to spin on a crash at
start-up, short enough that a person at the kiosk hardly waits."""

STOP_TIMEOUT_S = 30
"""How long systemd waits after SIGTERM before it kills: the kiosk ends a session in
progress as a recorded failure and stops its matcher child in far less."""

CLIENT_VARIABLES = re.compile(r"PG[A-Z_]+|AWS_[A-Z0-9_]+")
"""The variables of libpq (the fleet store: PGPASSWORD, PGPASSFILE, PGSERVICE...) and of
boto3 (Rekognition: AWS_PROFILE, AWS_ACCESS_KEY_ID...), which the kiosk reads as they are."""

ENVIRONMENT_ONLY = frozenset({"AWS_EC2_METADATA_DISABLED", "AWS_CONFIG_FILE",
                              "AWS_SHARED_CREDENTIALS_FILE"})
"""Client variables that botocore reads from the environment only: no key of ``~/.aws/``
does their job, so a unit gets them from a drop-in or not at all."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "service", help="print the systemd user unit that runs the kiosk unattended",
        description="Print what an unattended kiosk needs to start with the desktop session "
                    "and come back after a crash.")
    sub = parser.add_subparsers(dest="service_command", metavar="SUBCOMMAND", required=True)
    summary = ("print (or with --output write) a systemd user unit that starts the kiosk with "
               "the graphical session "
               "and restarts it after a crash (save it as ~/.config/systemd/user/"
               f"{UNIT_NAME}); the settings file is the one given with kiosk --config")
    unit = sub.add_parser("unit", help=summary, description=summary.capitalize())
    unit.add_argument("--id-folder", metavar="DIR",
                      help="the scanner drop folder of a staffed desk (the kiosk's --id-folder)")
    unit.add_argument("--output", metavar="FILE",
                      help="write the unit to FILE instead of printing it: whole or not at all "
                           "(a temporary file in its folder, renamed), so a failure leaves a "
                           "unit already there as it was")
    unit.set_defaults(func=run_unit)


def run_unit(args: argparse.Namespace, ctx) -> int:
    # The data folder (audit log, lockouts, instance lock) is where this shell's kiosk keeps
    # it: a moved XDG_DATA_HOME travels with the unit.
    data_home = ctx.environ.get("XDG_DATA_HOME") or None
    text = unit_text(sys.executable, ctx.settings.kiosk.kiosk_id, config=_config(ctx),
                     id_folder=_id_folder(args.id_folder),
                     data_home=Path(data_home).resolve() if data_home else None)
    if args.output is None:
        ctx.stdout.write(text)
    else:
        # Never `> FILE`: the shell empties a working unit before a failing command runs.
        path = Path(args.output).expanduser().absolute()
        write_output(path, lambda part: part.write_text(text, encoding="utf-8"))
        ctx.stderr.write(f"kiosk service unit: wrote {path}; then run systemctl --user "
                         f"daemon-reload && systemctl --user enable --now {UNIT_NAME}\n")
    _warn_lost_variables(ctx.environ, ctx.stderr)
    return 0


def _warn_lost_variables(environ: Mapping[str, str], stderr) -> None:
    """Name (never show: they may hold a PIN or a password) the variables set in this shell
    that the kiosk reads but the unit will not carry: the user manager does not see them."""
    names = {name for o in SCHEMA for name in (o.env_name, o.legacy_env) if name}
    overrides = sorted(names & set(environ))
    if overrides:
        stderr.write(f"kiosk service unit: warning: {', '.join(overrides)} set here will "
                     "not reach the kiosk the unit starts: put those settings in the "
                     "settings file\n")
    clients = sorted(name for name in environ if CLIENT_VARIABLES.fullmatch(name))
    if clients:
        only = [name for name in clients if name in ENVIRONMENT_ONLY]
        stderr.write(f"kiosk service unit: warning: {', '.join(clients)} set here will not "
                     "reach the kiosk the unit starts: use ~/.pgpass and ~/.aws/ files, or "
                     "give them to the unit in a drop-in (systemctl --user edit "
                     f"{UNIT_NAME.removesuffix('.service')}: EnvironmentFile=)"
                     + (f"; {', '.join(only)} only in a drop-in: no file of ~/.aws/ stands "
                        f"in for {'it' if len(only) == 1 else 'them'}" if only else "") + "\n")


def _config(ctx) -> Path | None:
    """The settings file the unit passes on, absolute (the unit does not run in this folder):
    the one ``--config`` named, else the platform file when there is one (named, so the unit
    reads what this shell read whatever its XDG_CONFIG_HOME), else None (the defaults)."""
    # The root has already refused a --config file that does not exist or does not validate.
    path = settings_file(ctx.config_path, ctx.environ)
    return path.resolve() if ctx.config_path is not None or path.is_file() else None


def _id_folder(folder: str | None) -> Path | None:
    if folder is None:
        return None
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise InputError(f"--id-folder: no folder at {path}")
    return path


def unit_text(python: str, kiosk_id: str, *, config: Path | None = None,
              id_folder: Path | None = None, data_home: Path | None = None) -> str:
    """The unit file for a kiosk run by ``python`` (see the module docstring).

    Parameters
    ----------
    python : str
        Absolute path of the interpreter that has the kiosk installed.
    kiosk_id : str
        The kiosk's name (``kiosk.kiosk_id``), for the unit's description.
    config, id_folder : Path, optional
        Absolute paths passed to the kiosk as ``--config`` and ``--id-folder``.
    data_home : Path, optional
        ``XDG_DATA_HOME`` for the kiosk (its data folder is ``liveness-kiosk`` under it).
    """
    command = [python, "-m", "kiosk.ui", "--supervised"]
    if config is not None:
        command += ["--config", str(config)]
    if id_folder is not None:
        command += ["--id-folder", str(id_folder)]
    environment = (f"Environment={_quote('XDG_DATA_HOME=' + str(data_home))}\n"
                   if data_home is not None else "")
    return f"""\
# Liveness kiosk, run unattended by the user's systemd manager.
# Save as ~/.config/systemd/user/{UNIT_NAME}, then:
#   systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}
# Written by `kiosk service unit`; run it again after moving the installation.
[Unit]
Description=Liveness kiosk {kiosk_id.replace("%", "%%")}
PartOf=graphical-session.target
After=graphical-session.target
# Never give up: a kiosk out of service says why, a bare desktop says nothing.
StartLimitIntervalSec=0

[Service]
Type=exec
{environment}ExecStart={" ".join(_quote(part, command=True) for part in command)}
Restart=on-failure
RestartSec={RESTART_SEC}
# {EXIT_ALREADY_RUNNING}: another kiosk already runs on this data folder; starting again cannot help.
RestartPreventExitStatus={EXIT_ALREADY_RUNNING}
# SIGTERM to the kiosk alone, which stops its matcher child itself.
KillMode=mixed
TimeoutStopSec={STOP_TIMEOUT_S}

[Install]
WantedBy=graphical-session.target
"""


def _quote(word: str, *, command: bool = False) -> str:
    """``word`` as one systemd word: quoted when it holds a space or a quote, with the
    specifiers (``%``) escaped, and in a command line ``$`` too (systemd expands ``$NAME``
    there: a settings file in a folder named ``d$HOME`` would be looked for elsewhere)."""
    word = word.replace("%", "%%")
    if command:
        word = word.replace("$", "$$")
    if any(c in word for c in " \t\"'\\") or not word:
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word
