"""Typed errors of the fleet store."""

from __future__ import annotations

from kiosk.audit.errors import AuditError

__all__ = ["FleetConflict", "FleetError", "FleetRefused", "FleetSchemaError", "FleetTimeout",
           "FleetUnavailable"]


class FleetError(AuditError):
    """Base of the fleet store's errors; ``str(error)`` is a plain sentence for staff that
    names the server by host and database only (never a user name or a password)."""


class FleetUnavailable(FleetError):
    """The fleet server did not answer (down, unreachable, too slow, refused the login).

    The kiosk goes on with its local log (see ``fleet.unreachable_policy``); the sender keeps
    the rows and retries.
    """


class FleetTimeout(FleetUnavailable):
    """No pooled connection within the time allowed. The pool retries a server that refuses
    the login or the connection until then, so this says when, not why:
    :meth:`kiosk.audit.fleet.store.FleetStore.probe` names the cause."""


class FleetSchemaError(FleetUnavailable):
    """The server's schema is newer than this kiosk knows, or older and this role may not
    upgrade it (``kiosk fleet migrate`` with the owner's URL does)."""


class FleetConflict(FleetError):
    """The server's copy of this kiosk's chain disagrees with the local log (a row edited or
    removed after it was shipped, another database under the same kiosk id, rows purged
    before they were shipped). The sender stops shipping and reports it; ``kiosk audit verify
    --fleet`` names the first row that differs.

    Attributes
    ----------
    seq : int or None
        The first chain position concerned, when known.
    """

    def __init__(self, message: str, *, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


class FleetRefused(FleetError):
    """The server's row-level security (fleet schema 3) refuses this login's rows for the
    kiosk id: a kiosk's role may write only under its own name, so each kiosk's login role
    must be named as its ``kiosk.kiosk_id``. The rows stay in the local log; the sender stops
    shipping until the role or the id is corrected.

    Attributes
    ----------
    kiosk_id : str
    role : str
        The server's ``current_user`` of this login.
    """

    def __init__(self, kiosk_id: str, role: str) -> None:
        super().__init__(f"the server refused rows for kiosk {kiosk_id!r} from role {role!r}: "
                         "name each kiosk's role after its kiosk id (kiosk.kiosk_id)")
        self.kiosk_id = kiosk_id
        self.role = role
