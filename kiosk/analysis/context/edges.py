"""Device and paper edges: straight borders framing the face, carried with it or closed around it.

Physics. A phone, a tablet, a monitor or a sheet of paper is a flat rectangle. Held in front
of the camera, its border shows as long straight edges close around the face, roughly aligned
with the face (the picture is upright on its carrier), on two or more sides. A live head in
front of a background sees straight lines too (door frames, flags, posters, shelves), but they
belong to the room, not to the face. So an edge counts only when it is tied to the face:

- it moves with the face: whenever the face moves across the picture (by at least MOVE_MIN
  face widths across the edge), the edge keeps its place beside the face instead of its place
  in the picture. A hand-held print or phone carries its border with the face; a door frame
  stays where it is while the person moves.
- or it closes around the face like a bezel: three or more sides, including two opposite ones
  (CLOSED). A room rarely frames a face on three sides within a face width of it; a screen
  or a print does even when it is held still and only the replayed face moves inside it.

An edge beside a face that never moved across it is undecided and not counted: a straight
line beside a still face says nothing about what carries it.

Method. The region around the face is resized so the face is NORM_FACE_PX wide (a bound on
cost; straight edges survive the downscale), line segments come from OpenCV's Fast Line
Detector (ximgproc; LSD as a fallback), and each long segment is expressed in face-aligned
coordinates (u along the eye line, v downwards, unit = face width, origin at the face centre)
to decide whether it frames the face on the left, right, top or bottom. The session's
evidence is the strongest that was sustained over SUSTAIN consecutive samples (a bezel seen
for the first second of a replay counts; one stray frame does not).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import cv2
import numpy as np

from kiosk.analysis.arrays import check_image
from kiosk.analysis.context.regions import (
    check_box,
    check_landmarks,
    logistic,
    pad_box,
)
from kiosk.analysis.context.sampling import SampledAnalyzer
from kiosk.analysis.geometry import eye_centres
from kiosk.model import Face, Signal
from kiosk.reasons import Reason

log = logging.getLogger(__name__)

# The face is resized to this width before line detection (cost ~1-2 ms for the region).
NORM_FACE_PX = 96
# Search region: the face box grown so it reaches SEARCH_REACH face widths beyond each side.
# A phone or tablet showing a face, or a printed portrait, has its border within about one
# face width of the face; beyond that, background structure dominates.
SEARCH_REACH = 1.0
# A framing edge lies outside the face box by at least MIN_GAP face widths (the face's own
# outline, glasses and hair are inside it) ...
MIN_GAP = 0.05
# ... and runs alongside it: a vertical side must overlap at least MIN_COVER of the face
# height, a horizontal side MIN_COVER of the face width.
MIN_COVER = 0.5
# Orientation tolerance relative to the face axes (a carrier held a little tilted, perspective).
MAX_TILT_DEG = 20.0
# Opposite sides of one rectangle are parallel within this (mild perspective).
MAX_PARALLEL_DEG = 10.0

# Evidence -> score. Each framing side found adds its coverage (capped at 1; a bottom edge counts
# half because collars, shoulders and tables give horizontal lines below a live chin); parallel
# left and right edges add PAIR_BONUS. One full side alone (a door frame beside a live face)
# scores logistic(1.0) ~ 0.18; two sides ~0.82; three or more ~0.98. On the developer set
# (benchmarks/frame_analyzers.py --scores) two bona fide stills with framed backgrounds (flags
# and curtains; a cupboard behind the head) reach 2.5-2.8: the cue's known false alarm, hence
# its moderate confidence.
EVIDENCE_MIDPOINT, EVIDENCE_WIDTH = 1.5, 0.33
BOTTOM_WEIGHT, PAIR_BONUS = 0.5, 0.5
CONFIDENCE_CAP = 0.5
# Attachment: the face must move across an edge by at least this many face widths between two
# samples for the pair to tell "moves with the face" from "stays in the picture". Edges are
# located to about 1 px at NORM_FACE_PX = 96 (0.01 face widths); 0.1 leaves a 10x margin and
# is a small movement of a head (about 1.5 cm).
MOVE_MIN = 0.1
# Closed: at least this many framing sides including an opposite pair.
CLOSED_SIDES = 3
# Evidence is sustained when it held over this many consecutive samples (at the default
# stride of 6 frames at 30 fps, about 0.6 s).
SUSTAIN = 3
SIDES = ("left", "right", "top", "bottom")


def _line_detector():
    if hasattr(cv2, "ximgproc"):
        return cv2.ximgproc.createFastLineDetector(length_threshold=int(0.3 * NORM_FACE_PX))
    return cv2.createLineSegmentDetector()


_DETECTOR = None


def line_segments(grey: np.ndarray) -> np.ndarray:
    """Straight line segments in a grey image.

    Parameters
    ----------
    grey : ndarray (H, W) uint8

    Returns
    -------
    ndarray (N, 4) float32
        ``x0, y0, x1, y1`` per segment, in pixels.
    """
    global _DETECTOR
    if grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError(f"grey must be (H, W) uint8, got {grey.shape} {grey.dtype}")
    if _DETECTOR is None:
        _DETECTOR = _line_detector()
    found = _DETECTOR.detect(grey)
    if isinstance(found, tuple):  # LSD returns (lines, widths, precisions, nfa)
        found = found[0]
    if found is None:
        return np.zeros((0, 4), np.float32)
    return np.asarray(found, np.float32).reshape(-1, 4)


def face_frame(landmarks: np.ndarray, box) -> tuple[np.ndarray, float, float, float]:
    """Face-aligned frame: centre (x, y), angle of the eye line (rad), face width and height.

    The width and height are the landmarks' extents along and across the eye line, so a
    tilted face gets its own axes.
    """
    lm = check_landmarks(landmarks)
    left, right = eye_centres(lm)
    # Subject's right eye is image-left in an unmirrored frame: u runs image-left to right.
    dx, dy = float(left[0] - right[0]), float(left[1] - right[1])
    angle = math.atan2(dy, dx) if math.hypot(dx, dy) > 1e-6 else 0.0
    c, s = math.cos(angle), math.sin(angle)
    centre = np.array([(box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0], np.float32)
    rel = lm - centre
    u = rel[:, 0] * c + rel[:, 1] * s
    v = -rel[:, 0] * s + rel[:, 1] * c
    return centre, angle, float(np.ptp(u)), float(np.ptp(v))


def frame_sides(segments: np.ndarray, centre, angle: float, face_w: float,
                face_h: float) -> dict[str, Any]:
    """Which sides of the face are framed by straight edges.

    Parameters
    ----------
    segments : ndarray (N, 4)
        ``x0, y0, x1, y1`` in the same pixel frame as ``centre``.
    centre : (x, y)
        Face centre.
    angle : float
        Eye-line angle in radians (0 = level).
    face_w, face_h : float
        Face width and height in pixels (along and across the eye line).

    Returns
    -------
    dict
        ``cover``: {side: best coverage in [0, 1]} for left/right/top/bottom (0 when absent),
        ``tilt``: {side: tilt in degrees of the best segment}, ``parallel``: bool (left and
        right found and parallel), ``n_long``: long segments considered, ``segments``:
        {side: [x0, y0, x1, y1]} of the best framing segment per side found.
    """
    seg = np.asarray(segments, np.float64).reshape(-1, 4)
    if face_w <= 1 or face_h <= 1:
        raise ValueError(f"face_w and face_h must exceed 1 px, got {face_w}, {face_h}")
    c, s = math.cos(angle), math.sin(angle)
    p = seg.reshape(-1, 2, 2) - np.asarray(centre, np.float64)
    u = (p[..., 0] * c + p[..., 1] * s) / face_w   # (N, 2) in face widths
    v = (-p[..., 0] * s + p[..., 1] * c) / face_w
    hw, hh = 0.5, 0.5 * face_h / face_w              # half extents in face widths
    du, dv = u[:, 1] - u[:, 0], v[:, 1] - v[:, 0]
    length = np.hypot(du, dv)
    tilt = np.degrees(np.arctan2(np.abs(dv), np.abs(du)))  # 0 = horizontal, 90 = vertical
    cover = dict.fromkeys(("left", "right", "top", "bottom"), 0.0)
    tilts = dict.fromkeys(cover, float("nan"))
    best: dict[str, list[float]] = {}
    long_ = length >= MIN_COVER * min(1.0, 2 * hh)
    for i in np.flatnonzero(long_):
        umin, umax, vmin, vmax = u[i].min(), u[i].max(), v[i].min(), v[i].max()
        if tilt[i] >= 90.0 - MAX_TILT_DEG:  # vertical: a left or right side
            overlap = max(0.0, min(vmax, hh) - max(vmin, -hh)) / (2 * hh)
            side = ("left" if umax <= -hw - MIN_GAP and umin >= -hw - SEARCH_REACH else
                    "right" if umin >= hw + MIN_GAP and umax <= hw + SEARCH_REACH else None)
            a, b = (du[i], dv[i]) if dv[i] >= 0 else (-du[i], -dv[i])
            signed = math.degrees(math.atan2(a, b))  # lean from the face's vertical
        elif tilt[i] <= MAX_TILT_DEG:       # horizontal: top or bottom
            overlap = max(0.0, min(umax, hw) - max(umin, -hw)) / (2 * hw)
            side = ("top" if vmax <= -hh - MIN_GAP and vmin >= -hh - SEARCH_REACH else
                    "bottom" if vmin >= hh + MIN_GAP and vmax <= hh + SEARCH_REACH else None)
            a, b = (dv[i], du[i]) if du[i] >= 0 else (-dv[i], -du[i])
            signed = math.degrees(math.atan2(a, b))  # lean from the eye line
        else:
            continue
        if side and overlap >= MIN_COVER and overlap > cover[side]:
            cover[side] = float(min(overlap, 1.0))
            tilts[side] = signed
            best[side] = [float(x) for x in seg[i]]
    parallel = bool(cover["left"] and cover["right"]
                    and abs(tilts["left"] - tilts["right"]) <= MAX_PARALLEL_DEG)
    return {"cover": cover, "tilt": tilts, "parallel": parallel, "n_long": int(long_.sum()),
            "segments": best}


def edge_evidence(sides: dict[str, Any]) -> float:
    """Weighted count of framing sides (see the module constants)."""
    cover = sides["cover"]
    total = cover["left"] + cover["right"] + cover["top"] + BOTTOM_WEIGHT * cover["bottom"]
    return float(total + (PAIR_BONUS if sides["parallel"] else 0.0))


def edge_score(evidence: float) -> float:
    """Attack score in [0, 1] from :func:`edge_evidence`."""
    return logistic(evidence, EVIDENCE_MIDPOINT, EVIDENCE_WIDTH)


def device_edges(image: np.ndarray, box, landmarks: np.ndarray) -> dict[str, Any]:
    """Straight edges framing the face in one frame.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
        The frame (not modified).
    box : tuple of float
        Face box ``(x0, y0, x1, y1)`` in pixels.
    landmarks : ndarray (N, 2 or 3)
        Face landmarks in pixels (MediaPipe's 478-point mesh: the eye corners set the axes).

    Returns
    -------
    dict
        :func:`frame_sides`' keys (segments in frame pixels) plus ``evidence``
        (:func:`edge_evidence`).
    """
    check_image(image)
    box = check_box(box, image.shape)
    centre, angle, face_w, face_h = face_frame(landmarks, box)
    if face_w < 8 or face_h < 8:
        raise ValueError(f"landmarks span {face_w:.0f}x{face_h:.0f} px; too small for edges")
    # Reach SEARCH_REACH face widths beyond the face, plus a margin so a side's full length shows.
    x0, y0, x1, y1 = pad_box(box, (SEARCH_REACH + 0.25) * face_w, image.shape)
    k = NORM_FACE_PX / face_w
    grey = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    small = cv2.resize(grey, (max(int(round((x1 - x0) * k)), 8), max(int(round((y1 - y0) * k)), 8)),
                       interpolation=interp)
    segs = line_segments(small)
    # Back to frame pixels so the classification uses the face's own geometry.
    segs_px = segs / np.float32(k) + np.array([x0, y0, x0, y0], np.float32)
    sides = frame_sides(segs_px, centre, angle, face_w, face_h)
    sides["evidence"] = edge_evidence(sides)
    return sides


def closed(cover: dict[str, float]) -> bool:
    """Three or more framing sides including an opposite pair: a bezel around the face."""
    found = {k for k, v in cover.items() if v > 0}
    opposite = {"left", "right"} <= found or {"top", "bottom"} <= found
    return len(found) >= CLOSED_SIDES and opposite


def side_offsets(sides: dict[str, Any], centre, angle: float, face_w: float
                 ) -> dict[str, tuple[float, float]]:
    """Where each framing segment lies across its side, relative to the face and the picture.

    Returns
    -------
    dict
        ``{side: (offset_face, offset_picture)}`` in face widths: the segment midpoint's
        coordinate across the side (u for left/right, v for top/bottom) from the face centre,
        and the same coordinate from the picture's origin.
    """
    c, s = math.cos(angle), math.sin(angle)
    out = {}
    for side, seg in sides["segments"].items():
        mx, my = (seg[0] + seg[2]) / 2.0, (seg[1] + seg[3]) / 2.0
        across_u = side in ("left", "right")
        dx, dy = mx - float(centre[0]), my - float(centre[1])
        face_off = (dx * c + dy * s) if across_u else (-dx * s + dy * c)
        pic_off = (mx * c + my * s) if across_u else (-mx * s + my * c)
        out[side] = (face_off / face_w, pic_off / face_w)
    return out


def attachment_votes(samples: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Per side, how often it moved with the face and how often it stayed in the picture.

    Parameters
    ----------
    samples : list of dict
        Per sampled frame (in time order): ``offsets`` ({side: (face, picture)} in face
        widths, see :func:`side_offsets`) and ``centre_u``, ``centre_v`` (the face centre in
        the picture, face widths along and across the eye line).

    Returns
    -------
    dict
        ``{side: (with_face, with_picture)}``. Each side is compared with its last reference
        sample: once the face has moved across that side by at least MOVE_MIN since then, the
        side's face offset changed less than its picture offset (with_face) or the opposite
        (with_picture), and this sample becomes the reference.
    """
    votes = {k: [0, 0] for k in SIDES}
    anchor: dict[str, dict[str, Any]] = {}
    for smp in samples:
        for side, (face_off, pic_off) in smp["offsets"].items():
            ref = anchor.get(side)
            if ref is None:
                anchor[side] = smp
                continue
            axis = "centre_u" if side in ("left", "right") else "centre_v"
            if abs(smp[axis] - ref[axis]) < MOVE_MIN:
                continue
            d_face = abs(face_off - ref["offsets"][side][0])
            d_pic = abs(pic_off - ref["offsets"][side][1])
            votes[side][0 if d_face < d_pic else 1] += 1
            anchor[side] = smp
    return {k: (v[0], v[1]) for k, v in votes.items()}


def sustained(values: list[float], run: int = SUSTAIN) -> float:
    """The largest value held over ``run`` consecutive entries (the max of running minima);
    with fewer entries, the minimum of all."""
    if not values:
        return 0.0
    run = min(run, len(values))
    return float(max(min(values[i:i + run]) for i in range(len(values) - run + 1)))


class EdgeAnalyzer(SampledAnalyzer):
    """Straight device or paper borders tied to the face (``edges``).

    Parameters
    ----------
    stride, phase, max_samples :
        Frame sampling (:class:`~kiosk.analysis.context.sampling.FrameSampler`).
    min_face_px : float
        Faces narrower than this are skipped.

    Signal details: ``evidence`` (the sustained evidence of counted sides, the score's input),
    ``evidence_all`` (median evidence of every framing side, counted or not), ``closed_fraction``
    (share of samples with a bezel closed around the face), ``sides`` (fraction of samples in
    which each side was framed), ``with_face`` / ``with_picture`` (attachment votes per side),
    ``attached`` (sides judged to move with the face), ``parallel_fraction``, plus ``frames``,
    ``samples``, ``skipped``, ``sampled_seq``.
    """

    name = "edges"
    reason = Reason.DEVICE_EDGES
    confidence_cap = CONFIDENCE_CAP

    def __init__(self, stride: int = 6, phase: int = 2, max_samples: int = 32,
                 min_face_px: float = 48.0) -> None:
        super().__init__(stride, phase, max_samples, min_face_px)

    def _measure(self, image: np.ndarray, face: Face) -> dict[str, Any]:
        found = device_edges(image, face.box, face.landmarks)
        centre, angle, face_w, _ = face_frame(face.landmarks, face.box)
        c, s = math.cos(angle), math.sin(angle)
        return {"evidence": found["evidence"], "parallel": found["parallel"],
                "cover": dict(found["cover"]), "closed": closed(found["cover"]),
                "offsets": side_offsets(found, centre, angle, face_w),
                "centre_u": float(centre[0] * c + centre[1] * s) / face_w,
                "centre_v": float(-centre[0] * s + centre[1] * c) / face_w,
                **{f"side_{k}": v > 0 for k, v in found["cover"].items()}}

    def _aggregate(self, samples: list[dict[str, Any]]) -> Signal:
        votes = attachment_votes(samples)
        attached = {k for k, (w, p) in votes.items() if w > p}
        counted = []
        for smp in samples:
            if smp["closed"]:
                counted.append(float(smp["evidence"]))
                continue
            cover = {k: (v if k in attached else 0.0) for k, v in smp["cover"].items()}
            parallel = smp["parallel"] and {"left", "right"} <= attached
            counted.append(edge_evidence({"cover": cover, "parallel": parallel}))
        evidence = sustained(counted)
        details = {
            "evidence": round(evidence, 3),
            "evidence_all": round(float(np.median([s["evidence"] for s in samples])), 3),
            "closed_fraction": round(float(np.mean([s["closed"] for s in samples])), 3),
            "sides": {k: round(float(np.mean([s[f"side_{k}"] for s in samples])), 3)
                      for k in SIDES},
            "with_face": {k: v[0] for k, v in votes.items()},
            "with_picture": {k: v[1] for k, v in votes.items()},
            "attached": ",".join(k for k in SIDES if k in attached),
            "parallel_fraction": round(float(np.mean([s["parallel"] for s in samples])), 3),
        }
        return self._signal(samples, edge_score(evidence), details)
