"""Member check-in: the live face searched among the enrolled members' faces.

An unattended kiosk whose settings name a members' collection (``matching.collection_id``,
filled with ``kiosk enroll``) checks people in: after the liveness check passes, the best
frame is searched in that Rekognition collection (SearchFacesByImage, with the DetectFaces
cross-check) instead of being compared with an ID photo. The collection lives in
Rekognition only, so there is no local stand-in: a cloud that cannot be used makes the
attempt a review, never a pass.
"""

from __future__ import annotations

from typing import Any

from kiosk.cloud.results import SearchResult
from kiosk.reasons import Reason
from kiosk.session.verdict import FAIL_REASONS
from kiosk.vocabulary import Verdict


def checks_members(settings: Any) -> bool:
    """Whether this kiosk's sessions are member check-ins: unattended, with a collection."""
    return settings.kiosk.mode != "staffed" and bool(settings.matching.collection_id)


def search_outcome(result: SearchResult) -> tuple[Verdict, tuple[str, ...]]:
    """Turn a search into ``(pass | fail, reasons)``.

    - no member's face at or above the threshold -> fail, ``MEMBER_NOT_FOUND`` (with the
      cross-check's codes for staff);
    - a member found, but on another face than the tracked one or with the cross-check
      against it (several faces, eyes closed, a face too poor to trust) -> fail with those
      codes: a search is never passed on a face the session did not judge live;
    - otherwise pass.
    """
    if not result.matches:
        return Verdict.FAIL, (Reason.MEMBER_NOT_FOUND, *result.reasons)
    if result.reasons:  # the codes that rule a match out first
        return Verdict.FAIL, tuple(sorted(result.reasons, key=lambda r: r not in FAIL_REASONS))
    return Verdict.PASS, ()


def search_record(result: SearchResult, matcher: str) -> dict[str, Any]:
    """The audit row's ``match`` for a search: the best similarity, never the member's id."""
    best = result.matches[0].similarity if result.matches else None
    return {"matcher": matcher, "matched": result.matched,
            "similarity": None if best is None else round(float(best), 2),
            "reasons": list(result.reasons)}
