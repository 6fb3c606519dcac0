"""Value types returned by the face matchers, and their reason codes.

Every matcher answer is one of these frozen dataclasses, never a raw service response. None of
them holds an image or an embedding in a field that appears in ``repr`` or ``as_dict``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FaceBox:
    """A face rectangle in pixels of the image it was found in: ``(x0, y0)`` top left,
    ``(x1, y1)`` bottom right, exclusive."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0

    def contains(self, x: float, y: float) -> bool:
        """Whether the point ``(x, y)`` lies inside the box."""
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x1, self.y1

    @classmethod
    def of(cls, box: FaceBox | tuple[float, float, float, float]) -> FaceBox:
        """Accept a FaceBox or an ``(x0, y0, x1, y1)`` tuple (MediaPipe's box of a Face)."""
        if isinstance(box, FaceBox):
            return box
        x0, y0, x1, y1 = (float(v) for v in box)
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"box must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {box}")
        return cls(x0, y0, x1, y1)


def same_face(a: FaceBox, b: FaceBox) -> bool:
    """Whether two boxes from different detectors frame the same face.

    Detectors draw different rectangles around one face (MediaPipe's landmark box is taller than
    Rekognition's or dlib's), so overlap ratios are unreliable; each centre lying inside the
    other box is a robust test that still separates two people side by side.
    """
    return a.contains(*b.center) and b.contains(*a.center)


@dataclass(frozen=True)
class QualityReport:
    """Rekognition DetectFaces on the live frame, checked against quality limits.

    Attributes
    ----------
    faces : int
        Faces Rekognition found.
    reasons : tuple of str
        ``CLOUD_*`` codes of every failed check; empty when the frame passed.
    box : FaceBox or None
        Largest face, in pixels of the live frame.
    eyes_open : bool or None
        Rekognition's EyesOpen value for the largest face.
    yaw, pitch, roll : float or None
        Rekognition's pose in degrees.
    sharpness, brightness : float or None
        Rekognition's image quality of the face, 0-100.
    confidence : float or None
        Rekognition's face-detection confidence, 0-100.
    """

    faces: int
    reasons: tuple[str, ...]
    box: FaceBox | None = None
    eyes_open: bool | None = None
    yaw: float | None = None
    pitch: float | None = None
    roll: float | None = None
    sharpness: float | None = None
    brightness: float | None = None
    confidence: float | None = None

    @property
    def passed(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class MatchResult:
    """The answer to "is the live face the person in the reference photo?".

    Attributes
    ----------
    matched : bool
        True when the similarity reached the threshold on the tracked face.
    similarity : float or None
        0-100. Rekognition reports similarities only at or above the threshold it is sent, so
        it is None for a Rekognition non-match. The local matcher always reports one, on the
        scale documented in :mod:`kiosk.cloud.calibration`.
    threshold : float
        The similarity threshold that was applied.
    matcher : str
        ``"rekognition"`` or ``"local"``: who actually answered.
    offline : bool
        True when no cloud service took part (the local matcher answered).
    face_box : FaceBox or None
        The compared face in the live image, in pixels.
    live_faces : int
        Faces found in the live image.
    calls : int
        Rekognition API operations made for this result (retries not counted).
    reasons : tuple of str
        Reason codes: why it did not match, quality problems, why it is offline.
    quality : QualityReport or None
        The DetectFaces cross-check, when one was made.
    distance : float or None
        Euclidean descriptor distance (local matcher only).
    note : str
        A plain sentence for the operator, e.g. why the cloud was not used.
    compared : bool
        False when the quality gate stopped the comparison (a face too small, blurred, dark
        or turned, on either side; the reasons say which): ``matched`` is then False without
        meaning "another person", and ``similarity`` is None.
    frames : int
        Live frames the answer rests on (the local matcher combines several; Rekognition
        compares one).
    operations : tuple of str
        Rekognition operations made, in order (``calls`` counts them).
    """

    matched: bool
    similarity: float | None
    threshold: float
    matcher: str
    offline: bool
    face_box: FaceBox | None = None
    live_faces: int = 1
    calls: int = 0
    reasons: tuple[str, ...] = ()
    quality: QualityReport | None = None
    distance: float | None = None
    note: str = ""
    compared: bool = True
    frames: int = 1
    operations: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON output and the audit log."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SearchMatch:
    """One enrolled face that matched a search."""

    external_id: str
    face_id: str
    similarity: float


@dataclass(frozen=True)
class SearchResult:
    """SearchFacesByImage against the members' collection.

    ``matches`` are sorted by similarity, best first; ``member`` is the best match's external id
    or None. ``quality`` holds the DetectFaces cross-check when it was requested.
    """

    collection_id: str
    threshold: float
    matches: tuple[SearchMatch, ...]
    face_box: FaceBox | None
    calls: int
    reasons: tuple[str, ...] = ()
    quality: QualityReport | None = None

    @property
    def member(self) -> str | None:
        return self.matches[0].external_id if self.matches else None

    @property
    def matched(self) -> bool:
        return bool(self.matches) and not self.reasons


@dataclass(frozen=True)
class EnrolResult:
    """A member's face indexed into the collection."""

    collection_id: str
    member_id: str
    face_id: str
    created_collection: bool
    calls: int


@dataclass(frozen=True)
class RemoveResult:
    """A member's faces deleted from the collection."""

    collection_id: str
    member_id: str
    face_ids: tuple[str, ...]
    calls: int


@dataclass(frozen=True)
class LivenessResult:
    """The outcome of an AWS Face Liveness session.

    ``passed`` is True only for a SUCCEEDED session whose confidence reaches ``threshold``
    (``settings.liveness.confidence_threshold``). ``reference_image`` is the JPEG AWS returned
    for the session, kept out of ``repr`` so it never reaches a log line.
    """

    session_id: str
    status: str
    confidence: float | None
    threshold: float
    passed: bool
    reasons: tuple[str, ...]
    calls: int
    reference_image: bytes | None = field(default=None, repr=False, compare=False)
