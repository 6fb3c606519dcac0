"""What a face comparison may decide: the verdict policy for matches, offline ones included.

:func:`match_outcome` is the one place that turns a :class:`~kiosk.cloud.results.MatchResult`
into pass, review or fail, applying ``settings.matching.offline_policy``; the session and
``kiosk match`` both use it.
"""

from __future__ import annotations

from kiosk.cloud.results import MatchResult
from kiosk.reasons import Reason
from kiosk.vocabulary import Verdict

#: Matched, but the match must not pass anyone: another face, or the analyses disagree.
FAIL_REASONS = frozenset({Reason.CLOUD_QUALITY_MULTIPLE_FACES, Reason.MATCH_OTHER_FACE,
                          Reason.CLOUD_BOX_MISMATCH, Reason.MATCH_SEVERAL_FACES_LIVE})


def offline_may_pass(mode: str, offline_policy: str) -> bool:
    """Whether an offline (local) match may pass a person.

    ``offline_policy`` "pass" and "review" decide directly; "auto" passes at a staffed desk
    (an operator sees the person) and only flags review at an unattended kiosk.
    """
    if offline_policy not in ("auto", "pass", "review"):
        raise ValueError(f"offline_policy must be auto, pass or review, got {offline_policy!r}")
    if mode not in ("staffed", "unattended"):
        raise ValueError(f"mode must be staffed or unattended, got {mode!r}")
    if offline_policy == "auto":
        return mode == "staffed"
    return offline_policy == "pass"


def match_outcome(result: MatchResult, *, mode: str, offline_policy: str,
                  fail_reasons: frozenset[str] = FAIL_REASONS) -> tuple[Verdict, tuple[str, ...]]:
    """Turn a match result into ``("pass" | "review" | "fail", reasons)``.

    - not matched -> fail;
    - matched with another face in view, on another face than the tracked one, or where
      Rekognition's face is not where the tracker saw it -> fail;
    - matched with a quality problem from the cross-check -> review (+ MATCH_QUALITY_REVIEW);
    - matched offline when the policy does not let offline matches pass -> review
      (+ MATCH_OFFLINE_REVIEW);
    - otherwise pass.

    Parameters
    ----------
    mode : {"staffed", "unattended"}
        ``settings.kiosk.mode``.
    offline_policy : {"auto", "pass", "review"}
        ``settings.matching.offline_policy``.
    fail_reasons : frozenset of str
        Reasons that fail a match outright (:data:`FAIL_REASONS`); any other quality reason
        only asks for review.
    """
    reasons = result.reasons
    may_pass_offline = offline_may_pass(mode, offline_policy)
    if not result.matched:
        return Verdict.FAIL, reasons
    if fail_reasons.intersection(reasons):
        return Verdict.FAIL, reasons
    if result.quality is not None and not result.quality.passed:
        return Verdict.REVIEW, reasons + (Reason.MATCH_QUALITY_REVIEW,)
    if result.offline and not may_pass_offline:
        return Verdict.REVIEW, reasons + (Reason.MATCH_OFFLINE_REVIEW,)
    return Verdict.PASS, reasons
