"""Display tones: raised blacks on the face, squeezed skin colour.

Physics. The pupils let almost no light back out (a few percent of the skin's reflectance),
so on a live face they are the darkest thing in the picture: in linear light their luminance
is a small fraction of the cheeks'. A display cannot show black: its own black level, the
room's light reflected off its glass and the second camera's lens flare add a veil of a few
percent of its white to everything it shows, the pupils included. Its gamut is also narrower
than a camera's and it has been white-balanced once already: skin shown on it and filmed again
loses chroma.

Method. In each sampled frame, the median linear luminance of small discs at both iris centres
(MediaPipe's iris landmarks) is divided by the median luminance of the cheeks' skin
(``black_ratio``); the cheeks' chromaticity ``(R - G) / (R + G + B)`` in linear light is
reported beside it (``skin_chroma``). The score comes from ``black_ratio``.

Limits, measured on the developer set (see the README): video tone curves lift the blacks of
live faces too (studio clips reach 0.3); a replay of a selfie adds only a few hundredths to
whatever its source had. The midpoint is set above what live video tone curves give, so the
cue fires only on strongly veiled screens.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from kiosk.analysis.arrays import check_image
from kiosk.analysis.context.regions import check_landmarks, logistic
from kiosk.analysis.context.sampling import SampledAnalyzer, median_of
from kiosk.analysis.motion.regions import CHEEK_LEFT, CHEEK_RIGHT
from kiosk.model import Face, Signal
from kiosk.reasons import Reason

IRIS_RIGHT, IRIS_LEFT = 468, 473
IRIS_RING_RIGHT, IRIS_RING_LEFT = (469, 470, 471, 472), (474, 475, 476, 477)
# Pupil disc radius as a share of the iris radius (the pupil is 20-60 % of the iris).
PUPIL_SHARE = 0.4
# black_ratio -> score. A live pupil returns ~1-3 % of the light against skin's 25-60 %
# (ratio <= ~0.1), and camera tone curves that lift shadows raise it to ~0.3 in linear light;
# a display's veil adds a few hundredths on top of its source. Midpoint 0.35, width 0.05.
BLACK_MIDPOINT, BLACK_WIDTH = 0.35, 0.05
MAX_YAW_DEG = 25.0
CONFIDENCE_CAP = 0.3

_LIN = ((np.arange(256, dtype=np.float64) / 255.0) ** 2.2).astype(np.float32)


def display_tones(image: np.ndarray, landmarks: np.ndarray) -> dict[str, Any]:
    """Pupil-to-skin luminance ratio and skin chroma of one face.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
        Not modified.
    landmarks : ndarray (478, 2 or 3)
        MediaPipe face mesh with the iris points, pixels.

    Returns
    -------
    dict
        ``black_ratio`` (darker pupil over cheek skin, linear light) and ``skin_chroma``.
    """
    check_image(image)
    lm = check_landmarks(landmarks).astype(np.float64)
    if lm.shape[0] < 478:
        raise ValueError(f"landmarks must be the 478-point mesh with irises, got {lm.shape[0]}")
    h, w = image.shape[:2]
    pts = lm[list(CHEEK_RIGHT) + list(CHEEK_LEFT) + [IRIS_RIGHT, IRIS_LEFT]]
    x0, y0 = np.maximum(np.floor(pts.min(axis=0)).astype(int) - 4, 0)
    x1, y1 = np.minimum(np.ceil(pts.max(axis=0)).astype(int) + 5, (w, h))
    if x1 - x0 < 8 or y1 - y0 < 8:
        raise ValueError("the eyes and cheeks lie outside the image")
    crop = _LIN[image[y0:y1, x0:x1]]                       # linear B, G, R
    lum = 0.0722 * crop[..., 0] + 0.7152 * crop[..., 1] + 0.2126 * crop[..., 2]
    skin = np.zeros(lum.shape, np.uint8)
    for idx in (CHEEK_RIGHT, CHEEK_LEFT):
        hull = cv2.convexHull(np.round(lm[list(idx)] - (x0, y0)).astype(np.int32))
        cv2.fillConvexPoly(skin, hull, 1)
    if skin.sum() < 9:
        raise ValueError("no cheek skin inside the image")
    skin_lum = float(np.median(lum[skin > 0]))
    pupils = []
    for centre, ring in ((IRIS_RIGHT, IRIS_RING_RIGHT), (IRIS_LEFT, IRIS_RING_LEFT)):
        radius = float(np.mean([np.linalg.norm(lm[j] - lm[centre]) for j in ring]))
        disc = np.zeros(lum.shape, np.uint8)
        c = np.round(lm[centre] - (x0, y0)).astype(int)
        cv2.circle(disc, (int(c[0]), int(c[1])), max(1, round(PUPIL_SHARE * radius)), 1, -1)
        if disc.any():
            pupils.append(float(np.median(lum[disc > 0])))
    if not pupils or skin_lum <= 1e-4:
        raise ValueError("no pupil or too dark a skin to compare")
    b, g, r = (float(np.median(crop[..., k][skin > 0])) for k in range(3))
    return {"black_ratio": min(pupils) / skin_lum,
            "skin_chroma": (r - g) / max(r + g + b, 1e-6)}


class DisplayAnalyzer(SampledAnalyzer):
    """Raised blacks and squeezed skin colour of a displayed face (``display``).

    Signal details: ``black_ratio`` (median, the score's input), ``skin_chroma`` (median),
    plus ``frames``, ``samples``, ``skipped``, ``sampled_seq``.
    """

    name = "display"
    reason = Reason.DISPLAY_COLOUR
    confidence_cap = CONFIDENCE_CAP

    def __init__(self, stride: int = 6, phase: int = 5, max_samples: int = 32,
                 min_face_px: float = 64.0) -> None:
        super().__init__(stride, phase, max_samples, min_face_px)

    def _ineligible(self, face: Face) -> str:
        return "turned" if abs(face.yaw) > MAX_YAW_DEG else ""

    def _measure(self, image: np.ndarray, face: Face) -> dict[str, Any]:
        return display_tones(image, face.landmarks)

    def _aggregate(self, samples: list[dict[str, Any]]) -> Signal:
        ratio = median_of(samples, "black_ratio")
        details = {"black_ratio": round(ratio, 4),
                   "skin_chroma": round(median_of(samples, "skin_chroma"), 4)}
        return self._signal(samples, logistic(ratio, BLACK_MIDPOINT, BLACK_WIDTH), details)
