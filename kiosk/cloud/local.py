"""The offline matcher: dlib's ResNet face descriptor with 5-point alignment.

Models come from the ``face-recognition-models`` package (CC0): the 5-point landmark predictor
(:mod:`kiosk.cloud.align`) and the ResNet descriptor network. The 68-point predictor is
deliberately not used (its training data bars commercial use). Both are loaded once, in
``__init__``; one comparison then costs a detection per image without a box (about 40 ms at
640x480) plus about 20-130 ms per descriptor on one core.

Several live frames: :meth:`LocalMatcher.compare_frames` describes each frame that passes the
quality gate and compares the ID photo with the **mean of their descriptors** (each frame's
pose, expression and noise differ; their mean is nearer the person's own point, as dlib's
jittering averages perturbed copies of one image). Rekognition is still sent one frame. Asked
for ``one_person``, frames of which two would not match each other are refused
(:class:`~kiosk.cloud.one_person.LiveFacesDiffer`) instead: a mean of two people's descriptors can match either.

Descriptors are kept in memory only for the comparison and are never logged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dlib
import face_recognition_models
import numpy as np

from kiosk.cloud.align import AlignedFace, FaceAligner, load_model
from kiosk.cloud.calibration import DLIB_SCALE, SimilarityScale
from kiosk.cloud.detect import COMPARABLE_FACE_RATIO, HogFaceDetector, comparable_faces, single_face
from kiosk.cloud.errors import NoCredentials
from kiosk.cloud.face_quality import (
    DEFAULT_GATE,
    LIVE,
    REFERENCE,
    FaceQuality,
    GateLimits,
    gate_reasons,
    measure,
)
from kiosk.cloud.images import check_image
from kiosk.cloud.one_person import check_one_person
from kiosk.cloud.protocol import BoxLike, LiveFrame
from kiosk.cloud.results import FaceBox, MatchResult, SearchResult
from kiosk.reasons import Reason
from kiosk.resources import DLIB_DESCRIPTOR_SHA256

log = logging.getLogger(__name__)

#: dlib's HOG box is a square about 1.1 times as wide as MediaPipe's landmark box, on the same
#: centre (median 1.10 over the 33 faces of the developer set, range 0.94-1.66; the centres
#: agreed within 5% of the width for most). Used as the search area for dlib's own box, and as
#: the alignment box when dlib does not see the tracked face.
LANDMARK_BOX_TO_DLIB = 1.10
#: Most live frames combined by :meth:`LocalMatcher.compare_frames` (each costs a descriptor).
MAX_LIVE_FRAMES = 5


def dlib_box_from_landmark_box(box: BoxLike, scale: float = LANDMARK_BOX_TO_DLIB) -> FaceBox:
    """Square dlib-style face box around a landmark box (MediaPipe's ``Face.box``)."""
    box = FaceBox.of(box)
    cx, cy = box.center
    half = scale * box.width / 2.0
    return FaceBox(cx - half, cy - half, cx + half, cy + half)


@dataclass(frozen=True, eq=False)
class FaceEmbedding:
    """A face's descriptor with the box it came from and its quality.

    ``vector`` (128 floats) is excluded from ``repr`` so that it never reaches a log line.
    """

    box: FaceBox
    faces: int
    vector: np.ndarray = field(repr=False)
    quality: FaceQuality | None = None


class LocalMatcher:
    """Face matching without a network.

    Parameters
    ----------
    threshold : float
        Similarity (0-100) needed for a match (``settings.matching.similarity_threshold``).
    scale : SimilarityScale
        Distance-to-similarity map; the calibrated :data:`DLIB_SCALE` by default.
    detector : HogFaceDetector, optional
        Shared detector; one is built when omitted.
    gate : GateLimits or None
        The quality gate's limits (:mod:`kiosk.cloud.face_quality`); None compares every face
        whatever its quality (evaluation only).
    max_frames : int
        Most live frames combined by :meth:`compare_frames`.

    Raises
    ------
    ResourceError
        The model files of ``face-recognition-models`` are missing, unreadable or not the
        pinned ones (:mod:`kiosk.resources`).
    """

    name = "local"

    def __init__(self, threshold: float = 95.0, *, scale: SimilarityScale = DLIB_SCALE,
                 detector: HogFaceDetector | None = None,
                 gate: GateLimits | None = DEFAULT_GATE,
                 max_frames: int = MAX_LIVE_FRAMES) -> None:
        if not 0.0 <= threshold <= 100.0:
            raise ValueError(f"threshold must be between 0 and 100, got {threshold}")
        if max_frames < 1:
            raise ValueError(f"max_frames must be at least 1, got {max_frames}")
        self.threshold = float(threshold)
        self.scale = scale
        self.gate = gate
        self.max_frames = int(max_frames)
        self.detector = detector if detector is not None else HogFaceDetector()
        self.aligner = FaceAligner()
        self._network = load_model(face_recognition_models.face_recognition_model_location(),
                                   dlib.face_recognition_model_v1, DLIB_DESCRIPTOR_SHA256)
        log.info("local matcher ready (threshold %.1f = distance %.3f)", self.threshold,
                 self.threshold_distance)

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> LocalMatcher:
        """A matcher with the threshold of ``settings.matching``."""
        return cls(settings.matching.similarity_threshold, **kwargs)

    @property
    def threshold_distance(self) -> float:
        """The descriptor distance that corresponds to the threshold."""
        if self.threshold <= 0.0:
            return math.inf
        if self.threshold >= 100.0:
            return 0.0
        return self.scale.distance_at(self.threshold)

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Faces in ``image`` (BGR (H, W, 3) uint8), largest first."""
        return self.detector.detect(image)

    # -- descriptors --------------------------------------------------------------------

    def embed(self, image: np.ndarray, box: BoxLike | None = None, *,
              what: str = "the image") -> FaceEmbedding:
        """The descriptor of the one face in ``image``, or of the face in ``box``.

        Parameters
        ----------
        image : ndarray (H, W, 3) uint8
            BGR pixels; not modified.
        box : FaceBox or (x0, y0, x1, y1), optional
            A tracked landmark box (MediaPipe's): the face there is described, with dlib's box
            from a detection in a small crop around it when dlib sees the face, else the box
            converted with :func:`dlib_box_from_landmark_box`. Without it the detector runs on
            the whole image (padded and with the CNN fallback when needed), which must show
            exactly one face of comparable size.
        what : str
            How error messages name the image.

        Raises
        ------
        NoFaceInImage, SeveralFaces
            Without ``box``: no face, or several of comparable size.
        """
        check_image(image)
        if box is not None:
            face_box, faces = self._box_for_alignment(image, box), 1
        else:
            boxes = self.detector.detect(image)
            face_box = single_face(boxes, what)
            faces = comparable_faces(boxes)
        return self._describe(image, face_box, faces)

    def _describe(self, image: np.ndarray, box: FaceBox, faces: int) -> FaceEmbedding:
        aligned = self.aligner.align(image, box)
        return FaceEmbedding(box=box, faces=faces, vector=self._vector(aligned),
                             quality=measure(aligned))

    def _vector(self, aligned: AlignedFace) -> np.ndarray:
        # The chip is the one compute_face_descriptor cuts itself (150 px, padding 0.25).
        # No jitter: it cost 10x the time and did not widen the same/different gap here.
        return np.asarray(self._network.compute_face_descriptor(aligned.chip), np.float64)

    def _box_for_alignment(self, image: np.ndarray, box: BoxLike) -> FaceBox:
        """dlib's own box for the tracked face, or the converted landmark box.

        The 5-point predictor was trained on dlib-detector boxes. A landmark box converted by
        a fixed factor is close for frontal faces but off when the head is turned or tilted
        (on the developer pairs it moved one replay frame from distance 0.33 to 0.47), so the
        detector is run in a small crop around the tracked face first.
        """
        guess = dlib_box_from_landmark_box(box)
        found = self.detector.detect_near(image, guess)
        return found if found is not None else guess

    # -- comparisons --------------------------------------------------------------------

    def gate_reasons(self, embedding: FaceEmbedding, side: str) -> tuple[str, ...]:
        """The quality gate's reasons for one face (none without a gate)."""
        if self.gate is None or embedding.quality is None:
            return ()
        return gate_reasons(embedding.quality, side, self.gate)

    def compare_embeddings(self, live: FaceEmbedding | Sequence[FaceEmbedding],
                           reference: FaceEmbedding, *, one_person: bool = False
                           ) -> MatchResult:
        """Match embeddings made by :meth:`embed` (several live ones are combined).

        Several live embeddings are combined by the mean of their descriptors. The quality
        gate applies to each side first: a reference that fails it, or live embeddings of
        which none passes, give an uncompared result (``compared`` False) with the gate's
        reasons; live embeddings that fail are left out of the mean.

        Parameters
        ----------
        one_person : bool
            Refuse live embeddings that pass the gate but would not match each other
            (:func:`~kiosk.cloud.one_person.check_one_person`) rather than combine them.

        Raises
        ------
        LiveFacesDiffer
            With ``one_person``: the live embeddings are not all one person.
        """
        lives = [live] if isinstance(live, FaceEmbedding) else list(live)
        if not lives:
            raise ValueError("live must hold at least one embedding")
        refused = self.gate_reasons(reference, REFERENCE)
        if refused:
            return self._uncompared(lives[0], refused, len(lives))
        passed = self._passed(lives)
        if not passed:
            return self._uncompared(lives[0], self.gate_reasons(lives[0], LIVE), 0)
        if one_person:
            check_one_person([e.vector for e in passed], self.threshold_distance)
        vector = np.mean([e.vector for e in passed], axis=0)
        distance = float(np.linalg.norm(vector - reference.vector))
        similarity = self.scale.similarity(distance)
        matched = similarity >= self.threshold
        reasons = (Reason.MATCH_OFFLINE,) if matched else (Reason.MATCH_BELOW_THRESHOLD,
                                                           Reason.MATCH_OFFLINE)
        return MatchResult(matched=matched, similarity=similarity, threshold=self.threshold,
                           matcher=self.name, offline=True, face_box=passed[0].box,
                           live_faces=passed[0].faces, calls=0, reasons=reasons,
                           distance=distance, frames=len(passed))

    def _passed(self, lives: Sequence[FaceEmbedding]) -> list[FaceEmbedding]:
        """The live embeddings the gate lets through, at most ``max_frames``: those combined."""
        return [e for e in lives if not self.gate_reasons(e, LIVE)][:self.max_frames]

    def _uncompared(self, live: FaceEmbedding, reasons: tuple[str, ...],
                    frames: int) -> MatchResult:
        return MatchResult(matched=False, similarity=None, threshold=self.threshold,
                           matcher=self.name, offline=True, face_box=live.box,
                           live_faces=live.faces, reasons=reasons + (Reason.MATCH_OFFLINE,),
                           compared=False, frames=frames)

    def compare(self, live: np.ndarray, reference: np.ndarray, *,
                live_box: BoxLike | None = None) -> MatchResult:
        """Compare the live face with the reference photo's face (see ``FaceMatcher``).

        Without ``live_box``, a live image with no face gives a non-match with
        ``MATCH_NO_FACE_LIVE``, and one with several comparable faces a non-match with
        ``MATCH_SEVERAL_FACES_LIVE`` (the kiosk cannot tell who is being verified).

        Raises
        ------
        NoFaceInImage, SeveralFaces
            The reference photo has no face, or several of comparable size.
        """
        check_image(live, "live")
        return self.compare_frames([LiveFrame(live, live_box)], reference)

    def search(self, live: np.ndarray, *, live_box: BoxLike | None = None) -> SearchResult:
        """Member check-in cannot be done locally: the members' faces are in Rekognition.

        Raises
        ------
        NoCredentials
            Always (code ``CLOUD_NO_CREDENTIALS``): the session asks staff to review.
        """
        raise NoCredentials("member check-in searches the members' collection in Rekognition, "
                            "and this kiosk matches locally (no AWS configuration, or "
                            "matching.matcher = local)")

    def compare_frames(self, frames: Sequence[LiveFrame], reference: np.ndarray, *,
                       one_person: bool = False) -> MatchResult:
        """Compare up to ``max_frames`` live frames (best first) with the reference photo.

        Each frame with a tracked box is described at that box; a frame without one must
        show exactly one face of comparable size, else it is left out (and when no frame is
        left, the first one's problem is the answer: ``MATCH_NO_FACE_LIVE`` or
        ``MATCH_SEVERAL_FACES_LIVE``). The quality gate and the combination are those of
        :meth:`compare_embeddings`.

        Parameters
        ----------
        one_person : bool
            Refuse frames that are not all one person instead of combining them (``kiosk
            match``; a session's frames passed its changed-face checks already).

        Raises
        ------
        NoFaceInImage, SeveralFaces
            The reference photo has no face, or several of comparable size.
        LiveFacesDiffer
            With ``one_person``: the live frames are not all one person.
        ValueError
            ``frames`` is empty or holds something other than (H, W, 3) uint8 images.
        """
        self._check_frames(frames)
        check_image(reference, "reference")
        ref = self.embed(reference, what="the reference photo")
        lives, problem = self._live_embeddings(frames)
        if not lives:
            assert problem is not None
            return problem
        return self.compare_embeddings(lives, ref, one_person=one_person)

    def check_frames_one_person(self, frames: Sequence[LiveFrame]) -> None:
        """Refuse live frames that are not all one person, described and gated as
        :meth:`compare_frames` would combine them (before Rekognition compares the best one).

        Raises
        ------
        LiveFacesDiffer
            The live frames are not all one person.
        ValueError
            ``frames`` is empty or holds something other than (H, W, 3) uint8 images.
        """
        self._check_frames(frames)
        lives, _ = self._live_embeddings(frames)
        check_one_person([e.vector for e in self._passed(lives)], self.threshold_distance)

    @staticmethod
    def _check_frames(frames: Sequence[LiveFrame]) -> None:
        if not frames:
            raise ValueError("frames must hold at least one live frame")
        for frame in frames:
            check_image(frame.image, "live")

    def _live_embeddings(self, frames: Sequence[LiveFrame]
                         ) -> tuple[list[FaceEmbedding], MatchResult | None]:
        """The descriptors of up to ``max_frames`` live frames, and the first frame's problem
        (no face, or several of comparable size, in a frame without a tracked box)."""
        lives: list[FaceEmbedding] = []
        problem: MatchResult | None = None
        for frame in frames[:self.max_frames]:
            if frame.box is not None:
                lives.append(self.embed(frame.image, frame.box))
                continue
            boxes = self.detector.detect(frame.image)
            count = comparable_faces(boxes, COMPARABLE_FACE_RATIO)
            if count == 1:
                lives.append(self._describe(frame.image, boxes[0], 1))
            elif problem is None:
                reason = (Reason.MATCH_NO_FACE_LIVE if count == 0
                          else Reason.MATCH_SEVERAL_FACES_LIVE)
                problem = MatchResult(matched=False, similarity=None, threshold=self.threshold,
                                      matcher=self.name, offline=True, live_faces=count,
                                      reasons=(reason, Reason.MATCH_OFFLINE), frames=0)
        return lives, problem
