"""Rigid smile: when the mouth corners rise, do the cheeks move with them?

Physics. A smile is made by the zygomatic muscles, which pull the mouth corners up and back
and bunch the skin of the cheeks up under the eyes: on a live face the cheek skin moves by a
good fraction of the corners' movement. A mask (paper, plastic, silicone) or a printed face
worn with a mouth hole lets the wearer's own mouth move, but its cheeks are the mask's and
stay where they are; a mask cannot smile. This cue waits for the smile detector of the
challenges (:class:`~kiosk.analysis.challenges.SmileDetector`, against the person's resting
face) and measures what the image does, not what the landmark model predicts: optical flow on
the cheek skin between the last resting frame before the smile and its peak, after the head's
rigid motion is taken out, against the movement of the mouth corners.

Method. Each frame's face region is kept as a small grey crop (face WORK_PX wide). The peak
crop is aligned to the resting one by a similarity fitted on rigid mesh points (forehead,
nose, temples); dense Farneback flow between them gives the median displacement of each
cheek patch (forehead-free cheek polygons of the mesh). The ratio ``cheek / corner``
(corner: the aligned mouth-corner landmarks' displacement) is the smile's coupling. The
session's coupling is the median over smiles whose corners moved at least MIN_CORNER_IOD.

Exposure and measurability. Still cheeks are evidence of a mask only where moving cheeks
would have been seen. Four bona fide developer clips darkened to 35 %: on three the cheeks'
flow fell to between a third and a thirtieth while the landmarks' corners moved as before, and
two smiling people were rejected as masks. Farneback's flow shrinks on low-contrast pictures
(CROP_CONTRAST), so the crops are brought to one contrast first. Skin can still be too smooth
to follow (a codec's smoothing, a beauty filter, a face a few grey levels deep), so each smile
is also checked on its own resting crop: the crop is shifted by the displacement a weakly
coupled live cheek would show (``LIVE_COUPLING`` times the corners' pull) and the flow must
recover at least ``MIN_RECOVERED`` of it on the cheeks. Where it does not, a still reading
(under the midpoint) is no evidence of a mask and the smile is left out; a moving reading is
kept, since the flow under-reads such skin rather than inventing motion (a smooth mask whose
cheeks pick up the moving lips' flow through the flow's window is not told apart by this, as
it was not before).

Score: 1 when the cheeks stayed still (RIGID_SMILE), 0 when they moved with the corners;
a session without a qualifying smile that can be judged gives no evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from kiosk.analysis.challenges import BaselineEstimator, SmileDetector
from kiosk.analysis.challenges.baseline import smile_score
from kiosk.model import Face, FaceObservation, Frame, Signal
from kiosk.reasons import Reason

# Rigid points for the alignment (forehead and nose line, temples, face sides).
RIGID = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 127, 356, 234, 454)
CORNERS = (61, 291)
# Working width of the face crop (px): Farneback's flow on a 128 px face costs ~2 ms.
WORK_PX = 128
# The crop spans the face box grown by this factor.
CROP_GROW = 1.2
# The cheek patch beside each corner (inter-ocular distances): outward, upward, radius.
CHEEK_OUT, CHEEK_UP, CHEEK_RADIUS = 0.25, 0.1, 0.1
# A smile counts when its corners moved at least this far (inter-ocular distances, up and
# out, after the rigid motion is removed): a smile the detector accepts widens the mouth by
# >= 4 % (about 0.04 iod), both corners rising; 0.04 keeps twitches out.
MIN_CORNER_IOD = 0.04
# Coupling -> score. Farneback on compressed skin is accurate to about 0.1-0.2 px on a 128 px
# face, and a qualifying smile pulls the corners by >= 0.04 iod (>= ~3 px): a cheek that stays
# still shows a coupling of at most ~0.05-0.07 from noise. Live cheeks are pushed by the same
# muscle: the developer set's bona fide smiles measured 0.14-1.1 (10 clips with a qualifying
# smile, medians per clip; the lowest is a laugh with the jaw open). Midpoint 0.12, width 0.03:
# 0.06 -> 0.88, 0.2 -> 0.07.
COUPLING_MIDPOINT, COUPLING_WIDTH = 0.12, 0.03
# OpenCV's Farneback adds a fixed 1e-3 to the determinant of each pixel's 2x2 system, which
# scales with the fourth power of the contrast, so on a low-contrast crop (a dim face) the
# flow shrinks toward zero whatever the skin did: a 1 px shift of textured
# noise is recovered whole at a contrast of 10 grey levels, at 0.72 at 3.7 and 0.02 at 1.
# Both crops of a smile are scaled by one gain that brings the resting crop's standard
# deviation to this value, the median of the developer set's face crops (27-75), so the
# flow measures the skin, not the exposure.
CROP_CONTRAST = 45.0
# Measurability (see the module docstring): the cheek displacement of a live smile at the low
# end of the developer set's couplings (0.14) and above the rigid side's midpoint, and the
# share of it the flow must recover on the resting crop. Recovering half of 0.24 keeps a live
# cheek above the midpoint 0.12, so a coupling measured under it means still skin.
LIVE_COUPLING = 0.24
MIN_RECOVERED = 0.5
# Confidence: one clear smile is good evidence, two are better.
CONFIDENCE_PER_SMILE = 0.45
CONFIDENCE_CAP = 0.7
MAX_SMILES = 8


@dataclass
class Snapshot:
    """One frame's face region, kept to compare a resting face with a smile's peak."""

    grey: np.ndarray          # (h, w) uint8 crop
    marks: np.ndarray         # (468, 2) float32 in crop pixels
    iod: float                # inter-ocular distance in crop pixels
    level: float              # smile level above rest


def snapshot(image: np.ndarray, face: Face, level: float = 0.0) -> Snapshot | None:
    """The face region of one frame as a small grey crop with its landmarks (None if tiny)."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = face.box
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    bw, bh = (x1 - x0) * CROP_GROW, (y1 - y0) * CROP_GROW
    if bw < 24 or bh < 24:
        return None
    rx0, ry0 = max(int(cx - bw / 2), 0), max(int(cy - bh / 2), 0)
    rx1, ry1 = min(int(cx + bw / 2), w), min(int(cy + bh / 2), h)
    if rx1 - rx0 < 16 or ry1 - ry0 < 16:
        return None
    scale = WORK_PX / max(x1 - x0, 1.0)
    crop = cv2.cvtColor(image[ry0:ry1, rx0:rx1], cv2.COLOR_BGR2GRAY)
    size = (max(8, round((rx1 - rx0) * scale)), max(8, round((ry1 - ry0) * scale)))
    grey = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else
                      cv2.INTER_LINEAR)
    marks = ((np.asarray(face.landmarks[:468, :2], np.float32) - (rx0, ry0)) * scale)
    return Snapshot(grey, marks.astype(np.float32), float(face.interocular) * scale, level)


def cheek_patches(marks: np.ndarray, iod: float) -> list[tuple[np.ndarray, float]]:
    """Centres and radii (pixels) of the cheek skin beside each mouth corner.

    Each patch lies CHEEK_OUT inter-ocular distances beyond its corner, away from the mouth's
    centre, and CHEEK_UP toward the eyes: the skin a smile drags with the corner (on a mask,
    the mask around the mouth hole).
    """
    pts = np.asarray(marks, np.float64)
    left, right = pts[CORNERS[1]], pts[CORNERS[0]]
    centre = (left + right) / 2.0
    eyes = (pts[33] + pts[263]) / 2.0
    up = eyes - centre
    up /= max(np.linalg.norm(up), 1e-6)
    out = []
    for corner in (right, left):
        away = corner - centre
        away /= max(np.linalg.norm(away), 1e-6)
        out.append((corner + iod * (CHEEK_OUT * away + CHEEK_UP * up), CHEEK_RADIUS * iod))
    return out


def smile_directions(marks: np.ndarray) -> list[np.ndarray]:
    """Unit vectors up and out (45 degrees between "away from the mouth's centre" and "toward
    the eyes") for the right and left mouth corner (the order of CORNERS)."""
    pts = np.asarray(marks, np.float64)
    right, left = pts[CORNERS[0]], pts[CORNERS[1]]
    centre = (left + right) / 2.0
    up = (pts[33] + pts[263]) / 2.0 - centre
    up /= max(np.linalg.norm(up), 1e-6)
    out = []
    for corner in (right, left):
        away = corner - centre
        away /= max(np.linalg.norm(away), 1e-6)
        d = away + up
        out.append(d / max(np.linalg.norm(d), 1e-6))
    return out


def _flow(a: np.ndarray, b: np.ndarray, gain: float) -> np.ndarray:
    """Dense Farneback flow from crop ``a`` to crop ``b`` (both (h, w) uint8), each scaled by
    ``gain`` first (see CROP_CONTRAST); shape (h, w, 2) in pixels."""
    return cv2.calcOpticalFlowFarneback(a.astype(np.float32) * gain,
                                        b.astype(np.float32) * gain,
                                        None, 0.5, 3, 15, 3, 5, 1.2, 0)


def contrast_gain(grey: np.ndarray) -> float:
    """The factor that brings crop ``grey`` ((h, w) uint8) to CROP_CONTRAST."""
    return CROP_CONTRAST / max(float(np.std(grey)), 1.0)


def _patch_masks(rest: Snapshot) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each cheek patch of ``rest`` as a boolean mask (h, w) with its smile direction (2,)."""
    h, w = rest.grey.shape
    out = []
    for (centre, radius), direction in zip(cheek_patches(rest.marks, max(rest.iod, 1e-6)),
                                           smile_directions(rest.marks), strict=True):
        mask = np.zeros((h, w), np.uint8)
        cv2.circle(mask, (round(centre[0]), round(centre[1])), max(2, round(radius)), 1, -1)
        if mask.sum() >= 9:
            out.append((mask > 0, direction))
    return out


def cheek_recovery(rest: Snapshot, shift_px: float) -> float:
    """Share of a known cheek displacement the flow recovers on the resting crop.

    The crop is moved ``shift_px`` pixels along each cheek's smile direction in turn and the
    flow's median in that cheek's patch is projected on it: about 1 on textured skin, near 0
    where the skin is too smooth or too dark to follow.

    Parameters
    ----------
    rest : Snapshot
        The resting face; its grey crop is (h, w) uint8.
    shift_px : float
        The displacement to recover, in crop pixels (> 0).

    Returns
    -------
    float
        The mean over the cheeks inside the crop; 0.0 when none is.
    """
    h, w = rest.grey.shape
    gain = contrast_gain(rest.grey)
    recovered = []
    for mask, direction in _patch_masks(rest):
        dx, dy = shift_px * direction
        move = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
        moved = cv2.warpAffine(rest.grey, move, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
        v = np.median(_flow(rest.grey, moved, gain)[mask], axis=0)
        recovered.append(float(np.dot(v, direction)) / shift_px)
    return float(np.mean(recovered)) if recovered else 0.0


def smile_coupling(rest: Snapshot, peak: Snapshot) -> dict[str, float]:
    """Cheek movement against mouth-corner movement between a resting and a smiling crop.

    Returns
    -------
    dict
        ``corner`` (mean corner displacement, inter-ocular distances), ``cheek`` (mean of the
        two cheeks' median flow, same unit), ``coupling`` (cheek / corner; NaN when the
        corners did not move) and ``recovered`` (:func:`cheek_recovery` of the displacement
        a live cheek would show, ``LIVE_COUPLING`` times the corners' pull; NaN likewise).
    """
    idx = list(RIGID)
    m, _ = cv2.estimateAffinePartial2D(peak.marks[idx], rest.marks[idx])
    if m is None:
        raise ValueError("no rigid alignment between the resting and the smiling face")
    h, w = rest.grey.shape
    warped = cv2.warpAffine(peak.grey, m, (w, h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    moved = peak.marks @ m[:, :2].T + m[:, 2]
    iod = max(rest.iod, 1e-6)
    # The smile's own movement of each corner: its component up and out (a jaw opening moves
    # the corners down, which pulls the cheeks far less and is not what is judged here).
    pulls = [max(0.0, float(np.dot(moved[i] - rest.marks[i], direction)))
             for i, direction in zip(CORNERS, smile_directions(rest.marks), strict=True)]
    corner = float(np.mean(pulls)) / iod
    flow = _flow(rest.grey, warped, contrast_gain(rest.grey))
    cheeks = []
    for mask, _ in _patch_masks(rest):
        v = np.median(flow[mask], axis=0)
        cheeks.append(float(np.hypot(v[0], v[1])))
    if not cheeks:
        raise ValueError("the cheeks lie outside the crop")
    cheek = float(np.mean(cheeks)) / iod
    moved_ok = corner > 1e-6
    return {"corner": corner, "cheek": cheek,
            "coupling": cheek / corner if moved_ok else float("nan"),
            "recovered": (cheek_recovery(rest, LIVE_COUPLING * corner * iod) if moved_ok
                          else float("nan"))}


def judged(measured: list[dict[str, float]]) -> list[dict[str, float]]:
    """The smiles that say something: those whose cheeks the flow can follow, and those that
    read as moving where it cannot (see the module docstring).

    Parameters
    ----------
    measured : list of dict
        :func:`smile_coupling` results of smiles whose corners moved enough.
    """
    return [m for m in measured
            if m["recovered"] >= MIN_RECOVERED or m["coupling"] >= COUPLING_MIDPOINT]


def rigid_smile_score(coupling: float) -> float:
    """Attack score in [0, 1]: 1 for cheeks that stayed still while the mouth smiled."""
    z = (coupling - COUPLING_MIDPOINT) / COUPLING_WIDTH
    return float(1.0 / (1.0 + math.exp(max(-50.0, min(50.0, z)))))


class RigidSmileAnalyzer:
    """Cheeks that do (live) or do not (mask) move with a smile (``rigid_smile``).

    Parameters
    ----------
    baseline_s : float
        Seconds of steady face for the resting face (settings ``liveness.baseline_s``).

    Notes
    -----
    ``update`` feeds the challenges' baseline and smile detector and keeps two crops (the last
    resting frame and the smile's peak); a finished smile costs one Farneback flow on a
    ~128x160 crop, and its measurability check two more. Signal details: ``coupling`` (median
    over smiles, the score's input), ``smiles`` (qualifying smiles that can be judged),
    ``unmeasurable`` (still readings on cheeks the flow could not follow), ``seen`` (smile
    events), ``corner``, ``cheek``, ``recovered`` (medians; inter-ocular distances), ``why``.
    """

    name = "rigid_smile"
    single_frame = False
    reason = Reason.RIGID_SMILE

    def __init__(self, baseline_s: float = 1.0) -> None:
        self.baseline_s = float(baseline_s)
        self.reset()

    def reset(self) -> None:
        self._baseline = BaselineEstimator(duration_s=self.baseline_s)
        self._detector = SmileDetector()
        self._rest: Snapshot | None = None
        self._peak: Snapshot | None = None
        self._measured: list[dict[str, float]] = []
        self._events = 0
        self._frames = 0

    def update(self, frame: Frame, obs: FaceObservation) -> None:
        self._frames += 1
        if not self._baseline.collect(obs):
            return
        baseline = self._baseline.baseline
        assert baseline is not None
        events = self._detector.update(obs, baseline)
        face = obs.face
        if face is not None and obs.n_faces == 1:
            level = smile_score(face) - baseline.smile
            if level < self._detector.release and self._peak is None:
                self._rest = snapshot(frame.image, face, level)
            elif level >= self._detector.release and (self._peak is None
                                                      or level > self._peak.level):
                self._peak = snapshot(frame.image, face, level)
        if events:
            self._close(bool(events))
        elif not self._detector.active:
            self._peak = None  # a rise that did not become a smile

    def _close(self, qualified: bool) -> None:
        rest, peak = self._rest, self._peak
        self._peak = None
        if not qualified or rest is None or peak is None:
            return
        self._events += 1
        if len(self._measured) >= MAX_SMILES:
            return
        try:
            self._measured.append(smile_coupling(rest, peak))
        except (ValueError, cv2.error):
            return

    def result(self) -> Signal:
        events = self._detector.finish()
        if events:
            self._close(True)
        moved = [m for m in self._measured if m["corner"] >= MIN_CORNER_IOD
                 and math.isfinite(m["coupling"])]
        good = judged(moved)
        details: dict[str, Any] = {"frames": self._frames, "seen": self._events,
                                   "smiles": len(good), "unmeasurable": len(moved) - len(good),
                                   "coupling": None}
        if not good:
            details["why"] = (
                "no smile" if not self._events else
                "no smile moved the mouth corners far enough to judge the cheeks" if not moved
                else "the cheeks were too smooth or too dark to follow their movement")
            return Signal(self.name, 0.0, 0.0, self.reason, details)
        coupling = float(np.median([m["coupling"] for m in good]))
        details.update(coupling=round(coupling, 4),
                       corner=round(float(np.median([m["corner"] for m in good])), 4),
                       cheek=round(float(np.median([m["cheek"] for m in good])), 4),
                       recovered=round(float(np.median([m["recovered"] for m in good])), 3))
        confidence = min(CONFIDENCE_CAP, CONFIDENCE_PER_SMILE * len(good))
        return Signal(self.name, rigid_smile_score(coupling), float(confidence), self.reason,
                      details)
