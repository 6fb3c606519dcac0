"""The offline matcher: dlib's ResNet face descriptor with 5-point alignment.

Models come from the ``face-recognition-models`` package (CC0): the 5-point landmark predictor
and the ResNet descriptor network. The 68-point predictor is deliberately not used (its
training data bars commercial use). Both are loaded once, in ``__init__``; one comparison then
costs a detection per image without a box (about 40 ms at 640x480) plus about 20-80 ms per
descriptor on one core.

Descriptors are kept in memory only for the comparison and are never logged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlib
import face_recognition_models
import numpy as np

from kiosk.cloud.calibration import DLIB_SCALE, SimilarityScale
from kiosk.cloud.detect import COMPARABLE_FACE_RATIO, HogFaceDetector, comparable_faces, single_face
from kiosk.cloud.images import check_image
from kiosk.cloud.protocol import BoxLike
from kiosk.cloud.results import FaceBox, MatchResult
from kiosk.errors import ResourceError
from kiosk.reasons import Reason

log = logging.getLogger(__name__)

#: dlib's HOG box is a square about 1.1 times as wide as MediaPipe's landmark box, on the same
#: centre (median 1.10 over the 33 faces of the developer set, range 0.94-1.66; the centres
#: agreed within 5% of the width for most). Used as the search area for dlib's own box, and as
#: the alignment box when dlib does not see the tracked face.
LANDMARK_BOX_TO_DLIB = 1.10


def dlib_box_from_landmark_box(box: BoxLike, scale: float = LANDMARK_BOX_TO_DLIB) -> FaceBox:
    """Square dlib-style face box around a landmark box (MediaPipe's ``Face.box``)."""
    box = FaceBox.of(box)
    cx, cy = box.center
    half = scale * box.width / 2.0
    return FaceBox(cx - half, cy - half, cx + half, cy + half)


@dataclass(frozen=True, eq=False)
class FaceEmbedding:
    """A face's descriptor with the box it came from.

    ``vector`` (128 floats) is excluded from ``repr`` so that it never reaches a log line.
    """

    box: FaceBox
    faces: int
    vector: np.ndarray = field(repr=False)


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

    Raises
    ------
    ResourceError
        The model files of ``face-recognition-models`` are missing or unreadable.
    """

    name = "local"

    def __init__(self, threshold: float = 95.0, *, scale: SimilarityScale = DLIB_SCALE,
                 detector: HogFaceDetector | None = None) -> None:
        if not 0.0 <= threshold <= 100.0:
            raise ValueError(f"threshold must be between 0 and 100, got {threshold}")
        self.threshold = float(threshold)
        self.scale = scale
        self.detector = detector if detector is not None else HogFaceDetector()
        predictor = Path(face_recognition_models.pose_predictor_five_point_model_location())
        network = Path(face_recognition_models.face_recognition_model_location())
        for path in (predictor, network):
            if not path.is_file():
                raise ResourceError(f"face model {path} is missing; reinstall the "
                                    "face-recognition-models package")
        try:
            self._predictor = dlib.shape_predictor(str(predictor))
            self._network = dlib.face_recognition_model_v1(str(network))
        except RuntimeError as exc:
            raise ResourceError(f"face models could not be loaded: {exc}") from None
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
            the whole image, which must show exactly one face of comparable size.
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
        return FaceEmbedding(box=face_box, faces=faces, vector=self._descriptor(image, face_box))

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

    def _descriptor(self, image: np.ndarray, box: FaceBox) -> np.ndarray:
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        rect = dlib.rectangle(int(round(box.x0)), int(round(box.y0)),
                              int(round(box.x1)) - 1, int(round(box.y1)) - 1)
        shape = self._predictor(rgb, rect)
        # num_jitters=0: jittering cost 10x the time and did not widen the same/different gap
        # on the developer pairs; padding 0.25 is dlib's default chip margin.
        vector = self._network.compute_face_descriptor(rgb, shape, 0, 0.25)
        return np.asarray(vector, dtype=np.float64)

    def compare_embeddings(self, live: FaceEmbedding, reference: FaceEmbedding) -> MatchResult:
        """Match two embeddings made by :meth:`embed`."""
        distance = float(np.linalg.norm(live.vector - reference.vector))
        similarity = self.scale.similarity(distance)
        matched = similarity >= self.threshold
        reasons = (Reason.MATCH_OFFLINE,) if matched else (Reason.MATCH_BELOW_THRESHOLD, Reason.MATCH_OFFLINE)
        return MatchResult(matched=matched, similarity=similarity, threshold=self.threshold,
                           matcher=self.name, offline=True, face_box=live.box,
                           live_faces=live.faces, calls=0, reasons=reasons, distance=distance)

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
        check_image(reference, "reference")
        ref = self.embed(reference, what="the reference photo")
        if live_box is None:
            boxes = self.detector.detect(live)
            count = comparable_faces(boxes, COMPARABLE_FACE_RATIO)
            if count != 1:
                reason = Reason.MATCH_NO_FACE_LIVE if count == 0 else Reason.MATCH_SEVERAL_FACES_LIVE
                return MatchResult(matched=False, similarity=None, threshold=self.threshold,
                                   matcher=self.name, offline=True, live_faces=count,
                                   reasons=(reason, Reason.MATCH_OFFLINE))
            live_embedding = FaceEmbedding(box=boxes[0], faces=1,
                                           vector=self._descriptor(live, boxes[0]))
        else:
            live_embedding = self.embed(live, live_box)
        return self.compare_embeddings(live_embedding, ref)
