"""The audit log: one object the kiosk, the operator panel and ``kiosk audit`` share.

Thread-safe: one connection, one lock; every method holds the lock for its transaction. Any
SQLite or file-system failure surfaces as :class:`~kiosk.audit.errors.AuditUnavailable`
with a plain reason, and the transaction in progress is rolled back, so an attempt is
either committed whole or not at all.

Attempts are written in one of two ways:

- ``open_attempt(...)`` before the first frame, then ``finish_attempt(id, record)`` at the
  end (what the kiosk's session does). The first is one transaction that checks the lockouts
  and the tries in flight and writes an *incomplete* row (not yet chained) carrying its owner
  process and a MAC; the second completes and chains it. A row whose owner was killed (a
  crash, SIGKILL, a power cut) is closed as a failure with reason ``INTERRUPTED`` by
  :meth:`AuditLog.recover_interrupted` (at kiosk start) or by the next ``open_attempt``, so
  it counts toward the subject's lockout; rows of live sessions are never touched.
- ``record_attempt(record)``: one transaction at the end of the attempt (tools and tests).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit.attempts import (
    check_frame,
    complete,
    insert_open,
    interrupt,
    log_recorded,
    open_rows,
)
from kiosk.audit.clock import ClockWatch, clock_events, since_boot
from kiosk.audit.config import AuditConfig
from kiosk.audit.connection import close_db, connect
from kiosk.audit.database import MEMORY, OPENING, guard, prepare
from kiosk.audit.errors import AuditError, KeyUnavailable, RateLimited, RecordNotFound
from kiosk.audit.keys import ChainKey, FrameCipher, SubjectHasher
from kiosk.audit.opening import admit
from kiosk.audit.owner import Owner
from kiosk.audit.records import (
    HEX64_PATTERN,
    AttemptRecord,
    check_camera,
    check_label,
    check_subject_ref,
)
from kiosk.audit.results import RecordResult
from kiosk.audit.room import check_room
from kiosk.audit.signer import ChainSigner
from kiosk.audit.storage import attempt_camera, attempt_mode, attempt_variant
from kiosk.audit.timeutil import Clock, now_from, to_iso, utc_now
from kiosk.audit.writer import AUTO_PURGE_INTERVAL, AuditWriter
from kiosk.reasons import Reason
from kiosk.vocabulary import Verdict

log = logging.getLogger(__name__)

#: Why an attempt whose owner is gone was never finished (:func:`log_recorded`).
STOPPED = "the kiosk stopped or was killed"

__all__ = ["AUTO_PURGE_INTERVAL", "AuditLog"]


class AuditLog(AuditWriter):
    """The audit database of one kiosk: reads (see :class:`AuditReader`) and writes.

    Build it with :meth:`open`.
    """

    def __init__(self, db: Database, *, path: str, config: AuditConfig, clock: Clock,
                 subject_hasher: SubjectHasher | None, frame_cipher: FrameCipher | None,
                 read_only: bool, auto_purge: bool, chain_key: ChainKey | None = None,
                 watch: ClockWatch | None = None, owner: Owner | None = None) -> None:
        super().__init__(db, path=path, config=config, clock=clock,
                         subject_hasher=subject_hasher, frame_cipher=frame_cipher,
                         read_only=read_only, chain_key=chain_key, watch=watch)
        self._auto_purge = auto_purge
        self._last_auto_purge = None
        self._owner = owner if owner is not None else Owner.current()
        if path != MEMORY:
            self._reserve = Path(path).with_name(Path(path).name + "-reserve")
        self._reserve_bytes = config.reserve_bytes
        self._max_pages = None

    def start_fleet(self) -> None:
        """Start shipping rows to the fleet server in the background (no-op without a
        fleet); :meth:`close` stops it after a short final flush."""
        if self.fleet is not None:
            self.fleet.start()

    def close(self) -> None:
        """Close the connection; later calls raise AuditError. Safe to call twice."""
        if self._db is not None:
            try:
                self.record_pending_jumps()
            except Exception:  # noqa: BLE001  (closing must not raise)
                log.warning("recording a clock change before closing failed", exc_info=True)
        fleet, self.fleet = self.fleet, None
        if fleet is not None:
            try:
                fleet.close()
            except Exception:  # noqa: BLE001  (closing must not raise)
                log.warning("stopping the fleet sender failed", exc_info=True)
        with self._lock:
            if self._db is not None:
                try:
                    close_db(self._db)
                except Exception:  # noqa: BLE001  (closing must not raise)
                    log.debug("closing the audit database failed", exc_info=True)
                self._db = None

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], config: AuditConfig | None = None, *,
             clock: Clock = utc_now, subject_hasher: SubjectHasher | None = None,
             frame_cipher: FrameCipher | None = None, chain_key: ChainKey | None = None,
             read_only: bool = False, create: bool = True, check_integrity: bool = True,
             auto_purge: bool = False, monotonic: Callable[[], float] | None = None,
             probe_write: bool = True, reserve: bool = False,
             rehearse: bool = False) -> AuditLog:
        """Open (creating or upgrading when allowed) the audit database.

        Parameters
        ----------
        path : path-like
            Database file, or ``":memory:"``.
        config : AuditConfig, optional
            Defaults to ``AuditConfig()``.
        clock : callable, optional
            Returns the current aware datetime; the rate limiter and ``recorded_at`` use it.
        subject_hasher : SubjectHasher, optional
            Needed by :meth:`subject_ref`; its key id is remembered in the database and a
            different key is refused (``KeyUnavailable``, reason ``key_mismatch``).
        frame_cipher : FrameCipher, optional
            Needed when ``config.store_best_frame`` and by :meth:`best_frame`.
        chain_key : ChainKey, optional
            The key of the hash chain. A writable log opened with it is keyed from its next
            row on (see :func:`kiosk.audit.database.bind_chain_key`); a keyed log cannot be
            written, nor verified, without it. Logs opened without one (tools, tests) keep
            unkeyed hashes.
        read_only : bool
            Open with ``mode=ro``: nothing can be written, not even the schema. A
            write-protected copy is read with ``immutable=1``.
        create : bool
            Create the file when missing (else ``AuditUnavailable``, reason ``missing``).
        check_integrity : bool
            Run ``PRAGMA quick_check`` first (``AuditUnavailable``, reason ``corrupt``).
        auto_purge : bool
            Purge rows older than ``config.retention_days`` every few hours after a write
            (the kiosk's setting; :func:`kiosk.audit.open_kiosk_log` also purges once at
            start unless the clock was reported). Commands leave it off.
        monotonic : callable, optional
            A clock that wall-clock changes do not move, to notice jumps while running;
            ``since_boot`` (suspend counts as time) by default with the real clock, none with
            an injected one.
        probe_write : bool
            Write once at open so a read-only or full database fails now (False: ``kiosk
            audit purge``, which must open a full database).
        reserve : bool
            Keep ``config.reserve_bytes`` of disk beside the database for a purge on a full
            disk (the kiosk).
        rehearse : bool
            Roll back the key binding and the write at open: only check that the log opens,
            can be written and takes these keys (before a new key file is made, see
            :func:`kiosk.audit.factory.check_takes_new_key`).

        Raises
        ------
        AuditUnavailable
            The database cannot be used (the reason code says why).
        KeyUnavailable
            Best frames are to be stored but no frame cipher was given, or a key differs
            from the one the log was written with.
        """
        config = AuditConfig() if config is None else config
        if config.store_best_frame and frame_cipher is None and not read_only:
            raise KeyUnavailable("audit.store_best_frame is on but no frame encryption key is "
                                 "available", reason=e.NO_KEY)
        where = MEMORY if str(path) == MEMORY else str(Path(path).expanduser().absolute())
        if monotonic is None and clock is utc_now:
            monotonic = since_boot
        with guard(where, config.busy_timeout_s, OPENING):
            db = connect(where, read_only=read_only, create=create,
                         busy_timeout_s=config.busy_timeout_s)
            try:
                prepare(db, where, read_only=read_only, integrity=check_integrity,
                        subject_key_id=subject_hasher.key_id if subject_hasher else None,
                        now=to_iso(now_from(clock)), max_db_bytes=config.max_db_bytes,
                        chain_key=chain_key, probe_write=probe_write, rehearse=rehearse,
                        create=create)
            except BaseException:
                close_db(db)
                raise
        audit = cls(db, path=where, config=config, clock=clock, subject_hasher=subject_hasher,
                    frame_cipher=frame_cipher, read_only=read_only, auto_purge=auto_purge,
                    chain_key=chain_key, watch=ClockWatch(clock, monotonic))
        if config.max_db_bytes is not None:
            audit._max_pages = config.max_db_bytes // int(
                db.execute("PRAGMA page_size").fetchone()[0])
        audit._now()  # the clock watch's starting point
        if reserve and not read_only:
            audit.make_reserve()
            try:  # the kiosk stays out of service while a session's record cannot be kept
                audit._check_room(db)
            except BaseException:
                audit.close()
                raise
        return audit

    def _check_room(self, db: Database) -> None:
        """See :mod:`kiosk.audit.room`."""
        check_room(db, self.path, max_db_bytes=self.config.max_db_bytes,
                   frame_bytes=self.config.max_frame_bytes if self.config.store_best_frame
                   else 0)

    def _check_frame(self, frame: object) -> bytes | None:
        return check_frame(frame, store=self.config.store_best_frame,
                           max_bytes=self.config.max_frame_bytes)

    # -- writing attempts -----------------------------------------------------------------

    def _check_record(self, record: AttemptRecord) -> None:
        if not isinstance(record, AttemptRecord):
            raise ValueError(f"record must be an AttemptRecord, not {type(record).__name__}")
        if record.kiosk_id != self.config.kiosk_id:
            raise ValueError(f"record.kiosk_id {record.kiosk_id!r} is not this log's kiosk "
                             f"{self.config.kiosk_id!r}")

    def _close_stale(self, db: Database, signer: ChainSigner,
                     now: datetime) -> tuple[list[RecordResult], list[dict]]:
        """Close open rows whose owner is gone as INTERRUPTED; return them and the live ones."""
        live, stale, forged = open_rows(db, signer, self._owner, now, self.config.stale_after)
        if forged:
            log.error("%d unfinished attempt row(s) carry no valid MAC (not written by this "
                      "kiosk): they are ignored; run `kiosk audit verify`", len(forged))
        return interrupt(db, signer, stale, limits=self.config.limits, now=now), live

    def open_attempt(self, *, started_at: datetime, subject_ref: str | None, app_version: str,
                     settings_digest: str, scripted: bool = False,
                     accessible: bool = False,
                     camera: Mapping[str, Any] | None = None) -> int:
        """Start an attempt: check the limits and write its open row, in one transaction.

        Open attempts whose owner process is gone are first closed as ``INTERRUPTED``
        failures. The attempt is refused when the subject or this kiosk is locked out, or
        when the failures in the window plus the attempts still open for the subject (or the
        kiosk) would reach the limit; so concurrent sessions can never run more tries than
        the limit. Call :meth:`finish_attempt` with the returned id at the end. ``camera``
        (what the frames come from, :func:`~kiosk.audit.records.check_camera`) is covered by
        the open row's MAC; the record that finishes the attempt must carry the same.

        Raises
        ------
        RateLimited
            Refused (see its attributes). A refusal by the subject's limit is recorded as a
            failed attempt with reason ``RATE_LIMITED``.
        AuditUnavailable
            The database cannot be written; nothing was committed.
        """
        started = to_iso(started_at, "started_at")
        check_subject_ref(subject_ref)
        check_label(app_version, "app_version")
        if not isinstance(settings_digest, str) or not HEX64_PATTERN.match(settings_digest):
            raise ValueError("settings_digest must be Settings.digest(): 64 hex digits")
        camera = check_camera(camera)
        kiosk_id = self.config.kiosk_id
        remote = self._fleet_view(subject_ref, admission=True)
        with self._writing("starting an attempt") as (db, signer, now):
            self._check_room(db)
            stale, live = self._close_stale(db, signer, now)
            refusal = admit(db, self.config.limits, kiosk_id=kiosk_id, subject_ref=subject_ref,
                            live=live, now=now, events=clock_events(db), remote=remote)
            opened = refused = None
            if refusal is None:
                opened = insert_open(db, signer, self._owner, kiosk_id=kiosk_id,
                                     started_at=started, subject_ref=subject_ref,
                                     app_version=app_version, settings_digest=settings_digest,
                                     scripted=scripted, accessible=accessible,
                                     camera=camera)
            elif refusal.record:
                refused_id = insert_open(db, signer, self._owner, kiosk_id=kiosk_id,
                                         started_at=started, subject_ref=subject_ref,
                                         app_version=app_version,
                                         settings_digest=settings_digest, scripted=scripted,
                                         accessible=accessible, camera=camera)
                record = AttemptRecord(
                    kiosk_id=kiosk_id, started_at=started_at,
                    ended_at=max(now, started_at), subject_ref=subject_ref,
                    decision=Verdict.FAIL, reasons=(Reason.RATE_LIMITED,),
                    app_version=app_version, settings_digest=settings_digest,
                    scripted=scripted, accessible=accessible, camera=camera)
                refused = complete(db, signer, refused_id, record, frame=None, cipher=None,
                                   limits=self.config.limits, now=now, remote=remote)
        log_recorded(stale, interrupted=STOPPED)
        if opened is not None:
            return opened
        assert refusal is not None
        log_recorded([refused] if refused else [])
        log.warning("attempt refused: %s", refusal.reason)
        raise RateLimited(refusal.reason, scope=refusal.scope, lockout=refusal.lockout,
                          attempt_id=refused.attempt_id if refused else None,
                          started=refused.lockouts if refused else ())

    def finish_attempt(self, attempt_id: int, record: AttemptRecord,
                       best_frame: bytes | None = None) -> RecordResult:
        """Complete and chain an attempt begun with :meth:`open_attempt`, in one transaction.

        Parameters
        ----------
        attempt_id : int
            From :meth:`open_attempt`.
        record : AttemptRecord
            The finished attempt; its ``kiosk_id`` must be this log's and its
            ``subject_ref`` the one the attempt was opened with.
        best_frame : bytes, optional
            JPEG bytes; stored encrypted only when ``config.store_best_frame``, else dropped.

        Returns
        -------
        RecordResult
            Id, chain position, and the lockouts this failure started (if any).

        Raises
        ------
        RecordNotFound
            No attempt with this id.
        AuditError
            The attempt is already closed (finished, or closed as interrupted), or its open
            row was not written by this kiosk.
        AuditUnavailable
            The database cannot be written; nothing of the attempt was committed.
        """
        self._check_record(record)
        frame = self._check_frame(best_frame)
        remote = self._fleet_view(record.subject_ref) if record.failed else None
        with self._writing("recording an attempt") as (db, signer, now):
            found = list(db.query("SELECT * FROM attempts WHERE id = ?", [int(attempt_id)]))
            if not found:
                raise RecordNotFound(f"there is no attempt {attempt_id} to finish")
            row = found[0]
            if row["status"] != "incomplete":
                raise AuditError(f"attempt {attempt_id} is already closed (finished, or closed "
                                 "as interrupted)")
            if not signer.open_ok(row):
                raise AuditError(f"attempt {attempt_id} was not opened by this kiosk (its open "
                                 "row carries no valid MAC)")
            if row["subject_ref"] != record.subject_ref:
                raise ValueError(f"record.subject_ref differs from the one attempt {attempt_id} "
                                 "was opened with")
            for column, stored, name in (("mode", attempt_mode(record.scripted), "scripted"),
                                         ("variant", attempt_variant(record.accessible),
                                          "accessible"),
                                         ("camera", attempt_camera(record.camera), "camera")):
                if row[column] != stored:
                    raise ValueError(f"record.{name} differs from the way attempt "
                                     f"{attempt_id} was opened")
            result = complete(db, signer, int(attempt_id), record, frame=frame,
                              cipher=self._cipher, limits=self.config.limits, now=now,
                              remote=remote)
        log_recorded([result])
        self._purge_due(raise_errors=False)
        return result

    def record_attempt(self, record: AttemptRecord,
                       best_frame: bytes | None = None) -> RecordResult:
        """Write a finished attempt in one transaction (see :meth:`finish_attempt`); no
        limit is checked (:meth:`open_attempt` does that)."""
        self._check_record(record)
        frame = self._check_frame(best_frame)
        with self._writing("recording an attempt") as (db, signer, now):
            stale, _ = self._close_stale(db, signer, now)
            attempt_id = insert_open(db, signer, self._owner, kiosk_id=record.kiosk_id,
                                     started_at=to_iso(record.started_at),
                                     subject_ref=record.subject_ref,
                                     app_version=record.app_version,
                                     settings_digest=record.settings_digest,
                                     scripted=record.scripted, accessible=record.accessible,
                                     camera=record.camera)
            result = complete(db, signer, attempt_id, record, frame=frame, cipher=self._cipher,
                              limits=self.config.limits, now=now)
        log_recorded(stale, interrupted=STOPPED)
        log_recorded([result])
        self._purge_due(raise_errors=False)
        return result

    def recover_interrupted(self) -> list[RecordResult]:
        """Close the open attempts whose owner process is gone (or that are older than
        ``config.stale_after``) as failures with reason ``INTERRUPTED``.

        Call once when the kiosk starts, before the first lockout check: an attempt cut short
        by a crash, a kill or a power cut then counts like any failure of its subject.
        """
        with self._writing("recovering interrupted attempts") as (db, signer, now):
            results, _ = self._close_stale(db, signer, now)
        log_recorded(results, interrupted=STOPPED)
        return results

    def abandon_attempt(self, attempt_id: int) -> RecordResult:
        """Close an open attempt of this process as ``INTERRUPTED`` now (a session that
        failed with an unexpected error: the try still counts)."""
        with self._writing("closing an attempt") as (db, signer, now):
            found = list(db.query("SELECT * FROM attempts WHERE id = ? AND status = "
                                  "'incomplete'", [int(attempt_id)]))
            if not found:
                raise RecordNotFound(f"there is no open attempt {attempt_id}")
            result = interrupt(db, signer, found, limits=self.config.limits, now=now)[0]
        log_recorded([result], interrupted="its session ended with an error")
        return result
