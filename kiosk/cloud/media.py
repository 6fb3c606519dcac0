"""Media files given to ``kiosk match`` and the pair evaluation: which are photos, and the
frame ranges of recordings.

The frames of a recording are chosen as the kiosk chooses them (MediaPipe tracking and the
best-frame score), in :mod:`kiosk.lab.live_frames`, which sits above the camera and analysis
packages this one may not import.
"""

from __future__ import annotations

import re

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def parse_frames(text: str | None) -> tuple[int, int] | None:
    """``"33-61"`` -> ``(33, 61)`` (inclusive, 0-based); empty or None -> None (whole file).

    Raises
    ------
    ValueError
        Not ``START-END`` with ``START <= END``.
    """
    if text is None or not text.strip():
        return None
    match = _RANGE.match(text)
    if match is None or int(match[1]) > int(match[2]):
        raise ValueError(f"frame range must be START-END with START <= END, got {text!r}")
    return int(match[1]), int(match[2])
