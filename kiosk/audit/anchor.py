"""Exported heads ("anchors"): a copy of the chain's head kept outside the kiosk, so that a
later check notices truncation, a rewritten head or a whole file restored from an older copy.

``kiosk audit anchor`` writes one JSON object: the database id, the kiosk, the head position
and hash, the time, and an HMAC over them under the database's chain key (so a forged anchor
file is told apart by whoever holds the key). ``kiosk audit verify --anchor FILE`` checks that
the log still contains that head: the same database, a head at or beyond the anchor's, and the
row at the anchor's position carrying the anchor's hash (or, once purged, the purge anchor
there). The fleet issue will collect anchors centrally.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from kiosk.audit.canonical import anchor_mac
from kiosk.audit.signer import ChainSigner, chain_state
from kiosk.audit.timeutil import to_iso

ANCHOR_VERSION = 1


def export_anchor(db: Database, signer: ChainSigner, *, kiosk_id: str,
                  now: datetime) -> dict[str, Any]:
    """The head of the chain as a JSON-ready anchor (signed when the log is keyed)."""
    state = chain_state(db)
    anchor: dict[str, Any] = {"version": ANCHOR_VERSION, "db_id": state["db_id"],
                              "kiosk_id": kiosk_id, "seq": state["head_seq"],
                              "hash": state["head_hash"], "exported_at": to_iso(now)}
    anchor["mac"] = anchor_mac(signer.key, anchor) if signer.key is not None else None
    return anchor


@dataclass(frozen=True)
class AnchorCheck:
    """The outcome of checking a log against an exported anchor."""

    ok: bool
    message: str


def check_anchor(db: Database, signer: ChainSigner, anchor: Mapping[str, Any]) -> AnchorCheck:
    """Does this log still contain the head recorded in ``anchor``?"""
    try:
        seq, expected = int(anchor["seq"]), str(anchor["hash"])
        db_id = anchor.get("db_id")
    except (KeyError, TypeError, ValueError):
        return AnchorCheck(False, "the anchor file is not an anchor exported by `kiosk audit "
                           "anchor`")
    if anchor.get("mac") is not None and (
            signer.key is None
            or not hmac.compare_digest(anchor_mac(signer.key, anchor), str(anchor["mac"]))):
        return AnchorCheck(False, "the anchor's MAC does not match this log's key: the "
                           "anchor was forged or belongs to another log")
    state = chain_state(db)
    if db_id is not None and db_id != state["db_id"]:
        return AnchorCheck(False, f"the anchor belongs to another audit database (id {db_id}, "
                           f"this one is {state['db_id']}): the file was replaced")
    if state["head_seq"] < seq:
        return AnchorCheck(False, f"the log ends at seq {state['head_seq']}, before the "
                           f"anchor's seq {seq}: the newest rows were removed")
    if seq <= state["anchor_seq"]:
        if seq == state["anchor_seq"] and state["anchor_hash"] != expected:
            return AnchorCheck(False, f"the purge anchor at seq {seq} differs from the "
                               "exported head: the chain was rewritten")
        return AnchorCheck(True, f"seq {seq} was purged since the anchor was exported; the "
                           f"chain from the purge anchor (seq {state['anchor_seq']}) on was "
                           "checked")
    found = None
    for table in ("attempts", "lockouts", "operator_actions"):
        row = db.execute(f"SELECT row_hash FROM {table} WHERE seq = ?", [seq]).fetchone()
        if row is not None:
            found = row[0]
    if found != expected:
        return AnchorCheck(False, f"the row at seq {seq} does not carry the exported head "
                           "hash: the chain was rewritten from there (or before)")
    return AnchorCheck(True, f"the exported head (seq {seq}) is in the log")


def read_anchor(text: str) -> dict[str, Any]:
    """Parse an anchor file's text; ValueError when it is not a JSON object."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("an anchor file holds one JSON object")
    return value
