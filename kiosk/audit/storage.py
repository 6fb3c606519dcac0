"""Conversion between the audit types and stored rows (text, numbers and canonical JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kiosk.audit.canonical import canonical_json
from kiosk.audit.records import AttemptRecord
from kiosk.audit.results import Lockout, OperatorAction, StoredAttempt
from kiosk.audit.timeutil import from_iso, to_iso


def _challenge_json(challenge: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(challenge)
    out["prompted_at"] = to_iso(challenge["prompted_at"])
    if challenge["responded_at"] is not None:
        out["responded_at"] = to_iso(challenge["responded_at"])
    return out


def attempt_columns(record: AttemptRecord) -> dict[str, Any]:
    """The stored columns of a finished attempt (chain columns and ids excluded)."""
    match = None
    if record.match is not None:
        match = canonical_json({**record.match, "reasons": list(record.match["reasons"])})
    return {
        "kiosk_id": record.kiosk_id,
        "started_at": to_iso(record.started_at),
        "ended_at": to_iso(record.ended_at),
        "subject_ref": record.subject_ref,
        "decision": record.decision,
        "liveness_score": record.liveness_score,
        "reasons": canonical_json(list(record.reasons)),
        "challenges": canonical_json([_challenge_json(c) for c in record.challenges]),
        "signals": canonical_json(record.signals),
        "match": match,
        "cloud_calls": canonical_json(list(record.cloud_calls)),
        "app_version": record.app_version,
        "settings_digest": record.settings_digest,
        "mode": attempt_mode(record.scripted),
        "variant": attempt_variant(record.accessible),
        "camera": attempt_camera(record.camera),
    }


def attempt_mode(scripted: bool) -> str | None:
    """The stored ``attempts.mode`` (schema 5): NULL for a session the kiosk ran itself."""
    return "scripted" if scripted else None


def attempt_variant(accessible: bool) -> str | None:
    """The stored ``attempts.variant`` (schema 7): NULL for the standard check."""
    return "accessible" if accessible else None


def attempt_camera(camera: Mapping[str, Any] | None) -> str | None:
    """The stored ``attempts.camera`` (schema 8): canonical JSON, NULL when not known."""
    return None if camera is None else canonical_json(dict(camera))


def camera_from_row(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The camera an ``attempts`` row records (None before schema 8 and when not known)."""
    text = row.get("camera")
    return None if text is None else json.loads(text)


def record_from_row(row: Mapping[str, Any]) -> AttemptRecord:
    """Rebuild the :class:`AttemptRecord` of a complete attempt row."""
    challenges = []
    for item in json.loads(row["challenges"]):
        item["prompted_at"] = from_iso(item["prompted_at"])
        if item.get("responded_at") is not None:
            item["responded_at"] = from_iso(item["responded_at"])
        challenges.append(item)
    return AttemptRecord(
        kiosk_id=row["kiosk_id"],
        started_at=from_iso(row["started_at"]),
        ended_at=from_iso(row["ended_at"]),
        subject_ref=row["subject_ref"],
        decision=row["decision"],
        app_version=row["app_version"],
        settings_digest=row["settings_digest"],
        challenges=challenges,
        signals=json.loads(row["signals"]),
        liveness_score=row["liveness_score"],
        match=json.loads(row["match"]) if row["match"] is not None else None,
        reasons=json.loads(row["reasons"]),
        cloud_calls=json.loads(row["cloud_calls"]),
        scripted=row.get("mode") == "scripted",
        accessible=row.get("variant") == "accessible",
        camera=camera_from_row(row),
    )


def stored_attempt(row: Mapping[str, Any]) -> StoredAttempt:
    """A :class:`StoredAttempt` from an ``attempts`` row (plus a ``has_frame`` column)."""
    complete = row["status"] == "complete"
    return StoredAttempt(
        id=row["id"],
        status=row["status"],
        kiosk_id=row["kiosk_id"],
        started_at=from_iso(row["started_at"]),
        subject_ref=row["subject_ref"],
        seq=row["seq"],
        recorded_at=from_iso(row["recorded_at"]) if row["recorded_at"] else None,
        row_hash=row["row_hash"],
        has_frame=bool(row.get("has_frame")),
        record=record_from_row(row) if complete else None,
        scripted=row.get("mode") == "scripted",
        accessible=row.get("variant") == "accessible",
        camera=camera_from_row(row),
    )


def lockout_from_row(row: Mapping[str, Any]) -> Lockout:
    """A :class:`Lockout` from a ``lockouts`` row (plus an optional ``lifted_by`` column)."""
    return Lockout(
        id=row["id"], seq=row["seq"], scope=row["scope"], target=row["target"],
        kiosk_id=row["kiosk_id"], started_at=from_iso(row["started_at"]),
        until=from_iso(row["until"]), failures=row["failures"], attempt_id=row["attempt_id"],
        lifted_by=row.get("lifted_by"),
    )


def action_from_row(row: Mapping[str, Any]) -> OperatorAction:
    """An :class:`OperatorAction` from an ``operator_actions`` row."""
    return OperatorAction(
        id=row["id"], seq=row["seq"], acted_at=from_iso(row["acted_at"]), action=row["action"],
        actor=row["actor"], reason=row["reason"], scope=row["scope"], target=row["target"],
        details=json.loads(row["details"]),
    )
