"""``kiosk fleet status``: the sender's backlog, what the server acknowledged, whether it
answers, and the clock skew between it and this kiosk (with a warning beyond
:data:`~kiosk.audit.fleet.skew.SKEW_BOUND`). The server is first reached once directly
(:meth:`FleetStore.probe`), so an unreachable one is reported with its cause.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk.audit.fleet import pgschema
from kiosk.audit.fleet.errors import FleetError
from kiosk.audit.fleet.skew import offset_between, skew_warning
from kiosk.audit.fleet.store import FleetStore
from kiosk.audit.outbox import FleetState, LocalHead
from kiosk.audit.timeutil import Clock, utc_now

__all__ = ["FleetStatus", "fleet_status"]


@dataclass(frozen=True)
class FleetStatus:
    """See :func:`fleet_status`; ``as_dict`` gives plain JSON values."""

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

    @property
    def shipping(self) -> bool:
        """The server answers and this kiosk's rows can reach it: it does not refuse this
        login, does not hold another log under this kiosk id (two kiosks sharing one id, or a
        log begun anew), and the sender did not stop on a conflict."""
        return (self.reachable and self.refused is None
                and self.registered_db_matches is not False
                and not (self.sender_error or "").startswith(("conflict:", "refused:")))

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["shipping"] = self.shipping
        out["last_contact"] = self.last_contact.isoformat() if self.last_contact else None
        return out


def fleet_status(store: FleetStore, *, kiosk_id: str, head: LocalHead,
                 state: FleetState | None, clock: Clock = utc_now) -> FleetStatus:
    """Ask the server (once, with the connect time-out) and combine with the local record.

    When the server does not answer, the acknowledged position and the skew come from the
    local record of the last contact (``acknowledged_from`` says which: ``"server"``,
    ``"local record"``, or ``"none"`` when the server was never reached). ``refused`` says
    why the server would refuse this login's rows for the kiosk id, if it would;
    ``clock_warning`` why staff must set this machine's clock right, when the skew is beyond
    :data:`~kiosk.audit.fleet.skew.SKEW_BOUND`. The server is reached once directly first
    (:meth:`FleetStore.probe`): unreachable, it is reported at once and with its cause, not
    after the pool's time-out.
    """
    try:
        store.probe()
        t0, local0 = time.monotonic(), clock()
        server_now = store.server_time()
        t1, local1 = time.monotonic(), clock()
        version = store.schema_version()
        kiosks = registered = server_head = refused = None
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
    except FleetError as exc:
        kept = state.server_seq if state is not None else None
        # A server never reached acknowledged nothing: "never", not "nothing yet".
        seq = kept if state is not None and state.last_contact is not None else None
        skew_s = state.skew_s if state else None
        return FleetStatus(store.where, kiosk_id, False, str(exc), None, None, None,
                           head.head_seq, seq, "local record" if seq is not None else "none",
                           head.head_seq - kept if kept is not None else None,
                           state.last_contact if state else None, skew_s, None,
                           state.last_error if state else None,
                           clock_warning=skew_warning(skew_s))
    skew = round(offset_between(server_now, local0, local1) / timedelta(seconds=1), 3)
    backlog = None if server_head is None else \
        head.head_seq - max(server_head, head.anchor_seq)
    return FleetStatus(store.where, kiosk_id, True, None, round((t1 - t0) * 1000, 1),
                       version, kiosks, head.head_seq, server_head, "server", backlog,
                       local1, skew, registered, state.last_error if state else None,
                       str(refused) if refused is not None else None, skew_warning(skew))
