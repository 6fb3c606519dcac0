"""Amazon Rekognition as the primary face matcher.

Verification (:meth:`RekognitionMatcher.compare_frames`) makes two calls in the common path:
DetectFaces with all attributes on the best live frame (quality, pose, eyes, the one-face
cross-check), then CompareFaces of the reference photo (source) against that frame (target).
When DetectFaces rejects the frame for quality (blurred, dark, turned, eyes closed, covered, or
no face it could read) and the session offered a second frame, that one is checked instead (at
most three calls, only then: DetectFaces twice, CompareFaces once); when every offered frame is rejected the faces are not compared
and the result carries the quality gate's ``LIVE_*`` reasons (a retry at a kiosk, a review at a
staffed desk) instead of a similarity read as "another person". Member check-in searches the
configured collection; enrolment and the AWS Face Liveness calls are in
:mod:`kiosk.cloud.collection` and :mod:`kiosk.cloud.liveness` and exposed here as methods.

The boto3 client is built by the composition root (:func:`make_rekognition_client`) and passed
in, so tests can give a stubbed or moto-backed client.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from kiosk.cloud import collection, liveness, timing
from kiosk.cloud.aws import RekognitionCaller
from kiosk.cloud.detect import COMPARABLE_FACE_RATIO, HogFaceDetector, comparable_faces
from kiosk.cloud.errors import CloudError, SeveralFaces
from kiosk.cloud.images import check_image, encode_jpeg
from kiosk.cloud.parse import (
    DEFAULT_LIMITS,
    QualityLimits,
    box_from_ratios,
    match_from_compare,
    quality_report,
    search_matches,
)
from kiosk.cloud.protocol import BoxLike, LiveFrame
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
#: DetectFaces findings that another frame of the same session can cure, with the quality
#: gate's code the person is told (None: no sentence for the person). Several faces and a face
#: elsewhere than the tracked one are not among them: those fail the match outright.
RETRYABLE: dict[str, str | None] = {Reason.CLOUD_EYES_CLOSED: Reason.LIVE_EYES_CLOSED,
                                    Reason.CLOUD_POSE: Reason.LIVE_FACE_NOT_FRONTAL,
                                    Reason.CLOUD_BLURRY: Reason.LIVE_FACE_BLURRED,
                                    Reason.CLOUD_DARK: Reason.LIVE_FACE_DARK,
                                    Reason.CLOUD_OCCLUDED: Reason.LIVE_FACE_COVERED,
                                    Reason.CLOUD_QUALITY_NO_FACE: None}
#: Frames tried at most (each costs a DetectFaces; the common path uses one).
MAX_FRAMES = 2


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
    call_limit_s : float, optional
        Longest one call may take in all, then abandoned as CloudTimeout (see
        :class:`~kiosk.cloud.aws.RekognitionCaller`); None: botocore's time-outs alone.
    """

    name = "rekognition"

    def __init__(self, client: Any, *, threshold: float = 95.0, quality_filter: str = "AUTO",
                 collection_id: str = "", liveness_threshold: float = 90.0,
                 limits: QualityLimits = DEFAULT_LIMITS,
                 reference_detector: HogFaceDetector | None = None,
                 cross_check: bool = True, call_limit_s: float | None = None) -> None:
        if quality_filter not in QUALITY_FILTERS:
            raise ValueError(f"quality_filter must be one of {QUALITY_FILTERS}, got "
                             f"{quality_filter!r}")
        if not 0.0 <= threshold <= 100.0:
            raise ValueError(f"threshold must be between 0 and 100, got {threshold}")
        self.call = RekognitionCaller(client, limit_s=call_limit_s)
        self.threshold = float(threshold)
        self.quality_filter = quality_filter
        self.collection_id = collection_id
        self.liveness_threshold = float(liveness_threshold)
        self.limits = limits
        self.reference_detector = reference_detector
        self.cross_check = cross_check

    @classmethod
    def from_settings(cls, client: Any, settings: Any, **kwargs: Any) -> RekognitionMatcher:
        """A matcher configured from ``settings.matching`` and ``settings.liveness``; each
        call abandoned at :func:`kiosk.cloud.timing.call_limit_s`."""
        matching = settings.matching
        kwargs.setdefault("call_limit_s", timing.call_limit_s(matching))
        return cls(client, threshold=matching.similarity_threshold,
                   quality_filter=matching.quality_filter, collection_id=matching.collection_id,
                   liveness_threshold=settings.liveness.confidence_threshold, **kwargs)

    # -- verification -------------------------------------------------------------------

    def compare(self, live: np.ndarray, reference: np.ndarray, *,
                live_box: BoxLike | None = None) -> MatchResult:
        """One live frame: DetectFaces then CompareFaces, two calls (see
        :meth:`compare_frames`)."""
        check_image(live, "live")
        return self.compare_frames([LiveFrame(live, live_box)], reference)

    def compare_frames(self, frames: Sequence[LiveFrame],
                       reference: np.ndarray) -> MatchResult:
        """The quality check and CompareFaces on the first acceptable of the first two frames.

        Parameters
        ----------
        frames : sequence of LiveFrame
            Live frames, best first (BGR images with their tracked boxes; the match must be
            on the tracked face).
        reference : ndarray (H, W, 3) uint8
            ID or member photo, BGR, upright.

        Returns
        -------
        MatchResult
            ``operations`` lists the calls in order; ``compared`` is False when DetectFaces
            rejected every frame tried (the faces were then not compared).

        Raises
        ------
        SeveralFaces
            The reference shows several comparable faces (with ``reference_detector``).
        NoFaceInImage
            Rekognition found no face in the reference photo.
        CloudError
            Service, network or credential failures (see :mod:`kiosk.cloud.aws`).
        """
        if not frames:
            raise ValueError("frames must hold at least one live frame")
        for frame in frames:
            check_image(frame.image, "live")
        check_image(reference, "reference")
        self._check_reference(reference)
        with self.call.recording() as sent:
            try:
                return self._compare(frames, reference)
            except CloudError as exc:
                exc.operations = tuple(sent)  # the faces that may have reached AWS
                raise

    def _compare(self, frames: Sequence[LiveFrame], reference: np.ndarray) -> MatchResult:
        """:meth:`compare_frames` after its checks."""
        before = self.call.count
        operations: list[str] = []
        rejected: list[QualityReport] = []
        for frame in frames[:MAX_FRAMES if self.cross_check else 1]:
            box = None if frame.box is None else FaceBox.of(frame.box)
            live_jpeg = encode_jpeg(frame.image)
            quality = None
            if self.cross_check:
                quality = self._quality(live_jpeg, frame.image.shape, box)
                operations.append("DetectFaces")
                if set(quality.reasons) & set(RETRYABLE):
                    rejected.append(quality)
                    continue
            response = self.call("CompareFaces",
                                 SourceImage={"Bytes": encode_jpeg(reference)},
                                 TargetImage={"Bytes": live_jpeg},
                                 SimilarityThreshold=self.threshold,
                                 QualityFilter=self.quality_filter)
            operations.append("CompareFaces")
            result = match_from_compare(response, frame.image.shape, self.threshold, box)
            extra = () if quality is None else quality.reasons
            return dataclasses.replace(result, calls=self.call.count - before, quality=quality,
                                       reasons=result.reasons + extra,
                                       operations=tuple(operations))
        first = rejected[0]
        gate = tuple(dict.fromkeys(code for r in first.reasons
                                   if (code := RETRYABLE.get(r)) is not None))
        log.info("Rekognition refused %d live frame(s) for quality: %s", len(rejected),
                 ", ".join(first.reasons))
        return MatchResult(matched=False, similarity=None, threshold=self.threshold,
                           matcher=self.name, offline=False, face_box=first.box,
                           live_faces=first.faces, calls=self.call.count - before,
                           reasons=first.reasons + gate, quality=first, compared=False,
                           frames=len(rejected), operations=tuple(operations))

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
        with self.call.recording() as sent:
            try:
                response = self.call("SearchFacesByImage", CollectionId=collection_id,
                                     Image={"Bytes": jpeg}, MaxFaces=max_faces,
                                     FaceMatchThreshold=self.threshold,
                                     QualityFilter=self.quality_filter)
                raw_box = response.get("SearchedFaceBoundingBox")
                searched = None if raw_box is None else box_from_ratios(raw_box, live.shape)
                reasons: tuple[str, ...] = ()
                if box is not None and searched is not None and not same_face(searched, box):
                    reasons = (Reason.MATCH_OTHER_FACE,)
                report = self._quality(jpeg, live.shape, box) if quality else None
            except CloudError as exc:
                exc.operations = tuple(sent)  # the face went out with each of them
                raise
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
