"""The clock offsets of a kiosk's rows on the fleet server, held to its own log (part of
``kiosk audit verify --fleet``, :mod:`.compare`).

``fleet_rows.clock_offset_s`` is the sender's measurement, not part of a row's hashed content,
so comparing contents cannot cover it; yet every kiosk reads the row's times through it, and
someone with the server owner's rights who switches the append-only trigger off could move a
lockout's end earlier or an unlock after a lockout it should not lift, content and hashes
untouched. The local log fixes how one kiosk's offsets relate, and keeps one of them:

- within one batch (``fleet_batches``: one measurement of the skew) a row's offset is that
  measurement plus every clock gap the log recorded after the row, read as a single time
  (:func:`~kiosk.audit.clock.shift_after` over :data:`~kiosk.audit.clock.INSTANT`, as
  :class:`~kiosk.audit.fleet.trail.ClockTrail` shipped it). Less those gaps, every row of a
  batch gives the same *level*, to the millisecond they were shipped with;
- from one batch to the next the level moves by less than :data:`~kiosk.audit.clock.TOLERANCE`
  (changes of the clock too small for the log to record, drift, the measurement's error). It
  rises further only across a gap recorded at a start after the earlier batch: time the kiosk
  was off, which the trail counts as a change of the clock. It never falls further;
- the offset the sender shipped with the last row of its last batch is kept in the local log
  (``meta.fleet_offset``, :class:`~kiosk.audit.outbox.ShippedOffset`): the server must hold it,
  within ``TOLERANCE`` (a second sender of the same log, ``kiosk audit unlock``'s, may have
  measured the same rows a moment apart);
- rows shipped before fleet schema 4 carry none (NULL, read as 0): they come first in a
  kiosk's chain, and a batch carries offsets for all of its rows or for none.

Not seen: a change smaller than ``TOLERANCE``; the rows before a recorded start gap moved back
together (the level may rise by the unknown time the kiosk was off); and a drift of less than
``TOLERANCE`` at each batch boundary that returns to the kept offset by the last batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kiosk.audit.clock import INSTANT, TOLERANCE, ClockEvent, shift_after
from kiosk.audit.outbox import ShippedOffset

__all__ = ["ChangedOffset", "HeldOffset", "first_changed_offset"]

SHIPPED_PRECISION_S = 0.01
"""Offsets ship rounded to the millisecond; the levels of one batch agree within this."""


@dataclass(frozen=True)
class HeldOffset:
    """A row's clock offset as the server holds it.

    Attributes
    ----------
    seq, table, row_id :
        The row.
    offset_s : float or None
        ``clock_offset_s`` (None: shipped before fleet schema 4).
    batch : int or None
        The ``fleet_batches`` id that stored it (None: its record was purged).
    """

    seq: int
    table: str
    row_id: int
    offset_s: float | None
    batch: int | None


@dataclass(frozen=True)
class ChangedOffset:
    """The first row whose offset cannot be the one shipped: ``why``, and how many rows held
    before it agree with the log (``agreed``)."""

    row: HeldOffset
    why: str
    agreed: int


def _level(offset_s: float, seq: int, gaps: Sequence[ClockEvent]) -> float:
    """The skew measured when the row at ``seq`` was shipped with ``offset_s``, less the
    clock changes recorded since: the same for every row of one measurement."""
    return offset_s - shift_after(gaps, seq, INSTANT).total_seconds()


def _started_after(gaps: Sequence[ClockEvent], seq: int) -> bool:
    """A gap was recorded at a start after ``seq`` (it may hold time the kiosk was off)."""
    return any(gap.kind == "start" and gap.seq > seq for gap in gaps)


def _missing(before: HeldOffset | None, row: HeldOffset) -> str | None:
    """Why an offset absent from ``row``, or present on it and absent from the row before,
    was changed; None when that is how rows shipped before fleet schema 4 look."""
    if row.offset_s is None:
        if before is not None and before.offset_s is not None:
            return (f"the server has no clock_offset_s for it but has one for seq "
                    f"{before.seq} before it (rows without one come first, from kiosks "
                    "older than fleet schema 4)")
    elif before is not None and before.offset_s is None and row.batch is not None \
            and row.batch == before.batch:
        return (f"the server has a clock_offset_s for it but none for seq {before.seq}, "
                "shipped with it")
    return None


def _moved(before: HeldOffset | None, row: HeldOffset,
           gaps: Sequence[ClockEvent]) -> str | None:
    """Why the offsets of two neighbours cannot both be the ones shipped, or None."""
    if before is None or before.offset_s is None or row.offset_s is None:
        return None
    moved = _level(row.offset_s, row.seq, gaps) - _level(before.offset_s, before.seq, gaps)
    if row.batch is not None and row.batch == before.batch:
        if abs(moved) <= SHIPPED_PRECISION_S:
            return None
        return (f"the server's clock_offset_s is {moved:+.3f} s off the rows shipped with "
                "it, beyond the clock changes this log recorded between them")
    bound = TOLERANCE.total_seconds()
    if -bound <= moved <= bound or (moved > bound and _started_after(gaps, before.seq)):
        return None
    return (f"the server's clock_offset_s is {moved:+.1f} s off the rows shipped before it, "
            "more than the clock changes this log recorded between them explain")


def _kept(row: HeldOffset, shipped: ShippedOffset) -> str | None:
    """Why ``row`` does not hold the offset the sender kept for it, or None."""
    if row.offset_s is None:
        return (f"the server has no clock_offset_s for it, but this kiosk shipped it with "
                f"{shipped.offset_s:+.3f} s (kept in its log)")
    moved = row.offset_s - shipped.offset_s
    if abs(moved) <= TOLERANCE.total_seconds():
        return None
    return (f"the server's clock_offset_s is {moved:+.1f} s off the one this kiosk shipped "
            "it with (kept in its log)")


def first_changed_offset(held: Iterable[HeldOffset], gaps: Sequence[ClockEvent],
                         shipped: ShippedOffset | None) -> ChangedOffset | None:
    """The first row whose clock offset on the server cannot be the one shipped; None when
    every offset agrees with the log (see the module docstring).

    Parameters
    ----------
    held : iterable of HeldOffset
        The server's rows of one kiosk, in chain order.
    gaps : sequence of ClockEvent
        The clock gaps the kiosk's log recorded, at least those after the first row held.
    shipped : ShippedOffset or None
        The offset the sender kept for the last row it shipped (None: none kept).
    """
    before: HeldOffset | None = None
    kept: tuple[HeldOffset, int] | None = None
    for agreed, row in enumerate(held):
        why = _missing(before, row) or _moved(before, row, gaps)
        if why is not None:
            return ChangedOffset(row, why, agreed)
        if shipped is not None and row.seq == shipped.seq:
            kept = row, agreed
        before = row
    if kept is not None and shipped is not None and (why := _kept(kept[0], shipped)):
        return ChangedOffset(kept[0], why, kept[1])
    return None
