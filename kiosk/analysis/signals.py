"""The common shape of passive presentation-attack analyzers.

Every analyzer is a small class that is fed the session's frames with their observations and
returns one :class:`~kiosk.model.Signal` at the end. Single-frame analyzers also answer for a
still image. Model-backed or costly set-up happens once in ``__init__``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from kiosk.model import FaceObservation, Frame, Signal


@runtime_checkable
class Analyzer(Protocol):
    """A passive cue over a session.

    Attributes
    ----------
    name : str
        Short stable name (``texture``, ``moire``, ``planar`` ...), used in the audit log.
    single_frame : bool
        True when one frame is enough (the analyzer also runs on still images).
    """

    name: str
    single_frame: bool

    def reset(self) -> None:
        """Forget everything; ready for a new session."""

    def update(self, frame: Frame, obs: FaceObservation) -> None:
        """Take one frame (``frame.image`` (H, W, 3) uint8 BGR) and its observation.

        Must be cheap (the per-frame budget is shared by every analyzer); an analyzer may
        keep only what it needs, sample frames, or ignore frames without a face.
        """

    def result(self) -> Signal:
        """The cue over everything seen since :meth:`reset`.

        With too little evidence (no face, no movement, too few frames) the Signal has
        ``confidence`` 0 and says why in ``details["why"]``; it never guesses.
        """


# A Signal's details as they leave the analysis layer (audit log, JSON reports): scalars
# only, never arrays or nested values; the audit log accepts at most 32 entries of 200 chars.
MAX_DETAILS = 32
MAX_DETAIL_CHARS = 160


def scalar_details(details: Mapping[str, Any], limit: int = MAX_DETAILS) -> dict[str, Any]:
    """The scalar entries of a Signal's details: numbers (floats rounded to 4 decimals,
    non-finite ones as None), flags, None and short strings; lists, mappings and arrays are
    dropped."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        if len(out) >= limit:
            break
        if isinstance(value, bool) or value is None or isinstance(value, int):
            out[str(key)] = value
        elif isinstance(value, float):
            out[str(key)] = round(value, 4) if math.isfinite(value) else None
        elif isinstance(value, str) and len(value) <= MAX_DETAIL_CHARS:
            out[str(key)] = value
    return out


def signal_dict(signal: Signal) -> dict[str, Any]:
    """A Signal as plain JSON-ready values (score and confidence rounded, scalar details)."""
    return {"score": round(float(signal.score), 4),
            "confidence": round(float(signal.confidence), 4),
            "reason": signal.reason, "details": scalar_details(signal.details)}
