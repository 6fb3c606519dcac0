"""What the other kiosks of a site add to this kiosk's rate limit (the fleet's view).

A :class:`RemoteView` holds facts read from the fleet server about one subject and this kiosk,
recorded by *other* kiosks: the subject's failures, the lockouts of the subject (or of this
kiosk) and the operator unlocks of either. The local log stays the source of truth; the view
only adds to it (see :mod:`kiosk.audit.ratelimit`):

- a lockout recorded at another kiosk refuses the subject here too;
- an unlock recorded anywhere lifts every lockout of its target that started at or before it,
  and restarts the target's count, here as well;
- a lockout started anywhere restarts the target's count everywhere (as it does locally);
- the subject's failures at other kiosks, after the latest of those restarts and inside the
  window, add to the failures counted here.

The per-kiosk lockout keeps its issue-11 meaning: it counts only this kiosk's failures that
suggest an attack, so other kiosks' failures never add to it.

The kiosks' clocks may disagree, so the fleet judges every time on the server's clock (see
:mod:`kiosk.audit.fleet.skew`): each row the server holds carries the sending kiosk's offset
to the server, and the view holds the other kiosks' times converted from the server's clock
onto this kiosk's, by this kiosk's offset measured at the query. Compared with this kiosk's
own times (its now, its lockouts' starts), they are compared on one clock. Pure: no SQL, no
network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from kiosk.audit.results import Lockout

__all__ = ["FleetHook", "RemoteEvent", "RemoteView"]

KINDS: tuple[str, ...] = ("failure", "lockout", "unlock")


@dataclass(frozen=True)
class RemoteEvent:
    """One fact recorded at another kiosk.

    Attributes
    ----------
    kind : str
        ``"failure"`` (a failed attempt of the subject), ``"lockout"`` or ``"unlock"``.
    kiosk_id : str
        The kiosk that recorded it.
    scope, target : str
        ``"subject"`` and a subject reference, or ``"kiosk"`` and a kiosk id.
    at : datetime
        When: the failure's ``recorded_at``, the lockout's ``started_at``, the unlock's
        ``acted_at`` (aware UTC; in a :class:`RemoteView`, on this kiosk's clock).
    until : datetime or None
        A lockout's end (on the same clock as ``at``).
    failures : int
        A lockout's failure count (0 otherwise).
    row_id, seq : int
        The row's id and chain position at its kiosk.
    """

    kind: str
    kiosk_id: str
    scope: str
    target: str
    at: datetime
    until: datetime | None = None
    failures: int = 0
    row_id: int = 0
    seq: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "lockout" and self.until is None:
            raise ValueError("a lockout event needs until")

    def moved(self, by: timedelta) -> RemoteEvent:
        """The same fact with its times moved by ``by`` (onto another clock)."""
        until = None if self.until is None else self.until + by
        return replace(self, at=self.at + by, until=until)


@dataclass(frozen=True)
class RemoteView:
    """Facts from other kiosks about one subject and this kiosk (see the module docstring).

    Attributes
    ----------
    events : tuple of RemoteEvent
        Their times on this kiosk's clock.
    offset : timedelta
        The server's clock minus this kiosk's, measured at the query.
    """

    events: tuple[RemoteEvent, ...] = ()
    offset: timedelta = timedelta(0)

    @classmethod
    def of(cls, events: Iterable[RemoteEvent]) -> RemoteView:
        """A view of events whose times are already on this kiosk's clock."""
        return cls(tuple(events))

    @classmethod
    def on_server(cls, events: Iterable[RemoteEvent], offset: timedelta) -> RemoteView:
        """A view of events whose times are on the server's clock, given this kiosk's
        ``offset`` (the server's clock minus this kiosk's)."""
        return cls(tuple(ev.moved(-offset) for ev in events), offset)

    def _of(self, kind: str, scope: str, target: str) -> list[RemoteEvent]:
        return [ev for ev in self.events
                if ev.kind == kind and ev.scope == scope and ev.target == target]

    def unlocked_since(self, scope: str, target: str, when: datetime) -> bool:
        """An unlock of the target was recorded elsewhere at or after ``when``."""
        return any(ev.at >= when for ev in self._of("unlock", scope, target))

    def reset_at(self, scope: str, target: str) -> datetime | None:
        """The latest lockout start or unlock of the target at another kiosk (failures up to
        then no longer count), or None."""
        times = [ev.at for kind in ("lockout", "unlock") for ev in self._of(kind, scope, target)]
        return max(times, default=None)

    def failure_times(self, scope: str, target: str) -> list[datetime]:
        """When the target's failures at other kiosks were recorded (subjects only)."""
        return [ev.at for ev in self._of("failure", scope, target)]

    def lockouts(self, scope: str, target: str) -> list[Lockout]:
        """The target's lockouts recorded at other kiosks, oldest first (in force or not)."""
        found = sorted(self._of("lockout", scope, target), key=lambda ev: ev.at)
        return [Lockout(id=ev.row_id, seq=ev.seq, scope=ev.scope, target=ev.target,
                        kiosk_id=ev.kiosk_id, started_at=ev.at, until=ev.until or ev.at,
                        failures=ev.failures, attempt_id=None) for ev in found]


class FleetHook(Protocol):
    """What the audit log asks of a fleet link (:class:`kiosk.audit.fleet.FleetLink`)."""

    def view(self, subject_ref: str | None, *, admission: bool) -> RemoteView | None:
        """The other kiosks' facts about ``subject_ref`` and this kiosk, or None when the
        server did not answer in time. With ``admission`` (a session about to start) it may
        raise :class:`~kiosk.audit.errors.FleetSilent` by the unreachable-server policy."""

    def refusal(self) -> str | None:
        """Why a session would be refused now by the unreachable-server policy (the server
        silent too long under ``refuse``), without asking the server; None when it would
        not."""

    def written(self) -> None:
        """Rows were committed to the local log: ship them soon."""

    def shipped_seq(self) -> int | None:
        """The last chain position the server acknowledged (the purge keeps every row after
        it), or None when unknown."""

    def lockouts(self, now: datetime, *, active_only: bool = True,
                 limit: int | None = 100) -> list[Lockout]:
        """Every kiosk's lockouts as the server holds them (the operator panel's fleet view);
        raises an :class:`~kiosk.audit.errors.AuditError` when it cannot be read."""

    def start(self) -> None:
        """Start shipping in the background."""

    def close(self) -> None:
        """Ship what can be shipped in a short time, then stop."""
