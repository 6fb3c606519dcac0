"""Audit log, rate limiting and retention, in SQLite through sqlite-utils.

The only package that touches SQLite. The kiosk opens its log with :func:`open_kiosk_log`;
tools and tests use :meth:`AuditLog.open`. The session fills an :class:`AttemptRecord` and
hands it to :meth:`AuditLog.record_attempt` (or ``begin_attempt``/``finish_attempt``).
"""

from kiosk.audit.config import AuditConfig, resolve_db_path
from kiosk.audit.errors import AuditError, AuditUnavailable, KeyUnavailable, RecordNotFound
from kiosk.audit.factory import key_store, open_kiosk_log
from kiosk.audit.keys import (
    FrameCipher,
    KeyStore,
    SubjectHasher,
    create_key_file,
    normalize_subject_number,
    subject_ref,
)
from kiosk.audit.log import AuditLog
from kiosk.audit.ratelimit import RateLimitPolicy
from kiosk.audit.reader import AuditReader
from kiosk.audit.records import DECISIONS, AttemptRecord
from kiosk.audit.results import (
    AuditStats,
    ChainBreak,
    Lockout,
    OperatorAction,
    PurgeResult,
    RecordResult,
    StoredAttempt,
    UnlockResult,
    VerifyReport,
)

__all__ = [
    "DECISIONS", "AttemptRecord", "AuditConfig", "AuditError", "AuditLog",
    "AuditReader", "AuditStats", "AuditUnavailable", "ChainBreak", "FrameCipher", "KeyStore",
    "KeyUnavailable", "Lockout", "OperatorAction", "PurgeResult", "RateLimitPolicy",
    "RecordNotFound", "RecordResult", "StoredAttempt", "SubjectHasher", "UnlockResult",
    "VerifyReport", "create_key_file", "key_store", "normalize_subject_number",
    "open_kiosk_log", "resolve_db_path", "subject_ref",
]
