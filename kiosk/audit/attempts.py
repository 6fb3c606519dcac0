"""Writing attempts inside a transaction: open rows, completion, interruption, frames.

Every function here runs inside the caller's write transaction (see
:class:`kiosk.audit.log.AuditLog`), so an attempt, its frame and the lockouts it starts are
committed together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from kiosk.audit import errors as e
from kiosk.audit.chain import complete_attempt, frame_digest
from kiosk.audit.errors import AuditError, KeyUnavailable
from kiosk.audit.keys import FrameCipher
from kiosk.audit.owner import Owner, owner_gone
from kiosk.audit.ratelimit import RateLimitPolicy, apply_limits
from kiosk.audit.records import AttemptRecord
from kiosk.audit.remote import RemoteView
from kiosk.audit.results import Lockout, RecordResult
from kiosk.audit.signer import ChainSigner
from kiosk.audit.storage import (
    attempt_camera,
    attempt_columns,
    attempt_mode,
    attempt_variant,
    camera_from_row,
)
from kiosk.audit.timeutil import from_iso, to_iso
from kiosk.reasons import Reason, suggests_attack
from kiosk.vocabulary import Verdict

log = logging.getLogger(__name__)

JPEG_MAGIC = b"\xff\xd8\xff"


def frame_aad(attempt_id: int) -> bytes:
    """AES-GCM associated data: a frame decrypts only as the frame of its own attempt."""
    return f"liveness-kiosk audit frame v1|attempt={attempt_id}".encode()


def check_frame(frame: object, *, store: bool, max_bytes: int) -> bytes | None:
    """Validate best-frame bytes; return them if they are to be stored, else None.

    Raises
    ------
    ValueError
        Not bytes, not a JPEG, or larger than ``max_bytes`` (checked even when not storing,
        so a caller bug shows up with the default settings too).
    """
    if frame is None:
        return None
    if not isinstance(frame, bytes | bytearray | memoryview):
        raise ValueError(f"best_frame must be JPEG bytes, not {type(frame).__name__}")
    data = bytes(frame)
    if not data.startswith(JPEG_MAGIC):
        raise ValueError("best_frame must be a JPEG (it must start with FF D8 FF)")
    if len(data) > max_bytes:
        raise ValueError(f"best_frame is {len(data)} bytes; the limit is {max_bytes}")
    if not store:
        log.debug("best frame not stored: audit.store_best_frame is off")
        return None
    return data


def store_frame(db: Database, cipher: FrameCipher | None, attempt_id: int, frame: bytes) -> str:
    """Encrypt and insert a frame; return the digest recorded in the attempt's content."""
    if cipher is None:
        raise KeyUnavailable("no frame encryption key", reason=e.NO_KEY)
    nonce, ciphertext = cipher.encrypt(frame, frame_aad(attempt_id))
    db.table("frames").insert({"attempt_id": attempt_id, "key_id": cipher.key_id, "nonce": nonce,
                               "ciphertext": ciphertext})
    return frame_digest(cipher.key_id, nonce, ciphertext)


def read_frame(db: Database, cipher: FrameCipher | None, attempt_id: int) -> bytes | None:
    """The decrypted frame of an attempt, None when it has none."""
    found = db.execute("SELECT key_id, nonce, ciphertext FROM frames WHERE attempt_id = ?",
                       [attempt_id]).fetchone()
    if found is None:
        return None
    if cipher is None:
        raise KeyUnavailable("the frame key is needed to read best frames", reason=e.NO_KEY)
    if found[0] != cipher.key_id:
        raise AuditError(f"the best frame of attempt {attempt_id} was encrypted with another "
                         f"key (id {found[0]}, this key is {cipher.key_id})")
    return cipher.decrypt(found[1], found[2], frame_aad(attempt_id))


def insert_open(db: Database, signer: ChainSigner, owner: Owner, *, kiosk_id: str,
                started_at: str, subject_ref: str | None, app_version: str,
                settings_digest: str, scripted: bool = False, accessible: bool = False,
                camera: Mapping[str, Any] | None = None) -> int:
    """Insert an incomplete (unchained) attempt row with its owner and MAC; return its id.
    ``camera`` is already checked (:func:`kiosk.audit.records.check_camera`)."""
    row: dict[str, Any] = {
        "status": "incomplete", "kiosk_id": kiosk_id, "started_at": started_at,
        "subject_ref": subject_ref, "app_version": app_version,
        "settings_digest": settings_digest, "mode": attempt_mode(scripted),
        "variant": attempt_variant(accessible), "camera": attempt_camera(camera),
        **owner.columns()}
    inserted = db.table("attempts").insert(row)
    assert inserted.last_rowid is not None  # an INSERT always sets it
    attempt_id = int(inserted.last_rowid)
    mac = signer.open_mac({**row, "id": attempt_id})
    if mac is not None:
        db.execute("UPDATE attempts SET open_mac = ? WHERE id = ?", [mac, attempt_id])
    return attempt_id


def complete(db: Database, signer: ChainSigner, attempt_id: int, record: AttemptRecord, *,
             frame: bytes | None, cipher: FrameCipher | None, limits: RateLimitPolicy,
             now: datetime, remote: RemoteView | None = None) -> RecordResult:
    """Chain an open attempt with its record (and frame), then apply the rate limits (with
    what the other kiosks of a fleet recorded, when ``remote`` is given); a scripted
    evaluation run's failure starts no lockout."""
    columns = attempt_columns(record)
    columns["recorded_at"] = to_iso(now)
    columns["frame_sha256"] = (store_frame(db, cipher, attempt_id, frame)
                               if frame is not None else None)
    attack = record.failed and suggests_attack(record.reasons)
    columns["attack"] = int(attack)
    seq, digest = complete_attempt(db, signer, attempt_id, columns)
    lockouts: list[Lockout] = []
    if record.failed and not record.scripted:
        lockouts = apply_limits(db, signer, limits, kiosk_id=record.kiosk_id,
                                subject_ref=record.subject_ref, attempt_id=attempt_id, now=now,
                                attack=attack, remote=remote)
    return RecordResult(attempt_id, seq, digest, tuple(lockouts))


def log_recorded(results: Iterable[RecordResult], *, interrupted: str | None = None) -> None:
    """Log what a committed write recorded: the lockouts it started and, with
    ``interrupted`` (why), the attempts it closed as ``INTERRUPTED``. Called after the commit,
    so a write rolled back (a full disk, a lock) logs nothing it did not do."""
    for result in results:
        if interrupted is not None:
            log.warning("attempt %d never finished (%s); recorded as a failure with reason %s",
                        result.attempt_id, interrupted, Reason.INTERRUPTED)
        for lockout in result.lockouts:
            log.warning("lockout %d: %s %s locked until %s after %d failures", lockout.id,
                        lockout.scope, lockout.target[:12], lockout.until.isoformat(),
                        lockout.failures)


#: The open rows, in no order: with "ORDER BY id" SQLite scanned the whole table in rowid
#: order instead of using a partial index of the open rows (21 ms at 100,000 attempts against
#: 0.05 ms, in every session's write transaction); callers sort the few rows themselves.
OPEN_ROWS_SQL = "SELECT * FROM attempts WHERE status = 'incomplete'"


def open_rows(db: Database, signer: ChainSigner, here: Owner, now: datetime,
              stale_after: timedelta) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                list[dict[str, Any]]]:
    """Open attempt rows split into ``(live, stale, forged)``.

    Stale: the owner process is gone (see :mod:`kiosk.audit.owner`) or the row is older than
    ``stale_after``. Forged: the log is keyed and the row lacks a valid MAC; it is never
    closed as anyone's failure nor counted as a try in flight (verify reports it).
    """
    live, stale, forged = [], [], []
    for row in sorted(db.query(OPEN_ROWS_SQL), key=lambda r: r["id"]):
        if not signer.open_ok(row):
            forged.append(row)
        elif owner_gone(row["owner_host"], row["owner_boot"], row["owner_pid"],
                        row["owner_start"], here) or \
                now - from_iso(row["started_at"]) > stale_after:
            stale.append(row)
        else:
            live.append(row)
    return live, stale, forged


def interrupt(db: Database, signer: ChainSigner, rows: list[dict[str, Any]], *,
              limits: RateLimitPolicy, now: datetime) -> list[RecordResult]:
    """Close open attempt rows as failures with reason ``INTERRUPTED`` (counted toward the
    subject's lockout; not toward the kiosk's, as a crash is no sign of an attack)."""
    results = []
    for row in rows:
        started = from_iso(row["started_at"])
        record = AttemptRecord(
            kiosk_id=row["kiosk_id"], started_at=started, ended_at=max(now, started),
            subject_ref=row["subject_ref"], decision=Verdict.FAIL, reasons=(Reason.INTERRUPTED,),
            app_version=row["app_version"], settings_digest=row["settings_digest"],
            scripted=row.get("mode") == "scripted",
            accessible=row.get("variant") == "accessible", camera=camera_from_row(row))
        results.append(complete(db, signer, row["id"], record, frame=None, cipher=None,
                                limits=limits, now=now))
    return results
