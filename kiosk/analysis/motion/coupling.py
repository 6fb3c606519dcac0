"""Face and background coupling: does the scene around the face move with it?

A live person moves their head in front of a still room. A photo or a phone held up to the
camera carries its own surround (paper margin, the rest of the picture on the screen, the bezel,
the fingers) and moves it together with the face. Between frames about 1/15 s apart this cue
follows corners (Lucas-Kanade optical flow) in three places: the face, a ring of scene just
beyond where a head with its hair would reach, and the far scene beyond that. The face's motion
is fitted with an affine map, the far scene's with a similarity (that is the camera's own motion;
a camera declared fixed does not move). Each ring point whose two predictions differ is assigned to the
one that predicts it better; the cue is the fraction of ring points that follow the face.

Limits: a picture no larger than a head (an ID photo held close) leaves the ring on the room and
is not caught here; an artefact covering most of the far scene moves the far scene too, which
reads as camera motion unless the camera is declared fixed; a replay on a screen that stays
still, while the replayed head moves, looks live.
"""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np

from kiosk.analysis.motion.flow import detect_points, min_strength, noise_sigma, track_points
from kiosk.analysis.motion.regions import MESH, face_mask, scene_masks
from kiosk.model import FaceObservation, Frame, Signal
from kiosk.reasons import Reason

log = logging.getLogger(__name__)

# Pairs of frames are this far apart (s): at 30 fps every second frame, so that slow head motion
# already moves points by more than the tracking noise.
PAIR_DT = 1.0 / 15.0
# Frames are resized so the face is about this wide (px), bounded to [0.5, 2] x by a hysteresis.
WORK_FACE_WIDTH = 100
# Corners per region (face, ring, far) and spacing in face widths.
MAX_FACE_POINTS, MAX_RING_POINTS, MAX_FAR_POINTS = 40, 60, 40
SPACING = 1.0 / 12.0
# Fewest tracked points for a motion fit (face affine, far similarity).
MIN_FIT_POINTS = 6
MIN_FAR_POINTS = 8
# RANSAC inlier distance for the motion fits, working px.
RANSAC_PX = 1.0
# A ring point decides between "moves with the face" and "stays with the scene" only when the
# two predictions differ by at least this much (working px, face ~100 px wide). Lucas-Kanade on
# textured corners errs by about 0.1-0.2 px; at 1 px a point is misassigned by noise alone with
# a probability of about P(N(0, 0.2) > 0.5) < 1%.
MIN_SEPARATION_PX = 1.0
# The coupled fraction of a rigid artefact is 1 minus tracking failures; that of a live person in
# front of a still scene is 0 plus strays of hair or shoulders in the ring and noise. Scores rise
# linearly between these two, leaving 0.2 for each side's imperfection: measured on synthetic
# sequences (tests/analysis/test_motion_coupling.py) a carried surround gave >= 0.95 and a still
# background <= 0.05.
C_LIVE = 0.2
C_ATTACK = 0.8
# The camera's noise (which sets the weakest corner kept) is re-measured every this many pairs.
NOISE_EVERY = 15
# Confidence grows with the decisive ring observations and with the pairs they come from
# (1 - 1/e at these counts), so that one jolt cannot decide a session.
N_CONFIDENCE = 150
PAIRS_CONFIDENCE = 5
MIN_DECISIVE = 30
MIN_PAIRS = 3


def coupling_counts(ring_a: np.ndarray, ring_b: np.ndarray, face_model: np.ndarray,
                    scene_model: np.ndarray, min_separation: float = MIN_SEPARATION_PX
                    ) -> tuple[int, int]:
    """How many ring points move with the face rather than with the scene.

    Parameters
    ----------
    ring_a, ring_b : ndarray (N, 2)
        Ring points in the first and second view.
    face_model, scene_model : ndarray (2, 3)
        Affine maps from the first view to the second, fitted to the face and to the far scene.
    min_separation : float
        Points where the two maps' predictions differ by less are not counted.

    Returns
    -------
    decisive : int
        Points where the predictions differ by at least ``min_separation``.
    coupled : int
        Decisive points that the face's map predicts better.
    """
    a = np.asarray(ring_a, dtype=np.float64)
    b = np.asarray(ring_b, dtype=np.float64)
    for name, arr in (("ring_a", a), ("ring_b", b)):
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"{name} must have shape (N, 2), got {arr.shape}")
    if a.shape != b.shape:
        raise ValueError(f"ring_b must have the shape of ring_a {a.shape}, got {b.shape}")
    models = []
    for name, m in (("face_model", face_model), ("scene_model", scene_model)):
        arr = np.asarray(m, dtype=np.float64)
        if arr.shape != (2, 3):
            raise ValueError(f"{name} must have shape (2, 3), got {arr.shape}")
        models.append(arr)
    pred_f = a @ models[0][:, :2].T + models[0][:, 2]
    pred_s = a @ models[1][:, :2].T + models[1][:, 2]
    decisive = np.linalg.norm(pred_f - pred_s, axis=1) >= min_separation
    closer = np.linalg.norm(b - pred_f, axis=1) < np.linalg.norm(b - pred_s, axis=1)
    return int(decisive.sum()), int((decisive & closer).sum())


def coupling_score(coupled_fraction: float) -> float:
    """Attack score of a coupled fraction: 0 up to C_LIVE, 1 from C_ATTACK, linear between."""
    if not 0.0 <= coupled_fraction <= 1.0:
        raise ValueError(f"coupled_fraction must be in [0, 1], got {coupled_fraction}")
    return float(np.clip((coupled_fraction - C_LIVE) / (C_ATTACK - C_LIVE), 0.0, 1.0))


_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class CouplingAnalyzer:
    """Face-and-background coupling cue over a session (multi-frame).

    Parameters
    ----------
    camera_fixed : bool
        True when the camera cannot move (a mounted kiosk camera): the scene is then still by
        definition, and anything around the face that moves with it counts, even an artefact
        that fills the frame. False (the default, for hand-held recordings) measures the
        camera's motion on the far scene, skips pairs where the far scene has too few corners,
        and so misses artefacts large enough to cover most of the far scene.
    pair_dt : float
        Time between the two frames of a pair, seconds.
    work_face_width : int
        Face width, pixels, in the resized frames that are tracked.

    Notes
    -----
    ``update`` tracks three small corner sets between the pair's frames and counts; ``result``
    only divides. The Signal's details:

    ``coupled_fraction`` : float or None
        Decisive ring points that moved with the face, over all decisive ring points.
    ``decisive_points``, ``coupled_points`` : int
    ``pairs``, ``pairs_with_evidence`` : int
        Frame pairs tracked, and those with at least one decisive ring point.
    ``pairs_camera_unknown`` : int
        Pairs skipped because the far scene had too few tracked points.
    ``ring_points_median``, ``far_points_median`` : float
        Median tracked points per pair in the ring and the far scene (texture available).
    ``noise_sigma`` : float
        Last measured image noise, grey levels (sets the weakest corner used).
    ``camera_fixed`` : bool
    ``why`` : str
        Present when the evidence was too thin.
    """

    name = "coupling"
    single_frame = False

    def __init__(self, camera_fixed: bool = False, pair_dt: float = PAIR_DT,
                 work_face_width: int = WORK_FACE_WIDTH) -> None:
        if not 0.0 <= pair_dt <= 1.0:
            raise ValueError(f"pair_dt must be within 0-1 s, got {pair_dt}")
        if not 32 <= work_face_width <= 400:
            raise ValueError(f"work_face_width must be within 32-400 px, got {work_face_width}")
        self.camera_fixed = bool(camera_fixed)
        self.pair_dt = float(pair_dt)
        self.work_face_width = int(work_face_width)
        self.reset()

    def reset(self) -> None:
        self._prev: dict | None = None
        self._scale: float | None = None
        self._frames = 0
        self._faces = 0
        self._pairs = 0
        self._pairs_evidence = 0
        self._pairs_unknown = 0
        self._decisive = 0
        self._coupled = 0
        self._ring_counts: list[int] = []
        self._far_counts: list[int] = []
        self._starts = 0
        self._strength = 0.0
        self._sigma = 0.0

    def update(self, frame: Frame, obs: FaceObservation) -> None:
        self._frames += 1
        face = obs.face
        if face is None:
            self._prev = None
            return
        self._faces += 1
        prev = self._prev
        if prev is not None and obs.t - prev["t"] < self.pair_dt - 1e-6:
            return
        width = float(face.box[2] - face.box[0])
        if width < 8:
            self._prev = None
            return
        # Keep the working scale while the face stays within 0.5-2x its target width, so that
        # consecutive pairs share frames; otherwise start over at the new scale.
        if self._scale is None or not 0.5 <= width * self._scale / self.work_face_width <= 2.0:
            self._scale = min(1.0, self.work_face_width / width)
            prev = None
        scale = self._scale
        grey = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        half = None
        if prev is not None and prev["grey"].shape == grey.shape:
            half = None if self.camera_fixed else cv2.pyrDown(grey)
            self._pair(prev, grey, half)
        if self._starts % NOISE_EVERY == 0:
            self._sigma = noise_sigma(grey)
            self._strength = min_strength(self._sigma)
        self._starts += 1
        strength = self._strength
        marks = face.landmarks[:MESH, :2] * scale
        spacing = max(2.0, width * scale * SPACING)
        face_m = face_mask(grey.shape, marks, erode_px=max(1, int(width * scale / 40)))
        ring_m, far_m = scene_masks(grey.shape, marks)
        # The far scene only has to show the camera's motion: it is tracked at half the
        # working resolution, which quarters its cost (it spans most of the frame). A fixed
        # camera does not move: nothing to track there.
        far = np.zeros((0, 2), np.float32)
        if not self.camera_fixed:
            half = cv2.pyrDown(grey) if half is None else half
            far_half = cv2.resize(far_m, (half.shape[1], half.shape[0]),
                                  interpolation=cv2.INTER_NEAREST)
            # Smoothing and halving the image about halves the noise.
            far = detect_points(half, far_half, MAX_FAR_POINTS, spacing,
                                strength=min_strength(self._sigma / 2.0))
        self._prev = {
            "t": obs.t, "grey": grey, "half": half, "far": far,
            "face": detect_points(grey, face_m, MAX_FACE_POINTS, spacing, strength=strength),
            "ring": detect_points(grey, ring_m, MAX_RING_POINTS, spacing, strength=strength),
        }

    def _pair(self, prev: dict, grey: np.ndarray, half: np.ndarray | None) -> None:
        """Track the previous frame's corners into this one and count ring points."""
        tracked = {}
        for key in ("face", "ring"):
            moved, ok = track_points(prev["grey"], grey, prev[key])
            tracked[key] = (prev[key][ok], moved[ok])
        tracked["far"] = (prev["far"], prev["far"])
        if half is not None and prev["half"] is not None:
            moved, ok = track_points(prev["half"], half, prev["far"])
            tracked["far"] = (2.0 * prev["far"][ok], 2.0 * moved[ok])
        self._pairs += 1
        self._ring_counts.append(len(tracked["ring"][0]))
        self._far_counts.append(len(tracked["far"][0]))
        fa, fb = tracked["face"]
        if len(fa) < MIN_FIT_POINTS:
            return
        face_model, _ = cv2.estimateAffine2D(fa, fb, method=cv2.RANSAC,
                                             ransacReprojThreshold=RANSAC_PX)
        oa, ob = tracked["far"]
        scene_model = _IDENTITY if self.camera_fixed else None
        if scene_model is None and len(oa) >= MIN_FAR_POINTS:
            scene_model, _ = cv2.estimateAffinePartial2D(oa, ob, method=cv2.RANSAC,
                                                         ransacReprojThreshold=RANSAC_PX)
        if scene_model is None:
            self._pairs_unknown += 1
            return
        ra, rb = tracked["ring"]
        if face_model is None or len(ra) == 0:
            return
        decisive, coupled = coupling_counts(ra, rb, face_model, scene_model)
        self._decisive += decisive
        self._coupled += coupled
        self._pairs_evidence += int(decisive > 0)

    def result(self) -> Signal:
        details: dict = {
            "frames": self._frames, "frames_with_face": self._faces, "pairs": self._pairs,
            "pairs_with_evidence": self._pairs_evidence,
            "pairs_camera_unknown": self._pairs_unknown,
            "decisive_points": self._decisive, "coupled_points": self._coupled,
            "coupled_fraction": None,
            "ring_points_median": float(np.median(self._ring_counts)) if self._pairs else 0.0,
            "far_points_median": float(np.median(self._far_counts)) if self._pairs else 0.0,
            "camera_fixed": self.camera_fixed,
            "noise_sigma": self._sigma,
        }
        if self._decisive < MIN_DECISIVE or self._pairs_evidence < MIN_PAIRS:
            details["why"] = self._why()
            return Signal(self.name, 0.0, 0.0, Reason.FACE_MOVES_WITH_BACKGROUND, details)
        fraction = self._coupled / self._decisive
        details["coupled_fraction"] = fraction
        confidence = ((1.0 - math.exp(-self._decisive / N_CONFIDENCE))
                      * (1.0 - math.exp(-self._pairs_evidence / PAIRS_CONFIDENCE)))
        return Signal(self.name, coupling_score(fraction), float(confidence), Reason.FACE_MOVES_WITH_BACKGROUND,
                      details)

    def _why(self) -> str:
        if self._pairs == 0:
            return "no pair of frames with a face to compare"
        if np.median(self._ring_counts) < 3:
            return ("no textured scene around the face (the ring beyond the head is plain or "
                    "outside the frame)")
        if not self.camera_fixed and self._pairs_unknown > self._pairs / 2:
            return ("camera motion unknown: no textured far scene to measure it (the face "
                    "fills the frame or the background is plain)")
        return (f"the face hardly moved against the scene ({self._decisive} decisive ring "
                f"points in {self._pairs_evidence} pairs)")
