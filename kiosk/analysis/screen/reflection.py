"""Screen reflections: highlights that stay on the glass while the face moves under them.

Physics. A phone's or monitor's glass is a mirror in front of the picture: it reflects a
window or a lamp as a bright, colourless patch whose place is fixed by the glass, the light
and the camera. When the replayed face moves (the recorded person turns, the video plays on),
the face slides under the reflection and the reflection stays where it was in the picture. A
highlight on live skin is a reflection on the face itself: it sits where the skin's normal
bisects the light and the camera (nose, forehead, cheekbones) and moves with the face.

Method. Every STEP_S seconds a frame with a face is reduced to its highlight components
inside the face outline (near-clipped, colourless pixels as in :mod:`kiosk.analysis.context
.glare`, the face resized to NORM_FACE_PX wide). Between two such frames in which the face
moved across the picture by at least MOVE_MIN face widths, each highlight is matched to the
nearest highlight of the other frame; it *stayed on the glass* when its picture position moved
by less than STAY_FRACTION of the face's movement, and *moved with the face* otherwise. The cue
is the share of matched highlight area that stayed, over all such pairs.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from kiosk.analysis.context.glare import highlight_mask
from kiosk.analysis.context.regions import hull_mask, logistic, pad_box
from kiosk.model import Face, FaceObservation, Frame, Signal
from kiosk.reasons import Reason

NORM_FACE_PX = 96
# Time between the frames compared (s): long enough for a face to move, short enough that a
# reflection keeps its shape.
STEP_S = 0.2
# The face must move across the picture by this many face widths between the two frames:
# several times a highlight's localisation error (~1 px at 96 px, 0.01 face widths).
MOVE_MIN = 0.1
# A highlight stayed on the glass when it moved by less than this share of the face's movement.
STAY_FRACTION = 0.3
# Highlights smaller than this share of the face area are catchlights or noise.
MIN_AREA = 0.002
# A highlight is matched to the nearest one of the other frame within this many face widths.
MATCH_RADIUS = 0.15
# Share of highlight area that stayed -> score: 0.5 when half of it stayed.
SHARE_MIDPOINT, SHARE_WIDTH = 0.5, 0.1
# Confidence: the matched highlight area (face-area units, summed over pairs) at which it
# reaches 1 - 1/e; capped because a still face never moves under anything.
AREA_CONFIDENCE = 0.02
CONFIDENCE_CAP = 0.6


def highlights(image: np.ndarray, face: Face) -> dict[str, Any]:
    """Highlight components inside the face outline of one frame.

    Returns
    -------
    dict
        ``centres`` (ndarray (n, 2), picture pixels), ``areas`` (ndarray (n,), face-area
        units), ``centre`` (face box centre, pixels) and ``width`` (face box width, pixels).
    """
    x0, y0, x1, y1 = face.box
    face_w = max(x1 - x0, 1.0)
    px0, py0, px1, py1 = pad_box(face.box, 0.05 * face_w, image.shape)
    k = NORM_FACE_PX / face_w
    size = (max(int(round((px1 - px0) * k)), 8), max(int(round((py1 - py0) * k)), 8))
    crop = cv2.resize(image[py0:py1, px0:px1], size,
                      interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    inside = hull_mask(face.landmarks, crop.shape, offset=(px0, py0), scale=k).astype(bool)
    face_area = max(int(inside.sum()), 1)
    bright = (highlight_mask(crop) & inside).astype(np.uint8)
    n, _, stats, cents = cv2.connectedComponentsWithStats(bright, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA] / face_area
    keep = areas >= MIN_AREA
    centres = cents[1:][keep] / k + (px0, py0)
    return {"centres": centres.reshape(-1, 2), "areas": areas[keep],
            "centre": np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0]), "width": face_w}


def stayed_area(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, float] | None:
    """Matched highlight area and the part of it that stayed, between two measurements.

    Returns None when the face moved less than MOVE_MIN face widths (nothing to judge).
    """
    width = (a["width"] + b["width"]) / 2.0
    shift = b["centre"] - a["centre"]
    moved = float(np.linalg.norm(shift)) / width
    if moved < MOVE_MIN:
        return None
    matched = stayed = 0.0
    for centre, area in zip(a["centres"], a["areas"], strict=True):
        if not len(b["centres"]):
            break
        # Candidates: where the highlight would be if it stayed, and if it moved with the face.
        d_stay = np.linalg.norm(b["centres"] - centre, axis=1) / width
        d_move = np.linalg.norm(b["centres"] - (centre + shift), axis=1) / width
        j = int(np.argmin(np.minimum(d_stay, d_move)))
        if min(d_stay[j], d_move[j]) > MATCH_RADIUS:
            continue
        matched += float(area)
        travel = float(np.linalg.norm(b["centres"][j] - centre)) / width
        if travel < STAY_FRACTION * moved:
            stayed += float(area)
    return matched, stayed


class ReflectionAnalyzer:
    """Highlights that stay in the picture while the face moves (``reflection``).

    Parameters
    ----------
    step_s : float
        Seconds between the frames compared.
    min_face_px : float
        Faces narrower than this are skipped.

    Signal details: ``stayed_share`` (the score's input; None without matched highlights),
    ``matched_area``, ``stayed_area`` (face-area units summed over pairs), ``pairs`` (pairs in
    which the face moved enough), ``measured`` (frames measured), ``frames``, ``why``.
    """

    name = "reflection"
    single_frame = False
    reason = Reason.SCREEN_REFLECTION

    def __init__(self, step_s: float = STEP_S, min_face_px: float = 48.0) -> None:
        if not 0.02 <= step_s <= 2.0:
            raise ValueError(f"step_s must be within 0.02-2 s, got {step_s}")
        self.step_s = float(step_s)
        self.min_face_px = float(min_face_px)
        self.reset()

    def reset(self) -> None:
        self._last: dict[str, Any] | None = None
        self._last_t = -math.inf
        self._frames = self._measured = self._pairs = 0
        self._matched = self._stayed = 0.0

    def update(self, frame: Frame, obs: FaceObservation) -> None:
        self._frames += 1
        face = obs.face
        if face is None or face.width < self.min_face_px:
            self._last = None
            return
        if obs.t - self._last_t < self.step_s - 1e-6:
            return
        try:
            current = highlights(frame.image, face)
        except (ValueError, cv2.error):
            return
        self._measured += 1
        if self._last is not None:
            found = stayed_area(self._last, current)
            if found is not None:
                self._pairs += 1
                self._matched += found[0]
                self._stayed += found[1]
        self._last, self._last_t = current, obs.t

    def result(self) -> Signal:
        details: dict[str, Any] = {"frames": self._frames, "measured": self._measured,
                                   "pairs": self._pairs,
                                   "matched_area": round(self._matched, 5),
                                   "stayed_area": round(self._stayed, 5), "stayed_share": None}
        if self._matched <= 0:
            details["why"] = ("no highlight on the face while it moved" if self._pairs else
                              "the face never moved across the picture")
            return Signal(self.name, 0.0, 0.0, self.reason, details)
        share = self._stayed / self._matched
        details["stayed_share"] = round(share, 4)
        confidence = CONFIDENCE_CAP * (1.0 - math.exp(-self._matched / AREA_CONFIDENCE))
        return Signal(self.name, logistic(share, SHARE_MIDPOINT, SHARE_WIDTH),
                      float(confidence), self.reason, details)
