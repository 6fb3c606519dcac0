"""``kiosk fleet status``: the sender's backlog, what the server acknowledged, whether it
answers, and the clock skew between it and this kiosk (with a warning beyond
:data:`~kiosk.audit.fleet.skew.SKEW_BOUND`). The server is first reached once directly
(:meth:`FleetStore.probe`), so an unreachable one is reported with its cause. A local log
that no longer continues the server's copy (an older copy of it put back) is judged at the
server's head, as the sender and ``kiosk audit verify --fleet`` judge it
(:func:`~kiosk.audit.fleet.compare.head_difference`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk.audit.fleet import pgschema
from kiosk.audit.fleet.compare import behind_server, head_difference
from kiosk.audit.fleet.errors import FleetError
from kiosk.audit.fleet.skew import offset_between, skew_warning
from kiosk.audit.fleet.store import FleetStore
from kiosk.audit.outbox import FleetState, LocalHead, ShippedRow
from kiosk.audit.timeutil import Clock, utc_now

__all__ = ["FleetStatus", "fleet_status"]


@dataclass(frozen=True)
class FleetStatus:
    """See :func:`fleet_status`; ``as_dict`` gives plain JSON values.

    ``sender_error`` is the sender's last error as the local log keeps it, without its time:
    a successful contact clears it, so it was recorded after ``sender_contact``, the sender's
    last successful contact (None: never), and may be older than this check's answer.
    ``diverged`` says why the local log no longer continues the server's copy of its chain
    (``backlog`` is None then: none of its rows can reach the server).
    """

    server: str
    kiosk_id: str
    reachable: bool
    error: str | None
    round_trip_ms: float | None
    schema_version: int | None
    kiosks: int | None
    local_head: int
    server_seq: int | None
    acknowledged_from: str
    backlog: int | None
    last_contact: datetime | None
    clock_skew_s: float | None
    registered_db_matches: bool | None
    sender_error: str | None = None
    refused: str | None = None
    clock_warning: str | None = None
    diverged: str | None = None
    sender_contact: datetime | None = None

    @property
    def shipping(self) -> bool:
        """The server answers and this kiosk's rows can reach it: it does not refuse this
        login, does not hold another log under this kiosk id (two kiosks sharing one id, or a
        log begun anew), holds no chain the local log fails to continue (an older copy of the
        log put back), and the sender did not stop on a conflict."""
        return (self.reachable and self.refused is None
                and self.registered_db_matches is not False and self.diverged is None
                and not (self.sender_error or "").startswith(("conflict:", "refused:")))

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["shipping"] = self.shipping
        for name in ("last_contact", "sender_contact"):
            when = getattr(self, name)
            out[name] = when.isoformat() if when else None
        return out


def _no_rows(first: int, last: int) -> list[ShippedRow]:
    """The rows of a local log not begun yet."""
    return []


def fleet_status(store: FleetStore, *, kiosk_id: str, head: LocalHead,
                 state: FleetState | None, clock: Clock = utc_now,
                 local_rows: Callable[[int, int], list[ShippedRow]] | None = None
                 ) -> FleetStatus:
    """Ask the server (once, with the connect time-out) and combine with the local record.

    When the server does not answer, the acknowledged position and the skew come from the
    local record of the last contact (``acknowledged_from`` says which: ``"server"``,
    ``"local record"``, or ``"none"`` when the server was never reached). ``refused`` says
    why the server would refuse this login's rows for the kiosk id, if it would;
    ``clock_warning`` why staff must set this machine's clock right, when the skew is beyond
    :data:`~kiosk.audit.fleet.skew.SKEW_BOUND`. The server is reached once directly first
    (:meth:`FleetStore.probe`): unreachable, it is reported at once and with its cause, not
    after the pool's time-out. ``diverged`` says why the local log (``local_rows(first,
    last)`` gives its chained rows; None: no log yet) no longer continues the server's copy,
    judged at the server's head (or, unreachable, at the acknowledgement recorded here).
    """
    try:
        store.probe()
        t0, local0 = time.monotonic(), clock()
        server_now = store.server_time()
        t1, local1 = time.monotonic(), clock()
        version = store.schema_version()
        kiosks = registered = server_head = refused = diverged = None
        if version == 0:
            kiosks, server_head = 0, 0  # no kiosk has shipped yet
        elif version == pgschema.SCHEMA_VERSION:
            kiosks = int(store.query("SELECT count(*) FROM fleet_kiosks")[0][0])
            reg = store.registration(kiosk_id)
            registered = None if reg is None else reg.db_id == head.db_id
            found = store.head(kiosk_id)
            # Another database's chain under this id acknowledges nothing of this log.
            server_head = 0 if found is None or registered is False else found[0]
            refused = store.refusal(kiosk_id)
            diverged = head_difference(store, kiosk_id, head, server_head,
                                       local_rows or _no_rows)
    except FleetError as exc:
        kept = state.server_seq if state is not None else None
        # A server never reached acknowledged nothing: "never", not "nothing yet".
        seq = kept if state is not None and state.last_contact is not None else None
        skew_s = state.skew_s if state else None
        diverged = behind_server(kept, head) if kept is not None else None
        return FleetStatus(store.where, kiosk_id, False, str(exc), None, None, None,
                           head.head_seq, seq, "local record" if seq is not None else "none",
                           _backlog(head, kept, diverged),
                           state.last_contact if state else None, skew_s, None,
                           state.last_error if state else None,
                           clock_warning=skew_warning(skew_s), diverged=diverged,
                           sender_contact=state.last_contact if state else None)
    skew = round(offset_between(server_now, local0, local1) / timedelta(seconds=1), 3)
    return FleetStatus(store.where, kiosk_id, True, None, round((t1 - t0) * 1000, 1),
                       version, kiosks, head.head_seq, server_head, "server",
                       _backlog(head, server_head, diverged),
                       local1, skew, registered, state.last_error if state else None,
                       str(refused) if refused is not None else None, skew_warning(skew),
                       diverged, state.last_contact if state else None)


def _backlog(head: LocalHead, acknowledged: int | None, diverged: str | None) -> int | None:
    """The local rows after what the server acknowledged; None when that is unknown, or when
    none of them can reach the server (the local log does not continue its copy)."""
    if acknowledged is None or diverged is not None:
        return None
    return head.head_seq - max(acknowledged, head.anchor_seq)
