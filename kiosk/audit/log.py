"""The audit log: one object the kiosk, the operator panel and ``kiosk audit`` share.

Thread-safe: one connection, one lock; every method holds the lock for its transaction. Any
SQLite or file-system failure surfaces as :class:`~kiosk.audit.errors.AuditUnavailable`
with a plain reason, and the transaction in progress is rolled back, so an attempt is
either committed whole or not at all.

Attempts are written in one of two ways:

- ``record_attempt(record)``: one transaction at the end of the attempt;
- ``begin_attempt(...)`` when the attempt starts, then ``finish_attempt(id, record)``. The
  first writes an *incomplete* row (not yet chained); the second completes and chains it. An
  incomplete row left by a crash is closed as a failure with reason ``INTERRUPTED`` by
  :meth:`AuditLog.recover_interrupted` (call it at kiosk start) or by the next
  ``begin_attempt``/``record_attempt`` of the same kiosk, so it counts towards a lockout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit import queries
from kiosk.audit.canonical import canonical_json
from kiosk.audit.chain import append_row, complete_attempt, frame_digest, verify_chain
from kiosk.audit.config import AuditConfig
from kiosk.audit.database import (
    MEMORY,
    connect,
    guard,
    migrate,
    quick_check,
    read_snapshot,
    schema_version,
    write_transaction,
)
from kiosk.audit.errors import AuditError, KeyUnavailable, RecordNotFound
from kiosk.audit.keys import FrameCipher, SubjectHasher
from kiosk.audit.ratelimit import SCOPES, active_lockouts, all_lockouts, apply_limits
from kiosk.audit.records import HEX64_PATTERN, AttemptRecord, check_label, check_subject_ref
from kiosk.audit.results import (
    AuditStats,
    Lockout,
    OperatorAction,
    PurgeResult,
    RecordResult,
    StoredAttempt,
    UnlockResult,
    VerifyReport,
)
from kiosk.audit.retention import purge as purge_rows
from kiosk.audit.storage import attempt_columns
from kiosk.audit.timeutil import Clock, from_iso, now_from, to_iso, utc_now

log = logging.getLogger(__name__)

INTERRUPTED = "INTERRUPTED"
AUTO_PURGE_INTERVAL = timedelta(hours=6)
_JPEG_MAGIC = b"\xff\xd8\xff"


def _frame_aad(attempt_id: int) -> bytes:
    return f"liveness-kiosk audit frame v1|attempt={attempt_id}".encode()


class AuditLog:
    """The audit database of one kiosk. Build it with :meth:`open`.

    Attributes
    ----------
    path : str
        The database file, or ``":memory:"``.
    config : AuditConfig
        Kiosk id, limits, retention.
    read_only : bool
        Opened read-only (writes raise ``AuditUnavailable(reason="read_only")``).
    """

    def __init__(self, db: Database, *, path: str, config: AuditConfig, clock: Clock,
                 subject_hasher: SubjectHasher | None, frame_cipher: FrameCipher | None,
                 read_only: bool, auto_purge: bool) -> None:
        self._db: Database | None = db
        self._lock = threading.RLock()
        self.path = path
        self.config = config
        self.read_only = read_only
        self._clock = clock
        self._hasher = subject_hasher
        self._cipher = frame_cipher
        self._auto_purge = auto_purge
        self._last_auto_purge: datetime | None = None

    # -- opening and closing -------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], config: AuditConfig | None = None, *,
             clock: Clock = utc_now, subject_hasher: SubjectHasher | None = None,
             frame_cipher: FrameCipher | None = None, read_only: bool = False,
             create: bool = True, check_integrity: bool = True,
             auto_purge: bool = False) -> AuditLog:
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
        read_only : bool
            Open with ``mode=ro``: nothing can be written, not even the schema.
        create : bool
            Create the file when missing (else ``AuditUnavailable``, reason ``missing``).
        check_integrity : bool
            Run ``PRAGMA quick_check`` first (``AuditUnavailable``, reason ``corrupt``).
        auto_purge : bool
            Purge rows older than ``config.retention_days`` now and every few hours after a
            write (the kiosk's setting; commands leave it off).

        Raises
        ------
        AuditUnavailable
            The database cannot be used (the reason code says why).
        KeyUnavailable
            Best frames are to be stored but no frame cipher was given, or the subject key
            differs from the one the log was written with.
        """
        config = AuditConfig() if config is None else config
        if config.store_best_frame and frame_cipher is None and not read_only:
            raise KeyUnavailable("audit.store_best_frame is on but no frame encryption key is "
                                 "available", reason=e.NO_KEY)
        where = MEMORY if str(path) == MEMORY else str(Path(path).expanduser().absolute())
        with guard(where, config.busy_timeout_s, "opening it"):
            db = connect(where, read_only=read_only, create=create,
                         busy_timeout_s=config.busy_timeout_s)
            try:
                if check_integrity:
                    quick_check(db, where)
                migrate(db, where, read_only=read_only)
                if not read_only:
                    with write_transaction(db):
                        cls._bind_key(db, where, subject_hasher)
                        # Also proves the file is writable now, not at the first attempt.
                        db.execute("INSERT OR REPLACE INTO meta VALUES ('last_opened_at', ?)",
                                   [to_iso(now_from(clock))])
                    if config.max_db_bytes is not None:
                        page = db.execute("PRAGMA page_size").fetchone()[0]
                        db.execute(f"PRAGMA max_page_count = {config.max_db_bytes // page}")
                else:
                    cls._bind_key(db, where, subject_hasher)
            except BaseException:
                db.close()
                raise
        audit = cls(db, path=where, config=config, clock=clock, subject_hasher=subject_hasher,
                    frame_cipher=frame_cipher, read_only=read_only, auto_purge=auto_purge)
        if auto_purge and not read_only:
            try:
                audit._purge_due(raise_errors=True)
            except BaseException:
                audit.close()
                raise
        return audit

    @staticmethod
    def _bind_key(db: Database, path: str, hasher: SubjectHasher | None) -> None:
        if hasher is None:
            return
        found = db.execute("SELECT value FROM meta WHERE key = 'subject_key_id'").fetchone()
        if found is None:
            if db.conn.in_transaction:
                db.execute("INSERT INTO meta VALUES ('subject_key_id', ?)", [hasher.key_id])
            return
        if found[0] != hasher.key_id:
            raise KeyUnavailable(f"the subject key (id {hasher.key_id}) is not the key this audit "
                                 f"log was written with (id {found[0]}); earlier subjects and "
                                 "lockouts would not match. Restore the original key file or "
                                 "keyring entry", reason=e.KEY_MISMATCH, path=path)

    def close(self) -> None:
        """Close the connection; later calls raise AuditError. Safe to call twice."""
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(Exception):
                    self._db.close()
                self._db = None

    def __enter__(self) -> AuditLog:
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

    def _now(self) -> datetime:
        return now_from(self._clock)

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._use("reading the schema version") as db:
            return schema_version(db)

    # -- subjects and frames ---------------------------------------------------------------

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

    def _check_frame(self, frame: Any) -> bytes | None:
        if frame is None:
            return None
        if not isinstance(frame, bytes | bytearray | memoryview):
            raise ValueError(f"best_frame must be JPEG bytes, not {type(frame).__name__}")
        data = bytes(frame)
        if not data.startswith(_JPEG_MAGIC):
            raise ValueError("best_frame must be a JPEG (it must start with FF D8 FF)")
        if len(data) > self.config.max_frame_bytes:
            raise ValueError(f"best_frame is {len(data)} bytes; the limit is "
                             f"{self.config.max_frame_bytes}")
        if not self.config.store_best_frame:
            log.debug("best frame not stored: audit.store_best_frame is off")
            return None
        return data

    def _store_frame(self, db: Database, attempt_id: int, frame: bytes) -> str:
        if self._cipher is None:  # open() refuses store_best_frame without a cipher
            raise KeyUnavailable("no frame encryption key", reason=e.NO_KEY)
        nonce, ciphertext = self._cipher.encrypt(frame, _frame_aad(attempt_id))
        db["frames"].insert({"attempt_id": attempt_id, "key_id": self._cipher.key_id,
                             "nonce": nonce, "ciphertext": ciphertext})
        return frame_digest(self._cipher.key_id, nonce, ciphertext)

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
            found = db.execute("SELECT key_id, nonce, ciphertext FROM frames WHERE attempt_id = ?",
                               [int(attempt_id)]).fetchone()
        if found is None:
            return None
        if self._cipher is None:
            raise KeyUnavailable("the frame key is needed to read best frames", reason=e.NO_KEY)
        if found[0] != self._cipher.key_id:
            raise AuditError(f"the best frame of attempt {attempt_id} was encrypted with another "
                             f"key (id {found[0]}, this key is {self._cipher.key_id})")
        return self._cipher.decrypt(found[1], found[2], _frame_aad(int(attempt_id)))

    # -- writing attempts -----------------------------------------------------------------

    def _check_record(self, record: AttemptRecord) -> None:
        if not isinstance(record, AttemptRecord):
            raise ValueError(f"record must be an AttemptRecord, not {type(record).__name__}")
        if record.kiosk_id != self.config.kiosk_id:
            raise ValueError(f"record.kiosk_id {record.kiosk_id!r} is not this log's kiosk "
                             f"{self.config.kiosk_id!r}")

    def _insert_open(self, db: Database, started_at: str, subject_ref: str | None,
                     app_version: str, settings_digest: str) -> int:
        inserted = db["attempts"].insert({
            "status": "incomplete", "kiosk_id": self.config.kiosk_id, "started_at": started_at,
            "subject_ref": subject_ref, "app_version": app_version,
            "settings_digest": settings_digest})
        return int(inserted.last_rowid)

    def _complete(self, db: Database, attempt_id: int, record: AttemptRecord,
                  frame: bytes | None, now: datetime) -> RecordResult:
        columns = attempt_columns(record)
        columns["recorded_at"] = to_iso(now)
        columns["frame_sha256"] = (self._store_frame(db, attempt_id, frame)
                                   if frame is not None else None)
        seq, digest = complete_attempt(db, attempt_id, columns)
        lockouts: list[Lockout] = []
        if record.failed:
            lockouts = apply_limits(db, self.config.limits, kiosk_id=record.kiosk_id,
                                    subject_ref=record.subject_ref, attempt_id=attempt_id,
                                    now=now)
        for lockout in lockouts:
            log.warning("lockout %d: %s %s locked until %s after %d failures", lockout.id,
                        lockout.scope, lockout.target[:12], lockout.until.isoformat(),
                        lockout.failures)
        return RecordResult(attempt_id, seq, digest, tuple(lockouts))

    def _interrupt_open(self, db: Database, now: datetime) -> list[RecordResult]:
        rows = list(db.query("SELECT * FROM attempts WHERE status = 'incomplete' AND "
                             "kiosk_id = ? ORDER BY id", [self.config.kiosk_id]))
        results = []
        for row in rows:
            started = from_iso(row["started_at"])
            record = AttemptRecord(
                kiosk_id=row["kiosk_id"], started_at=started, ended_at=max(now, started),
                subject_ref=row["subject_ref"], decision="fail", reasons=(INTERRUPTED,),
                app_version=row["app_version"], settings_digest=row["settings_digest"])
            results.append(self._complete(db, row["id"], record, None, now))
            log.warning("attempt %d never finished (the kiosk stopped or restarted); recorded "
                        "as a failure with reason %s", row["id"], INTERRUPTED)
        return results

    def begin_attempt(self, *, started_at: datetime, subject_ref: str | None,
                      app_version: str, settings_digest: str) -> int:
        """Write an incomplete attempt row now; return its id for :meth:`finish_attempt`.

        Any attempt of this kiosk still open is first closed as interrupted (a failure).
        """
        started = to_iso(started_at, "started_at")
        check_subject_ref(subject_ref)
        check_label(app_version, "app_version")
        if not isinstance(settings_digest, str) or not HEX64_PATTERN.match(settings_digest):
            raise ValueError("settings_digest must be Settings.digest(): 64 hex digits")
        with self._use("starting an attempt") as db, write_transaction(db):
            self._interrupt_open(db, self._now())
            return self._insert_open(db, started, subject_ref, app_version, settings_digest)

    def finish_attempt(self, attempt_id: int, record: AttemptRecord,
                       best_frame: bytes | None = None) -> RecordResult:
        """Complete and chain an attempt begun with :meth:`begin_attempt`, in one transaction.

        Parameters
        ----------
        attempt_id : int
            From :meth:`begin_attempt`.
        record : AttemptRecord
            The finished attempt; its ``kiosk_id`` must be this log's.
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
            The attempt is already closed (finished, or closed as interrupted).
        AuditUnavailable
            The database cannot be written; nothing of the attempt was committed.
        """
        self._check_record(record)
        frame = self._check_frame(best_frame)
        with self._use("recording an attempt") as db, write_transaction(db):
            found = db.execute("SELECT status FROM attempts WHERE id = ?",
                               [int(attempt_id)]).fetchone()
            if found is None:
                raise RecordNotFound(f"there is no attempt {attempt_id} to finish")
            if found[0] != "incomplete":
                raise AuditError(f"attempt {attempt_id} is already closed (finished, or closed "
                                 "as interrupted when a later attempt began)")
            result = self._complete(db, int(attempt_id), record, frame, self._now())
        self._purge_due(raise_errors=False)
        return result

    def record_attempt(self, record: AttemptRecord,
                       best_frame: bytes | None = None) -> RecordResult:
        """Write a finished attempt in one transaction (see :meth:`finish_attempt`)."""
        self._check_record(record)
        frame = self._check_frame(best_frame)
        with self._use("recording an attempt") as db, write_transaction(db):
            now = self._now()
            self._interrupt_open(db, now)
            attempt_id = self._insert_open(db, to_iso(record.started_at), record.subject_ref,
                                           record.app_version, record.settings_digest)
            result = self._complete(db, attempt_id, record, frame, now)
        self._purge_due(raise_errors=False)
        return result

    def recover_interrupted(self) -> list[RecordResult]:
        """Close this kiosk's open attempts as failures (reason ``INTERRUPTED``).

        Call once when the kiosk starts, before the first lockout check: an attempt cut short
        by a crash or power loss then counts like any failure.
        """
        with self._use("recovering interrupted attempts") as db, write_transaction(db):
            return self._interrupt_open(db, self._now())

    # -- lockouts ------------------------------------------------------------------------

    def active_lockout(self, subject_ref: str | None = None) -> Lockout | None:
        """The lockout that blocks an attempt now: of this kiosk, or of ``subject_ref``.

        Returns the one that ends last, or None when the attempt may go ahead.
        """
        check_subject_ref(subject_ref)
        with self._use("checking lockouts") as db, read_snapshot(db):
            now = self._now()
            found = active_lockouts(db, "kiosk", self.config.kiosk_id, now)
            if subject_ref is not None:
                found += active_lockouts(db, "subject", subject_ref, now)
        return max(found, key=lambda lk: lk.until, default=None)

    def lockouts(self, *, active_only: bool = True, limit: int | None = 100) -> list[Lockout]:
        """Lockouts, newest first (only those in force when ``active_only``)."""
        with self._use("listing lockouts") as db:
            return all_lockouts(db, self._now(), active_only=active_only, limit=limit)

    def unlock(self, scope: str, target: str, *, actor: str, reason: str) -> UnlockResult:
        """Lift the lockouts of a subject or a kiosk early, recording who and why.

        The unlock is recorded even when nothing is locked, and restarts the target's failure
        count either way.

        Parameters
        ----------
        scope : str
            ``"subject"`` (``target`` is a subject reference: use :meth:`subject_ref`) or
            ``"kiosk"`` (``target`` is a kiosk id).
        actor : str
            Who unlocks (operator name), 1-100 printable characters.
        reason : str
            Why, 1-500 printable characters.
        """
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        if scope == "subject":
            if target is None:
                raise ValueError("a subject unlock needs a subject reference")
            check_subject_ref(target, "target")
        else:
            check_label(target, "target")
        check_label(actor, "actor", 100)
        check_label(reason, "reason", 500)
        with self._use("recording an unlock") as db, write_transaction(db):
            now = self._now()
            lifted = active_lockouts(db, scope, target, now)
            action_id, _, _ = append_row(db, "operator_actions", {
                "acted_at": to_iso(now), "action": "unlock", "actor": actor, "reason": reason,
                "scope": scope, "target": target,
                "details": canonical_json({"lifted": [lk.id for lk in lifted]})})
        log.info("unlock %d by %s: %s %s, %d lockout(s) lifted", action_id, actor, scope,
                 target[:12], len(lifted))
        return UnlockResult(action_id, tuple(replace(lk, lifted_by=action_id) for lk in lifted))

    # -- retention -----------------------------------------------------------------------

    def purge(self, older_than: timedelta, *, actor: str = "operator",
              reason: str = "manual purge") -> PurgeResult:
        """Remove attempts, lockouts and actions recorded more than ``older_than`` ago.

        The chain stays verifiable (see :mod:`kiosk.audit.retention`); failures inside the
        rate-limit window and lockouts in force are kept whatever ``older_than`` says.
        """
        with self._use("purging old rows") as db, write_transaction(db):
            result = purge_rows(db, now=self._now(), older_than=older_than,
                                keep_window=self.config.limits.window, actor=actor,
                                reason=reason)
        if result.action_id is not None:
            log.info("purged %d attempts, %d lockouts, %d operator actions before %s",
                     result.attempts, result.lockouts, result.operator_actions,
                     result.cutoff.isoformat())
        return result

    def purge_expired(self) -> PurgeResult | None:
        """Purge by ``config.retention_days``; None when retention is 0 (keep everything)."""
        days = self.config.retention_days
        if days == 0:
            return None
        return self.purge(timedelta(days=days), actor="retention",
                          reason=f"audit.retention_days = {days}")

    def _purge_due(self, *, raise_errors: bool) -> None:
        if not self._auto_purge:
            return
        now = self._now()
        if self._last_auto_purge is not None and now - self._last_auto_purge < \
                AUTO_PURGE_INTERVAL:
            return
        try:
            self.purge_expired()
        except AuditError as exc:
            if raise_errors:
                raise
            # The attempt itself is committed; the purge is retried after the next write.
            log.warning("automatic purge failed, will retry: %s", exc)
            return
        self._last_auto_purge = now

    # -- reading -------------------------------------------------------------------------

    def get_attempt(self, attempt_id: int) -> StoredAttempt:
        """One attempt; RecordNotFound when there is none (or it was purged)."""
        with self._use("reading an attempt") as db:
            return queries.get_attempt(db, attempt_id)

    def list_attempts(self, *, decision: str | None = None, since: datetime | None = None,
                      until: datetime | None = None, kiosk_id: str | None = None,
                      limit: int | None = 50) -> list[StoredAttempt]:
        """Attempts, newest first. ``decision`` is pass, fail, review or incomplete;
        ``since``/``until`` bound ``started_at`` (aware datetimes)."""
        with self._use("listing attempts") as db:
            return queries.list_attempts(db, decision=decision, since=since, until=until,
                                         kiosk_id=kiosk_id, limit=limit)

    def iter_attempts(self, *, decision: str | None = None, since: datetime | None = None,
                      until: datetime | None = None, batch: int = 500) -> Iterator[StoredAttempt]:
        """All matching attempts, oldest id first, read in batches (for exports)."""
        def fetch(after: int, size: int) -> list[StoredAttempt]:
            with self._use("exporting attempts") as db:
                return queries.attempts_page(db, after_id=after, batch=size, decision=decision,
                                             since=since, until=until)
        return queries.iter_pages(fetch, batch)

    def operator_actions(self, *, limit: int | None = 50) -> list[OperatorAction]:
        """Unlocks and purges, newest first."""
        with self._use("listing operator actions") as db:
            return queries.operator_actions(db, limit=limit)

    def stats(self, *, since: datetime | None = None,
              until: datetime | None = None) -> AuditStats:
        """Counts by decision, reason code and day."""
        with self._use("counting attempts") as db, read_snapshot(db):
            return queries.stats(db, since=since, until=until)

    def verify(self) -> VerifyReport:
        """Walk the hash chain (see :func:`kiosk.audit.chain.verify_chain`)."""
        with self._use("verifying the chain") as db, read_snapshot(db):
            return verify_chain(db)
