"""The writing half shared by every write of :class:`~kiosk.audit.log.AuditLog`: one
transaction helper (clock watch, head check, chain signer) and the operator's writes
(unlocks, overrides, recorded events, purges).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit.actions import insert_event, insert_override
from kiosk.audit.canonical import canonical_json
from kiosk.audit.chain import append_row, row_hash_at
from kiosk.audit.clock import (
    FAR,
    TOLERANCE,
    clock_events,
    clock_last,
    remember_write_time,
    retention_gaps,
    shift_after,
)
from kiosk.audit.database import write_transaction
from kiosk.audit.errors import AuditUnavailable
from kiosk.audit.outbox import read_state
from kiosk.audit.ratelimit import SCOPES, active_lockouts, all_lockouts
from kiosk.audit.reader import AuditReader
from kiosk.audit.records import check_label, check_subject_ref
from kiosk.audit.results import ClockReport, OperatorAction, PurgeResult, UnlockResult
from kiosk.audit.retention import purge as purge_rows
from kiosk.audit.retention import purge_target
from kiosk.audit.signer import ChainSigner, chain_state
from kiosk.audit.timeutil import from_iso, to_iso

log = logging.getLogger(__name__)

AUTO_PURGE_INTERVAL = timedelta(hours=6)
AUTO_PURGE_RETRY = timedelta(minutes=5)
"""After a failed automatic purge (a log locked by another program), the next try."""
PURGE_STEP = 50
"""Chain positions removed in a purge's first step, and in every step on a full disk."""
PURGE_STEP_MAX = 5000
PURGE_STEP_S = 0.5
"""How long one step of a purge holds the write lock, about: a tenth of the default
``busy_timeout_s``, so a kiosk recording a check beside a purge waits at most that."""
PURGE_PAUSE_S = 0.15
"""The pause between two steps: longer than SQLite's longest busy-handler sleep (100 ms), so
a writer waiting for the lock takes it before the next step does."""

KIOSK_ACTOR = "kiosk"


class AuditWriter(AuditReader):
    """Writes shared by the kiosk and the tools; see :class:`~kiosk.audit.log.AuditLog`."""

    _auto_purge: bool = False
    _last_auto_purge: datetime | None = None
    _reserve: Path | None = None
    _reserve_bytes: int = 0
    _max_pages: int | None = None

    # -- one write transaction --------------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self, doing: str) -> Iterator[tuple[Database, ChainSigner, datetime]]:
        """``BEGIN IMMEDIATE`` with the clock read, jumps recorded, the head checked (and the
        file the path names still the one open)."""
        with self._use(doing) as db, write_transaction(db):
            self.check_same_file()
            now = self._now()
            signer = self._signer(db)
            self._check_head(db, signer)
            jumps = list(self._watch.pending)
            for expected, wall, gap in jumps:
                self._record_clock(db, signer, "jump", expected, wall, gap)
            yield db, signer, now
            remember_write_time(db, now)
        del self._watch.pending[:len(jumps)]
        if self.fleet is not None:
            self.fleet.written()

    def _check_head(self, db: Database, signer: ChainSigner) -> None:
        """Warn (once per problem) when about to append to a chain whose head is broken."""
        state = chain_state(db)
        problem = None
        if signer.keyed and signer.key is not None and not signer.head_ok(state):
            problem = "the head record's MAC does not match"
        elif state["head_seq"] > state["anchor_seq"]:
            try:
                if row_hash_at(db, state["head_seq"]) != state["head_hash"]:
                    problem = "the newest row does not match the recorded head"
            except Exception:  # the row is gone  # noqa: BLE001
                problem = f"the newest row (seq {state['head_seq']}) is missing"
        if problem is not None and problem != self.chain_warning:
            self.chain_warning = problem
            log.error("appending to an audit chain that is already broken (%s); run `kiosk "
                      "audit verify` and keep the file as evidence", problem)

    def _record_clock(self, db: Database, signer: ChainSigner, kind: str, last: datetime,
                      now: datetime, gap: timedelta) -> ClockReport:
        details = {"kind": kind, "gap_s": round(gap.total_seconds(), 3),
                   "last_recorded": to_iso(last), "now": to_iso(now)}
        action_id, _, _ = append_row(db, signer, "operator_actions", {
            "acted_at": to_iso(max(now, last)), "action": "clock", "actor": KIOSK_ACTOR,
            "reason": "clock gap not trusted", "scope": None, "target": None,
            "details": canonical_json(details)})
        report = ClockReport(kind, last, now, gap.total_seconds(), action_id)
        self.clock_report = report
        log.warning("audit clock: %s; lockouts and the automatic purge do not count that gap",
                    report)
        return report

    def record_pending_jumps(self) -> None:
        """Record the clock jumps a read noticed and no write has recorded yet (before the
        log closes: a clock put right and then a shutdown would otherwise leave the times
        written before the fix unexplained until the next start, which can only guess)."""
        if self._watch.pending and not self.read_only:
            with self._writing("recording a clock change"):
                pass

    # -- clock at start ---------------------------------------------------------------------

    def check_start_clock(self) -> ClockReport | None:
        """Compare the clock at start with the time of the log's latest write; record a gap
        that is not trusted (see :mod:`kiosk.audit.clock`) and return it, or None."""
        with self._writing("checking the clock") as (db, signer, now):
            last = clock_last(db)
            if last is None:
                return None
            gap = now - last
            shortest = min((lk.until - lk.started_at for lk in
                            all_lockouts(db, last, active_only=True)), default=None)
            untrusted = (gap < -TOLERANCE or gap > FAR
                         or (shortest is not None and gap > max(TOLERANCE, shortest)))
            if not untrusted:
                return None
            return self._record_clock(db, signer, "start", last, now, gap)

    # -- lockouts ---------------------------------------------------------------------------

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
        with self._writing("recording an unlock") as (db, signer, now):
            lifted = active_lockouts(db, scope, target, now)
            action_id, _, _ = append_row(db, signer, "operator_actions", {
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
        with self._writing("recording an override") as (db, signer, now):
            action = insert_override(db, signer, int(attempt_id), decision, actor=actor,
                                     reason=reason, now=now)
        log.info("override %d by %s: attempt %d %s -> %s", action.id, actor, int(attempt_id),
                 action.details["from"], decision)
        return action

    def record_action(self, action: str, *, actor: str, reason: str,
                      details: Mapping[str, Any] | None = None) -> OperatorAction:
        """Record a ``"settings"`` change, a ``"pin_refused"`` or ``"pin_accepted"`` event, a
        ``"log_replaced"`` statement or a ``"camera_refused"`` event as an operator action.

        ``details`` is flat: code keys, values scalars or lists of up to 8 scalars (e.g.
        ``{"liveness.challenge_count": [3, 4]}``). Never pass a PIN or a secret.
        """
        with self._writing("recording an operator action") as (db, signer, now):
            recorded = insert_event(db, signer, action, actor=actor, reason=reason,
                                    details=details, now=now)
        log.info("operator action %d (%s) by %s", recorded.id, action, actor)
        return recorded

    def record_camera_refused(self, camera: Mapping[str, Any]) -> OperatorAction:
        """Record, as the kiosk itself, that it refused ``camera`` as virtual: an injected
        stream tried at the kiosk (``camera`` as an attempt's row describes a live one, see
        :func:`kiosk.session.camera.camera_record`)."""
        return self.record_action("camera_refused", actor=KIOSK_ACTOR,
                                  reason="virtual camera refused", details=camera)

    # -- retention --------------------------------------------------------------------------

    def purge(self, older_than: timedelta, *, actor: str = "operator",
              reason: str = "manual purge") -> PurgeResult:
        """Remove attempts, lockouts and actions recorded more than ``older_than`` ago.

        The chain stays verifiable (see :mod:`kiosk.audit.retention`); failures inside the
        rate-limit window and lockouts in force are kept whatever ``older_than`` says. On a
        full disk (or a database at its size cap) the purge frees the kiosk's reserve file
        and removes the rows in steps, each its own transaction followed by a checkpoint, so
        it needs almost no free space.
        """
        return self._purge(older_than, actor=actor, reason=reason, discounted=False)

    def purge_expired(self) -> PurgeResult | None:
        """Purge by ``config.retention_days``, not counting the clock gaps recorded since
        (see :mod:`kiosk.audit.clock`); None when retention is 0 (keep everything)."""
        days = self.config.retention_days
        if days == 0:
            return None
        return self._purge(timedelta(days=days), actor="retention",
                           reason=f"audit.retention_days = {days}", discounted=True)

    def _purge(self, older_than: timedelta, *, actor: str, reason: str,
               discounted: bool) -> PurgeResult:
        check_label(actor, "actor", 100)
        check_label(reason, "reason", 500)
        try:
            result = self._purge_in_steps(older_than, actor=actor, reason=reason,
                                          discounted=discounted, full_disk=False)
        except AuditUnavailable as exc:
            if exc.reason != e.FULL:
                raise
            log.warning("the disk is full: purging in steps after freeing the reserve file")
            result = self._purge_in_steps(older_than, actor=actor, reason=reason,
                                          discounted=discounted, full_disk=True)
        if result.action_id is not None:
            log.info("purged %d attempts, %d lockouts, %d operator actions before %s",
                     result.attempts, result.lockouts, result.operator_actions,
                     result.cutoff.isoformat())
        return result

    def _unshipped_floor(self, db: Database) -> int | None:
        """With a fleet, the last chain position the server acknowledged: a purge never
        removes a row the server does not hold yet (0 when it acknowledged nothing).

        A process without the fleet link (a staff command) reads the acknowledgement the
        kiosk's sender recorded in the log, when the settings name a fleet server.
        """
        if self.fleet is not None:
            shipped = self.fleet.shipped_seq()
        elif self.config.ships_to_fleet:
            state = read_state(db.conn)
            shipped = None if state is None else state.server_seq
        else:
            return None
        return 0 if shipped is None else shipped

    def _purge_in_steps(self, older_than: timedelta, *, actor: str, reason: str,
                        discounted: bool, full_disk: bool) -> PurgeResult:
        """Remove the rows in steps, each its own transaction (and its own purge record, so
        a purge cut short says how far it went), with a pause between them.

        One transaction for the whole purge held the write lock for as long as it ran (12-16
        s for 10,000 best frames, each page overwritten by ``secure_delete``): a kiosk
        finishing a check meanwhile waited ``busy_timeout_s``, lost the person's decision and
        went out of service. A step now lasts about :data:`PURGE_STEP_S`; on a full disk
        (``full_disk``) steps stay at :data:`PURGE_STEP` rows after freeing the reserve
        file, each followed by a checkpoint, so the purge needs almost no free space.
        """
        if full_disk:
            self.release_reserve()
        with self._use("purging old rows") as db:
            if full_disk:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the failed try's WAL frames
                db.execute("PRAGMA max_page_count = 4294967294")
            gaps = retention_gaps(clock_events(db)) if discounted else ()
            _, _, last = purge_target(db, now=self._now(), older_than=older_than,
                                      keep_window=self.config.limits.window, gaps=gaps)
            shipped = self._unshipped_floor(db)
            last = last if shipped is None else min(last, shipped)
            position = chain_state(db)["anchor_seq"]
        totals = dict.fromkeys(("attempts", "lockouts", "operator_actions", "frames",
                                "incomplete"), 0)
        result, held, size, recorded = None, 0, PURGE_STEP, 0
        try:
            while True:
                upto = last if position >= last else min(position + size, last)
                started = time.monotonic()
                with self._writing("purging old rows") as (db, signer, now):
                    step = purge_rows(db, signer, now=now, older_than=older_than,
                                      keep_window=self.config.limits.window, actor=actor,
                                      reason=reason, gaps=gaps, upto=upto)
                took = time.monotonic() - started
                if full_disk:
                    with self._use("checkpointing") as db:
                        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                result = step if step.action_id is not None or result is None else result
                recorded += step.action_id is not None
                held = step.held
                for name in totals:
                    totals[name] += getattr(step, name)
                if upto >= last:
                    break
                position = upto
                if not full_disk:  # as many rows as fit in PURGE_STEP_S at this pace
                    size = max(PURGE_STEP, min(PURGE_STEP_MAX,
                                               int(size * PURGE_STEP_S / max(took, 1e-3))))
                time.sleep(PURGE_PAUSE_S)  # a writer waiting for the lock takes it now
        finally:
            if full_disk:
                with self._use("restoring the size cap") as db:
                    if self._max_pages is not None:
                        db.execute(f"PRAGMA max_page_count = {self._max_pages}")
                self.make_reserve()
        assert result is not None
        return replace(result, attempts=totals["attempts"], lockouts=totals["lockouts"],
                       operator_actions=totals["operator_actions"], frames=totals["frames"],
                       incomplete=totals["incomplete"], held=held, steps=max(1, recorded))

    def purge_if_due(self) -> None:
        """The automatic purge, when :data:`AUTO_PURGE_INTERVAL` has passed since the last:
        the kiosk's loop asks while idle, so a kiosk nobody uses for days still removes
        what ``audit.retention_days`` says it keeps no longer (before, only a write or a
        start purged). A failure is logged and retried at the next call."""
        self._purge_due(raise_errors=False)

    def defer_purge(self) -> None:
        """Hold the automatic purge for :data:`AUTO_PURGE_INTERVAL`: a start whose clock was
        just reported, which staff or NTP may yet put right."""
        self._last_auto_purge = self._now()

    def _purge_due(self, *, raise_errors: bool) -> None:
        if not self._auto_purge:
            return
        now = self._now()
        if self._last_auto_purge is not None and now - self._last_auto_purge < \
                AUTO_PURGE_INTERVAL:
            return
        try:
            self.purge_expired()
        except AuditUnavailable as exc:
            if raise_errors:
                raise
            # Tried again AUTO_PURGE_RETRY later: the idle loop asks every 0.1 s, and each try
            # waits busy_timeout_s on a locked log (20 warnings in 2 s, the loop stalled).
            log.warning("automatic purge failed, will retry in %d min: %s",
                        AUTO_PURGE_RETRY.total_seconds() // 60, exc)
            self._last_auto_purge = now - AUTO_PURGE_INTERVAL + AUTO_PURGE_RETRY
            return
        self._last_auto_purge = now

    # -- the reserve file -------------------------------------------------------------------

    def make_reserve(self) -> None:
        """Keep ``config.reserve_bytes`` of disk beside the database for a purge on a full
        disk (``<database>-reserve``); best effort, silent when the space is not there."""
        if self._reserve is None or self._reserve_bytes <= 0:
            return
        try:
            if self._reserve.exists() and self._reserve.stat().st_size >= self._reserve_bytes:
                return
            fd = os.open(self._reserve, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, self._reserve_bytes)
            finally:
                os.close(fd)
        except OSError as exc:
            log.warning("cannot keep the %d-byte reserve beside the audit database: %s",
                        self._reserve_bytes, exc.strerror or exc)
            with contextlib.suppress(OSError):
                self._reserve.unlink()

    def release_reserve(self) -> None:
        """Delete the reserve file (its space is then free for the purge)."""
        if self._reserve is not None:
            with contextlib.suppress(FileNotFoundError):
                self._reserve.unlink()

    # -- the operator PIN's wrong entries ---------------------------------------------------

    def pin_state(self) -> tuple[int, datetime | None, int | None]:
        """``(wrong PINs since the last right one, end of the last refusal, seq of the last
        right PIN)`` from the log (:class:`kiosk.operator.pin.PinState`), so a restart of the
        kiosk clears neither the count nor the longer refusals it has earned (a log whose
        count restarted after each refusal, as before they grew, reads the same way), and a
        running kiosk sees staff end the refusals (a ``pin_accepted`` action with a newer
        seq). The end is the record's time plus its own ``refusal_s``, read on the clock as
        it is now: moved by the clock changes recorded (or noticed) since the refusal."""
        self._now()  # notices a jump since the last read
        with self._use("reading the operator PIN state") as db:
            found = db.execute("SELECT action, acted_at, details, seq FROM operator_actions "
                               "WHERE action IN ('pin_refused', 'pin_accepted') ORDER BY seq "
                               "DESC LIMIT 1").fetchone()
            last_right = db.execute("SELECT MAX(seq) FROM operator_actions "
                                    "WHERE action = 'pin_accepted'").fetchone()[0]
            events = clock_events(db) if found is not None else []
        if found is None or found[0] == "pin_accepted":
            return 0, None, last_right
        import json

        details = json.loads(found[2])
        refused_until = None
        if details.get("refused") and details.get("refusal_s"):
            refusal = timedelta(seconds=float(details["refusal_s"]))
            refused_until = (from_iso(found[1]) + refusal + self._watch.pending_gap()
                             + shift_after(events, int(found[3]), refusal))
        return int(details.get("in_a_row", 0)), refused_until, last_right
