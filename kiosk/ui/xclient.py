"""An X connection for the questions asked before Qt starts, through xcffib (the XCB binding).

Qt's xcb platform opens the display with libxcb; xcffib calls the same libxcb, so a display
that opens here opens for Qt, and a refusal here is the one Qt would meet. Qt-free: it runs
before the QApplication exists.
"""

from __future__ import annotations

import os
import tempfile
from types import ModuleType
from typing import Any


def xcb() -> ModuleType | None:
    """The ``xcffib`` module with its core protocol loaded, or None when libxcb is not on
    this machine (xcffib loads it on import) or xcffib is not installed (not Linux)."""
    try:
        import xcffib
        import xcffib.xproto  # noqa: F401  (the core protocol, which a connection needs)
    except (ImportError, OSError):
        return None
    return xcffib


def open_display(display: str | None) -> tuple[Any | None, str | None]:
    """Open ``display`` (None: the one ``DISPLAY`` names, as Qt's xcb platform reads it) as
    Qt will: ``(connection, None)``, or ``(None, why)`` when it cannot be opened, or
    ``(None, None)`` when libxcb is not there to ask.

    The cookie is taken as Qt takes it, from this process's ``XAUTHORITY`` (else
    ``~/.Xauthority``). libxcb writes the server's reason for a refusal to standard error:
    it is caught there and returned, so that the caller decides what is printed. The caller
    disconnects the connection (``connection.disconnect()``).
    """
    module = xcb()
    if module is None:
        return None, None
    with tempfile.TemporaryFile() as said:
        stderr = os.dup(2)
        os.dup2(said.fileno(), 2)
        try:
            connection = module.Connection(display)
        except module.ConnectionException as exc:
            connection, error = None, str(exc)
        finally:
            os.dup2(stderr, 2)
            os.close(stderr)
        said.seek(0)
        reason = said.read().decode("latin-1").strip()
    if connection is not None:
        return connection, None
    return None, reason or error
