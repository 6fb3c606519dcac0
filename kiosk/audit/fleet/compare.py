"""The local chain against the server's copy (``kiosk audit verify --fleet``).

The server keeps every row each kiosk shipped, as it arrived, and refuses to change it. A
local history rewritten after it was shipped (even by someone holding the kiosk's audit key,
who can recompute every local MAC) therefore differs from the server's copy at the first row
changed; rows removed from the end of the local log, or an older copy of the whole file put
back, leave the server holding positions the local log lacks; a replaced database has
another ``db_id``. Rows not shipped yet are reported, not judged.

The server's copy is also checked against itself: the columns the fleet's lockout check and
views read (``mode``, ``decision``, ``subject_ref``, ``scope``, ``target``, ``until`` ...) sit
beside the hashed content and are not covered by its hash, so someone with the server owner's
rights who rewrites them (say ``mode = 'scripted'``, which hides failures from every lockout
check) is reported even though content and hashes still match. So are the rows' clock
offsets (``clock_offset_s``), which no content gives back: they are held to the clock gaps
the local log recorded and to the offset it kept (:mod:`.offsets`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from kiosk.audit.clock import ClockEvent, clock_event
from kiosk.audit.fleet.offsets import ChangedOffset, HeldOffset, first_changed_offset
from kiosk.audit.fleet.store import FleetStore
from kiosk.audit.outbox import LocalHead, ShippedOffset, ShippedRow

__all__ = ["FleetComparison", "behind_server", "compare_with_server", "head_difference",
           "kiosk_of_database"]

CHUNK = 1000

QUERIED_COLUMNS = ("at", "subject_ref", "decision", "attack", "reasons", "scope", "target",
                   "until", "action", "failures", "mode")
"""The server's columns derived from a row's content (:func:`kiosk.audit.outbox.shipped_row`),
which the lockout check, the views and the stats read instead of the content."""


@dataclass(frozen=True)
class FleetComparison:
    """The outcome of a comparison.

    Attributes
    ----------
    kiosk_id : str
    ok : bool
        Every row the server holds for the kiosk is in the local log, unchanged.
    compared : int
        Rows compared.
    server_first, server_head : int
        The server's copy of the kiosk's chain (0 and 0 when it holds nothing).
    unshipped : int
        Local rows after the server's head (not shipped yet).
    first_difference : str or None
        The first row that differs, named by chain position, table and id, and what differs.
    seq : int or None
        Its chain position.
    """

    kiosk_id: str
    ok: bool
    compared: int
    server_first: int
    server_head: int
    unshipped: int
    first_difference: str | None = None
    seq: int | None = None


def kiosk_of_database(store: FleetStore, db_id: str | None) -> str | None:
    """The kiosk id the server registered this database under, if any."""
    if db_id is None:
        return None
    found = store.query("SELECT kiosk_id FROM fleet_kiosks WHERE db_id = %s", [db_id])
    return found[0][0] if found else None


def _chain_differs(local: ShippedRow, server: ShippedRow) -> str | None:
    """How the local row is not the one the server holds at its position (another row, other
    content, another hash), or None."""
    if local.table != server.table or local.row_id != server.row_id:
        return (f"the server holds {server.table} id {server.row_id} there, the local log "
                f"{local.table} id {local.row_id}")
    if local.content != server.content:
        ours, theirs = json.loads(local.content), json.loads(server.content)
        columns = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
        return f"{', '.join(columns)} differ from the server's copy"
    if local.row_hash != server.row_hash or local.prev_hash != server.prev_hash:
        return "its hash differs from the server's copy (the chain was recomputed)"
    return None


def _differs(local: ShippedRow, server: ShippedRow) -> str | None:
    problem = _chain_differs(local, server)
    if problem is not None:
        return problem
    # The content matches, so the local row's columns are the ones its content gives.
    changed = [c for c in QUERIED_COLUMNS if getattr(local, c) != getattr(server, c)]
    if changed:
        return (f"the server's {', '.join(changed)} column(s) differ from the row's content "
                "(changed on the server: the lockout check and the fleet's views read them)")
    return None


def _clock_gaps(rows: Iterable[ShippedRow]) -> list[ClockEvent]:
    """The clock gaps the log recorded among ``rows`` (its ``clock`` actions)."""
    found = []
    for row in rows:
        if row.table == "operator_actions" and row.action == "clock":
            content = json.loads(row.content)
            found.append(clock_event(row.seq, content.get("acted_at"), content.get("details")))
    return [gap for gap in found if gap is not None]


def _row_problem(seq: int, ours: Mapping[int, ShippedRow], theirs: Mapping[int, ShippedRow],
                 differs: Callable[[ShippedRow, ShippedRow], str | None]) -> str | None:
    """How the local row at ``seq`` is not the server's (it holds one there), named by chain
    position, table and id; or None."""
    if seq not in ours:
        return (f"seq {seq} ({theirs[seq].table} id {theirs[seq].row_id}) is on the server but "
                "missing from the local log")
    problem = differs(ours[seq], theirs[seq])
    return None if problem is None else \
        f"seq {seq} ({ours[seq].table} id {ours[seq].row_id}): {problem}"


def behind_server(server_head: int, head: LocalHead) -> str | None:
    """Why the local log cannot continue the server's copy of its chain when it ends before
    the server's head (rows removed from its end, or an older copy of the log restored); None
    when it does not. The sender, :func:`compare_with_server` and :func:`head_difference`
    judge it so."""
    if server_head <= head.head_seq:
        return None
    return (f"the server holds rows up to seq {server_head} but the local log ends at seq "
            f"{head.head_seq}: rows were removed, or an older copy of the log was restored")


def head_difference(store: FleetStore, kiosk_id: str, head: LocalHead, server_head: int,
                    local_rows: Callable[[int, int], list[ShippedRow]]) -> str | None:
    """Why the local log no longer continues the server's copy of ``kiosk_id``'s chain,
    judged at the server's head (``server_head``) alone, in :func:`compare_with_server`'s
    words: it ends before it, or its row there is another one (an older copy of the log was
    restored and has written rows since). None when it continues, or when that row was purged
    here or on the server.

    Cheap (one row read on each side), for ``kiosk fleet status``; ``kiosk audit verify
    --fleet`` compares every row, and also the server's columns beside the content.
    """
    behind = behind_server(server_head, head)
    if behind is not None or server_head <= head.anchor_seq:
        return behind
    theirs = {r.seq: r for r in store.server_rows(kiosk_id, server_head, server_head)}
    if server_head not in theirs:
        return None
    ours = {r.seq: r for r in local_rows(server_head, server_head)}
    return _row_problem(server_head, ours, theirs, _chain_differs)


def _chunks(first: int, last: int) -> Iterator[tuple[int, int]]:
    for low in range(first, last + 1, CHUNK):
        yield low, min(last, low + CHUNK - 1)


def _changed_offset(store: FleetStore, kiosk_id: str, first: int, last: int,
                    gaps: list[ClockEvent], shipped: ShippedOffset | None
                    ) -> ChangedOffset | None:
    """The first of the server's rows ``first..last`` whose clock offset cannot be the one
    shipped (see :mod:`.offsets`); None on a server without offsets (before schema 4)."""
    if not store.holds_offsets():
        return None
    held: Iterator[HeldOffset] = (row for low, high in _chunks(first, last)
                                  for row in store.held_offsets(kiosk_id, low, high))
    return first_changed_offset(held, gaps, shipped)


def compare_with_server(store: FleetStore, kiosk_id: str, head: LocalHead,
                        local_rows: Callable[[int, int], list[ShippedRow]], *,
                        shipped: ShippedOffset | None = None) -> FleetComparison:
    """Compare the local chain (``head`` and ``local_rows(first, last)``) with the server's
    copy of ``kiosk_id``'s chain; name the first row that differs.

    ``shipped`` is the clock offset the sender kept for the last row it shipped
    (``FleetState.shipped_offset``); the server's offsets are held to it and to each other.
    """
    reg = store.registration(kiosk_id)
    server = store.head(kiosk_id)
    if reg is None or server is None:
        return FleetComparison(kiosk_id, True, 0, 0, 0, head.head_seq - head.anchor_seq)
    server_head = server[0]
    unshipped = max(0, head.head_seq - server_head)

    def result(problem: str | None, seq: int | None, compared: int) -> FleetComparison:
        return FleetComparison(kiosk_id, problem is None, compared, reg.first_seq, server_head,
                               unshipped, problem, seq)

    if head.db_id != reg.db_id:
        return result("the local log is not the database the server holds under this "
                      "kiosk id (its database id differs): two kiosks share one kiosk id "
                      "(give each its own kiosk.kiosk_id), or the file was replaced", None, 0)
    compared = 0
    first = max(reg.first_seq, head.anchor_seq + 1)
    last = min(server_head, head.head_seq)
    gaps: list[ClockEvent] = []
    for low, high in _chunks(first, last):
        theirs = {r.seq: r for r in store.server_rows(kiosk_id, low, high)}
        ours = {r.seq: r for r in local_rows(low, high)}
        gaps += _clock_gaps(ours.values())
        for seq in range(low, high + 1):
            if seq not in theirs:
                continue  # removed from the server by a staff purge
            problem = _row_problem(seq, ours, theirs, _differs)
            if problem is not None:
                return result(problem, seq, compared)
            compared += 1
    behind = behind_server(server_head, head)
    if behind is not None:
        return result(behind, head.head_seq + 1, compared)
    for low, high in _chunks(last + 1, head.head_seq):  # not shipped: gaps after every row
        gaps += _clock_gaps(local_rows(low, high))
    changed = _changed_offset(store, kiosk_id, first, last, gaps, shipped)
    if changed is not None:
        row = changed.row
        return result(f"seq {row.seq} ({row.table} id {row.row_id}): {changed.why} (changed "
                      "on the server: every kiosk reads the row's times through it)", row.seq,
                      changed.agreed)
    return result(None, None, compared)
