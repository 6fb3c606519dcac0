"""Cloud first, local when the cloud is down, and what an offline match may decide.

:class:`ResilientMatcher` asks Rekognition and, when it cannot be used (network, time-out,
throttling, credentials), answers with the local matcher and says so: the result is marked
offline and carries the cause as a reason code. :func:`match_outcome` is the one place that
turns a :class:`MatchResult` into pass / review / fail, applying
``settings.matching.offline_policy``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import numpy as np

from kiosk.cloud.errors import FALLBACK_ERRORS, CloudError
from kiosk.cloud.local import LocalMatcher
from kiosk.cloud.protocol import BoxLike
from kiosk.cloud.rekognition import RekognitionMatcher
from kiosk.cloud.results import (
    CLOUD_BOX_MISMATCH,
    CLOUD_QUALITY_MULTIPLE_FACES,
    MATCH_OTHER_FACE,
    MATCH_SEVERAL_FACES_LIVE,
    MatchResult,
)

log = logging.getLogger(__name__)

PASS, REVIEW, FAIL = "pass", "review", "fail"
#: Matched, but the match must not pass anyone: another face, or the analyses disagree.
FAIL_REASONS = frozenset({CLOUD_QUALITY_MULTIPLE_FACES, MATCH_OTHER_FACE, CLOUD_BOX_MISMATCH,
                          MATCH_SEVERAL_FACES_LIVE})
#: Reason added when an offline match is only flagged for review.
OFFLINE_REVIEW = "MATCH_OFFLINE_REVIEW"
#: Reason added when a matched result has quality problems (eyes closed, pose, blur, dark).
QUALITY_REVIEW = "MATCH_QUALITY_REVIEW"


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
                  fail_reasons: frozenset[str] = FAIL_REASONS) -> tuple[str, tuple[str, ...]]:
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
        return FAIL, reasons
    if fail_reasons.intersection(reasons):
        return FAIL, reasons
    if result.quality is not None and not result.quality.passed:
        return REVIEW, reasons + (QUALITY_REVIEW,)
    if result.offline and not may_pass_offline:
        return REVIEW, reasons + (OFFLINE_REVIEW,)
    return PASS, reasons


class ResilientMatcher:
    """Rekognition with the local matcher as fallback.

    Parameters
    ----------
    cloud : RekognitionMatcher
        The primary matcher.
    local : LocalMatcher
        Answers when the cloud cannot be used.
    cooldown_s : float
        After a failure the cloud is skipped for this long, so a kiosk without network does
        not wait for the time-outs of every attempt at every person.
    clock : callable
        Monotonic clock in seconds (injectable for tests).
    """

    name = "rekognition+local"

    def __init__(self, cloud: RekognitionMatcher, local: LocalMatcher, *,
                 cooldown_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.cloud = cloud
        self.local = local
        self.threshold = cloud.threshold
        self.cooldown_s = float(cooldown_s)
        self._clock = clock
        self._down_until: float | None = None
        self._last_error: CloudError | None = None

    def compare(self, live: np.ndarray, reference: np.ndarray, *,
                live_box: BoxLike | None = None) -> MatchResult:
        """Rekognition's answer, or the local matcher's marked offline with the cause."""
        now = self._clock()
        if self._down_until is None or now >= self._down_until:
            try:
                result = self.cloud.compare(live, reference, live_box=live_box)
            except FALLBACK_ERRORS as exc:
                self._down_until = now + self.cooldown_s
                self._last_error = exc
                log.warning("cloud matcher unavailable (%s); using the local matcher for %.0f s",
                            exc.code, self.cooldown_s)
                return self._offline(live, reference, live_box, exc, skipped=False)
            self._down_until = None
            self._last_error = None
            return result
        assert self._last_error is not None
        return self._offline(live, reference, live_box, self._last_error, skipped=True)

    def _offline(self, live: np.ndarray, reference: np.ndarray, live_box: BoxLike | None,
                 cause: CloudError, *, skipped: bool) -> MatchResult:
        result = self.local.compare(live, reference, live_box=live_box)
        when = "was unavailable moments ago" if skipped else "is unavailable"
        note = f"Rekognition {when} ({cause}); matched offline with the local matcher"
        return dataclasses.replace(result, offline=True, note=note,
                                   reasons=(cause.code,) + result.reasons)
