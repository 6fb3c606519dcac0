"""Where an unexpected error goes: its traceback into a log file, one plain line for people.

The command line and the kiosk window end an unexpected exception the same way: the traceback
is appended to ``<data folder>/logs/kiosk.log`` (folder 0700, file 0600; no frame, embedding
or credential is ever in a traceback's text, only code and messages), and the person or
script sees one plain line naming that file. The command then exits 2 (error), never 1
(a failed verification).

The file is bounded: a unit restarts a kiosk that fails at every start each few seconds, for
good, and an unbounded log would fill the disk the audit log shares (tens of megabytes a
day of one repeated traceback). Past :data:`MAX_BYTES` the file becomes ``kiosk.log.1``
(replacing the one before) and a new file starts: the newest tracebacks are kept, in at most
twice :data:`MAX_BYTES`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

LOG_NAME = "kiosk.log"
# A few hundred tracebacks: enough for any one incident, small beside the audit log.
MAX_BYTES = 1 << 20


def log_path(data_dir: Path) -> Path:
    """The log file of unexpected errors under the kiosk's data folder."""
    return data_dir / "logs" / LOG_NAME


def previous_path(path: Path) -> Path:
    """Where the log file goes when it is full: ``kiosk.log.1`` beside it."""
    return path.with_name(path.name + ".1")


def record_unexpected(exc: BaseException, data_dir: Path, context: str) -> Path | None:
    """Append ``exc``'s traceback to the log file; return its path, or None when it cannot
    be written (the caller still prints its one line)."""
    path = log_path(data_dir)
    text = "".join(traceback.format_exception(exc))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _rotate_when_full(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(f"--- {stamp} {context}\n{text}\n")
    except OSError as err:
        log.error("could not write %s: %s", path, err)
        return None
    return path


def _rotate_when_full(path: Path) -> None:
    """Move a full log file to :func:`previous_path`. Two processes rotating at once lose at
    most the older file, never a traceback being written (``os.replace`` is atomic and an
    open file keeps its data)."""
    try:
        full = path.stat().st_size >= MAX_BYTES
    except FileNotFoundError:
        return
    if full:
        with contextlib.suppress(FileNotFoundError):  # another process rotated it first
            os.replace(path, previous_path(path))


def one_line(exc: BaseException, context: str, where: Path | None) -> str:
    """``"kiosk verify: unexpected error (ValueError); the details are in /.../kiosk.log"``."""
    details = f"the details are in {where}" if where is not None else (
        "the log file could not be written")
    return f"{context}: unexpected error ({type(exc).__name__}); {details}"
