"""Glare: specular highlights that skin cannot produce.

Physics. Skin is a rough, curved dielectric: its specular highlights are small, sit where the
surface normal bisects the light and the camera (nose tip and bridge, forehead, cheekbones)
and stay on the skin. A screen's glass or a glossy print is a flat mirror-like layer in front
of the whole picture: it reflects a window or a lamp as one large near-white patch whose shape
follows the light source, not the face, so it runs across the face outline onto the hair and
background of the picture, and across the eyebrows (hair is not glossy, so a live eyebrow
never shows a clipped white highlight).

Method. In the face region (resized so the face is NORM_FACE_PX wide), highlight pixels are
near-clipped (V >= V_MIN) and nearly colourless (S <= S_MAX, the illuminant's colour). Each
connected highlight is split into its part inside the face outline (convex hull of the
landmarks) and outside it. Unexplained highlight area, as a fraction of the face area:
highlights straddling the outline (both parts substantial, and the outside part bordered by
something other than the face's own skin colour: an overexposed live cheek continues onto the
ear and neck, which are skin), highlights covering the body of an eyebrow, and (with a low
weight, since overexposure clips live skin too) the part of any single highlight beyond the
largest a skin specular reaches.
"""

from __future__ import annotations

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
from kiosk.model import Face, Signal
from kiosk.reasons import Reason

NORM_FACE_PX = 128
# Highlight pixels: V (max of B, G, R) near the 8-bit ceiling, and saturation (0-255) low.
# A mirror reflection of a light source is far brighter than the diffusely lit face the camera
# exposes for, so it clips; dielectric specular reflection keeps the light's (near-white) colour.
V_MIN, S_MAX = 240, 64
# Components smaller than this fraction of the face area are catchlights or noise.
MIN_COMPONENT = 0.002
# A highlight straddles the face outline when both its inside and outside parts exceed this.
STRADDLE_PART = 0.005
# Largest single skin specular, as a fraction of the face area: a broad forehead or nose-bridge
# highlight under a close lamp covers a few percent of the face. Oversized highlights beyond
# this count (only their excess) because overexposure can also clip a live face.
SKIN_SPECULAR_MAX = 0.04
# Skin-coloured border: within this distance (YCrCb chroma units) of the face's median chroma.
# One person's skin under one light spreads by less than ~10 units in Cr and Cb.
SKIN_CHROMA_TOL = 12
# The outside part of a highlight is the face's own skin continuing when at least this share of
# its border is skin-coloured.
SKIN_BORDER_SHARE = 0.5
# Weight of an oversized highlight's excess: weak evidence, since overexposure (a flash, a lamp
# close to the face) clips a live face's skin in the same way. Oversized highlights alone can
# bring the score up to 0.5 (OVERSIZED_CAP = the midpoint below) but not beyond.
OVERSIZED_WEIGHT, OVERSIZED_CAP = 0.25, 0.02
# The body of each eyebrow: midpoints of upper/lower contour pairs of MediaPipe's face mesh,
# without the thin outer tails (where forehead skin shows between the hairs).
BROW_PAIRS = ((63, 53), (105, 52), (66, 65), (107, 55),
              (293, 283), (334, 282), (296, 295), (336, 285))
# Unexplained highlight fraction -> score: 0.5 at 2% of the face area, ~0.95 at 4%. On the
# developer set (benchmarks/frame_analyzers.py --scores) bona fide media reach at most 0.011
# (an overexposed selfie, through the oversized rule); the tablet still 0.094 and the phone
# replay 0.28.
UNEXPLAINED_MIDPOINT, UNEXPLAINED_WIDTH = 0.02, 0.0068
CONFIDENCE_CAP = 0.5


def highlight_mask(image: np.ndarray) -> np.ndarray:
    """Near-clipped, nearly colourless pixels.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR

    Returns
    -------
    ndarray (H, W) bool
    """
    check_image(image)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    return (hsv[..., 2] >= V_MIN) & (hsv[..., 1] <= S_MAX)


def glare_measure(image: np.ndarray, box, landmarks: np.ndarray) -> dict[str, Any]:
    """Specular highlights on and around the face, split into explained and unexplained.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
        The frame (not modified).
    box : tuple of float
        Face box ``(x0, y0, x1, y1)`` in pixels.
    landmarks : ndarray (478, 2 or 3)
        MediaPipe face mesh in pixels (the outline and the eyebrow points are used).

    Returns
    -------
    dict
        ``highlight``: highlight area inside the face / face area; ``unexplained``: the
        unexplained fraction (see the module docstring); ``straddling``, ``on_brows``,
        ``oversized``: how many highlights of each kind; ``largest``: largest in-face highlight
        / face area.
    """
    check_image(image)
    box = check_box(box, image.shape)
    lm = check_landmarks(landmarks)
    if lm.shape[0] <= max(max(p) for p in BROW_PAIRS):
        raise ValueError(f"landmarks must be the 478-point face mesh, got {lm.shape[0]} points")
    face_w = box[2] - box[0]
    x0, y0, x1, y1 = pad_box(box, 0.25 * face_w, image.shape)
    k = NORM_FACE_PX / face_w
    size = (max(int(round((x1 - x0) * k)), 8), max(int(round((y1 - y0) * k)), 8))
    crop = cv2.resize(image[y0:y1, x0:x1], size,
                      interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    inside = hull_mask(lm, crop.shape, offset=(x0, y0), scale=k).astype(bool)
    face_area = max(int(inside.sum()), 1)
    bright = highlight_mask(crop)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bright.astype(np.uint8),
                                                           connectivity=8)
    chroma = cv2.cvtColor(crop, cv2.COLOR_BGR2YCrCb)[..., 1:].astype(np.int16)
    skin_ref = inside & ~bright
    if skin_ref.any():
        ref = np.median(chroma[skin_ref], axis=0)
        skin = np.all(np.abs(chroma - ref) <= SKIN_CHROMA_TOL, axis=-1)
    else:
        skin = np.zeros(inside.shape, bool)
    brows = np.array([(lm[a] + lm[b]) / 2.0 for a, b in BROW_PAIRS], np.float32)
    brow_pts = np.round((brows - np.array([x0, y0], np.float32)) * k).astype(int)
    ok = ((brow_pts[:, 0] >= 0) & (brow_pts[:, 0] < size[0])
          & (brow_pts[:, 1] >= 0) & (brow_pts[:, 1] < size[1]))
    brow_labels = set(labels[brow_pts[ok, 1], brow_pts[ok, 0]].tolist()) - {0}
    in_counts = np.bincount(labels[inside], minlength=n)
    highlight = unexplained = oversize = largest = 0.0
    straddling = on_brows = oversized = 0
    for i in range(1, n):
        area = stats[i, cv2.CC_STAT_AREA] / face_area
        part_in = in_counts[i] / face_area
        part_out = area - part_in
        highlight += part_in
        if area < MIN_COMPONENT or part_in <= 0:
            continue
        largest = max(largest, part_in)
        if part_in >= STRADDLE_PART and part_out >= STRADDLE_PART \
                and not _skin_continues(labels == i, inside, bright, skin):
            straddling += 1
            unexplained += part_in
        elif i in brow_labels:
            on_brows += 1
            unexplained += part_in
        elif part_in > SKIN_SPECULAR_MAX:
            oversized += 1
            oversize += OVERSIZED_WEIGHT * (part_in - SKIN_SPECULAR_MAX)
    unexplained += min(oversize, OVERSIZED_CAP)
    return {"highlight": float(highlight), "unexplained": float(unexplained),
            "straddling": straddling, "on_brows": on_brows, "oversized": oversized,
            "largest": float(largest)}


def _skin_continues(component: np.ndarray, inside: np.ndarray, bright: np.ndarray,
                    skin: np.ndarray) -> bool:
    """True when the outside part of a highlight is bordered mostly by skin-coloured pixels."""
    outside = component & ~inside
    ring = cv2.dilate(outside.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2)
    border = ring.astype(bool) & ~bright & ~inside
    if not border.any():
        return False
    return bool(skin[border].mean() >= SKIN_BORDER_SHARE)


def glare_score(unexplained: float) -> float:
    """Attack score in [0, 1] from the unexplained highlight fraction."""
    return logistic(unexplained, UNEXPLAINED_MIDPOINT, UNEXPLAINED_WIDTH)


class GlareAnalyzer(SampledAnalyzer):
    """Highlights inconsistent with skin: a screen's or glossy print's reflection (``glare``).

    Parameters
    ----------
    stride, phase, max_samples :
        Frame sampling (:class:`~kiosk.analysis.context.sampling.FrameSampler`).
    min_face_px : float
        Faces narrower than this are skipped.

    Signal details: ``unexplained`` (median unexplained highlight fraction of the face area,
    the score's input), ``highlight`` (median in-face highlight fraction), ``largest``,
    ``straddling_fraction``, ``brow_fraction`` (share of samples with such highlights), plus
    ``frames``, ``samples``, ``skipped``, ``sampled_seq``.
    """

    name = "glare"
    reason = Reason.GLARE
    confidence_cap = CONFIDENCE_CAP

    def __init__(self, stride: int = 6, phase: int = 3, max_samples: int = 32,
                 min_face_px: float = 48.0) -> None:
        super().__init__(stride, phase, max_samples, min_face_px)

    def _measure(self, image: np.ndarray, face: Face) -> dict[str, Any]:
        return glare_measure(image, face.box, face.landmarks)

    def _aggregate(self, samples: list[dict[str, Any]]) -> Signal:
        details = median_details(samples, ("unexplained", "highlight", "largest")) | {
            "straddling_fraction": round(float(np.mean([s["straddling"] > 0 for s in samples])), 3),
            "brow_fraction": round(float(np.mean([s["on_brows"] > 0 for s in samples])), 3),
        }
        return self._signal(samples, glare_score(median_of(samples, "unexplained")), details)
