"""Operator actions beyond unlocks and purges: decision overrides and recorded events.

Each is one chained ``operator_actions`` row (see :mod:`kiosk.audit.chain`), written inside the
caller's write transaction. An override never changes the attempt it is about (attempt rows
are append-only): it is a later, signed-off statement of who changed the decision to what and
why, read back with :meth:`~kiosk.audit.reader.AuditReader.operator_actions`. It does not
change failure counts or lockouts either; lifting a lockout is an unlock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from kiosk.audit.canonical import canonical_json
from kiosk.audit.chain import append_row
from kiosk.audit.errors import AuditError, RecordNotFound
from kiosk.audit.records import (
    DECISIONS,
    MAX_DETAILS,
    _scalar,
    check_camera,
    check_code,
    check_label,
)
from kiosk.audit.results import OperatorAction
from kiosk.audit.signer import ChainSigner
from kiosk.audit.storage import action_from_row
from kiosk.audit.timeutil import to_iso

EVENT_ACTIONS: tuple[str, ...] = ("settings", "pin_refused", "pin_accepted", "log_replaced",
                                  "camera_refused")
"""Actions recorded with :func:`insert_event`: a settings change made at the kiosk, a refused
or an accepted operator PIN (never the PIN itself), a new log begun in place of a lost one
(:mod:`kiosk.audit.register`; the first row of that new log), and a camera the kiosk refused
as virtual (details: what :func:`kiosk.session.camera.camera_record` says of it)."""

MAX_LIST = 8


def check_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Flat details: code keys, values scalars or short lists of scalars (no free structure).

    Raises
    ------
    ValueError
        A key is not a code, a value is an array, a mapping or a long list, or there are more
        than ``MAX_DETAILS`` entries.
    """
    if details is None:
        return {}
    if not isinstance(details, Mapping) or len(details) > MAX_DETAILS:
        raise ValueError(f"details must be a mapping of at most {MAX_DETAILS} entries")
    out: dict[str, Any] = {}
    for key, value in sorted(details.items()):
        name = f"details[{key!r}]"
        check_code(key, "details key")
        if isinstance(value, Sequence) and not isinstance(value, str):
            if len(value) > MAX_LIST:
                raise ValueError(f"{name} must list at most {MAX_LIST} values")
            out[key] = [_scalar(v, f"{name}[{i}]") for i, v in enumerate(value)]
        else:
            out[key] = _scalar(value, name)
    return out


def _append(db: Database, signer: ChainSigner, columns: dict[str, Any]) -> OperatorAction:
    action_id, seq, _ = append_row(db, signer, "operator_actions", columns)
    return action_from_row({**columns, "id": action_id, "seq": seq})


def current_decision(db: Database, attempt_id: int) -> str:
    """The decision of a finished attempt after its latest override, if any.

    Raises
    ------
    RecordNotFound
        No such attempt.
    AuditError
        The attempt is not finished yet.
    """
    found = db.execute("SELECT status, decision FROM attempts WHERE id = ?",
                       [int(attempt_id)]).fetchone()
    if found is None:
        raise RecordNotFound(f"there is no attempt {attempt_id} in the audit log (it may have "
                             "been purged)")
    if found[0] != "complete":
        raise AuditError(f"attempt {attempt_id} is not finished; only a recorded decision can "
                         "be overridden")
    latest = db.execute("SELECT details FROM operator_actions WHERE action = 'override' AND "
                        "target = ? ORDER BY seq DESC LIMIT 1", [str(int(attempt_id))]).fetchone()
    return json.loads(latest[0])["to"] if latest is not None else found[1]


def insert_override(db: Database, signer: ChainSigner, attempt_id: int, decision: str, *, actor: str, reason: str,
                    now: datetime) -> OperatorAction:
    """Record that ``actor`` changed an attempt's decision to ``decision`` because ``reason``.

    Must run inside a write transaction. ``details`` holds ``from`` (the decision before,
    after any earlier override) and ``to``.

    Raises
    ------
    ValueError
        Bad decision, actor or reason, or the attempt already has this decision.
    RecordNotFound, AuditError
        See :func:`current_decision`; AuditError also for a scripted evaluation run, which
        is not a verification and has no decision to change.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
    check_label(actor, "actor", 100)
    check_label(reason, "reason", 500)
    before = current_decision(db, attempt_id)
    mode = db.execute("SELECT mode FROM attempts WHERE id = ?", [int(attempt_id)]).fetchone()[0]
    if mode is not None:
        raise AuditError(f"attempt {attempt_id} is a {mode} evaluation run (kiosk verify "
                         "--script), not a verification: its decision cannot be overridden")
    if before == decision:
        raise ValueError(f"attempt {attempt_id} already has the decision {decision!r}")
    return _append(db, signer, {
        "acted_at": to_iso(now), "action": "override", "actor": actor, "reason": reason,
        "scope": "attempt", "target": str(int(attempt_id)),
        "details": canonical_json({"from": before, "to": decision})})


def insert_event(db: Database, signer: ChainSigner, action: str, *, actor: str, reason: str,
                 details: Mapping[str, Any] | None, now: datetime) -> OperatorAction:
    """Record an event of :data:`EVENT_ACTIONS` (a settings change, a refused PIN, ...).

    Must run inside a write transaction. A ``camera_refused`` event's details are a live
    camera as :func:`~kiosk.audit.records.check_camera` checks an attempt's; every other
    event's are flat (:func:`check_details`).
    """
    if action not in EVENT_ACTIONS:
        raise ValueError(f"action must be one of {EVENT_ACTIONS}, got {action!r}")
    check_label(actor, "actor", 100)
    check_label(reason, "reason", 500)
    if action == "camera_refused":
        camera = check_camera(details, "details")
        if camera is None or camera["kind"] != "camera":
            raise ValueError("a camera_refused event's details describe a live camera")
        checked: dict[str, Any] = camera
    else:
        checked = check_details(details)
    return _append(db, signer, {
        "acted_at": to_iso(now), "action": action, "actor": actor, "reason": reason,
        "scope": None, "target": None, "details": canonical_json(checked)})
