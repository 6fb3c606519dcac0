"""Write the audit logs of an older kiosk that the migration tests upgrade.

Run with the code of commit 71530e3 (audit schema 2) on ``PYTHONPATH``, from an export of that
commit, never with the current code::

    git archive 71530e3 | tar -x -C /tmp/legacy
    PYTHONPATH=/tmp/legacy python tests/audit/data/make_legacy_logs.py tests/audit/data

It writes ``schema1/kiosk.db`` (schema 1: attempts, a lockout, an unlock, a purge) and
``schema2/kiosk.db`` (schema 2: failures, a lockout, an unlock, an override, a settings change,
a refused PIN, a stored best frame), each with the subject key file ``kiosk-audit.key`` that
kiosk kept beside the database, on a fixed clock from 2026-05-01 12:00 UTC.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from keyring.backends import fail

import kiosk.audit.database as audit_database
from kiosk.audit import AttemptRecord, AuditConfig, AuditLog, FrameCipher, RateLimitPolicy
from kiosk.audit.keys import KeyStore
from kiosk.audit.schema import MIGRATIONS

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0" + b"legacy-frame" * 40


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def record(clock: Clock, decision: str, ref: str | None, reasons: list[str]) -> AttemptRecord:
    return AttemptRecord(kiosk_id="kiosk-1", started_at=clock.now - timedelta(seconds=9),
                         ended_at=clock.now, subject_ref=ref, decision=decision,
                         app_version="0.0.9", settings_digest="ab" * 32, reasons=reasons,
                         challenges=[{"action": "blink", "prompted_at": clock.now,
                                      "outcome": "passed"}])


def schema1(folder: Path) -> None:
    folder.mkdir(parents=True)
    audit_database.MIGRATIONS = MIGRATIONS[:1]
    audit_database.SCHEMA_VERSION = 1
    clock = Clock()
    keys = KeyStore(fallback_dir=folder, keyring_backend=fail.Keyring())
    config = AuditConfig(limits=RateLimitPolicy(max_failures=3, kiosk_max_failures=100))
    with AuditLog.open(folder / "kiosk.db", config, clock=clock,
                       subject_hasher=keys.subject_hasher()) as audit:
        ref = audit.subject_ref("A1")
        for _ in range(3):
            audit.record_attempt(record(clock, "fail", ref, ["LIVENESS_FAILED"]))
        audit.unlock("subject", ref, actor="alice", reason="checked")
        clock.now += timedelta(days=2)
        audit.record_attempt(record(clock, "fail", None, ["CHALLENGE_TIMEOUT"]))
        audit.purge(timedelta(days=1))
        audit.record_attempt(record(clock, "pass", ref, []))
    audit_database.MIGRATIONS = MIGRATIONS
    audit_database.SCHEMA_VERSION = len(MIGRATIONS)


def schema2(folder: Path) -> None:
    folder.mkdir(parents=True)
    clock = Clock()
    keys = KeyStore(fallback_dir=folder, keyring_backend=fail.Keyring())
    config = AuditConfig(limits=RateLimitPolicy(max_failures=3, kiosk_max_failures=100),
                         store_best_frame=True)
    with AuditLog.open(folder / "kiosk.db", config, clock=clock,
                       subject_hasher=keys.subject_hasher(),
                       frame_cipher=FrameCipher(bytes(range(32)))) as audit:
        ref = audit.subject_ref("B2")
        first = audit.record_attempt(record(clock, "fail", ref, ["WRONG_ACTION"]),
                                     best_frame=JPEG).attempt_id
        audit.record_attempt(record(clock, "fail", ref, ["CHALLENGE_TIMEOUT"]))
        audit.record_attempt(record(clock, "fail", ref, ["FACE_LOST"]))
        audit.record_attempt(record(clock, "review", None, ["MATCH_OFFLINE_REVIEW"]))
        audit.override(first, "review", actor="bob", reason="second look")
        audit.record_action("settings", actor="bob", reason="tuning",
                            details={"liveness.challenge_count": [3, 4]})
        audit.record_action("pin_refused", actor="operator panel", reason="wrong operator PIN",
                            details={"in_a_row": 1, "refused": False})
        audit.unlock("subject", ref, actor="carol", reason="passport checked")
        audit.record_attempt(record(clock, "pass", ref, []))


if __name__ == "__main__":
    out = Path(sys.argv[1])
    schema1(out / "schema1")
    schema2(out / "schema2")
