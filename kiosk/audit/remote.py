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

Times from other kiosks are their clocks (kept by NTP on a site; ``kiosk fleet status`` shows
the skew from the server). Pure: no SQL, no network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
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
        ``acted_at`` (aware UTC, the recording kiosk's clock).
    until : datetime or None
        A lockout's end.
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


@dataclass(frozen=True)
class RemoteView:
    """Facts from other kiosks about one subject and this kiosk (see the module docstring)."""

    events: tuple[RemoteEvent, ...] = ()

    @classmethod
    def of(cls, events: Iterable[RemoteEvent]) -> RemoteView:
        return cls(tuple(events))

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
        raise :class:`~kiosk.audit.errors.RateLimited` by the unreachable-server policy."""

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
