"""Typed errors of the audit log.

:class:`AuditUnavailable` is the one the kiosk must act on: it means attempts cannot be recorded
(or read) right now, and the kiosk goes out of service showing ``str(error)``. Its ``reason``
attribute is a stable code for the operator panel.
"""

from __future__ import annotations

from kiosk.errors import KioskError

# Stable codes carried by AuditUnavailable.reason.
LOCKED = "locked"
READ_ONLY = "read_only"
FULL = "full"
CORRUPT = "corrupt"
IO_ERROR = "io_error"
CANNOT_OPEN = "cannot_open"
MISSING = "missing"
NOT_AUDIT_DB = "not_audit_db"
NEWER_SCHEMA = "newer_schema"
OLD_SCHEMA = "old_schema"
NO_KEY = "no_key"
KEY_MISMATCH = "key_mismatch"


class AuditError(KioskError):
    """Base of the audit log's errors (misuse, unknown ids, closed log)."""


class AuditUnavailable(AuditError):
    """The audit log cannot be used; the kiosk must go out of service.

    Parameters
    ----------
    message : str
        Plain sentence for staff saying why (names the file, never secrets).
    reason : str
        One of the module's codes: ``locked``, ``read_only``, ``full``, ``corrupt``,
        ``io_error``, ``cannot_open``, ``missing``, ``not_audit_db``, ``newer_schema``,
        ``old_schema``, ``no_key``, ``key_mismatch``.
    path : str, optional
        The database or key file concerned.
    """

    def __init__(self, message: str, *, reason: str, path: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.path = path


class KeyUnavailable(AuditUnavailable):
    """No usable key for the subject hash or frame encryption (reason ``no_key`` or
    ``key_mismatch``)."""


class RecordNotFound(AuditError):
    """No attempt (or open attempt) with the given id."""
