"""Lighting consistency: is the face lit from the same side as the scene around it?

Physics. One scene has one set of light sources: a lamp or a window on the camera's left
brightens the left cheek of a live face and also the left of the wall, hair and shoulders
around it (the nearer side of the surroundings, and the side the head does not shadow). A
print or a screen carries the shading of the scene where the picture was taken: its face can
be lit from the left while the room around the artefact is lit from the right.

Method. Albedo and illumination are separated as in Retinex (Land; Horn 1974): reflectance
changes are abrupt (edges between objects, eyes, brows), illumination changes are smooth. On
the log of linearised luminance (sRGB gamma 2.2), lightly smoothed, gradients larger than
EDGE_MAX (reflectance edges) are discarded and the rest are averaged along the face's own
horizontal axis (the eye line), in log units per face width: once inside the face outline
(the landmarks' hull) and once in the surroundings (outside the outline grown by RING_GAP face
widths, up to REACH face widths away: hair, shoulders, wall, or the artefact's margin). The
evidence is the smaller magnitude of the two when their signs differ (0 when they agree):
both must be clearly lit from opposite sides. Faces turned by more than MAX_YAW_DEG are not
measured (a turned face's shading follows its geometry).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from kiosk.analysis.arrays import check_image
from kiosk.analysis.context.regions import (
    check_box,
    check_landmarks,
    hull_mask,
    logistic,
    pad_box,
)
from kiosk.analysis.context.sampling import SampledAnalyzer, median_details, median_of
from kiosk.analysis.geometry import eye_centres
from kiosk.model import Face, Signal
from kiosk.reasons import Reason

NORM_FACE_PX = 64
# Surroundings: from RING_GAP face widths outside the face outline (skip the hairline's halo)
# to REACH face widths beyond the face box.
RING_GAP, REACH = 0.15, 0.9
# Gradients above this (log units per face width, i.e. > ~6 % change per pixel at 64 px) are
# reflectance edges; smooth illumination changes stay well below it.
EDGE_MAX = 4.0
MAX_YAW_DEG = 20.0
# Fewest smooth pixels (at NORM_FACE_PX) in the face or in the surroundings.
MIN_PIXELS = 200
# Evidence -> score. A lamp 1 m to one side changes the irradiance across one face width
# (~15 cm) by ~30 %, i.e. ~0.25 log units per face width on a wall; side-lit cheeks change by
# more. Midpoint 0.25, so both sides must show about that much, in opposite directions.
EVIDENCE_MIDPOINT, EVIDENCE_WIDTH = 0.25, 0.07
# A weak cue: it cannot tell a dark object on one side of a live face from shadow, and the
# surroundings of a print are often its own (evenly lit) paper.
CONFIDENCE_CAP = 0.25

_LOG_LINEAR = np.log((np.arange(256) / 255.0) ** 2.2 + 1e-3).astype(np.float32)


def lighting_measure(image: np.ndarray, box, landmarks: np.ndarray) -> dict[str, Any]:
    """Horizontal illumination gradient on the face and in its surroundings.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
        The frame (not modified).
    box : tuple of float
        Face box ``(x0, y0, x1, y1)`` in pixels.
    landmarks : ndarray (N, 2 or 3)
        Face landmarks in pixels (MediaPipe mesh: the outline and eye corners are used).

    Returns
    -------
    dict
        ``face_gradient``, ``surround_gradient``: mean smooth log-luminance gradient along the
        eye line, in log units per face width (positive when it brightens toward the
        image-right eye); ``evidence``: the smaller magnitude when they disagree, else 0.

    Raises
    ------
    ValueError
        Bad arguments, or too few smooth pixels on the face or around it.
    """
    check_image(image)
    box = check_box(box, image.shape)
    lm = check_landmarks(landmarks)
    subject_left, subject_right = eye_centres(lm)
    d = np.asarray(subject_left - subject_right, np.float64)
    if np.hypot(*d) < 1e-6:
        raise ValueError("landmarks put both eyes at one point")
    ux, uy = d / np.hypot(*d)
    face_w = box[2] - box[0]
    x0, y0, x1, y1 = pad_box(box, REACH * face_w, image.shape)
    k = NORM_FACE_PX / face_w
    size = (max(int(round((x1 - x0) * k)), 8), max(int(round((y1 - y0) * k)), 8))
    grey = cv2.resize(cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY), size,
                      interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    log_l = cv2.GaussianBlur(_LOG_LINEAR[grey], (0, 0), 1.0)
    # Sobel 3x3 sums 8x the unit-step gradient; scale to log units per face width.
    gx = cv2.Sobel(log_l, cv2.CV_32F, 1, 0, ksize=3) * (NORM_FACE_PX / 8.0)
    gy = cv2.Sobel(log_l, cv2.CV_32F, 0, 1, ksize=3) * (NORM_FACE_PX / 8.0)
    smooth = np.hypot(gx, gy) < EDGE_MAX
    along = gx * ux + gy * uy
    face = hull_mask(lm, grey.shape, offset=(x0, y0), scale=k)
    grown = cv2.dilate(face, np.ones((3, 3), np.uint8),
                       iterations=max(1, int(round(RING_GAP * NORM_FACE_PX))))
    regions = {"face": face.astype(bool) & smooth, "surround": ~grown.astype(bool) & smooth}
    means = {}
    for name, mask in regions.items():
        n = int(mask.sum())
        if n < MIN_PIXELS:
            raise ValueError(f"{name} has {n} smooth pixels in view; need {MIN_PIXELS}")
        means[name] = float(along[mask].mean())
    f, s = means["face"], means["surround"]
    evidence = min(abs(f), abs(s)) if f * s < 0 else 0.0
    return {"face_gradient": f, "surround_gradient": s, "evidence": float(evidence)}


def lighting_score(evidence: float) -> float:
    """Attack score in [0, 1] from the opposite-side evidence."""
    return logistic(evidence, EVIDENCE_MIDPOINT, EVIDENCE_WIDTH)


class LightingAnalyzer(SampledAnalyzer):
    """Face lit from one side, surroundings from the other (``lighting``).

    Parameters
    ----------
    stride, phase, max_samples :
        Frame sampling (:class:`~kiosk.analysis.context.sampling.FrameSampler`).
    min_face_px : float
        Faces narrower than this are skipped.
    max_yaw_deg : float
        Frames with a larger head yaw are not measured.

    Signal details: ``evidence`` (median, the score's input), ``face_gradient``,
    ``surround_gradient`` (medians, log units per face width, positive = brighter toward
    image-right), plus ``frames``, ``samples``, ``skipped``, ``sampled_seq``.
    """

    name = "lighting"
    reason = Reason.LIGHTING_MISMATCH
    confidence_cap = CONFIDENCE_CAP

    def __init__(self, stride: int = 6, phase: int = 4, max_samples: int = 32,
                 min_face_px: float = 48.0, max_yaw_deg: float = MAX_YAW_DEG) -> None:
        self.max_yaw_deg = float(max_yaw_deg)
        super().__init__(stride, phase, max_samples, min_face_px)

    def _ineligible(self, face: Face) -> str:
        return "turned" if math.fabs(face.yaw) > self.max_yaw_deg else ""

    def _measure(self, image: np.ndarray, face: Face) -> dict[str, Any]:
        return lighting_measure(image, face.box, face.landmarks)

    def _aggregate(self, samples: list[dict[str, Any]]) -> Signal:
        details = median_details(samples, ("evidence", "face_gradient", "surround_gradient"))
        return self._signal(samples, lighting_score(median_of(samples, "evidence")), details)
