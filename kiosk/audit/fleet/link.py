"""The kiosk's link to its fleet: the audit log's :class:`~kiosk.audit.remote.FleetHook`.

It owns the connection pool (:class:`FleetStore`), the background sender and the sender's
connection to the local log. The audit log asks it, before each lockout check, what the other
kiosks recorded (:meth:`FleetLink.view`), with a short time-out (``fleet.query_timeout_s``):
when the server does not answer in time (or the sender already finds it down, in which case
the check does not wait) the check uses the local view alone, or, with
``fleet.unreachable_policy = "refuse"``, refuses new sessions once the server has been silent
for longer than ``fleet.refuse_after_min`` (counted from the last answer recorded in the local
log, so a restart does not reset it; from the moment the fleet was configured when it never
answered; within a run on a monotonic clock, :mod:`kiosk.audit.fleet.silence`).

The other kiosks' times reach the lockout check on this kiosk's clock, through the server's
(:mod:`kiosk.audit.fleet.skew`); the rows this kiosk ships carry its offset to the server as
its clock read when each was written (:mod:`kiosk.audit.fleet.trail`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.audit.clock import since_boot
from kiosk.audit.errors import FleetSilent
from kiosk.audit.fleet.config import FleetConfig
from kiosk.audit.fleet.errors import FleetError, FleetUnavailable
from kiosk.audit.fleet.lookup import remote_view
from kiosk.audit.fleet.sender import FleetSender
from kiosk.audit.fleet.silence import Silence, forward_only
from kiosk.audit.fleet.store import FleetStore
from kiosk.audit.fleet.trail import ClockTrail
from kiosk.audit.outbox import Outbox
from kiosk.audit.ratelimit import RateLimitPolicy
from kiosk.audit.remote import RemoteView
from kiosk.audit.results import Lockout
from kiosk.audit.timeutil import Clock, utc_now

log = logging.getLogger(__name__)

__all__ = ["FleetLink"]


class FleetLink:
    """See the module docstring.

    Parameters
    ----------
    config : FleetConfig
    audit_path : path-like
        The kiosk's audit database (schema 4 or later; the audit log opened it first).
    kiosk_id : str
    subject_key_id : str or None
        The key id of the kiosk's subject hasher, registered with the server.
    limits : RateLimitPolicy
        How far back the other kiosks' rows matter (the window and the lockout length).
    clock : callable
        Aware UTC now (the audit log's clock).
    busy_timeout_s : float
        How long a write of the local fleet state waits for the kiosk's write lock.
    monotonic : callable, optional
        Seconds of a clock that a change of the date does not move (:func:`since_boot` by
        default with the real clock). With an injected clock and none given, the silence
        counts that clock forward only and only the log's recorded clock changes move the
        shipped offsets.
    """

    def __init__(self, config: FleetConfig, *, audit_path: str | Path, kiosk_id: str,
                 subject_key_id: str | None, limits: RateLimitPolicy,
                 clock: Clock = utc_now, busy_timeout_s: float = 5.0,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.config = config
        self.kiosk_id = kiosk_id
        self.subject_key_id = subject_key_id
        self._limits = limits
        self._clock = clock
        if monotonic is None and clock is utc_now:
            monotonic = since_boot
        self.store = FleetStore(config.url, where=config.where,
                                connect_timeout_s=config.connect_timeout_s)
        self.outbox = Outbox(audit_path, busy_timeout_s=busy_timeout_s)
        try:
            state = self.outbox.ensure_state(clock())
            self.trail = ClockTrail(audit_path, clock=clock, monotonic=monotonic)
        except BaseException:
            self.outbox.close()
            raise
        self._silence = Silence(state.last_contact or state.created_at, clock(),
                                monotonic or forward_only(clock))
        self._lock = threading.Lock()
        self._unreachable_noted = False
        self.sender = FleetSender(self.store, self.outbox, config, kiosk_id=kiosk_id,
                                  subject_key_id=subject_key_id, clock=clock,
                                  on_contact=self._contacted, trail=self.trail)
        self._views = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fleet-view")
        self._closed = False
        self._own_db: str | None = None

    def _db_id(self) -> str | None:
        """This log's database id (fixed for its life; read once)."""
        if self._own_db is None:
            self._own_db = self.outbox.head().db_id
        return self._own_db

    # -- FleetHook --------------------------------------------------------------------------

    def start(self) -> None:
        self.store.open()
        self.sender.start()

    def written(self) -> None:
        self.trail.written()
        self.sender.wake()

    def shipped_seq(self) -> int | None:
        if self.sender.shipped_seq is not None:
            return self.sender.shipped_seq
        state = self.outbox.state()
        return state.server_seq if state is not None else None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.sender.stop(self.config.flush_timeout_s, join=False)
        self._views.shutdown(wait=False, cancel_futures=True)
        self.store.close()  # a sender waiting for a connection gets its answer now
        self.sender.join()
        self.trail.close()
        self.outbox.close()

    def view(self, subject_ref: str | None, *, admission: bool) -> RemoteView | None:
        """The other kiosks' facts (see :mod:`kiosk.audit.remote`), or None when the server
        did not answer within ``query_timeout_s``.

        Raises
        ------
        FleetSilent
            ``admission`` and the policy is ``"refuse"`` and the server has been unreachable
            for longer than ``refuse_after_s``.
        """
        now = self._clock()
        down = self.sender.last_error
        if down is not None:
            # The sender already finds the server down (it retries and notices the server's
            # return within retry_max_s): decide on the local view without waiting.
            self._unreachable(FleetUnavailable(down), admission=admission)
            return None
        horizon = now - self._limits.window - self._limits.lockout
        started = time.monotonic()
        self.sender.await_schema(self.config.query_timeout_s)
        timeout = max(0.1, self.config.query_timeout_s - (time.monotonic() - started))
        self.store.open()
        try:
            future = self._views.submit(remote_view, self.store, self.kiosk_id, subject_ref,
                                        horizon, db_id=self._db_id(), timeout=timeout,
                                        clock=self._clock)
            found = future.result(timeout=timeout)
        except (FutureTimeout, FleetError, RuntimeError) as exc:
            self._unreachable(exc, admission=admission)
            return None
        self._contacted(self._clock())
        return found

    @property
    def clock_warning(self) -> str | None:
        """Why staff must set this kiosk's clock right, when its latest measured skew from
        the server is beyond :data:`~kiosk.audit.fleet.skew.SKEW_BOUND`; else None."""
        return self.sender.clock_warning

    def lockouts(self, now: datetime, *, active_only: bool = True,
                 limit: int | None = 100) -> list[Lockout]:
        """Lockouts recorded at every kiosk of the fleet, newest first, as the server holds
        them (an unlock at any kiosk lifts them); ``kiosk_id`` says where each was recorded,
        and their times are on the clock of ``now`` (this kiosk's).

        Raises
        ------
        FleetError
            The server cannot be read.
        """
        from kiosk.audit.fleet.views import fleet_lockouts

        if self.sender.last_error is not None:  # known down: do not make the panel wait
            raise FleetUnavailable(self.sender.last_error)
        found = fleet_lockouts(self.store, now, active_only=active_only, limit=limit)
        return [Lockout(id=lk.id, seq=0, scope=lk.scope, target=lk.target,
                        kiosk_id=lk.kiosk_id, started_at=lk.started_at, until=lk.until,
                        failures=lk.failures, attempt_id=None,
                        lifted_by=lk.lifted_by[1] if lk.lifted_by else None) for lk in found]

    # -- reachability -----------------------------------------------------------------------

    def _contacted(self, _when: datetime) -> None:
        self._silence.answered()
        with self._lock:
            if self._unreachable_noted:
                log.info("fleet server %s answers again", self.config.where)
            self._unreachable_noted = False

    def silent_for(self) -> timedelta:
        """How long the server has not answered (zero while it answers)."""
        return self._silence.length()

    def _unreachable(self, exc: BaseException, *, admission: bool) -> None:
        why = str(exc) or f"no answer within {self.config.query_timeout_s:g} s"
        schema = self.sender.schema_error
        if schema is not None:  # it answers the sender, but its lockouts cannot be read
            why = f"{why} ({schema})"
        with self._lock:
            first = not self._unreachable_noted
            self._unreachable_noted = True
        if first:
            log.warning("fleet: the lockout check uses this kiosk's own counts: %s", why)
        refused = self.refusal() if admission else None
        if refused is not None:
            raise FleetSilent(refused)

    def refusal(self) -> str | None:
        """Why :meth:`view` refuses a session now (``fleet.unreachable_policy = refuse``, the
        last question unanswered and the server silent for longer than ``refuse_after_s``),
        for the idle screen to show the kiosk paused before anyone begins; None when it would
        admit one. Asks nothing: it judges what the last lockout check and the sender found."""
        with self._lock:
            failing = self._unreachable_noted  # the last question went unanswered
        if not failing or self.config.unreachable_policy != "refuse":
            return None
        silent = self.silent_for()
        if silent.total_seconds() <= self.config.refuse_after_s:
            return None
        schema = self.sender.schema_error
        what = "has not answered" if schema is None else f"could not be read ({schema})"
        return (f"the fleet server {self.config.where} {what} for "
                f"{silent.total_seconds() / 60:.1f} min (fleet.unreachable_policy = refuse): "
                "no new session until it answers")
