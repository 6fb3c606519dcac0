"""Exporting attempts as CSV or JSON Lines.

Both formats carry the chain columns (seq, row hash) so an exported row can be matched with
the log later. Neither can carry an ID number, a frame or an embedding: the log holds none
(only subject references and the flag ``has_frame``).

CSV cells that a spreadsheet would run as a formula (text starting with ``= + - @`` or a
control character) are prefixed with an apostrophe (the OWASP advice against CSV injection);
JSON Lines are exact.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from kiosk.audit.results import StoredAttempt

FORMATS: tuple[str, ...] = ("csv", "jsonl")

CSV_COLUMNS: tuple[str, ...] = (
    "id", "seq", "status", "kiosk_id", "started_at", "ended_at", "recorded_at", "subject_ref",
    "decision", "mode", "variant", "camera", "reasons", "liveness_score", "match_matcher",
    "match_similarity", "match_matched", "cloud_calls", "challenges", "signals", "app_version",
    "settings_digest", "has_frame", "row_hash",
)
"""CSV header. ``reasons`` and ``cloud_calls`` are joined with ``;``; ``challenges``,
``signals`` and ``camera`` are JSON; ``mode`` is empty, or ``scripted`` for an evaluation run;
``variant`` is empty for the standard check, or ``accessible`` for the check a person may
choose; ``camera`` is empty when the attempt does not say what its frames came from."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def attempt_dict(attempt: StoredAttempt) -> dict[str, Any]:
    """One attempt as plain JSON-ready values (datetimes as ISO 8601 UTC text)."""
    out: dict[str, Any] = {
        "id": attempt.id, "seq": attempt.seq, "status": attempt.status,
        "kiosk_id": attempt.kiosk_id, "started_at": attempt.started_at.isoformat(),
        "recorded_at": attempt.recorded_at.isoformat() if attempt.recorded_at else None,
        "subject_ref": attempt.subject_ref, "decision": attempt.decision,
        "mode": "scripted" if attempt.scripted else None,
        "variant": "accessible" if attempt.accessible else None,
        "camera": None if attempt.camera is None else dict(attempt.camera),
        "has_frame": attempt.has_frame, "row_hash": attempt.row_hash,
    }
    record = attempt.record
    if record is None:
        return out
    challenges = []
    for challenge in record.challenges:
        item = dict(challenge)
        item["prompted_at"] = challenge["prompted_at"].isoformat()
        if challenge["responded_at"] is not None:
            item["responded_at"] = challenge["responded_at"].isoformat()
        challenges.append(item)
    out.update(
        ended_at=record.ended_at.isoformat(), reasons=list(record.reasons),
        liveness_score=record.liveness_score,
        match=None if record.match is None else {**record.match,
                                                 "reasons": list(record.match["reasons"])},
        cloud_calls=list(record.cloud_calls), challenges=challenges,
        signals=record.signals, app_version=record.app_version,
        settings_digest=record.settings_digest)
    return out


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_row(attempt: StoredAttempt) -> list[Any]:
    data = attempt_dict(attempt)
    match = data.get("match") or {}
    data.update(
        reasons=";".join(data.get("reasons", ())), cloud_calls=";".join(data.get("cloud_calls", ())),
        match_matcher=match.get("matcher"), match_similarity=match.get("similarity"),
        match_matched=match.get("matched"),
        challenges=json.dumps(data["challenges"], sort_keys=True) if "challenges" in data else "",
        signals=json.dumps(data["signals"], sort_keys=True) if "signals" in data else "",
        camera=None if data["camera"] is None else json.dumps(data["camera"], sort_keys=True))
    return [_safe_cell("" if data.get(c) is None else data[c]) for c in CSV_COLUMNS]


def write_export(attempts: Iterable[StoredAttempt], out: TextIO, fmt: str) -> int:
    """Write attempts to ``out`` in ``fmt`` (``csv`` or ``jsonl``); return how many.

    Raises
    ------
    ValueError
        Unknown format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for attempt in attempts:
            writer.writerow(_csv_row(attempt))
            count += 1
    else:
        for attempt in attempts:
            out.write(json.dumps(attempt_dict(attempt), sort_keys=True, ensure_ascii=False))
            out.write("\n")
            count += 1
    return count
