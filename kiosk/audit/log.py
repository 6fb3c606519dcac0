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

import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit.actions import insert_event, insert_override
from kiosk.audit.attempts import (
    check_frame,
    complete,
    insert_open,
    interrupt_open,
)
from kiosk.audit.canonical import canonical_json
from kiosk.audit.chain import append_row
from kiosk.audit.config import AuditConfig
from kiosk.audit.database import (
    MEMORY,
    connect,
    guard,
    prepare,
    write_transaction,
)
from kiosk.audit.errors import AuditError, KeyUnavailable, RecordNotFound
from kiosk.audit.keys import FrameCipher, SubjectHasher
from kiosk.audit.ratelimit import SCOPES, active_lockouts
from kiosk.audit.reader import AuditReader
from kiosk.audit.records import HEX64_PATTERN, AttemptRecord, check_label, check_subject_ref
from kiosk.audit.results import (
    OperatorAction,
    PurgeResult,
    RecordResult,
    UnlockResult,
)
from kiosk.audit.retention import purge as purge_rows
from kiosk.audit.timeutil import Clock, now_from, to_iso, utc_now

log = logging.getLogger(__name__)

AUTO_PURGE_INTERVAL = timedelta(hours=6)


class AuditLog(AuditReader):
    """The audit database of one kiosk: reads (see :class:`AuditReader`) and writes.

    Build it with :meth:`open`.
    """

    def __init__(self, db: Database, *, path: str, config: AuditConfig, clock: Clock,
                 subject_hasher: SubjectHasher | None, frame_cipher: FrameCipher | None,
                 read_only: bool, auto_purge: bool) -> None:
        super().__init__(db, path=path, config=config, clock=clock,
                         subject_hasher=subject_hasher, frame_cipher=frame_cipher,
                         read_only=read_only)
        self._auto_purge = auto_purge
        self._last_auto_purge: datetime | None = None

    # -- opening ---------------------------------------------------------------------------

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
                prepare(db, where, read_only=read_only, integrity=check_integrity,
                        subject_key_id=subject_hasher.key_id if subject_hasher else None,
                        now=to_iso(now_from(clock)), max_db_bytes=config.max_db_bytes)
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

    def _check_frame(self, frame: Any) -> bytes | None:
        return check_frame(frame, store=self.config.store_best_frame,
                           max_bytes=self.config.max_frame_bytes)

    # -- writing attempts -----------------------------------------------------------------

    def _check_record(self, record: AttemptRecord) -> None:
        if not isinstance(record, AttemptRecord):
            raise ValueError(f"record must be an AttemptRecord, not {type(record).__name__}")
        if record.kiosk_id != self.config.kiosk_id:
            raise ValueError(f"record.kiosk_id {record.kiosk_id!r} is not this log's kiosk "
                             f"{self.config.kiosk_id!r}")

    def _insert_open(self, db: Database, started_at: str, subject_ref: str | None,
                     app_version: str, settings_digest: str) -> int:
        return insert_open(db, kiosk_id=self.config.kiosk_id, started_at=started_at,
                           subject_ref=subject_ref, app_version=app_version,
                           settings_digest=settings_digest)

    def _complete(self, db: Database, attempt_id: int, record: AttemptRecord,
                  frame: bytes | None, now: datetime) -> RecordResult:
        return complete(db, attempt_id, record, frame=frame, cipher=self._cipher,
                        limits=self.config.limits, now=now)

    def _interrupt_open(self, db: Database, now: datetime) -> list[RecordResult]:
        return interrupt_open(db, kiosk_id=self.config.kiosk_id, limits=self.config.limits,
                              now=now)

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

    def override(self, attempt_id: int, decision: str, *, actor: str,
                 reason: str) -> OperatorAction:
        """Record an operator's change of a finished attempt's decision, with who and why.

        The attempt row itself stays as recorded; the override is a chained operator action
        (``scope`` ``"attempt"``, ``target`` the attempt id, ``details`` ``{"from", "to"}``).
        It changes no failure count or lockout (use :meth:`unlock` for that).

        Raises
        ------
        RecordNotFound
            No such attempt.
        AuditError
            The attempt is not finished.
        ValueError
            ``decision`` is not pass, fail or review, is already the attempt's decision, or
            ``actor`` (1-100) / ``reason`` (1-500 printable characters) is bad.
        """
        with self._use("recording an override") as db, write_transaction(db):
            action = insert_override(db, int(attempt_id), decision, actor=actor, reason=reason,
                                     now=self._now())
        log.info("override %d by %s: attempt %d %s -> %s", action.id, actor, int(attempt_id),
                 action.details["from"], decision)
        return action

    def record_action(self, action: str, *, actor: str, reason: str,
                      details: Mapping[str, Any] | None = None) -> OperatorAction:
        """Record a ``"settings"`` change or a ``"pin_refused"`` event as an operator action.

        ``details`` is flat: code keys, values scalars or lists of up to 8 scalars (e.g.
        ``{"liveness.challenge_count": [3, 4]}``). Never pass a PIN or a secret.
        """
        with self._use("recording an operator action") as db, write_transaction(db):
            recorded = insert_event(db, action, actor=actor, reason=reason, details=details,
                                    now=self._now())
        log.info("operator action %d (%s) by %s", recorded.id, action, actor)
        return recorded

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
