"""Candidate screen cues, measured before building them (issue 12's "measured, not built").

Each probe has a physical reason to separate a replay from a live face; this script prints
what it gives on every video of a manifest, so a cue is built only when live and replay
presentations separate, and the figures in the notes can be reproduced:

- **judder**: a screen shows its video's own frames; a camera filming it at another rate sees
  some frames held (the face stops for a frame, then catches up), while a live face moves
  continuously. Per frame, the face's landmark centroid displacement in % of the face width;
  a *stall* is a frame moving less than ``STALL_DROP`` of the slower neighbour while both
  neighbours move at least ``STALL_FLOOR``. Frames the capture chain itself repeated (the
  whole picture unchanged: encoders and drivers pad frames) are left out.
- **chroma**: a display's sub-pixel stripes sampled by the camera's colour mosaic beat into
  green-magenta fringes; skin's chroma is smooth. The strongest whitened spectral peak of the
  face box's tiles (:mod:`kiosk.analysis.context.moire`'s method) in grey, in the
  green-magenta axis ``G - (R + B) / 2`` and in ``R - B``.
- **glass**: dust, scratches and reflections on a screen stay in the picture while the replayed
  face moves under them. Between frames ``GLASS_STEP_S`` apart in which the face moved at least
  ``GLASS_MOVE`` face widths, the band-passed face region is correlated with the next frame at
  the same place (best of +-2 px: the camera shakes) and after following the face (a
  similarity fitted to the landmarks): a static layer raises the first against the second.
- **blocks**: a replayed video was compressed in 8x8 blocks at its own resolution before the
  screen scaled it; filmed again, its block edges form a grid whose period is 8 times the
  scale, rarely the capture's own 8 px. The mean absolute second difference across the face
  box's columns (and rows) is a profile; its spectrum's strongest period between 3 and 32 px,
  away from the capture's own 4, 8 and 16 (and the bins beside them), is reported against the
  spectrum's median.

Usage::

    python scripts/probe_screen_cues.py ../shared/data/manifest.csv [PATH@SECONDS ...]

``PATH@SECONDS`` probes one more file from that media time on (e.g. a replay's part where the
screen fills the view).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import cv2
import numpy as np

from kiosk.analysis.context.moire import _searched, _stack, _tile_origins, whitened_spectrum
from kiosk.analysis.context.regions import hull_mask
from kiosk.analysis.face import FaceTracker
from kiosk.camera import open_source
from kiosk.lab.manifest import read_manifest

STALL_FLOOR = 0.5     # % of the face width per frame: well above landmark jitter
STALL_DROP = 0.35
REPEAT_LEVEL = 0.25   # mean absolute grey difference (160x120) of a repeated frame
CHROMA_EVERY = 6      # frames between chroma samples
GLASS_STEP_S, GLASS_MOVE = 0.3, 0.1
BLOCK_PROFILE = 128   # profile length (px) whose spectrum is taken
MIN_FACE_PX = 96


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def chroma_peaks(image: np.ndarray, box) -> dict[str, float] | None:
    """Strongest whitened peak of the face box's tiles per channel (None: box too small)."""
    h, w = image.shape[:2]
    x0, y0 = max(int(box[0]), 0), max(int(box[1]), 0)
    origins = _tile_origins(x0, y0, min(int(box[2]), w), min(int(box[3]), h))
    if len(origins) < 4:
        return None
    b, g, r = (image[..., i].astype(np.float32) for i in range(3))
    out = {}
    for name, channel in (("grey", _grey(image)), ("gm", g - (r + b) / 2), ("rb", r - b)):
        spectrum = whitened_spectrum(_stack(channel, origins))
        out[name] = float(spectrum[_searched(spectrum)].max())
    return out


def block_peak(grey: np.ndarray, box) -> tuple[float, float] | None:
    """(period px, peak / median) of the face box's strongest block-edge period other than
    the capture's own grid, or None when the box is smaller than BLOCK_PROFILE."""
    x0, y0 = max(int(box[0]), 0), max(int(box[1]), 0)
    crop = grey[y0:int(box[3]), x0:int(box[2])]
    if min(crop.shape) < BLOCK_PROFILE + 2:
        return None
    power = np.zeros(BLOCK_PROFILE // 2 + 1)
    for axis in (0, 1):
        profile = np.abs(np.diff(crop, 2, axis=1 - axis)).mean(axis=axis)[:BLOCK_PROFILE]
        profile = profile - np.convolve(profile, np.ones(9) / 9, mode="same")  # slow trend
        power += np.abs(np.fft.rfft(profile * np.hanning(BLOCK_PROFILE))) ** 2
    k_all = np.arange(power.size)
    periods = BLOCK_PROFILE / np.maximum(k_all, 1)
    # The capture's own grid and the Hann window's leakage into the bins beside it.
    own = np.zeros(power.size, bool)
    for period in (4, 8, 16):
        own |= np.abs(k_all - BLOCK_PROFILE / period) <= 1
    band = (periods >= 3) & (periods <= 32) & ~own
    k = int(np.flatnonzero(band)[np.argmax(power[band])])
    return float(periods[k]), float(power[k] / np.median(power[band]))


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum() + 1e-9))


def glass_pair(first, second) -> tuple[float, float] | None:
    """(static, following) correlations of two (band-passed grey, face) samples, or None."""
    (band_a, face_a), (band_b, face_b) = first, second
    width = (face_a.width + face_b.width) / 2.0
    moved = np.hypot((face_b.box[0] + face_b.box[2] - face_a.box[0] - face_a.box[2]) / 2,
                     (face_b.box[1] + face_b.box[3] - face_a.box[1] - face_a.box[3]) / 2)
    if moved / width < GLASS_MOVE:
        return None
    shape = band_a.shape
    both = hull_mask(face_a.landmarks, shape) & hull_mask(face_b.landmarks, shape)
    region = cv2.erode(both, np.ones((9, 9), np.uint8)).astype(bool)
    if region.sum() < 2000:
        return None
    static = max(_ncc(band_a[region], np.roll(band_b, (dy, dx), (0, 1))[region])
                 for dy in range(-2, 3) for dx in range(-2, 3))
    warp, _ = cv2.estimateAffinePartial2D(face_b.landmarks[:, :2].astype(np.float32),
                                          face_a.landmarks[:, :2].astype(np.float32))
    if warp is None:
        return None
    following = cv2.warpAffine(band_b, warp, (shape[1], shape[0]))
    return static, _ncc(band_a[region], following[region])


def probe(path: Path, start_s: float = 0.0, frame_range=None) -> dict:
    """Every probe's figures for one recording (see the module docstring)."""
    first, last = frame_range or (0, None)
    motion: list[tuple[np.ndarray, bool] | None] = []
    chroma, glass, blocks = [], [], []
    previous_small = previous_landmarks = glass_last = None
    with open_source(str(path), paced=False, start=first, end=last) as source, \
            FaceTracker() as tracker:
        for i, frame in enumerate(source):
            if frame.t < start_s:
                continue
            face = tracker.observe(frame).face
            small = cv2.resize(_grey(frame.image), (160, 120), interpolation=cv2.INTER_AREA)
            repeated = previous_small is not None and float(
                np.abs(small - previous_small).mean()) < REPEAT_LEVEL
            if face is None or previous_landmarks is None:
                motion.append(None)
            else:
                shift = (face.landmarks[:, :2] - previous_landmarks).mean(axis=0)
                motion.append((100.0 * shift / max(face.width, 1.0), repeated))
            previous_small = small
            previous_landmarks = None if face is None else face.landmarks[:, :2].copy()
            if face is None or face.width < MIN_FACE_PX:
                glass_last = None
                continue
            if i % CHROMA_EVERY == 0 and (peaks := chroma_peaks(frame.image, face.box)):
                chroma.append(peaks)
                if (block := block_peak(_grey(frame.image), face.box)) is not None:
                    blocks.append(block)
            if glass_last is None or frame.t - glass_last[0] >= GLASS_STEP_S:
                grey = _grey(frame.image)
                sample = (cv2.GaussianBlur(grey, (0, 0), 1.5) - cv2.GaussianBlur(grey, (0, 0), 5),
                          face)
                if glass_last is not None and (pair := glass_pair(glass_last[1], sample)):
                    glass.append(pair)
                glass_last = (frame.t, sample)
    stalls = judged = 0
    for before, now, after in zip(motion, motion[1:], motion[2:], strict=False):
        if before is None or now is None or after is None or before[1] or now[1] or after[1]:
            continue
        a, x, b = (float(np.linalg.norm(m[0])) for m in (before, now, after))
        if min(a, b) >= STALL_FLOOR:
            judged += 1
            stalls += x < STALL_DROP * min(a, b)
    return {"stalls": stalls, "judged": judged,
            "repeated": sum(1 for m in motion if m is not None and m[1]),
            "chroma": {k: float(np.median([c[k] for c in chroma])) for k in ("grey", "gm", "rb")}
            if chroma else None,
            "glass": (float(np.median([g[0] for g in glass])),
                      float(np.median([g[1] for g in glass])), len(glass)) if glass else None,
            "blocks": (float(np.median([b[1] for b in blocks])),
                       float(np.median([b[0] for b in blocks]))) if blocks else None}


def _line(name: str, kind: str, report: dict) -> str:
    rate = report["stalls"] / report["judged"] if report["judged"] else float("nan")
    chroma = report["chroma"]
    glass, blocks = report["glass"], report["blocks"]
    return (f"{kind:<17} judder {report['stalls']:>3}/{report['judged']:<4} {rate:6.3f} "
            f"(repeated {report['repeated']:>3})  chroma "
            + ("-" if chroma is None else
               f"grey {chroma['grey']:5.1f} gm {chroma['gm']:5.1f} rb {chroma['rb']:5.1f}")
            + "  glass "
            + ("-" if glass is None else
               f"static {glass[0]:.3f} following {glass[1]:.3f} ({glass[2]} pairs)")
            + "  blocks " + ("-" if blocks is None else f"{blocks[0]:5.1f} at {blocks[1]:4.1f} px")
            + f"  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest")
    parser.add_argument("extra", nargs="*", metavar="PATH@SECONDS")
    args = parser.parse_args(argv)
    manifest = Path(args.manifest)
    for row in read_manifest(manifest):
        if row.still or row.overlay:
            continue
        report = probe(manifest.parent / row.path, frame_range=row.frame_range)
        print(_line(row.key, f"{row.label} {row.species}".strip(), report), flush=True)
    for spec in args.extra:
        path, _, start = spec.rpartition("@") if "@" in spec else (spec, "", "0")
        report = probe(Path(path), start_s=float(start))
        print(_line(spec, "extra", report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
