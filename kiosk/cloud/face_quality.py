"""Is a face good enough for a trustworthy comparison? The quality gate before matching.

A face too small, too blurred, too dark or turned too far moves the descriptor as much as a
change of person does, so its similarity would be read as "not the same person". The gate
refuses such a face with a reason code instead (a retry at a kiosk, a review at a staffed desk;
see :mod:`kiosk.session.gate`).

Measured on the aligned 150x150 chip (:mod:`kiosk.cloud.align`) and dlib's five landmarks, so
live frames and ID photos are judged alike. Each limit is where a degradation starts to cost
the comparison: the point at which the median distance of the developer set's same-person
pairs rises by 0.03 when one photo of each pair is degraded on purpose
(``benchmarks/match_quality.py`` prints the curves). 0.03 is a quarter of the margin between
the median same-person distance (0.33) and the threshold distance (0.45). Different-person
distances moved by less than 0.015 either way at every step (darkness brings them slightly
closer), so within the limits a degraded face neither hides a person nor helps an impostor
much.

* :data:`MIN_INTEROCULAR` 16 px between the eye centres: the rise is 0.012 at 20 px, 0.022 at
  16 px and 0.044 at 12 px. A 120x150 card scan of a passport-style photo has about 32 px.
  (The descriptor itself moves by 0.2 at 16 px, but mostly across the direction that tells
  two people apart.)
* :data:`MIN_SHARPNESS` 0.015: the Laplacian variance of the grey chip centre divided by its
  grey variance (so darkness does not read as blur). A Gaussian blur of 3% of the eye
  distance raises the distance by 0.030 and brings the median sharpness to 0.016; every
  undegraded developer still has 0.031 or more.
* :data:`MIN_BRIGHTNESS` 30 (mean grey of the chip centre, 0-255): darkening to 30% of the
  light (brightness about 38) raises the distance by 0.016, to 20% (about 25) by 0.032.
* :data:`MAX_TURN` 0.20: the nose base's offset from the eyes' midline, in eye distances. On
  the developer videos it follows ``0.53 tan(yaw)`` (least squares over 540 frames of three
  people against MediaPipe's yaw), so 0.20 is about 20 degrees; the distance of those frames
  to the same person's selfie rises by 0.002 at 15-20 degrees, 0.040 at 20-25 and 0.10 at
  25-30.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from kiosk.cloud.align import AlignedFace
from kiosk.cloud.results import FaceBox
from kiosk.reasons import Reason

MIN_INTEROCULAR = 16.0
MIN_SHARPNESS = 0.015
MIN_BRIGHTNESS = 30.0
MAX_TURN = 0.20
#: The chip's centre (rows and columns 30-120 of 150): the face without the padding.
CENTRE = slice(30, 120)

LIVE, REFERENCE = "live", "reference"
_CODES = {
    LIVE: (Reason.LIVE_FACE_TOO_SMALL, Reason.LIVE_FACE_BLURRED, Reason.LIVE_FACE_DARK,
           Reason.LIVE_FACE_NOT_FRONTAL),
    REFERENCE: (Reason.ID_PHOTO_TOO_SMALL, Reason.ID_PHOTO_BLURRED, Reason.ID_PHOTO_DARK,
                Reason.ID_PHOTO_NOT_FRONTAL),
}


@dataclass(frozen=True)
class FaceQuality:
    """The numbers the gate reads.

    Attributes
    ----------
    interocular : float
        Eye-centre distance in source pixels.
    sharpness : float
        Laplacian variance over grey variance of the chip's centre (scale-free).
    brightness : float
        Mean grey level of the chip's centre, 0-255.
    turn : float
        Nose offset from the eyes' midline in eye distances (signed; about 0.53 tan(yaw)).
    """

    interocular: float
    sharpness: float
    brightness: float
    turn: float


@dataclass(frozen=True)
class GateLimits:
    """The gate's limits (module constants by default; see the module docstring)."""

    min_interocular: float = MIN_INTEROCULAR
    min_sharpness: float = MIN_SHARPNESS
    min_brightness: float = MIN_BRIGHTNESS
    max_turn: float = MAX_TURN


DEFAULT_GATE = GateLimits()


def measure(face: AlignedFace) -> FaceQuality:
    """The quality numbers of an aligned face."""
    grey = cv2.cvtColor(face.chip, cv2.COLOR_RGB2GRAY)[CENTRE, CENTRE]
    variance = float(grey.var())
    laplacian = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    return FaceQuality(interocular=face.interocular,
                       sharpness=laplacian / variance if variance > 1e-6 else 0.0,
                       brightness=float(np.mean(grey)), turn=face.turn)


def gate_reasons(quality: FaceQuality, side: str,
                 limits: GateLimits = DEFAULT_GATE) -> tuple[str, ...]:
    """Reason codes for every limit ``quality`` misses; empty when the face may be compared.

    Parameters
    ----------
    side : {"live", "reference"}
        Which codes to use: ``LIVE_FACE_*`` or ``ID_PHOTO_*``.
    """
    if side not in _CODES:
        raise ValueError(f"side must be {LIVE!r} or {REFERENCE!r}, got {side!r}")
    small, blurred, dark, turned = _CODES[side]
    reasons = []
    if quality.interocular < limits.min_interocular:
        reasons.append(small)
    if quality.sharpness < limits.min_sharpness:
        reasons.append(blurred)
    if quality.brightness < limits.min_brightness:
        reasons.append(dark)
    if not abs(quality.turn) <= limits.max_turn:  # NaN or inf (degenerate points) fail too
        reasons.append(turned)
    return tuple(reasons)


def photo_gate(image: np.ndarray, box: FaceBox, aligner: Any,
               limits: GateLimits = DEFAULT_GATE) -> tuple[tuple[str, ...], FaceQuality]:
    """The gate's reasons for the face at ``box`` of a reference photo, and its numbers.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        The photo, BGR; not modified.
    box : FaceBox
        Its face (a detector box).
    aligner : FaceAligner
        The 5-point aligner.
    """
    quality = measure(aligner.align(image, box))
    return gate_reasons(quality, REFERENCE, limits), quality
