"""Expression dynamics: does the face deform as skin does (blinks, smiles, speech)?

Physics. A live face is soft: eyelids close and open, the mouth widens, opens and its corners
rise, while the skull (forehead, nose, temples, eye corners) stays rigid. A printed photo, a
photo on a screen held still, a paper cut-out or a rigid mask moves only as one rigid body:
every change of its landmarks is explained by a rotation, a shift and a scale, plus tracking
noise. This cue measures the largest non-rigid excursion of the eyelids and the mouth once the
rigid motion has been taken out, in units of what a small live expression produces. It is
positive evidence of a face that deforms as skin does; a replay of a live video shows the same
expressions, so this cue separates live and replayed faces from pictures and masks, not from
replays (the screen cues do that).

Method. Each near-frontal face (|yaw| <= MAX_YAW_DEG, |pitch| <= MAX_PITCH_DEG: turned faces
bend MediaPipe's mesh) is aligned in 3D to the session's first such face by a similarity
(Umeyama) fitted on rigid points (ANCHOR). In the aligned mesh, in inter-ocular distances:
each eye's lid gap, the lip gap, the mouth width and the height of each mouth corner below the
nose tip. Each series is smoothed by a 3-frame running median at 15 fps or more (a single
mistracked frame is not an expression); its excursion is the largest departure from its median
(for the eyes, the deepest closure). Each excursion is divided by its UNIT, and the largest
ratio is the session's expression size ``units``.

Score. ``score = 1 / (1 + (units / MIDPOINT_UNITS) ** (1 / LOG_WIDTH))``: 0.5 at MIDPOINT_UNITS;
below it the face deformed as skin does (the fusion counts a low score as evidence of life),
above it the face looked rigid (attack side).

Confidence. A deformation that was seen is evidence however short the session (CONFIDENCE_CAP,
for the mesh's own errors). A face that stayed rigid is evidence only in proportion to the
chance that a live face would have moved in that time: people looking at a screen blink about
7 times a minute (Tsubota and Nakamori, N Engl J Med 1993: 22 relaxed, 10 reading, 7 at a
display terminal), so a rigid span T gets ``CONFIDENCE_CAP * (1 - exp(-T * BLINKS_PER_S))``:
0.40 at 5.9 s, 0.55 after 10 s. A live person who happens not to blink during a short session
is not taken for a picture: a rigid span is evidence at all only from MIN_RIGID_S, the time in
which a live face more likely than not blinks (a picture is then at least twice as likely as a
live face to have stayed rigid). Shorter, a live face most often shows no blink either, and the
cue says the span was too short, as the pulse cue does below its 6 s (before, 14 frames of a
live face stopped 0.7 s into a check were reported as NO_EXPRESSION at confidence 0.06).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import median_filter

from kiosk.analysis.physiology import BLINKS_PER_S
from kiosk.model import FaceObservation, Frame, Signal
from kiosk.reasons import Reason

# Rigid points of MediaPipe's mesh: forehead and nose line, eye corners, temples, face sides.
ANCHOR = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 133, 362, 263, 127, 356, 234, 454)
# Mobile features: eyelid pairs (upper, lower) of the subject's right and left eye, inner lips,
# mouth corners, nose tip.
RIGHT_LIDS, LEFT_LIDS = (159, 145), (386, 374)
LIPS = (13, 14)
CORNERS = (61, 291)
NOSE_TIP = 1
FEATURES = ("eye_right", "eye_left", "mouth_open", "mouth_width", "corner_right",
            "corner_left")
# What a small live expression changes, in inter-ocular distances: a half blink (an open eye's
# lid gap is about 0.1), a mouth opened by 0.1 (a short syllable), a mouth widened by 10 %
# (width ~0.9) and a corner raised by as much (a slight smile).
UNITS = {"eye": 0.05, "mouth_open": 0.1, "mouth_width": 0.09, "corner": 0.09}
# Rigid pictures: MediaPipe's mesh on 18 simulated prints, held and tilted (kiosk.lab.simulate,
# 7 s each, from the developer set's bona fide videos) reached 0.22-0.69 units (median 0.35)
# from tracking noise and the mesh's bending on a tilted plane; a blink or a slight smile is
# at least 1 unit by the definition above. The midpoint sits at the prints' maximum (0.7), and
# the log width makes 0.45 units score 0.90 and 1 unit 0.14.
MIDPOINT_UNITS = 0.7
LOG_WIDTH = 0.2
MAX_YAW_DEG, MAX_PITCH_DEG = 25.0, 20.0
# Fewest near-frontal frames. (BLINKS_PER_S, the spontaneous blink rate of a person looking at
# a screen, sets how fast a rigid span becomes evidence: see the module docstring.)
MIN_FRAMES = 10
# Shortest rigid span that is evidence (s): the median wait for a blink, ln 2 / BLINKS_PER_S
# (5.9 s at 7 blinks a minute).
MIN_RIGID_S = math.log(2.0) / BLINKS_PER_S
CONFIDENCE_CAP = 0.8
MAX_FRAMES = 3600


def similarity_3d(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity ``dst ~ c * R @ src + t`` (Umeyama 1991).

    Parameters
    ----------
    src, dst : ndarray (N, 3)
        Corresponding points, N >= 3.

    Returns
    -------
    c : float
        Scale.
    R : ndarray (3, 3)
        Rotation (determinant +1).
    t : ndarray (3,)
        Translation.
    """
    a, b = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if a.ndim != 2 or a.shape[1] != 3 or a.shape != b.shape or len(a) < 3:
        raise ValueError(f"src and dst must be matching (N >= 3, 3) arrays, got {a.shape} "
                         f"and {b.shape}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    da, db = a - mu_a, b - mu_b
    var = float((da ** 2).sum(axis=1).mean())
    if var <= 1e-12:
        raise ValueError("src points coincide")
    u, s, vt = np.linalg.svd(db.T @ da / len(a))
    d = np.eye(3)
    if np.linalg.det(u @ vt) < 0:
        d[2, 2] = -1.0
    r = u @ d @ vt
    c = float(np.trace(np.diag(s) @ d) / var)
    return c, r, mu_b - c * r @ mu_a


def expression_features(landmarks: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The mobile features of one face aligned to a reference face.

    Parameters
    ----------
    landmarks, reference : ndarray (N, 3), N >= 468
        MediaPipe meshes in pixels (z on the same scale).

    Returns
    -------
    ndarray (7,) float64
        :data:`FEATURES` in the reference's inter-ocular distances, then the RMS residual of
        the rigid points (tracking noise and any bending of the "rigid" skull points).
    """
    lm, ref = np.asarray(landmarks, np.float64), np.asarray(reference, np.float64)
    if lm.ndim != 2 or lm.shape[0] < 468 or lm.shape[1] != 3:
        raise ValueError(f"landmarks must have shape (>= 468, 3), got {lm.shape}")
    if ref.shape != lm.shape:
        raise ValueError(f"reference must have the shape of landmarks {lm.shape}, "
                         f"got {ref.shape}")
    idx = list(ANCHOR)
    c, r, t = similarity_3d(lm[idx], ref[idx])
    al = (c * (r @ lm.T)).T + t
    iod = float(np.linalg.norm(ref[33] - ref[263]))
    if iod <= 1e-6:
        raise ValueError("reference has coinciding eye corners")
    nose_y = al[NOSE_TIP, 1]
    values = [np.linalg.norm(al[RIGHT_LIDS[0]] - al[RIGHT_LIDS[1]]),
              np.linalg.norm(al[LEFT_LIDS[0]] - al[LEFT_LIDS[1]]),
              np.linalg.norm(al[LIPS[0]] - al[LIPS[1]]),
              np.linalg.norm(al[CORNERS[0]] - al[CORNERS[1]]),
              al[CORNERS[0], 1] - nose_y, al[CORNERS[1], 1] - nose_y]
    jitter = math.sqrt(float(np.mean(np.sum((al[idx] - ref[idx]) ** 2, axis=1))))
    return np.array([*values, jitter]) / iod


def expression_units(series: np.ndarray, smooth: int = 3) -> dict[str, float]:
    """Largest non-rigid excursion of each feature group, and in units of a small expression.

    Parameters
    ----------
    series : ndarray (T, 6)
        :data:`FEATURES` per frame (from :func:`expression_features`), T >= 1.
    smooth : int
        Running-median length in frames (1 = none).

    Returns
    -------
    dict
        ``eye`` (deepest lid closure below the median, either eye), ``mouth_open``,
        ``mouth_width``, ``corner`` (largest departure from the median), each in inter-ocular
        distances, and ``units``: the largest of them divided by its UNIT.
    """
    x = np.asarray(series, np.float64)
    if x.ndim != 2 or x.shape[1] != len(FEATURES) or len(x) < 1:
        raise ValueError(f"series must be (T >= 1, {len(FEATURES)}), got {x.shape}")
    if smooth > 1 and len(x) >= smooth:
        x = median_filter(x, size=(smooth, 1), mode="nearest")
    med = np.median(x, axis=0)
    out = {
        "eye": float(max(med[0] - x[:, 0].min(), med[1] - x[:, 1].min())),
        "mouth_open": float(np.abs(x[:, 2] - med[2]).max()),
        "mouth_width": float(np.abs(x[:, 3] - med[3]).max()),
        "corner": float(max(np.abs(x[:, 4] - med[4]).max(), np.abs(x[:, 5] - med[5]).max())),
    }
    out["units"] = max(out[k] / UNITS[k] for k in UNITS)
    return out


def expression_score(units: float) -> float:
    """Score in [0, 1]: 1 for a rigid face, 0 for one that clearly deformed."""
    if units <= 0:
        return 1.0
    z = math.log(units / MIDPOINT_UNITS) / LOG_WIDTH
    return float(1.0 / (1.0 + math.exp(max(-50.0, min(50.0, z)))))


def rigid_confidence(span_s: float) -> float:
    """Confidence in a face that stayed rigid for ``span_s`` seconds: the chance that a live
    face would have blinked in that time, capped (see the module docstring)."""
    return CONFIDENCE_CAP * (1.0 - math.exp(-max(span_s, 0.0) * BLINKS_PER_S))


class ExpressionAnalyzer:
    """Non-rigid deformation of the eyelids and the mouth over a session (``expression``).

    Notes
    -----
    ``update`` aligns each near-frontal mesh to the first one (one SVD of 3x3) and keeps seven
    numbers; ``result`` smooths and reads the excursions. Signal details: ``units`` (the
    score's input), ``eye``, ``mouth_open``, ``mouth_width``, ``corner`` (inter-ocular
    distances), ``largest`` (which of them), ``jitter`` (median RMS residual of the rigid
    points), ``frames``, ``measured``, ``turned``, ``span_s``, ``why`` (too few frames, or
    a rigid span under :data:`MIN_RIGID_S`: confidence 0).
    """

    name = "expression"
    single_frame = False
    reason = Reason.NO_EXPRESSION

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._reference: np.ndarray | None = None
        self._rows: list[np.ndarray] = []
        self._times: list[float] = []
        self._frames = 0
        self._turned = 0

    def update(self, frame: Frame, obs: FaceObservation) -> None:
        self._frames += 1
        face = obs.face
        if face is None or len(self._rows) >= MAX_FRAMES:
            return
        if abs(face.yaw) > MAX_YAW_DEG or abs(face.pitch) > MAX_PITCH_DEG:
            self._turned += 1
            return
        mesh = np.asarray(face.landmarks, np.float64)
        if mesh.ndim != 2 or mesh.shape[0] < 468 or mesh.shape[1] != 3:
            return
        if self._reference is None:
            self._reference = mesh.copy()
        try:
            self._rows.append(expression_features(mesh, self._reference))
        except ValueError:
            return
        self._times.append(float(obs.t))

    def result(self) -> Signal:
        details: dict = {"frames": self._frames, "measured": len(self._rows),
                         "turned": self._turned, "units": None}
        if len(self._rows) < MIN_FRAMES:
            details["why"] = (f"only {len(self._rows)} near-frontal frames with a face "
                              f"(|yaw| <= {MAX_YAW_DEG:g}, |pitch| <= {MAX_PITCH_DEG:g})")
            return Signal(self.name, 0.0, 0.0, self.reason, details)
        rows = np.vstack(self._rows)
        times = np.asarray(self._times)
        steps = np.diff(times)
        steps = steps[steps > 0]
        fps = 1.0 / float(np.median(steps)) if steps.size else 0.0
        found = expression_units(rows[:, :len(FEATURES)], smooth=3 if fps >= 15.0 else 1)
        span = float(times[-1] - times[0])
        largest = max(UNITS, key=lambda k: found[k] / UNITS[k])
        details.update({k: round(v, 4) for k, v in found.items()})
        details.update(largest=largest, jitter=round(float(np.median(rows[:, -1])), 4),
                       span_s=round(span, 2))
        score = expression_score(found["units"])
        if score < 0.5:
            return Signal(self.name, score, CONFIDENCE_CAP, self.reason, details)
        if span < MIN_RIGID_S:
            # Rigid for less time than a live face usually goes without blinking: no evidence.
            details["why"] = (f"too short to call rigid: {span:.1f} s of near-frontal face, "
                              f"{MIN_RIGID_S:.1f} s needed")
            return Signal(self.name, 0.0, 0.0, self.reason, details)
        return Signal(self.name, score, rigid_confidence(span), self.reason, details)
