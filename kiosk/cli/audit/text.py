"""Text shared by the local commands of ``kiosk audit`` and their ``--fleet`` forms, so that
a decision, a lockout or a staff action reads the same in both."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from wcwidth import wcswidth

from kiosk.audit import OperatorAction, action_about, action_detail, decision_label


def stamp(value: Any, precise: bool = False) -> str:
    """A UTC time as the commands print it (``-`` for none); ``precise`` adds microseconds
    and ``UTC``."""
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M:%S.%f UTC" if precise else "%Y-%m-%d %H:%M:%S")


def short_ref(ref: str | None) -> str:
    """A subject reference as the listings show it: its first 12 characters."""
    return "-" if ref is None else ref[:12]


def shown_width(text: str) -> int:
    """The columns ``text`` takes on a terminal: 2 for each CJK character or emoji, 0 for a
    combining accent (``len`` counted 1 for each, so such names pushed the columns after them
    out of line)."""
    width = wcswidth(text)
    return len(text) if width < 0 else width  # < 0: a character with no width defined


def column_width(header: str, values: Iterable[str]) -> int:
    """A column as wide as its header and its widest value (kiosk ids are never cut)."""
    return max([shown_width(header), *(shown_width(v) for v in values)])


def pad(text: str, width: int) -> str:
    """``text`` and the spaces that make it ``width`` terminal columns wide."""
    return text + " " * max(0, width - shown_width(text))


def shown_decision(decision: str, scripted: bool, overridden_to: str | None) -> str:
    """The decision as staff read it: ``fail, now pass`` after an override (the local list
    and the fleet's)."""
    label = decision_label(decision, scripted)
    return label if overridden_to is None else f"{label}, now {overridden_to}"


def staff_actions(lockouts: int, unlocks: int, overrides: int) -> str:
    """The line of stats on lockouts and what staff did (the local stats and the fleet's)."""
    return (f"lockouts: {lockouts}; operator unlocks: {unlocks}; decisions overridden by "
            f"staff: {overrides} (the counts above are the decisions as recorded)")


def lockout_targets(lockouts: Sequence[Any]) -> tuple[list[str], int]:
    """The TARGET column of a lockout listing and its width: a subject's short reference
    (12 characters), a kiosk's whole id."""
    targets = [short_ref(lk.target) if lk.scope == "subject" else lk.target for lk in lockouts]
    return targets, max(12, column_width("TARGET", targets))


def lifted_by(kiosk_id: str, unlock_id: int) -> str:
    """The state of a lockout an unlock at ``kiosk_id`` lifted."""
    return f"lifted by unlock #{unlock_id} at {kiosk_id}"


def print_actions(actions: list[OperatorAction], out: TextIO,
                  kiosks: list[str] | None = None) -> None:
    """The table of ``kiosk audit actions`` (with a KIOSK column first when ``kiosks`` says
    where each was recorded)."""
    aw = column_width("ACTION", (a.action for a in actions))
    bw = column_width("BY", (a.actor for a in actions))
    about = [action_about(a.scope, a.target) for a in actions]
    tw = column_width("ABOUT", about)
    kw = column_width("KIOSK", kiosks or ())
    where = kiosks if kiosks is not None else [""] * len(actions)
    first = f"{pad('KIOSK', kw)}  " if kiosks is not None else ""
    print(f"{first}{'ID':>6}  {'WHEN (UTC)':19}  {'ACTION':{aw}}  {'BY':{bw}}  "
          f"{'ABOUT':{tw}}  REASON: DETAIL", file=out)
    for a, what, kiosk in zip(actions, about, where, strict=True):
        detail = action_detail(a)
        lead = f"{pad(kiosk, kw)}  " if kiosks is not None else ""
        print(f"{lead}{a.id:>6}  {stamp(a.acted_at):19}  {a.action:{aw}}  {pad(a.actor, bw)}  "
              f"{pad(what, tw)}  {a.reason}{': ' + detail if detail else ''}", file=out)


def print_by_reason(by_reason: Mapping[str, int], out: TextIO) -> None:
    """The ``by reason:`` block of ``stats``, local or of the fleet: each code and its count,
    or ``(none)``."""
    print("by reason:", file=out)
    for code, n in by_reason.items():
        print(f"  {code:32} {n:>7}", file=out)
    if not by_reason:
        print("  (none)", file=out)
