"""Eye-hole probe: is there a sharp, closed step around each eye (a mask's cut edge)?

Physics. A mask with eye holes (paper, plastic) sits in front of the wearer's face; through
each hole the camera sees the wearer's own eyes and a rim of their skin, set back and shaded
by the mask. The hole's cut edge is a *step*: one surface (the mask) on one side, another (the
shaded skin) on the other, each smooth, with the whole change across a pixel or two, and the
step runs all the way round the eye. Live periorbital skin darkens toward the eye too (the
orbit is concave), but as a smooth *gradient*; a glasses rim is a *line* (the same skin on both
sides); a lash line sits on the lid itself.

Method (per frame, per eye, on MediaPipe's mesh). Rays leave the eye centre (mid corners)
through the lower half (0-180 degrees, away from the brows), in the eye's own frame (unit: the
corner-to-corner eye width ``W``), from just outside the lid contour to 0.7 W beyond it, in
luminance blurred to the pixel. Rays are pooled into 10-degree sectors. At each radius ``r`` of
a sector's profile a line is fitted to the plateau inside (``[r - h - L, r - h]``) and outside
(``[r + h, r + h + L]``), ``h`` the half width of a sharp transition, ``L`` the plateau length;
the *jump* is the outside line's value at ``r`` minus the inside line's: a step gives its
height, a gradient and a thin line give about 0. The jump is kept as Weber contrast (over the
level) and as a t value (over the plateaus' residual noise). A sector is *stepped* when its
largest jump passes both bars; the eye's figure is the longest run of adjacent stepped sectors
with one sign and radii within ``MAX_DR`` of each other, as a fraction of the sectors. The
frame's figure is the smaller of the two eyes' (a mask has two holes).

This script prints, per presentation of a manifest (videos sampled every ``EVERY_S``, stills
once), the median and maximum of the frame figure, so the cue is built only when masks and live
faces separate::

    python scripts/probe_eye_holes.py ../shared/data/manifest.csv

What it found (2026-12-06, 2.5 min). The one real eye-hole mask of the developer set (a printed
face worn over glasses, ``f_fake_andr_mask.jpg``) reaches 0.89; live faces' sessions have
medians of at most 0.56 and single frames reach 0.72 (``7.mp4``: a lid bag's fold under each
eye of an older man, 34-px eyes on a compressed webcam picture; ``d9.mp4`` 0.67). The margin
rests on that one example and is thin: an otherwise equal implementation that finds the lid by
intersecting rays with the contour (instead of testing every fourth sample) puts the mask at
0.78 and the same live frame at 0.72, because the mask's hole runs within a lash length of the
lower lid. So the cue is measured, not built: a threshold here would be set by one file, and a
worn mask would meet it only as well as this search margin happens to fit that mask.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from kiosk.analysis.face import FaceTracker
from kiosk.camera import open_source
from kiosk.lab.manifest import read_manifest

# MediaPipe mesh: (outer corner, inner corner, contour) of the subject's right and left eye.
EYES = (
    (33, 133, (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)),
    (263, 362, (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388,
                466)),
)
SECTOR_DEG = 10.0
RAYS_PER_SECTOR = 5
LID_MARGIN = 0.08          # eye widths beyond the lid contour (lashes)
SEARCH = 0.7               # eye widths searched beyond that
STEP = 1.0 / 96            # radial sampling (eye widths)
HALF = 0.03                # half width of a sharp transition (eye widths, >= 1.2 px)
PLATEAU = 0.12             # plateau length (eye widths)
MIN_CONTRAST = 0.06        # Weber contrast of a stepped sector
MIN_SHARP = 0.6            # share of the jump made across the transition
MIN_T = 3.0                # jump over the plateaus' residual noise
PAIR = 0.2                 # a line's two edges lie within this (eye widths)
MIN_LEVEL = 20.0           # grey level floor of the Weber contrast
MAX_DR = 0.08              # adjacent stepped sectors' radii differ by at most this (eye widths)
MIN_EYE_PX = 32.0
MAX_YAW = 20.0
EVERY_S = 0.5


def eye_frame(marks: np.ndarray, outer: int, inner: int):
    """Centre, unit lateral axis, unit downward axis and width of one eye (pixels)."""
    a, b = marks[outer, :2].astype(np.float64), marks[inner, :2].astype(np.float64)
    centre = (a + b) / 2.0
    lateral = a - b
    width = float(np.hypot(*lateral))
    ex = lateral / width
    ey = np.array([-ex[1], ex[0]])
    if ey[1] < 0:
        ey = -ey
    return centre, ex, ey, width


def sector_profiles(lum: np.ndarray, marks: np.ndarray, outer: int, inner: int, contour):
    """(n_sectors, n_radii[, C]) profiles of ``lum`` (H, W[, C]) from the lid outward, the
    radii (eye widths) and which sectors lie wholly in the picture."""
    centre, ex, ey, width = eye_frame(marks, outer, inner)
    poly = marks[list(contour), :2].astype(np.float32)
    n_sectors = int(round(180.0 / SECTOR_DEG))
    angles = np.deg2rad((np.arange(n_sectors * RAYS_PER_SECTOR) + 0.5)
                        * SECTOR_DEG / RAYS_PER_SECTOR)
    radii = np.arange(0.0, 1.0, STEP)
    dirs = np.cos(angles)[:, None] * ex + np.sin(angles)[:, None] * ey          # (n_rays, 2)
    pts = centre + radii[None, :, None] * width * dirs[:, None, :]             # (rays, r, 2)
    # The lid: where each ray leaves the eye's contour polygon.
    lid = np.zeros(len(angles))
    for i in range(len(angles)):
        inside = [cv2.pointPolygonTest(poly, (float(x), float(y)), False) >= 0
                  for x, y in pts[i, ::4]]
        k = np.flatnonzero(inside)
        lid[i] = radii[::4][k[-1]] if len(k) else 0.0
    start = lid + LID_MARGIN - HALF - PLATEAU
    n_r = int(round((SEARCH + PAIR + 2 * (HALF + PLATEAU)) / STEP))
    rel = np.arange(n_r) * STEP
    rr = start[:, None] + rel[None, :]
    pts = centre + rr[..., None] * width * dirs[:, None, :]
    sampled = cv2.remap(lum, pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32),
                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=-1.0)
    sampled = sampled.reshape(n_sectors, RAYS_PER_SECTOR, n_r, *lum.shape[2:])
    valid = (sampled >= 0).reshape(n_sectors, -1).all(axis=1)
    return sampled.mean(axis=1), rel, valid


def jump_profile(profile: np.ndarray):
    """Per radius of one profile: the jump between the plateaus either side, its Weber
    contrast, its t value over the plateaus' spread, and the transition's share of it."""
    h, L = int(round(HALF / STEP)), int(round(PLATEAU / STEP))
    n = len(profile)
    jump, contrast, t, sharp = (np.full(n, np.nan) for _ in range(4))
    for c in range(h + L, n - h - L):
        inner = profile[c - h - L:c - h + 1]
        outer = profile[c + h:c + h + L + 1]
        j = float(outer.mean() - inner.mean())
        spread = max(float(np.sqrt((inner.var() + outer.var()) / 2.0)), 0.5)
        level = max((inner.mean() + outer.mean()) / 2.0, MIN_LEVEL)
        jump[c], contrast[c], t[c] = j, j / level, j / spread
        sharp[c] = (profile[c + h] - profile[c - h]) / j if j else 0.0
    return jump, contrast, t, sharp


def step_candidates(profile: np.ndarray, rel: np.ndarray) -> list[tuple[int, float]]:
    """Single steps of one profile: (sign, radius).

    Candidates are the local maxima of the transition's change ``|P(r + h) - P(r - h)|``
    whose jump passes the contrast and t bars and happens mostly across the transition
    (``sharp >= MIN_SHARP``: a gradient spreads it over the plateaus). A candidate with an
    opposite one of at least half its jump within PAIR is a line's edge (a glasses rim), not
    a step; the profile runs PAIR past the search range to see it.
    """
    h = int(round(HALF / STEP))
    jump, contrast, t, sharp = jump_profile(profile)
    edge = np.zeros(len(profile))
    edge[h:-h] = np.abs(profile[2 * h:] - profile[:-2 * h])
    peaks = [c for c in range(1, len(profile) - 1)
             if edge[c] >= edge[c - 1] and edge[c] >= edge[c + 1] and not np.isnan(t[c])
             and abs(contrast[c]) >= MIN_CONTRAST and abs(t[c]) >= MIN_T
             and sharp[c] >= MIN_SHARP]
    out = []
    for c in peaks:
        if rel[c] > LID_MARGIN + SEARCH + HALF + PLATEAU:
            continue
        lined = any(np.sign(jump[d]) != np.sign(jump[c]) and abs(rel[d] - rel[c]) <= PAIR
                    and abs(jump[d]) >= 0.5 * abs(jump[c]) for d in peaks)
        if not lined:
            out.append((int(np.sign(jump[c])), float(rel[c])))
    return out


def longest_contour(cands: list[list[tuple[int, float]]]) -> int:
    """Most adjacent sectors joined by one-signed steps whose radii differ <= MAX_DR."""
    best = 0
    prev: list[tuple[tuple[int, float], int]] = []
    for sector in cands:
        cur = []
        for s in sector:
            run = 1 + max((n for p, n in prev if p[0] == s[0] and abs(p[1] - s[1]) <= MAX_DR),
                          default=0)
            cur.append((s, run))
            best = max(best, run)
        prev = cur
    return best


def eye_figure(lum: np.ndarray, marks: np.ndarray, outer: int, inner: int, contour) -> float:
    profiles, rel, valid = sector_profiles(lum, marks, outer, inner, contour)
    cands = [step_candidates(p, rel) if ok else [] for p, ok in zip(profiles, valid, strict=True)]
    return longest_contour(cands) / len(cands)


def frame_figure(image: np.ndarray, face) -> float | None:
    if abs(face.yaw) > MAX_YAW:
        return None
    marks = face.landmarks
    widths = [eye_frame(marks, o, i)[3] for o, i, _ in EYES]
    if min(widths) < MIN_EYE_PX:
        return None
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    lum = cv2.GaussianBlur(grey, (0, 0), max(0.6, 0.008 * min(widths)))
    return min(eye_figure(lum, marks, o, i, c) for o, i, c in EYES)


def probe(path: Path, frame_range=None) -> list[float]:
    first, last = frame_range or (0, None)
    figures: list[float] = []
    next_t = 0.0
    with open_source(str(path), paced=False, start=first, end=last) as source, \
            FaceTracker() as tracker:
        for frame in source:
            face = tracker.observe(frame).face
            if face is None or frame.t < next_t:
                continue
            figure = frame_figure(frame.image, face)
            if figure is not None:
                figures.append(figure)
                next_t = frame.t + EVERY_S
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest")
    parser.add_argument("--only", default="", help="substring of the paths to probe")
    args = parser.parse_args(argv)
    manifest = Path(args.manifest)
    for row in read_manifest(manifest):
        if row.overlay or args.only not in row.path:
            continue
        figures = probe(manifest.parent / row.path, frame_range=row.frame_range)
        label = f"{row.label} {row.species}".strip()
        if figures:
            print(f"{label:<16} n {len(figures):3d}  median {np.median(figures):.2f}  "
                  f"max {max(figures):.2f}  {row.key}", flush=True)
        else:
            print(f"{label:<16} n   0  (no near-frontal face with eyes >= {MIN_EYE_PX:g} px)  "
                  f"{row.key}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
