"""Typed errors of the audit log.

:class:`AuditUnavailable` is the one the kiosk must act on: it means attempts cannot be recorded
(or read) right now, and the kiosk goes out of service showing ``str(error)``. Its ``reason``
attribute is a stable code for the operator panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.errors import KioskError

if TYPE_CHECKING:
    from kiosk.audit.results import Lockout

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
TAMPERED = "tampered"
UNKEYED = "unkeyed"
LOST = "lost"
REPLACED = "replaced"


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
        ``old_schema``, ``no_key``, ``key_mismatch``, ``tampered`` (the start-up check found
        the chain, the lockouts or the guard triggers altered), ``unkeyed`` (rows were
        written without the kiosk's audit key), ``lost`` (the log this kiosk kept at the path
        is gone) or ``replaced`` (another log is there; see :mod:`kiosk.audit.register`).
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


class RateLimited(AuditError):
    """:meth:`AuditLog.open_attempt` refused: the subject or this kiosk is locked out, or
    too many of its attempts are already in flight.

    Attributes
    ----------
    reason : str
        A plain sentence for staff (never shown to the person as it is).
    scope : str
        ``"subject"`` or ``"kiosk"``: whose limit refused.
    lockout : Lockout or None
        The lockout in force; None when the refusal is because the failures in the window
        plus the attempts still open would reach the limit.
    attempt_id : int or None
        The refused try, recorded as a failed attempt with reason ``RATE_LIMITED`` when a
        subject's limit refused it (it counts toward the per-kiosk lockout, as repeated tries
        of a locked-out number suggest an attack); None when the kiosk's own limit refused
        (recording those would extend the kiosk's lockout with every passer-by).
    started : tuple of Lockout
        Lockouts the recorded refusal started (e.g. the kiosk's).
    """

    def __init__(self, reason: str, *, scope: str, lockout: Lockout | None,
                 attempt_id: int | None = None, started: tuple[Lockout, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.scope = scope
        self.lockout = lockout
        self.attempt_id = attempt_id
        self.started = started


class FleetSilent(RateLimited):
    """The fleet server has not answered for longer than ``fleet.refuse_after_min`` and
    ``fleet.unreachable_policy`` is ``refuse``: no session may start at this kiosk until it
    answers. No lockout is in force and nothing is recorded (scope ``kiosk``, no attempt):
    staff must be told to look at the network, not at failures."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, scope="kiosk", lockout=None)
