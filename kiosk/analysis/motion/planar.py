"""Planar motion: does the face move like a flat picture?

A photo, printed or on a screen, moves between two views by a homography, whatever the hand
does with it. A head that turns does not: the nose tip, nearer the camera than the cheeks,
shifts against them (parallax). Within short windows of the session this cue compares the part
of the face's motion that a similarity (shift, in-plane rotation, scale) does not explain, ``s``,
with the part that no homography explains, ``h``. Their ratio ``R = h / s`` measures how much of
the face's out-of-plane motion a plane cannot account for: near 0 for a picture, about 0.8 for a
real head (see the constants), whatever the amount of movement.

Two point sets are measured side by side:

- feature points: Shi-Tomasi corners inside the face, followed by Lucas-Kanade optical flow
  (``goodFeaturesToTrack`` + ``calcOpticalFlowPyrLK``). They follow the texture, so a picture's
  points obey its homography exactly, up to tracking noise.
- landmarks: MediaPipe's mesh, x and y only. The mesh is a 3D face model fitted to the picture,
  so its points on a tilted photo are pulled toward a head's shape; the landmark ratio of a plane
  is therefore higher (measured below) and this set counts for half as much.

Only movement counts as evidence: a window whose ``s`` is below the tracking noise of a plane says
nothing (a face held still, or a picture moved only within its own plane). A replay of a video in
which a real head turns is not planar either: this cue is aimed at pictures moved by hand.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from typing import Any

import numpy as np

from kiosk.analysis.motion.fit import planar_residual, similarity_residual
from kiosk.analysis.motion.flow import (
    detect_points,
    grey_crop,
    highpass,
    min_strength,
    noise_sigma,
    track_points,
)
from kiosk.analysis.motion.regions import MESH, face_mask
from kiosk.model import FaceObservation, Frame, Signal
from kiosk.reasons import Reason

log = logging.getLogger(__name__)

# Out-of-plane motion (s, in inter-ocular distances) below which a window says nothing. Measured
# on flat pictures made from 4 bona fide frames of the developer set: (a) warped by 3D plane
# rotations of +-25 deg yaw and +-12 deg pitch through a 600 px pinhole camera with sensor noise
# 2-4 grey levels, JPEG 60-70, 1 px blur, faces 80-160 px wide; (b) kiosk.lab.simulate's
# print attacks (halftone, paper, lamp fall-off, 640x480) turned by a hand. The per-clip median
# planar residual h was 0.0015-0.014 for tracked points and 0.004-0.017 for landmarks, and a
# picture moved only within its plane showed s of the same size. The gates sit above that noise.
# On the relief of a real face (MediaPipe mesh of a live frame, rotated without noise) s grows
# by about 0.0052 per degree, so a window needs a turn of about 4-5 deg to count.
S_MIN_POINTS = 0.02
S_MIN_LANDMARKS = 0.025
# R of a rigid real head: 0.79-0.95 for the mesh relief above rotated 2-20 deg in yaw and 0-5 deg
# in pitch (noise-free; the least value is taken). Measured on the developer set's 14 real-head
# clips (live ones and replays of live heads): 0.65-0.90 for points, 0.75-0.86 for landmarks.
R_LIVE = 0.79
# R of a plane at the gate: its residual noise over the gate (about 0.007 / 0.02 and
# 0.0125 / 0.025). Measured on the flat pictures above whenever they moved enough: points
# 0.08-0.41 (simulated prints 0.08-0.27), landmarks 0.28-0.70 (the model's face prior).
R_PLANE_POINTS = 0.35
R_PLANE_LANDMARKS = 0.50
# Total informative motion (sum of s over windows) at which confidence reaches 1 - 1/e: about
# three windows at the gate.
S_CONFIDENCE = 0.06
# Fewest informative windows before a ratio is trusted at all.
MIN_WINDOWS = 2
# Weight of the landmark measurement against the point measurement: its margin between plane
# and head (0.50 vs 0.79) is about half that of the points (0.35 vs 0.79).
LANDMARK_WEIGHT = 0.5

# Window length: long enough for a head turn to rotate the face by several degrees (a prompted
# turn of 20-30 deg takes about 0.5-1 s), short enough that tracked corners survive.
WINDOW_S = 0.4
# Landmark windows stretch up to this long while the head has not yet moved past the gate:
# parallax depends on how far the head turned, not on how fast, and the landmarks need no
# tracking to survive a long window. A person standing still turns a few degrees in a second or
# two (talking, shifting weight) and shows nothing in 0.4 s. Measured on the developer set's
# two 5 fps talking heads: 1 and 0 of 67 and 20 windows of 0.4 s passed the gate.
MAX_LANDMARK_WINDOW_S = 1.6
# Corners are followed from frame to frame at most this often (s): every second frame at 30 fps
# (half the cost), every frame at 15 fps.
TRACK_DT = 1.0 / 15.0
# Points are tracked on a grey crop resized so the face is about this wide (pixels): enough
# corners, bounded cost. Corners at least WORK_WIDTH / 16 apart, at most MAX_POINTS of them.
WORK_WIDTH = 160
MAX_POINTS = 80
MIN_TRACKS = 8
# Tracking runs on the crop minus its blur at this sigma (px at the working scale, about a
# 27th of the face's width): a lamp's fall-off across a print turned under it otherwise drags
# the tracks off the plane. Measured on three simulated prints turned +-25 deg (kiosk.lab.
# simulate, 640x480, noise 1.6-3.0): points' R fell from 0.25-0.69 to 0.14-0.21.
HIGHPASS_SIGMA = 6.0
# The crop spans the face box enlarged this much, so the face can move within a window.
ROI_ENLARGE = 1.8
# Landmarks kept at most (a minute at 30 fps; older ones are dropped).
MAX_FRAMES = 1800


class PlanarAnalyzer:
    """Planar-motion cue over a session (multi-frame).

    Parameters
    ----------
    window_s : float
        Length of the windows over which motion is compared, seconds.
    work_width : int
        Face width, pixels, of the grey crop on which corners are tracked.
    max_points : int
        Most corners tracked per window.

    Notes
    -----
    ``update`` keeps each frame's landmarks (x, y) and tracks corners within the current window
    (one high-passed grey crop and one forward-backward Lucas-Kanade step, every second frame
    at 30 fps); ``result`` fits the homographies.
    The Signal's details:

    ``ratio_points``, ``ratio_landmarks`` : float or None
        Motion-weighted R = sum(h) / sum(s) over informative windows.
    ``score_points``, ``score_landmarks``, ``confidence_points``, ``confidence_landmarks`` :
        Each measurement's own score and confidence (None / 0.0 without evidence).
    ``windows_points``, ``windows_landmarks`` : int
        Windows measured. ``informative_points``, ``informative_landmarks`` : int
        Those whose s passed the gate.
    ``motion_points``, ``motion_landmarks`` : float
        Sum of s over informative windows, inter-ocular distances.
    ``residual_points``, ``residual_landmarks`` : float or None
        Median h over informative windows, inter-ocular distances.
    ``why`` : str
        Present when a measurement had too little evidence.
    """

    name = "planar"
    single_frame = False

    def __init__(self, window_s: float = WINDOW_S, work_width: int = WORK_WIDTH,
                 max_points: int = MAX_POINTS) -> None:
        if not 0.05 <= window_s <= 5.0:
            raise ValueError(f"window_s must be within 0.05-5 s, got {window_s}")
        if not 32 <= work_width <= 640:
            raise ValueError(f"work_width must be within 32-640 px, got {work_width}")
        if max_points < MIN_TRACKS:
            raise ValueError(f"max_points must be at least {MIN_TRACKS}, got {max_points}")
        self.window_s = float(window_s)
        self.work_width = int(work_width)
        self.max_points = int(max_points)
        self.reset()

    def reset(self) -> None:
        self._frames = 0
        self._faces = 0
        # (t, landmarks (468, 2) float32, interocular px)
        self._marks: deque[tuple[float, np.ndarray, float]] = deque(maxlen=MAX_FRAMES)
        # (points at window start (n, 2), points at window end (n, 2), interocular at work scale)
        self._pairs: list[tuple[np.ndarray, np.ndarray, float]] = []
        self._win: dict | None = None

    def update(self, frame: Frame, obs: FaceObservation) -> None:
        self._frames += 1
        face = obs.face
        if face is None:
            self._win = None
            return
        self._faces += 1
        self._marks.append((obs.t, np.array(face.landmarks[:MESH, :2], np.float32),
                            float(face.interocular)))
        if self._win is None:
            self._win = self._start(frame.image, face, obs.t)
            return
        win = self._win
        if obs.t - win["t"] < TRACK_DT - 1e-6 and obs.t - win["t0"] < self.window_s - 1e-6:
            return
        grey = highpass(grey_crop(frame.image, win["roi"], win["scale"]), HIGHPASS_SIGMA)
        if grey.shape != win["grey"].shape:
            self._win = self._start(frame.image, face, obs.t)
            return
        moved, ok = track_points(win["grey"], grey, win["points"])
        win["ok"] &= ok
        win["points"], win["grey"], win["t"] = moved, grey, obs.t
        if int(win["ok"].sum()) < MIN_TRACKS:
            self._win = self._start(frame.image, face, obs.t)
        elif obs.t - win["t0"] >= self.window_s - 1e-6:
            keep = win["ok"]
            self._pairs.append((win["start"][keep], moved[keep], win["iod"]))
            self._win = self._start(frame.image, face, obs.t)

    def _start(self, image: np.ndarray, face, t: float) -> dict | None:
        """Open a window at this frame: crop, corners inside the face; None if too few."""
        h, w = image.shape[:2]
        x0, y0, x1, y1 = face.box
        cx, cy, bw, bh = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
        if bw < 8 or bh < 8 or face.interocular <= 0:
            return None
        roi = (int(max(0, cx - ROI_ENLARGE * bw / 2)), int(max(0, cy - ROI_ENLARGE * bh / 2)),
               int(min(w, cx + ROI_ENLARGE * bw / 2)), int(min(h, cy + ROI_ENLARGE * bh / 2)))
        if roi[2] - roi[0] < 8 or roi[3] - roi[1] < 8:
            return None
        scale = min(1.0, self.work_width / bw)
        grey = highpass(grey_crop(image, roi, scale), HIGHPASS_SIGMA)
        marks = (face.landmarks[:MESH, :2] - (roi[0], roi[1])) * scale
        mask = face_mask(grey.shape, marks, erode_px=max(1, int(bw * scale / 40)))
        points = detect_points(grey, mask, self.max_points, bw * scale / 16,
                               strength=min_strength(noise_sigma(grey)))
        if len(points) < MIN_TRACKS:
            return None
        return {"roi": roi, "scale": scale, "grey": grey, "start": points, "points": points,
                "ok": np.ones(len(points), bool), "t0": t, "t": t,
                "iod": float(face.interocular) * scale}

    def _landmark_pairs(self) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """Non-overlapping landmark pairs: from each start, the first frame at least
        ``window_s`` later whose out-of-plane motion passes the gate, looking at most
        :data:`MAX_LANDMARK_WINDOW_S` ahead; when none does, the pair ``window_s`` apart (an
        uninformative window). A gap of more than ``2 * window_s`` between frames restarts."""
        marks = list(self._marks)
        pairs, i, n = [], 0, len(marks)
        longest = max(MAX_LANDMARK_WINDOW_S, self.window_s) + 1e-6
        while i < n - 1:
            end = restart = None
            for j in range(i + 1, n):
                if marks[j][0] - marks[j - 1][0] > 2 * self.window_s:
                    restart = j  # a dropout: windows start again after it
                    break
                dt = marks[j][0] - marks[i][0]
                if dt < self.window_s - 1e-6:
                    continue
                if end is None:
                    end = j  # the plain window, kept if no later frame passes the gate
                if dt > longest:
                    break
                s = _out_of_plane(marks[i][1], marks[j][1], marks[i][2])
                if s is not None and s >= S_MIN_LANDMARKS:
                    end = j
                    break
            if end is not None:
                pairs.append((marks[i][1], marks[end][1], marks[i][2]))
                i = end
            elif restart is not None:
                i = restart
            else:
                break
        return pairs

    def result(self) -> Signal:
        points = _measure(self._pairs, S_MIN_POINTS, R_PLANE_POINTS)
        marks = _measure(self._landmark_pairs(), S_MIN_LANDMARKS, R_PLANE_LANDMARKS)
        details: dict = {"frames": self._frames, "frames_with_face": self._faces}
        for key, m in (("points", points), ("landmarks", marks)):
            for field in ("ratio", "score", "confidence", "windows", "informative", "motion",
                          "residual"):
                details[f"{field}_{key}"] = m[field]
        w_p = points["confidence"]
        w_l = LANDMARK_WEIGHT * marks["confidence"]
        whys = [f"{key}: {m['why']}" for key, m in (("points", points), ("landmarks", marks))
                if m["why"]]
        if whys:
            details["why"] = "; ".join(whys)
        if w_p + w_l <= 0:
            return Signal(self.name, 0.0, 0.0, Reason.PLANAR_FACE, details)
        score = (w_p * (points["score"] or 0.0) + w_l * (marks["score"] or 0.0)) / (w_p + w_l)
        return Signal(self.name, float(score), float(max(w_p, w_l)), Reason.PLANAR_FACE, details)


def _out_of_plane(a: np.ndarray, b: np.ndarray, iod: float) -> float | None:
    """``s`` of one pair: the motion a similarity does not explain, inter-ocular distances
    (None when it cannot be measured: too few points, or all on a line)."""
    if iod <= 0 or len(a) < MIN_TRACKS:
        return None
    try:
        return float(similarity_residual(a, b)) / iod
    except ValueError:
        return None


def _measure(pairs: list[tuple[np.ndarray, np.ndarray, float]], s_min: float,
             r_plane: float) -> dict:
    """Score one point set's windows: gate by s, ratio of sums, map to [0, 1]."""
    s_all, h_all = [], []
    for a, b, iod in pairs:
        s = _out_of_plane(a, b, iod)
        if s is None:
            continue
        try:
            h = planar_residual(a, b) / iod
        except ValueError:  # degenerate points (all on a line): no homography
            continue
        s_all.append(s)
        h_all.append(h)
    s_arr, h_arr = np.array(s_all), np.array(h_all)
    informative = s_arr >= s_min
    out: dict[str, Any] = {"ratio": None, "score": None, "confidence": 0.0, "windows": len(s_all),
           "informative": int(informative.sum()), "motion": float(s_arr[informative].sum()),
           "residual": None, "why": ""}
    if len(s_all) == 0:
        out["why"] = "no window could be measured (face not tracked long enough)"
        return out
    if out["informative"] < MIN_WINDOWS:
        out["why"] = (f"no head movement: {out['informative']} of {len(s_all)} windows moved "
                      f"out of plane by >= {s_min} inter-ocular distances")
        return out
    ratio = float(h_arr[informative].sum() / s_arr[informative].sum())
    out["ratio"] = ratio
    out["residual"] = float(np.median(h_arr[informative]))
    out["score"] = float(np.clip((R_LIVE - ratio) / (R_LIVE - r_plane), 0.0, 1.0))
    out["confidence"] = float(1.0 - math.exp(-out["motion"] / S_CONFIDENCE))
    return out
