"""Amazon Rekognition as the primary face matcher.

Verification (:meth:`RekognitionMatcher.compare`) makes exactly two calls: CompareFaces of the
reference photo (source) against the live best frame (target), and DetectFaces with all
attributes on the live frame as a quality cross-check. Member check-in searches the configured
collection; enrolment and the AWS Face Liveness calls are in :mod:`kiosk.cloud.collection` and
:mod:`kiosk.cloud.liveness` and exposed here as methods.

The boto3 client is built by the composition root (:func:`make_rekognition_client`) and passed
in, so tests can give a stubbed or moto-backed client.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np

from kiosk.cloud import collection, liveness
from kiosk.cloud.aws import RekognitionCaller
from kiosk.cloud.detect import COMPARABLE_FACE_RATIO, HogFaceDetector, comparable_faces
from kiosk.cloud.errors import SeveralFaces
from kiosk.cloud.images import check_image, encode_jpeg
from kiosk.cloud.parse import (
    DEFAULT_LIMITS,
    QualityLimits,
    box_from_ratios,
    match_from_compare,
    quality_report,
    search_matches,
)
from kiosk.cloud.protocol import BoxLike
from kiosk.cloud.results import (
    EnrolResult,
    FaceBox,
    LivenessResult,
    MatchResult,
    QualityReport,
    RemoveResult,
    SearchResult,
    same_face,
)
from kiosk.errors import ConfigError
from kiosk.reasons import Reason

log = logging.getLogger(__name__)

QUALITY_FILTERS = ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")


class RekognitionMatcher:
    """Face matching, search, enrolment and Face Liveness through Amazon Rekognition.

    Parameters
    ----------
    client : botocore client
        A ``rekognition`` client with time-outs and retries configured.
    threshold : float
        CompareFaces ``SimilarityThreshold`` and SearchFacesByImage ``FaceMatchThreshold``.
    quality_filter : str
        Rekognition ``QualityFilter`` (NONE, AUTO, LOW, MEDIUM, HIGH).
    collection_id : str
        Members' collection; empty disables search and enrolment.
    liveness_threshold : float
        Face Liveness confidence (0-100) needed to pass.
    limits : QualityLimits
        Limits of the DetectFaces cross-check.
    reference_detector : HogFaceDetector, optional
        When given, a reference photo showing several faces of comparable size is refused
        locally (SeveralFaces) before any call; CompareFaces alone would silently use the
        largest one.
    cross_check : bool
        Run the DetectFaces quality cross-check in :meth:`compare` (default). Without it a
        verification is one call and ``MatchResult.quality`` is None.
    """

    name = "rekognition"

    def __init__(self, client: Any, *, threshold: float = 95.0, quality_filter: str = "AUTO",
                 collection_id: str = "", liveness_threshold: float = 90.0,
                 limits: QualityLimits = DEFAULT_LIMITS,
                 reference_detector: HogFaceDetector | None = None,
                 cross_check: bool = True) -> None:
        if quality_filter not in QUALITY_FILTERS:
            raise ValueError(f"quality_filter must be one of {QUALITY_FILTERS}, got "
                             f"{quality_filter!r}")
        if not 0.0 <= threshold <= 100.0:
            raise ValueError(f"threshold must be between 0 and 100, got {threshold}")
        self.call = RekognitionCaller(client)
        self.threshold = float(threshold)
        self.quality_filter = quality_filter
        self.collection_id = collection_id
        self.liveness_threshold = float(liveness_threshold)
        self.limits = limits
        self.reference_detector = reference_detector
        self.cross_check = cross_check

    @classmethod
    def from_settings(cls, client: Any, settings: Any, **kwargs: Any) -> RekognitionMatcher:
        """A matcher configured from ``settings.matching`` and ``settings.liveness``."""
        matching = settings.matching
        return cls(client, threshold=matching.similarity_threshold,
                   quality_filter=matching.quality_filter, collection_id=matching.collection_id,
                   liveness_threshold=settings.liveness.confidence_threshold, **kwargs)

    # -- verification -------------------------------------------------------------------

    def compare(self, live: np.ndarray, reference: np.ndarray, *,
                live_box: BoxLike | None = None) -> MatchResult:
        """CompareFaces plus the DetectFaces cross-check: at most two Rekognition calls.

        Parameters
        ----------
        live : ndarray (H, W, 3) uint8
            Best live frame, BGR.
        reference : ndarray (H, W, 3) uint8
            ID or member photo, BGR, upright.
        live_box : FaceBox or (x0, y0, x1, y1), optional
            The tracked face in ``live``; the match must be on it.

        Raises
        ------
        SeveralFaces
            The reference shows several comparable faces (with ``reference_detector``).
        NoFaceInImage
            Rekognition found no face in the reference photo.
        CloudError
            Service, network or credential failures (see :mod:`kiosk.cloud.aws`).
        """
        check_image(live, "live")
        check_image(reference, "reference")
        box = None if live_box is None else FaceBox.of(live_box)
        self._check_reference(reference)
        before = self.call.count
        live_jpeg = encode_jpeg(live)
        response = self.call("CompareFaces", SourceImage={"Bytes": encode_jpeg(reference)},
                             TargetImage={"Bytes": live_jpeg},
                             SimilarityThreshold=self.threshold,
                             QualityFilter=self.quality_filter)
        result = match_from_compare(response, live.shape, self.threshold, box)
        if not self.cross_check:
            return dataclasses.replace(result, calls=self.call.count - before)
        quality = self._quality(live_jpeg, live.shape, box)
        return dataclasses.replace(result, calls=self.call.count - before, quality=quality,
                                   reasons=result.reasons + quality.reasons)

    def check_quality(self, live: np.ndarray, *, live_box: BoxLike | None = None) -> QualityReport:
        """DetectFaces with all attributes on the live frame (one call)."""
        check_image(live, "live")
        box = None if live_box is None else FaceBox.of(live_box)
        return self._quality(encode_jpeg(live), live.shape, box)

    def _quality(self, jpeg: bytes, shape: tuple[int, ...],
                 live_box: FaceBox | None) -> QualityReport:
        response = self.call("DetectFaces", Image={"Bytes": jpeg}, Attributes=["ALL"])
        return quality_report(response, shape, self.limits, live_box)

    def _check_reference(self, reference: np.ndarray) -> None:
        if self.reference_detector is None:
            return
        count = comparable_faces(self.reference_detector.detect(reference), COMPARABLE_FACE_RATIO)
        if count > 1:
            raise SeveralFaces(f"the reference photo shows {count} faces; it must show exactly "
                               "one person")

    # -- member check-in ----------------------------------------------------------------

    def search(self, live: np.ndarray, *, live_box: BoxLike | None = None,
               max_faces: int = 5, quality: bool = True) -> SearchResult:
        """SearchFacesByImage in the members' collection (plus DetectFaces when ``quality``).

        Rekognition searches with the largest face of the frame; when that is not the tracked
        face the result carries ``MATCH_OTHER_FACE`` and does not count as matched.

        Raises
        ------
        ConfigError
            ``matching.collection_id`` is empty.
        NoFaceInImage, CollectionNotFound, CloudError
            As mapped from Rekognition.
        """
        check_image(live, "live")
        collection_id = self._require_collection()
        box = None if live_box is None else FaceBox.of(live_box)
        before = self.call.count
        jpeg = encode_jpeg(live)
        response = self.call("SearchFacesByImage", CollectionId=collection_id,
                             Image={"Bytes": jpeg}, MaxFaces=max_faces,
                             FaceMatchThreshold=self.threshold, QualityFilter=self.quality_filter)
        raw_box = response.get("SearchedFaceBoundingBox")
        searched = None if raw_box is None else box_from_ratios(raw_box, live.shape)
        reasons: tuple[str, ...] = ()
        if box is not None and searched is not None and not same_face(searched, box):
            reasons = (Reason.MATCH_OTHER_FACE,)
        report = self._quality(jpeg, live.shape, box) if quality else None
        if report is not None:
            reasons += report.reasons
        return SearchResult(collection_id=collection_id, threshold=self.threshold,
                            matches=search_matches(response, self.threshold), face_box=searched,
                            calls=self.call.count - before, reasons=reasons, quality=report)

    def enrol(self, member_id: str, photo: np.ndarray) -> EnrolResult:
        """Index a member's photo (creating the collection if needed); see
        :func:`kiosk.cloud.collection.enrol`."""
        return collection.enrol(self.call, self._require_collection(), member_id, photo,
                                quality_filter=self.quality_filter)

    def remove(self, member_id: str, face_ids: tuple[str, ...] | None = None) -> RemoveResult:
        """Delete a member's faces; see :func:`kiosk.cloud.collection.remove`."""
        return collection.remove(self.call, self._require_collection(), member_id, face_ids)

    def _require_collection(self) -> str:
        if not self.collection_id:
            raise ConfigError("matching.collection_id is empty: set the Rekognition collection "
                              "of enrolled members to use member check-in and enrolment")
        return self.collection_id

    # -- AWS Face Liveness --------------------------------------------------------------

    def create_liveness_session(self, *, audit_images_limit: int = 0,
                                client_request_token: str | None = None) -> str:
        """Start an AWS Face Liveness session for AWS's client component; returns its id."""
        return liveness.create_session(self.call, audit_images_limit=audit_images_limit,
                                       client_request_token=client_request_token)

    def liveness_result(self, session_id: str) -> LivenessResult:
        """The session's outcome, compared with the liveness threshold."""
        return liveness.session_result(self.call, session_id, self.liveness_threshold)
