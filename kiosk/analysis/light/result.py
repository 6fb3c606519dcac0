"""What the light judge says: :class:`LightResult`, and the same as a passive Signal."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kiosk.model import Signal
from kiosk.reasons import Reason

#: The analyzer's name (audit log, fusion, reports).
NAME = "light"


class Unjudged(StrEnum):
    """Why a light check has no verdict: what the session makes of it depends on who could
    have prevented it (:meth:`kiosk.session.verifier.Verifier._light_verdict`)."""

    NOT_SHOWN = "not_shown"
    """No sequence was shown, or the screen never reported showing it: the kiosk's."""
    FACE = "face"
    """The face was not seen through enough of the sequence: the person's (or a presentation
    kept out of view while the colours played)."""
    BACKGROUND = "background"
    """Nothing beside the face to compare it with (the face at the picture's edge or
    filling it): the person's placement."""
    FRAME_RATE = "frame_rate"
    """The frames came too slowly to time the colours: the camera's."""


@dataclass(frozen=True)
class LightResult:
    """The light challenge's verdict on one recording.

    Attributes
    ----------
    responded : bool
        A face in the room answered the sequence: every check passed.
    fit : float
        Share of the face's segment-to-segment colour change (beyond drift) that the emitted
        colours explain, 0-1.
    delay_ms : float or None
        Median delay from a painted colour to the frame time at which the face shows half of
        the change (None when the face did not answer).
    delay_spread_ms : float or None
        Robust spread (1.4826 x median absolute deviation) of the per-change delays (None
        with fewer than three timed changes).
    ratio : float or None
        Face-to-background response ratio (about 10 for a real face, 1 for a global tint).
    unevenness : float or None
        How far the face's response departs from one plane, in log units (None when the
        shape could not be judged).
    reasons : tuple of str
        Reason codes (:class:`kiosk.reasons.Reason`); empty when it responded or was not
        judged for lack of data.
    confidence : float
        0-1; 0 when not judged (see ``why``), lower for short sequences.
    segments_judged : int
        Segments with at least one clean frame.
    why : str or None
        Why it was not judged.
    details : Mapping
        Further numbers (p-value, frame rate, per-measure shape figures ...).
    cause : Unjudged or None
        Why it was not judged, as a code (None when judged, or when a reason code says it,
        as for a room too bright).
    """

    responded: bool
    fit: float
    delay_ms: float | None
    delay_spread_ms: float | None
    ratio: float | None
    unevenness: float | None
    reasons: tuple[str, ...]
    confidence: float
    segments_judged: int
    why: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    cause: Unjudged | None = None

    @property
    def judged(self) -> bool:
        return self.confidence > 0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (floats rounded; non-finite ones as None)."""
        out: dict[str, Any] = {
            "responded": self.responded, "fit": _r(self.fit, 4), "delay_ms": _r(self.delay_ms, 1),
            "delay_spread_ms": _r(self.delay_spread_ms, 1), "ratio": _r(self.ratio, 2),
            "unevenness": _r(self.unevenness, 4), "reasons": list(self.reasons),
            "confidence": _r(self.confidence, 3), "segments_judged": self.segments_judged}
        if self.why:
            out["why"] = self.why
        if self.cause is not None:
            out["cause"] = str(self.cause)
        return out

    def to_signal(self, extra: Mapping[str, Any] | None = None) -> Signal:
        """The verdict as the ``light`` Signal: score 0 when the face answered, 1 when a
        check failed; confidence as judged (0 when not judged, whatever the reason).
        ``extra`` adds details (the analyzer's frame count)."""
        details: dict[str, Any] = {k: v for k, v in self.as_dict().items() if k != "reasons"}
        details.update(extra or {})
        details.update({k: v for k, v in self.details.items() if k not in details})
        details["reasons"] = " ".join(self.reasons)
        reason = self.reasons[0] if self.reasons else Reason.LIGHT_NOT_REFLECTED
        score = 0.0 if self.responded or not self.judged else 1.0
        return Signal(NAME, score, float(self.confidence), str(reason), details)


def _r(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def not_judged(cause: Unjudged, why: str, segments_judged: int = 0) -> LightResult:
    """A result with no evidence either way (confidence 0), and why."""
    return LightResult(False, 0.0, None, None, None, None, (), 0.0, segments_judged, why,
                       cause=cause)
