"""Reading the audit log: the base of :class:`~kiosk.audit.log.AuditLog`.

:class:`AuditReader` holds the connection and the lock and offers every read: attempts,
lockouts, operator actions, statistics, the chain check and decrypted best frames. The
operator panel can be typed against it when it only reads.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Self

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit import queries
from kiosk.audit.anchor import AnchorCheck, check_anchor, export_anchor
from kiosk.audit.attempts import read_frame
from kiosk.audit.clock import ClockWatch, clock_events, on_clock_now
from kiosk.audit.config import AuditConfig
from kiosk.audit.database import file_identity, guard, read_snapshot, schema_version
from kiosk.audit.errors import AuditError, AuditUnavailable, KeyUnavailable
from kiosk.audit.keys import ChainKey, FrameCipher, SubjectHasher
from kiosk.audit.outbox import (
    FleetState,
    LocalHead,
    ShippedRow,
    chained_rows,
    read_head,
    read_state,
)
from kiosk.audit.ratelimit import active_lockouts, all_lockouts
from kiosk.audit.records import check_subject_ref
from kiosk.audit.remote import FleetHook, RemoteView
from kiosk.audit.results import (
    AuditStats,
    ClockReport,
    Lockout,
    OperatorAction,
    Outcome,
    StoredAttempt,
    VerifyReport,
)
from kiosk.audit.signer import ChainSigner
from kiosk.audit.timeutil import Clock, now_from
from kiosk.audit.verify import verify_chain


class AuditReader:
    """Read access to an open audit database (use :meth:`AuditLog.open` to get one).

    Attributes
    ----------
    path : str
        The database file, or ``":memory:"``.
    config : AuditConfig
        Kiosk id, limits, retention.
    read_only : bool
        Opened read-only (writes raise ``AuditUnavailable(reason="read_only")``).
    clock_report : ClockReport or None
        The latest clock gap the log noticed and reported (see :mod:`kiosk.audit.clock`):
        for the runtime to show to staff.
    chain_warning : str or None
        Set when a write found the chain's head already broken (the write went ahead; run
        ``kiosk audit verify``).
    fleet : FleetHook or None
        The link to the site's fleet server (see :mod:`kiosk.audit.fleet`), attached by
        :func:`kiosk.audit.open_kiosk_log` when ``fleet.url`` is set; None otherwise.
    """

    def __init__(self, db: Database, *, path: str, config: AuditConfig, clock: Clock,
                 subject_hasher: SubjectHasher | None, frame_cipher: FrameCipher | None,
                 read_only: bool, chain_key: ChainKey | None = None,
                 watch: ClockWatch | None = None) -> None:
        self._db: Database | None = db
        self._lock = threading.RLock()
        self.path = path
        self._identity = file_identity(path)
        self.config = config
        self.read_only = read_only
        self._clock = clock
        self._hasher = subject_hasher
        self._cipher = frame_cipher
        self._chain_key = chain_key
        self._watch = watch if watch is not None else ClockWatch(clock, None)
        self.clock_report: ClockReport | None = None
        self.chain_warning: str | None = None
        self.fleet: FleetHook | None = None

    def _fleet_view(self, subject_ref: str | None, *,
                    admission: bool = False) -> RemoteView | None:
        """What the other kiosks of the fleet recorded (None without a fleet or when the
        server does not answer in time); asked before taking the lock, never inside a
        transaction."""
        return None if self.fleet is None else self.fleet.view(subject_ref,
                                                               admission=admission)

    def fleet_refusal(self) -> str | None:
        """Why the fleet's unreachable-server policy refuses sessions now (see
        :meth:`~kiosk.audit.remote.FleetHook.refusal`); None without a fleet or when it
        admits them. Call it after :meth:`active_lockout`, whose question to the server
        measures the silence."""
        return None if self.fleet is None else self.fleet.refusal()

    def close(self) -> None:
        """Close the connection; later calls raise AuditError. Safe to call twice."""
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(Exception):
                    self._db.close()
                self._db = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _use(self, doing: str) -> Iterator[Database]:
        with self._lock:
            if self._db is None:
                raise AuditError("the audit log is closed")
            with guard(self.path, self.config.busy_timeout_s, doing):
                yield self._db

    def check_same_file(self) -> None:
        """AuditUnavailable when the path no longer names the file this log has open (moved,
        deleted or replaced while the kiosk ran): rows written on would go to a file nobody
        will open again, and its lockouts would be lost at the next start."""
        if self._identity is not None and file_identity(self.path) != self._identity:
            raise AuditUnavailable(f"the audit database {self.path} was moved, deleted or "
                                   "replaced while the kiosk ran; nothing more is written to "
                                   "the file it had open (the kiosk opens its log again once "
                                   "it is back at that path)", reason=e.MISSING, path=self.path)

    @property
    def monotonic(self) -> Callable[[], float] | None:
        """The clock a change of the date does not move that this log watches its wall clock
        against (None: an injected clock, not watched)."""
        return self._watch.monotonic

    def _now(self) -> datetime:
        now = now_from(self._clock)
        self._watch.observe(now)
        return now

    def _signer(self, db: Database) -> ChainSigner:
        return ChainSigner.load(db, self._chain_key)

    @property
    def keyed(self) -> bool:
        """The log's chain is keyed (HMACs under the audit key)."""
        with self._use("reading the chain state") as db:
            return self._signer(db).keyed

    def now(self) -> datetime:
        """The log's clock (aware UTC): what lockouts are judged against."""
        return self._now()

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._use("reading the schema version") as db:
            return schema_version(db)

    def subject_ref(self, number: str) -> str:
        """The subject reference of a badge or ID number (see :mod:`kiosk.audit.keys`).

        Raises
        ------
        KeyUnavailable
            The log was opened without a subject hasher.
        """
        if self._hasher is None:
            raise KeyUnavailable("no subject key was given to the audit log", reason=e.NO_KEY)
        return self._hasher.ref(number)

    def best_frame(self, attempt_id: int) -> bytes | None:
        """The decrypted best frame of an attempt (JPEG bytes), None when none was stored.

        Raises
        ------
        KeyUnavailable
            No frame cipher was given.
        AuditError
            The frame does not decrypt (other key, altered, moved).
        """
        with self._use("reading a best frame") as db:
            return read_frame(db, self._cipher, int(attempt_id))

    def active_lockout(self, subject_ref: str | None = None) -> Lockout | None:
        """The lockout that blocks an attempt now: of this kiosk, or of ``subject_ref``.

        Returns the one that ends last, or None when the attempt may go ahead. With a fleet,
        the other kiosks' lockouts and unlocks count too (when the server answers in time).
        """
        check_subject_ref(subject_ref)
        remote = self._fleet_view(subject_ref)
        with self._use("checking lockouts") as db, read_snapshot(db):
            now = self._now()
            pending = self._watch.pending_gap()
            found = active_lockouts(db, "kiosk", self.config.kiosk_id, now, pending=pending,
                                    remote=remote)
            if subject_ref is not None:
                found += active_lockouts(db, "subject", subject_ref, now, pending=pending,
                                         remote=remote)
        return max(found, key=lambda lk: lk.until, default=None)

    def lockouts(self, *, active_only: bool = True, limit: int | None = 100) -> list[Lockout]:
        """Lockouts, newest first (only those in force when ``active_only``)."""
        with self._use("listing lockouts") as db:
            return all_lockouts(db, self._now(), active_only=active_only, limit=limit)

    def lockout_starts(self, lockouts: Iterable[Lockout]) -> list[datetime]:
        """When each of this log's ``lockouts`` started, on the clock as it is now (moved by
        the clock gaps recorded since, :func:`~kiosk.audit.clock.on_clock_now`): how it
        compares with the fleet's unlocks. ``started_at`` stays the time as recorded."""
        with self._use("reading lockouts") as db:
            self._now()  # notices a jump not recorded yet
            events, pending = clock_events(db), self._watch.pending_gap()
        return [on_clock_now(events, lk.seq, lk.started_at, pending) for lk in lockouts]

    def get_attempt(self, attempt_id: int) -> StoredAttempt:
        """One attempt; RecordNotFound when there is none (or it was purged)."""
        with self._use("reading an attempt") as db:
            return queries.get_attempt(db, attempt_id)

    def list_attempts(self, *, decision: str | None = None, since: datetime | None = None,
                      until: datetime | None = None, kiosk_id: str | None = None,
                      reason: str | None = None, mentioning: str | None = None,
                      subject_ref: str | None = None,
                      limit: int | None = 50) -> list[StoredAttempt]:
        """Attempts, newest first. ``decision`` is pass, fail, review (after any override)
        or incomplete; ``since``/``until`` bound ``started_at`` (aware datetimes); ``reason`` and
        ``mentioning`` as :func:`kiosk.audit.queries.list_attempts` has them;
        ``subject_ref``: only that person's."""
        check_subject_ref(subject_ref)
        with self._use("listing attempts") as db:
            return queries.list_attempts(db, decision=decision, since=since, until=until,
                                         kiosk_id=kiosk_id, reason=reason,
                                         mentioning=mentioning, subject_ref=subject_ref,
                                         limit=limit)

    def iter_attempts(self, *, decision: str | None = None, since: datetime | None = None,
                      until: datetime | None = None, subject_ref: str | None = None,
                      batch: int = 500) -> Iterator[StoredAttempt]:
        """All matching attempts, oldest id first, read in batches (for exports: the rows as
        recorded, so ``decision`` is the recorded one); ``subject_ref``: one person's."""
        check_subject_ref(subject_ref)

        def fetch(after: int, size: int) -> list[StoredAttempt]:
            with self._use("exporting attempts") as db:
                return queries.attempts_page(db, after_id=after, batch=size, decision=decision,
                                             since=since, until=until, subject_ref=subject_ref)
        return queries.iter_pages(fetch, batch)

    def outcomes(self, *, since: datetime | None = None,
                 until: datetime | None = None) -> list[Outcome]:
        """The decisions and reason codes of the finished verifications started in the
        range, oldest first (no scripted evaluation runs; for counting)."""
        with self._use("counting attempts") as db:
            return queries.outcomes(db, since=since, until=until)

    def operator_actions(self, *, limit: int | None = 50, action: str | None = None,
                         target: str | None = None, since: datetime | None = None,
                         until: datetime | None = None) -> list[OperatorAction]:
        """Operator actions (unlocks, purges, overrides, settings changes, refused PINs) and
        the kiosk's own events (clock gaps, refused cameras), newest first; only of one
        ``action`` kind and/or ``target`` (an override's target is the attempt id as text)
        and acted in ``[since, until)`` when given."""
        with self._use("listing operator actions") as db:
            return queries.operator_actions(db, limit=limit, action=action, target=target,
                                            since=since, until=until)

    def stats(self, *, since: datetime | None = None,
              until: datetime | None = None) -> AuditStats:
        """Counts by decision, reason code and day."""
        with self._use("counting attempts") as db, read_snapshot(db):
            return queries.stats(db, since=since, until=until)

    def export_anchor(self) -> dict[str, Any]:
        """The chain's head as an anchor to keep elsewhere (see :mod:`kiosk.audit.anchor`)."""
        with self._use("exporting the chain head") as db, read_snapshot(db):
            return export_anchor(db, self._signer(db), kiosk_id=self.config.kiosk_id,
                                 now=self._now())

    def check_anchor(self, anchor: Mapping[str, Any]) -> AnchorCheck:
        """Does the log still contain the head recorded in ``anchor``?"""
        with self._use("checking an anchor") as db, read_snapshot(db):
            return check_anchor(db, self._signer(db), anchor)

    def chain_head(self) -> LocalHead:
        """The chain's database id, head and purge anchor."""
        with self._use("reading the chain state") as db:
            return read_head(db)

    def chained_rows(self, first: int, last: int) -> list[ShippedRow]:
        """The chained rows at positions ``first..last`` as the fleet server stores them
        (``kiosk audit verify --fleet`` compares them with the server's copy)."""
        with self._use("reading chained rows") as db, read_snapshot(db):
            return list(chained_rows(db, first, last))

    def fleet_state(self) -> FleetState | None:
        """What the fleet server acknowledged, as last recorded here (None: never)."""
        with self._use("reading the fleet state") as db:
            return read_state(db)

    def verify(self, *, first: int | None = None) -> VerifyReport:
        """Walk the hash chain (see :func:`kiosk.audit.verify.verify_chain`); from chain
        position ``first`` on only, when given.

        Raises
        ------
        KeyUnavailable
            The log is keyed and was opened without its chain key.
        """
        with self._use("verifying the chain") as db, read_snapshot(db):
            signer = self._signer(db)
            if signer.keyed and signer.key is None:
                raise KeyUnavailable("this audit log is keyed: verifying it needs its audit key "
                                     "(audit.key_file, the default key file or the OS keyring)",
                                     reason=e.NO_KEY)
            return verify_chain(db, signer, first=first)
