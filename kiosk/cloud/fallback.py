"""Cloud first, local when the cloud is down.

:class:`ResilientMatcher` asks Rekognition and, when it cannot be used (network, time-out,
throttling, credentials), answers with the local matcher and says so: the result is marked
offline and carries the cause as a reason code. What an offline match may decide is the
session's policy (:mod:`kiosk.session.verdict`), not the adapter's.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence

import numpy as np

from kiosk.cloud.errors import FALLBACK_ERRORS, CloudError
from kiosk.cloud.local import LocalMatcher
from kiosk.cloud.protocol import BoxLike, LiveFrame
from kiosk.cloud.rekognition import RekognitionMatcher
from kiosk.cloud.results import MatchResult, SearchResult

log = logging.getLogger(__name__)

class ResilientMatcher:
    """Rekognition with the local matcher as fallback.

    Parameters
    ----------
    cloud : RekognitionMatcher or None
        The primary matcher; None when it cannot be built (``unusable`` says why).
    local : LocalMatcher
        Answers when the cloud cannot be used.
    unusable : CloudError, optional
        Why there is no cloud matcher (AWS half configured): every comparison is the local
        matcher's, marked offline with this cause, and nothing is sent.
    cooldown_s : float
        After a failure the cloud is skipped for this long, so a kiosk without network does
        not wait for the time-outs of every attempt at every person.
    clock : callable
        Monotonic clock in seconds (injectable for tests).
    """

    name = "rekognition+local"

    def __init__(self, cloud: RekognitionMatcher | None, local: LocalMatcher, *,
                 cooldown_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 unusable: CloudError | None = None) -> None:
        if (cloud is None) == (unusable is None):
            raise ValueError("give either a cloud matcher or the error that prevents one")
        self.cloud = cloud
        self.local = local
        self.threshold = cloud.threshold if cloud is not None else local.threshold
        self.cooldown_s = float(cooldown_s)
        self._clock = clock
        self._down_until: float | None = None
        self._last_error: CloudError | None = unusable

    def compare(self, live: np.ndarray, reference: np.ndarray, *,
                live_box: BoxLike | None = None) -> MatchResult:
        """Rekognition's answer, or the local matcher's marked offline with the cause."""
        return self.compare_frames([LiveFrame(live, live_box)], reference)

    def compare_frames(self, frames: Sequence[LiveFrame], reference: np.ndarray, *,
                       one_person: bool = False) -> MatchResult:
        """Rekognition on the best frame (a second one only for quality), or, when the cloud
        cannot be used, the local matcher on every frame, marked offline with the cause.

        Parameters
        ----------
        one_person : bool
            Refuse live frames that are not all one person (``kiosk match``): the local
            matcher checks them before anything is sent, since Rekognition, comparing the
            best frame alone, would answer for whoever is in it.

        Raises
        ------
        LiveFacesDiffer
            With ``one_person``: the live frames are not all one person.
        """
        if self.cloud is None:
            assert self._last_error is not None
            return self._offline(frames, reference, self._last_error, skipped=True,
                                 one_person=one_person)
        now = self._clock()
        if self._down_until is None or now >= self._down_until:
            if one_person:
                self.local.check_frames_one_person(frames)
            try:
                result = self.cloud.compare_frames(frames, reference)
            except FALLBACK_ERRORS as exc:
                self._down_until = now + self.cooldown_s
                self._last_error = exc
                log.warning("cloud matcher unavailable (%s); using the local matcher for %.0f s",
                            exc.code, self.cooldown_s)
                return self._offline(frames, reference, exc, skipped=False)  # checked above
            self._down_until = None
            self._last_error = None
            return result
        assert self._last_error is not None
        return self._offline(frames, reference, self._last_error, skipped=True,
                             one_person=one_person)

    def search(self, live: np.ndarray, *, live_box: BoxLike | None = None) -> SearchResult:
        """Rekognition's search of the members' collection. The collection exists only
        there: when the cloud cannot be used (or was not moments ago) the error is raised,
        with no local stand-in (the session then asks staff to review)."""
        now = self._clock()
        if self.cloud is None or (self._down_until is not None and now < self._down_until):
            assert self._last_error is not None
            skipped = copy.copy(self._last_error)
            skipped.operations = ()  # nothing was sent this time
            raise skipped
        try:
            result = self.cloud.search(live, live_box=live_box)
        except FALLBACK_ERRORS as exc:
            self._down_until = now + self.cooldown_s
            self._last_error = exc
            raise
        self._down_until = None
        self._last_error = None
        return result

    def _offline(self, frames: Sequence[LiveFrame], reference: np.ndarray, cause: CloudError,
                 *, skipped: bool, one_person: bool = False) -> MatchResult:
        result = self.local.compare_frames(frames, reference, one_person=one_person)
        when = ("cannot be used" if self.cloud is None else
                "was unavailable moments ago" if skipped else "is unavailable")
        note = f"Rekognition {when} ({cause}); matched offline with the local matcher"
        # The calls of this comparison that may have reached AWS stay on record (the audit's
        # cloud_calls); a skipped cloud made none.
        sent = () if skipped else cause.operations
        return dataclasses.replace(result, offline=True, note=note, operations=sent,
                                   calls=len(sent), reasons=(cause.code,) + result.reasons)
