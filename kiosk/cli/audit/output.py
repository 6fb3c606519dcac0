"""The files ``kiosk audit`` writes (``export`` and ``anchor`` with ``--output``, ``frame``)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, TextIO, overload

from kiosk.errors import InputError


@overload
def create_private(target: Path) -> contextlib.AbstractContextManager[TextIO]: ...
@overload
def create_private(target: Path, *, binary: Literal[True]
                   ) -> contextlib.AbstractContextManager[IO[bytes]]: ...
def create_private(target: Path, *, binary: bool = False) -> Any:
    """A new file readable by the owner only (exports hold subject references, a frame a
    face), which appears under its name only once everything was written: a failure
    half-way (a damaged log) leaves nothing, where a partial file would have taken the name
    the retry needs. Text in UTF-8, or ``binary``."""
    return _create_private(target, binary)


@contextlib.contextmanager
def _create_private(target: Path, binary: bool) -> Iterator[IO[Any]]:
    if target.exists() or target.is_symlink():
        raise InputError(f"{target} exists; choose another --output")
    try:
        fd, part = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                    dir=target.parent)  # mode 0600
    except OSError as exc:
        raise InputError(f"cannot create {target}: {exc.strerror}") from None
    try:
        with (os.fdopen(fd, "wb") if binary
              else os.fdopen(fd, "w", encoding="utf-8", newline="")) as fh:
            yield fh
        try:
            os.link(part, target)  # never replaces a file made meanwhile
        except FileExistsError:
            raise InputError(f"{target} exists; choose another --output") from None
        except OSError as exc:
            raise InputError(f"cannot create {target}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
