"""What a comparison stopped by the quality gate decides (issue 14).

When a live face or the ID photo is too small, blurred, dark or turned for a trustworthy
comparison, the matcher does not compare (``MatchResult.compared`` is False) and says why. That
is neither a match nor "another person": at a staffed desk staff review the person (and the ID
photo); at an unattended kiosk the attempt fails with the gate's reason, whose sentence in the
catalogue asks the person to retry (come closer, hold still, find light, look at the camera).
"""

from __future__ import annotations

from kiosk.cloud.results import MatchResult
from kiosk.reasons import Reason
from kiosk.vocabulary import Verdict

#: The quality gate's own codes (the matchers add them to what they report).
GATE_REASONS = frozenset({
    Reason.LIVE_FACE_TOO_SMALL, Reason.LIVE_FACE_BLURRED, Reason.LIVE_FACE_DARK,
    Reason.LIVE_FACE_NOT_FRONTAL, Reason.LIVE_EYES_CLOSED, Reason.LIVE_FACE_COVERED,
    Reason.ID_PHOTO_TOO_SMALL, Reason.ID_PHOTO_BLURRED, Reason.ID_PHOTO_DARK,
    Reason.ID_PHOTO_NOT_FRONTAL,
})


def gate_outcome(result: MatchResult, *, mode: str) -> tuple[Verdict, tuple[str, ...]] | None:
    """The verdict for a comparison the quality gate stopped, or None when it was compared.

    Parameters
    ----------
    result : MatchResult
        The matcher's answer.
    mode : {"staffed", "unattended"}
        ``settings.kiosk.mode``.

    Returns
    -------
    (Verdict, reasons) or None
        REVIEW at a staffed desk, FAIL at an unattended kiosk, with the result's reasons
        (the gate's codes among them).
    """
    if mode not in ("staffed", "unattended"):
        raise ValueError(f"mode must be staffed or unattended, got {mode!r}")
    if result.compared:
        return None
    return (Verdict.REVIEW if mode == "staffed" else Verdict.FAIL), tuple(result.reasons)
