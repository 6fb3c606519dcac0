"""Audit log, rate limiting and retention, in SQLite through sqlite-utils.

The only package that touches SQLite. The kiosk opens its log with :func:`open_kiosk_log`;
tools and tests use :meth:`AuditLog.open`. The session opens an attempt with
:meth:`AuditLog.open_attempt` (which raises :class:`RateLimited` when the attempt may not run),
fills an :class:`AttemptRecord` and hands it to :meth:`AuditLog.finish_attempt`.

With ``fleet.url`` set, :func:`open_kiosk_log` attaches a link to the site's fleet server
(:mod:`kiosk.audit.fleet`, PostgreSQL): the lockout checks then count what the other kiosks
recorded, and :meth:`AuditLog.start_fleet` ships every chained row there in the background.
"""

from kiosk.audit.config import AuditConfig, resolve_db_path
from kiosk.audit.errors import (
    AuditError,
    AuditUnavailable,
    FleetSilent,
    KeyUnavailable,
    RateLimited,
    RecordNotFound,
)
from kiosk.audit.factory import key_store, open_kiosk_log
from kiosk.audit.keyfiles import create_key_file
from kiosk.audit.keys import (
    ChainKey,
    FrameCipher,
    SubjectHasher,
    normalize_subject_number,
    subject_ref,
)
from kiosk.audit.keystore import KeyStore
from kiosk.audit.log import AuditLog
from kiosk.audit.ratelimit import RateLimitPolicy
from kiosk.audit.reader import AuditReader
from kiosk.audit.records import DECISIONS, AttemptRecord
from kiosk.audit.results import (
    ACCESSIBLE_NOTE,
    SCRIPTED_NOTE,
    AuditStats,
    ChainBreak,
    ClockReport,
    Lockout,
    OperatorAction,
    PurgeResult,
    RecordResult,
    StoredAttempt,
    UnlockResult,
    VerifyReport,
    action_about,
    action_detail,
    camera_text,
    decision_label,
    step_note,
)

__all__ = [
    "ACCESSIBLE_NOTE", "DECISIONS", "SCRIPTED_NOTE", "AttemptRecord", "AuditConfig", "AuditError", "AuditLog",
    "AuditReader", "AuditStats", "AuditUnavailable", "ChainBreak", "ChainKey", "ClockReport",
    "FleetSilent", "FrameCipher", "KeyStore", "KeyUnavailable", "Lockout", "OperatorAction", "PurgeResult",
    "RateLimitPolicy", "RateLimited", "RecordNotFound", "RecordResult", "StoredAttempt", "SubjectHasher", "UnlockResult",
    "VerifyReport", "create_key_file", "key_store", "normalize_subject_number",
    "action_about", "action_detail", "camera_text", "decision_label", "open_kiosk_log", "resolve_db_path", "step_note", "subject_ref",
]
