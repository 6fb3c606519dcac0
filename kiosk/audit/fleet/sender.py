"""The background sender: ships the local log's chained rows to the fleet server.

Store and forward: every row is committed to the local log first (the source of truth); the
sender ships what the server does not hold yet, in chain order, a batch per transaction, and
retries with a doubling wait (``retry_min_s`` up to ``retry_max_s``) while the server is down,
slow or restarting. It asks the server where its copy ends before each run of batches, so it
resumes after a restart (of the kiosk or the server, or a kill mid-transfer) from what the
server acknowledged, and a batch whose acknowledgement was lost is not stored twice (see
:meth:`FleetStore.ship`). A conflict (the server's copy differs from the local log) stops the
shipping and is reported: it is evidence, and only staff can judge it. So is a refusal by the
server's row-level security (this kiosk's role is not named as its kiosk id): staff must fix
the role or the id, and the rows wait in the local log until then. A server whose schema is
not this kiosk's (a site upgrading its kiosks one at a time) answers, but cannot take the rows:
they wait here too (:attr:`FleetSender.schema_error`), while the lockout check goes on reading
the server (:meth:`kiosk.audit.fleet.link.FleetLink.view`).

Each row ships with this kiosk's clock offset to the server as the clock read when the row
was written (the offset measured just before shipping, moved back across the clock changes
since the row: :mod:`kiosk.audit.fleet.trail`), so the other kiosks read its times on the
server's clock; the last row's is kept in the local log, which ``kiosk audit verify --fleet``
holds the server's offsets to (:mod:`kiosk.audit.fleet.offsets`). The offset measured at each
contact is kept as ``fleet_state.skew_s``; one
beyond :data:`~kiosk.audit.fleet.skew.SKEW_BOUND` is logged as a warning for staff
(:attr:`FleetSender.clock_warning`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.audit.fleet.compare import behind_server
from kiosk.audit.fleet.config import FleetConfig
from kiosk.audit.fleet.errors import (
    FleetConflict,
    FleetError,
    FleetRefused,
    FleetSchemaError,
    FleetTimeout,
    FleetUnavailable,
)
from kiosk.audit.fleet.skew import SKEW_BOUND, offset_between, skew_warning
from kiosk.audit.fleet.store import FleetStore
from kiosk.audit.fleet.trail import ClockTrail
from kiosk.audit.outbox import Outbox, ShippedOffset
from kiosk.audit.timeutil import Clock, utc_now

log = logging.getLogger(__name__)

__all__ = ["FleetSender", "SenderStatus"]


@dataclass(frozen=True)
class SenderStatus:
    """What the sender knows now (for ``kiosk fleet status`` and the operator panel)."""

    local_head: int
    server_seq: int | None
    backlog: int | None
    last_contact: datetime | None
    last_error: str | None
    conflict: str | None
    skew_s: float | None


class FleetSender:
    """Ships rows in a thread of its own; see the module docstring.

    Parameters
    ----------
    store : FleetStore
    outbox : Outbox
    config : FleetConfig
    kiosk_id : str
    subject_key_id : str or None
        Recorded with the kiosk's registration on the server.
    clock : callable
        Aware UTC now.
    on_contact : callable, optional
        Called with the time of each successful exchange with the server.
    trail : ClockTrail, optional
        The clock changes since each row (None: the offset measured when shipping stands for
        every row).
    """

    def __init__(self, store: FleetStore, outbox: Outbox, config: FleetConfig, *,
                 kiosk_id: str, subject_key_id: str | None, clock: Clock = utc_now,
                 on_contact: Callable[[datetime], None] | None = None,
                 trail: ClockTrail | None = None) -> None:
        self._store = store
        self._outbox = outbox
        self._config = config
        self._kiosk_id = kiosk_id
        self._subject_key_id = subject_key_id
        self._clock = clock
        self._on_contact = on_contact
        self._trail = trail
        self._warned_skew: float | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._server: tuple[int, str] | None = None
        self._known = False
        self._migrated = False
        self._schema_tried = threading.Event()  # the first migration ran, or failed
        self.shipped_seq: int | None = None
        self.conflict: str | None = None
        self.last_error: str | None = None  # the server does not answer
        self.schema_error: str | None = None  # it answers with a schema not this kiosk's
        self.clock_warning: str | None = None  # this kiosk's clock is far off the server's
        self.rows_shipped = 0

    # -- control ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="fleet-sender", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """New rows were committed: ship them now."""
        self._wake.set()

    def flush(self, timeout: float) -> bool:
        """Wait until every row committed so far is shipped (True) or ``timeout`` passes."""
        target = self._outbox.head().head_seq
        deadline = time.monotonic() + timeout
        self.wake()
        with self._idle:
            while (self.shipped_seq is None or self.shipped_seq < target) \
                    and self.conflict is None:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None or not self._thread.is_alive():
                    return False
                self._idle.wait(min(left, 0.1))
        return self.conflict is None

    def await_schema(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for this sender's first try at creating or upgrading
        the server's schema, while it runs. A new fleet's first kiosk asked the server for
        lockouts about 60 ms before its own sender created the tables, and told staff to run
        ``kiosk fleet migrate``."""
        if self._thread is not None and self._thread.is_alive():
            self._schema_tried.wait(timeout)

    def stop(self, flush_timeout: float = 0.0, *, join: bool = True) -> None:
        """Ship for up to ``flush_timeout`` seconds, then end the thread (``join=False``: ask
        it to end; :meth:`join` waits, e.g. after closing the pool it may be waiting on)."""
        if self._thread is not None and flush_timeout > 0:
            self.flush(flush_timeout)
        self._stop.set()
        self._wake.set()
        if join:
            self.join()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=max(2.0, self._config.connect_timeout_s + 1.0))
            self._thread = None

    # -- the loop ---------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self._config.retry_min_s
        while not self._stop.is_set():
            try:
                more = self.ship_once()
                delay = self._config.retry_min_s
                if self.last_error is not None:
                    log.info("fleet server %s reachable again", self._store.where)
                if self.schema_error is not None:
                    log.warning("fleet: shipping again (the server's schema is this kiosk's)")
                self.last_error = self.schema_error = None
                if more:
                    continue
                wait = self._config.idle_poll_s
            except FleetSchemaError as exc:
                # Not an outage (the server answered): the rows wait here until the owner
                # migrates the server or this kiosk is upgraded; looked at again slowly.
                if self.schema_error != str(exc):
                    log.error("fleet: shipping paused (the rows stay in the local log): %s",
                              exc)
                self._migrated = False
                self._record_quietly(last_error=f"schema: {exc}"[:500])
                self.schema_error = str(exc)
                self.last_error = None
                self._notify()
                wait = self._config.retry_max_s
            except (FleetConflict, FleetRefused) as exc:
                self._known = False
                if self.conflict != str(exc):
                    log.error("fleet: shipping stopped (the rows stay in the local log): %s",
                              exc)
                kind = "conflict" if isinstance(exc, FleetConflict) else "refused"
                # Recorded before it is published: whoever flush() wakes reads the state too.
                self._record_quietly(last_error=f"{kind}: {exc}"[:500])
                self.conflict = str(exc)
                self._notify()
                wait = self._config.retry_max_s
            except FleetError as exc:
                if self._stop.is_set():
                    break  # the pool was closed under it while stopping: no outage
                if self.last_error is None:
                    error = str(self._cause(exc))
                    log.warning("fleet: %s; the rows stay in the local log and are sent when "
                                "it answers", error)
                elif isinstance(exc, FleetTimeout):
                    error = self.last_error  # the cause found when the outage began
                else:
                    error = str(exc)
                self.last_error = error
                self._known = False  # ask the server where its copy ends after an error
                wait, delay = delay, min(delay * 2, self._config.retry_max_s)
                self._record_quietly(last_error=error[:500])
            except Exception:  # a bug must not stop the kiosk; retried like an outage
                if self._stop.is_set():
                    break  # as above (psycopg_pool's PoolClosed)
                log.exception("fleet sender failed; retrying")
                self._known = False
                wait, delay = delay, min(delay * 2, self._config.retry_max_s)
            self._wake.wait(wait)
            self._wake.clear()

    def _notify(self) -> None:
        with self._idle:
            self._idle.notify_all()

    def _cause(self, exc: FleetError) -> FleetError:
        """``exc``, or for a pool time-out what one direct connection says (a refused login,
        an unknown host, a refused port), which staff can act on; once per outage."""
        if not isinstance(exc, FleetTimeout):
            return exc
        try:
            self._store.probe()
        except FleetUnavailable as cause:
            return cause
        return exc

    def _record_quietly(self, **changes: object) -> None:
        try:
            self._outbox.record(**changes)
        except Exception as exc:  # noqa: BLE001  (the local log is busy: next time)
            log.debug("fleet state not recorded: %s", exc)

    def _contact(self) -> None:
        now = self._clock()
        if self._on_contact is not None:
            self._on_contact(now)

    def ship_once(self) -> bool:
        """Ship one batch; True when more rows are waiting. Raises FleetError."""
        if not self._migrated:
            try:
                self._store.migrate()
            finally:
                self._schema_tried.set()
            self._migrated = True
            others = self._store.query(
                "SELECT kiosk_id FROM fleet_kiosks WHERE kiosk_id <> %s AND subject_key_id "
                "IS DISTINCT FROM %s", [self._kiosk_id, self._subject_key_id])
            if others:
                log.error("fleet: %d kiosk(s) of the site (%s ...) hash subjects with another "
                          "key: failures of one person there and here do not add up; give "
                          "every kiosk the same audit key file", len(others), others[0][0])
        local = self._outbox.head()
        if not self._known:
            reg = self._store.registration(self._kiosk_id)
            if reg is not None and reg.db_id != local.db_id:
                # Its head is another log's: taken as this one's acknowledgement, it would
                # mark rows shipped that the server never got.
                raise FleetConflict(f"the server holds the chain of another audit database "
                                    f"under kiosk id {self._kiosk_id!r}: two kiosks share one "
                                    "kiosk id (give each its own kiosk.kiosk_id), or this log "
                                    "was begun anew")
            self._server = self._store.head(self._kiosk_id)
            self._known = True
        held = self._server[0] if self._server is not None else None
        behind = behind_server(held, local) if held is not None else None
        if behind is not None:
            raise FleetConflict(behind, seq=local.head_seq + 1)
        if held is not None and held < local.anchor_seq:
            raise FleetConflict(f"rows {held + 1}-{local.anchor_seq} were purged from the local "
                                "log before the server received them", seq=held + 1)
        _, rows = self._outbox.batch(local.anchor_seq if held is None else held,
                                     self._config.batch_rows)
        skew: float | None
        if rows:
            t0 = time.monotonic()
            skew = self._skew()
            shifts = self._trail.shifts(rows) if self._trail is not None else \
                [timedelta(0)] * len(rows)
            offsets = [round(skew + shift.total_seconds(), 3) for shift in shifts]
            self._server = self._store.ship(self._kiosk_id, local.db_id or "", rows,
                                            subject_key_id=self._subject_key_id,
                                            kiosk_time=self._clock(), offsets=offsets)
            self._keep_offset(ShippedOffset(rows[-1].seq, offsets[-1]))
            self.rows_shipped += len(rows)
            log.debug("fleet: shipped seq %d-%d in %.0f ms", rows[0].seq, rows[-1].seq,
                      (time.monotonic() - t0) * 1000)
        else:
            skew = self.measure_skew()
        self._contact()
        server_seq = self._server[0] if self._server is not None else 0
        self._record_ack(server_seq, rows_sent=bool(rows), skew=skew)
        with self._idle:
            self.shipped_seq = server_seq
            self.conflict = None
            self._idle.notify_all()
        return server_seq < self._outbox.head().head_seq

    def _record_ack(self, server_seq: int, *, rows_sent: bool, skew: float | None) -> None:
        now = self._clock()
        changes: dict[str, object] = {"server_seq": server_seq, "last_contact": now,
                                      "last_error": None}
        if self._server is not None:
            changes["server_hash"] = self._server[1]
        if rows_sent:
            changes["acked_at"] = now
        if skew is not None:
            changes["skew_s"] = skew
            self._note_skew(skew)
        self._record_quietly(**changes)

    def _keep_offset(self, shipped: ShippedOffset) -> None:
        try:
            self._outbox.record_offset(shipped)
        except Exception as exc:  # noqa: BLE001  (the local log is busy: the next batch's)
            log.debug("shipped offset not kept: %s", exc)

    def _skew(self) -> float:
        """Server clock minus this kiosk's clock, in seconds. Raises FleetError."""
        before = self._clock()
        server = self._store.server_time()
        return round(offset_between(server, before, self._clock()) / timedelta(seconds=1), 3)

    def measure_skew(self) -> float | None:
        """Server clock minus this kiosk's clock, in seconds (None when not reachable)."""
        try:
            return self._skew()
        except FleetError:
            return None

    def _note_skew(self, skew: float) -> None:
        """Warn staff when the skew goes beyond the bound, or moves by as much again while
        beyond it (another change of a clock); say so when it is back within."""
        warning = skew_warning(skew)
        if warning is None:
            if self.clock_warning is not None:
                log.info("fleet: this kiosk's clock is within %.1f s of the server's again",
                         abs(skew))
            self._warned_skew = None
        elif self._warned_skew is None or \
                abs(skew - self._warned_skew) > SKEW_BOUND.total_seconds():
            log.warning("fleet: %s", warning)
            self._warned_skew = skew
        self.clock_warning = warning
