"""Event precision and recall of the action detectors against a manifest's ``events`` column.

The rules (issue 3):

- A detection is correct when it has the labelled action and overlaps the labelled window
  widened by :data:`TOLERANCE_S` on both sides. Recall counts the labels that some correct
  detection overlaps; precision counts the detections that overlap some label.
- ``blink`` and ``eyes_closed`` labels are both blinks.
- ``wink_left``, ``wink_right`` and ``talk`` are not challenge actions. A detection that
  overlaps one of them is wrong only if it is a blink or a smile that no label explains; any
  other detection overlapping them is excused (left out of precision).
- Rows whose notes contain ``untimed_blinks`` have incomplete blink labels: their blink labels
  count toward recall, their blink detections not toward precision.
- Rows whose notes start with ``overlay:`` are left out, and so are rows whose notes
  contain ``unlabelled_events`` (a ``kiosk record`` session nobody has labelled yet: its
  empty ``events`` column does not mean the person did nothing).

Detections on a row with a ``frames`` range are expected in that segment's file times; only
those inside the segment count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.analysis.challenges.actions import ACTIONS
from kiosk.model import Event
from kiosk.runtime.record import UNLABELLED

TOLERANCE_S = 0.3
#: Manifest actions that are the same detector action.
ALIASES = {"eyes_closed": "blink"}
#: Manifest actions that are not challenge actions.
NOT_ACTIONS = frozenset({"wink_left", "wink_right", "talk"})
#: Detections overlapping a non-action are wrong only when they are one of these.
CHECKED_NEAR_NON_ACTIONS = frozenset({"blink", "smile"})
TURNS = frozenset({"turn_left", "turn_right"})

_ITEM = re.compile(r"^\s*([A-Za-z_]+)@(-?\d+(?:\.\d+)?)-(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Label:
    """One labelled event of a manifest row (``action`` after :data:`ALIASES`)."""

    action: str
    start: float
    end: float


def parse_events(text: str) -> list[Label]:
    """Parse a manifest ``events`` cell (``action@start-end`` items joined by ``;``).

    Raises
    ------
    ValueError
        An item does not have the ``action@start-end`` form or ends before it starts.
    """
    labels = []
    for item in filter(None, (s.strip() for s in (text or "").split(";"))):
        match = _ITEM.match(item)
        if match is None:
            raise ValueError(f"event {item!r} is not of the form action@start-end")
        action = match.group(1).lower()  # "Blink" is the blink
        start, end = float(match.group(2)), float(match.group(3))
        if end < start:
            raise ValueError(f"event {item!r} ends before it starts")
        labels.append(Label(ALIASES.get(action, action), start, end))
    return labels


def _overlaps(event: Event, label: Label, tolerance: float) -> bool:
    return event.start <= label.end + tolerance and event.end >= label.start - tolerance


def _frame_window(row: Mapping[str, str], fps: float | None) -> tuple[float, float] | None:
    frames = (row.get("frames") or "").strip()
    if not frames:
        return None
    if not fps:
        raise ValueError(f"row {row.get('path')!r} has a frame range; its fps is needed")
    first, _, last = frames.partition("-")
    return int(first) / fps, (int(last) + 1) / fps


def row_key(row: Mapping[str, str]) -> str:
    """Key of a manifest row in the ``detections`` mapping: the path, plus ``#frames``."""
    frames = (row.get("frames") or "").strip()
    return f"{row['path']}#{frames}" if frames else row["path"]


def evaluate_events(rows: Iterable[Mapping[str, str]], detections: Mapping[str, Sequence[Event]],
                    *, fps: Mapping[str, float] | None = None,
                    tolerance: float = TOLERANCE_S) -> dict:
    """Per-action precision and recall over the video rows that have detections.

    Parameters
    ----------
    rows : iterable of mapping
        Manifest rows (``path``, ``media``, ``label``, ``frames``, ``events``, ``notes``).
    detections : mapping of str to sequence of Event
        Detected events by :func:`row_key`. Rows without an entry are not evaluated (a video
        that could not be analysed is reported by the caller, not counted as silent).
    fps : mapping of str to float, optional
        Frame rate by path, needed only for rows with a ``frames`` range.
    tolerance : float
        Seconds the labelled windows are widened by on each side.

    Returns
    -------
    dict
        ``per_action``: ``{action: {"labelled", "found", "detected", "correct", "precision",
        "recall"}}`` (precision/recall None when their denominator is 0);
        ``spurious``: ``{"turn": {"events", "clips"}, "smile": {...}}``, detections of a
        turn or smile on bona fide rows that have no label of that kind;
        ``rows``: per row, its key, the missed labels and the wrong detections.
    """
    fps = fps or {}
    per_action: dict[str, dict[str, int]] = {}
    spurious: dict[str, dict[str, Any]] = {"turn": {"events": 0, "clips": []},
                                           "smile": {"events": 0, "clips": []}}
    row_reports = []

    def counts(action: str) -> dict[str, int]:
        return per_action.setdefault(action, dict(labelled=0, found=0, detected=0, correct=0))

    for row in rows:
        notes = row.get("notes") or ""
        if notes.startswith("overlay:") or UNLABELLED in notes:
            continue
        key = row_key(row)
        if key not in detections:
            continue
        labels = parse_events(row.get("events", ""))
        events = list(detections[key])
        window = _frame_window(row, fps.get(row["path"]))
        if window is not None:
            events = [e for e in events if window[0] <= e.start and e.end < window[1]]
        untimed_blinks = "untimed_blinks" in (row.get("notes") or "")
        # A label the detectors have no action for (talk, a wink, another data set's name)
        # is a non-action: never counted as missed.
        actions = [lab for lab in labels if lab.action in ACTIONS]
        others = [lab for lab in labels if lab.action not in ACTIONS]

        missed = []
        for label in actions:
            c = counts(label.action)
            c["labelled"] += 1
            if any(e.action == label.action and _overlaps(e, label, tolerance) for e in events):
                c["found"] += 1
            else:
                missed.append(label)
        wrong = []
        for event in events:
            if event.action == "blink" and untimed_blinks:
                continue
            explained = any(lab.action == event.action and _overlaps(event, lab, tolerance)
                            for lab in actions)
            if not explained and event.action not in CHECKED_NEAR_NON_ACTIONS and any(
                    _overlaps(event, lab, tolerance) for lab in others):
                continue
            c = counts(event.action)
            c["detected"] += 1
            c["correct"] += explained
            if not explained:
                wrong.append(event)
        if row.get("label") == "bona_fide":
            for kind, members in (("turn", TURNS), ("smile", frozenset({"smile"}))):
                if not any(lab.action in members for lab in labels):
                    n = sum(e.action in members for e in events)
                    if n:
                        spurious[kind]["events"] += n
                        spurious[kind]["clips"].append(key)
        row_reports.append({"row": key, "missed": missed, "wrong": wrong})

    result = {}
    for action, c in sorted(per_action.items()):
        result[action] = dict(
            c,
            precision=c["correct"] / c["detected"] if c["detected"] else None,
            recall=c["found"] / c["labelled"] if c["labelled"] else None,
        )
    return {"per_action": result, "spurious": spurious, "rows": row_reports}


def format_summary(per_action: Mapping[str, Mapping]) -> str:
    """One readable line per action: ``blink  P 0.95 (19/20)  R 0.90 (18/20)``."""
    def fmt(value: float | None) -> str:
        return "  -  " if value is None or math.isnan(value) else f"{value:.3f}"
    lines = []
    for action, c in per_action.items():
        lines.append(f"{action:<11} P {fmt(c['precision'])} ({c['correct']}/{c['detected']})"
                     f"  R {fmt(c['recall'])} ({c['found']}/{c['labelled']})")
    return "\n".join(lines)
