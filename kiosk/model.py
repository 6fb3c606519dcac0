"""Shared value types passed between the layers.

Everything here is a frozen dataclass or a plain constant: no behaviour beyond small derived
properties, no imports of other kiosk modules except the errors.

Direction conventions (used everywhere in the kiosk):

- ``yaw`` is positive when the subject turns their head to their **own left**, whatever the
  preview's mirroring (in an unmirrored camera frame their own left is image-right).
- ``pitch`` is positive when the subject looks **up** (chin up).
- ``roll`` is positive when the subject tilts their head toward their **own left** shoulder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

COMPARABLE_FACE_RATIO = 0.5
"""A second face counts as another person in the check (the tracker's ``n_faces``, the
matcher's count in a photo) when its width is at least this fraction of the largest face's.
Smaller faces are ignored: at the kiosk, the next person in a queue or someone walking past a
metre or more behind (a face half as wide is twice as far from the camera), a poster on the
wall; in an ID photo, the ghost portrait printed on many cards. Nothing is gained by showing a
small face: the check and the comparison are of the largest one."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One captured picture.

    Attributes
    ----------
    image : ndarray (H, W, 3) uint8
        BGR pixels, as OpenCV delivers them; never mirrored.
    seq : int
        Sequence number from the source, 0 for the first frame, +1 per delivered frame.
    t : float
        Monotonic timestamp in seconds. Live devices use ``time.monotonic()``; file sources run
        as fast as possible use the media position, which is monotonic too.
    media_t : float
        Seconds since the start of the source (the media timestamp for files).
    """

    image: np.ndarray
    seq: int
    t: float
    media_t: float

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the image."""
        return int(self.image.shape[0]), int(self.image.shape[1])


@dataclass(frozen=True, eq=False)
class Face:
    """Measurements of the main face in one frame.

    Attributes
    ----------
    box : tuple of float
        ``(x0, y0, x1, y1)`` in pixels, the landmarks' bounding box.
    landmarks : ndarray (478, 3) float32
        MediaPipe face mesh points; x and y in pixels, z in pixels on the same scale
        (smaller is closer to the camera).
    blendshapes : Mapping[str, float]
        MediaPipe blendshape scores in [0, 1] by their MediaPipe names (``eyeBlinkLeft``, ...).
        ``Left``/``Right`` in these names are the subject's own sides.
    yaw, pitch, roll : float
        Head pose in degrees, signs as in the module docstring.
    ear_left, ear_right : float
        Eye aspect ratio of the subject's own left and right eye (about 0.2-0.4 open, near 0
        closed).
    mouth_width : float
        Mouth corner distance divided by the inter-ocular distance.
    mouth_open : float
        Inner-lip gap divided by the mouth corner distance.
    sharpness : float
        Variance of the Laplacian of the grey face crop, resized to a fixed width.
    brightness : float
        Mean grey level of the face crop, 0-255.
    exposure : float
        Fraction of face-crop pixels that are clipped (<= 5 or >= 250).
    size : float
        Face box width divided by the frame width.
    interocular : float
        Distance between the eye centres in pixels.
    matrix : ndarray (4, 4) float32
        MediaPipe's facial transformation matrix.
    """

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    blendshapes: Mapping[str, float]
    yaw: float
    pitch: float
    roll: float
    ear_left: float
    ear_right: float
    mouth_width: float
    mouth_open: float
    sharpness: float
    brightness: float
    exposure: float
    size: float
    interocular: float
    matrix: np.ndarray

    @property
    def center(self) -> tuple[float, float]:
        """Centre of the face box in pixels."""
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2.0, (y0 + y1) / 2.0

    @property
    def width(self) -> float:
        """Face box width in pixels."""
        return self.box[2] - self.box[0]

    def blend(self, name: str) -> float:
        """One blendshape score, 0.0 when the name is absent."""
        return float(self.blendshapes.get(name, 0.0))

    @property
    def blink_left(self) -> float:
        return self.blend("eyeBlinkLeft")

    @property
    def blink_right(self) -> float:
        return self.blend("eyeBlinkRight")

    @property
    def smile(self) -> float:
        """Mean of the two mouth-smile blendshapes."""
        return (self.blend("mouthSmileLeft") + self.blend("mouthSmileRight")) / 2.0


@dataclass(frozen=True, eq=False)
class FaceObservation:
    """What the tracker saw in one frame.

    Attributes
    ----------
    seq, t, media_t :
        Copied from the :class:`Frame`.
    frame_shape : tuple of int
        (height, width) of the frame.
    n_faces : int
        Number of faces found at least :data:`COMPARABLE_FACE_RATIO` as wide as the main one
        (the landmarker looks for at most a small fixed number); 1 with a bystander far
        behind the person.
    face : Face or None
        The main (largest) face, None when there is none.
    """

    seq: int
    t: float
    media_t: float
    frame_shape: tuple[int, int]
    n_faces: int
    face: Face | None


@dataclass(frozen=True)
class Event:
    """One detected action, e.g. a blink from 1.20 s to 1.32 s.

    Times are the ``t`` of the first and last frame in which the action was seen.
    """

    action: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Signal:
    """One passive presentation-attack cue.

    Attributes
    ----------
    name : str
        The analyzer's name (``texture``, ``moire``, ...).
    score : float
        Attack score in [0, 1]: 0 looks live, 1 looks like an attack.
    confidence : float
        How much the analyzer trusts its own score, in [0, 1] (0 = no evidence).
    reason : str
        The reason code this cue raises when it fires (e.g. ``SCREEN_SUSPECTED``).
    details : Mapping[str, Any]
        Numbers behind the score, for the operator view and the audit log.
    """

    name: str
    score: float
    confidence: float
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)
