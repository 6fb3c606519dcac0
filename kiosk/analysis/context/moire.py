"""Screen and moire cue: a periodic pattern that runs across the face and its surroundings.

Physics. A screen's pixel grid, or a print's halftone screen, photographed by a camera whose
own pixel grid has a different pitch, produces periodic fringes (moire) and a grid texture:
in the power spectrum, isolated peaks at a few spatial frequencies. Skin, hair and ordinary
backgrounds have smooth ~1/f spectra. A live face also hides the background, so no periodic
pattern can cover both the face and the wall behind it with the same frequency; on a screen
or a print the pattern lies on one flat surface in front of both. The score therefore comes
from the *joint* peak: a frequency that stands out both in tiles inside the face box and in
tiles of the ring around it.

The camera can imitate this. A stream resampled anywhere in its pipeline (a webcam scaling
its sensor to 640x480, a video re-encoded at another size) carries periodic interpolation
artefacts over the whole frame; resizing the developer clips to 640x480 raised the bona
fide joint peaks from ~2-4 to ~8-15. A screen or print held in front of the camera is local,
so the joint peak is divided by the whitened power at the same frequency in the rest of the
frame (the *local* peak). When the rest of the frame is too small to measure, the raw joint
peak is used with a quarter of the confidence. A monitor that fills the whole frame is discounted
like a camera artefact (the developer set's monitor replay is not caught by this cue).

Method. Welch's method: Hann-windowed 64x64 tiles at native resolution (resampling would
move or erase the fringes), power spectra averaged over the tiles of each region, then
whitened by the median power of each radial frequency band so a smooth spectrum is ~1
everywhere. Excluded as camera/codec artefacts rather than scene content: the two axes and
their first neighbours (row/column processing, resampling, deinterlacing; a Hann window
leaks an axis line into +-1 bin, so those bins count only where they outshine the axis),
the 8-pixel JPEG/MPEG block lattice, frequencies above
0.42 cycles/pixel (demosaicing and chroma subsampling) and below 0.06 (the face's own
shape).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from scipy import fft as sfft

from kiosk.analysis.arrays import check_image
from kiosk.analysis.context.regions import check_box, expand_box, logistic
from kiosk.analysis.context.sampling import SampledAnalyzer, median_of
from kiosk.model import Face, Signal
from kiosk.reasons import Reason

# Tile size. 64 px resolves fringes tilted a few degrees from the image axes (a screen held
# roughly upright), which 32 px tiles would merge into the excluded axis bins.
TILE = 64
# Radial band of frequencies searched, cycles/pixel (see the module docstring).
F_MIN, F_MAX = 0.06, 0.42
# Region searched around the face: the face box grown 1.6x, i.e. ~0.3 face widths beyond the
# face on each side, and at least one tile beyond it so a small face still has a ring. A phone
# showing a face extends only ~0.5 face widths beyond it: a wider ring mixes in the scene
# outside the screen and dilutes the screen's pattern (seen on the developer set's phone
# replay: its joint peak fell from ~10 to ~4 with a 1.5-tile ring).
RING_SCALE, RING_MIN_TILES = 1.6, 1.0
# Fewest tiles per region for a usable average (with fewer, one tile's structure dominates).
MIN_FACE_TILES, MIN_RING_TILES, MIN_FAR_TILES = 4, 8, 6
# At most this many tiles per region (cost bound: ~0.05 ms per tile on one core).
MAX_TILES = 48

# Peak -> score. Whitened powers of a smooth spectrum averaged over >= 4 tiles rarely exceed
# ~3 anywhere (the maximum of ~1000 Gamma-distributed bins). Measured on the developer set
# (benchmarks/frame_analyzers.py --scores prints the per-file medians), every 10th frame, at
# native resolution and resized to 640x480: bona fide clips have per-clip median local peaks
# of 1.7-3.9 (90th percentiles up to 5.9, one clip 8.3), bona fide stills 1.7-4.7; the phone
# replay's median is 8.7 (4.4 resized). Local midpoint 6, width 1.5: 3 -> 0.12, 6 -> 0.5,
# 9 -> 0.88. Without a control region the raw joint peak is used, which cannot tell a screen
# from the camera's own resampling: bona fide clip medians are 2.4-4.2 at native resolution
# but ~10-18 when resampled, stills reach 7.0. Midpoint 10, width 2.5, and a quarter of the
# confidence.
LOCAL_MIDPOINT, LOCAL_WIDTH = 6.0, 1.5
JOINT_MIDPOINT, JOINT_WIDTH = 10.0, 2.5
# How far the cue can be trusted: strong when it fires, but periodic clothing or backgrounds
# reaching the face box can imitate it. A quarter of it without a control region.
CONFIDENCE_CAP = 0.6


def _frequency_grid(tile: int):
    # Half spectrum as rfft2 returns it: fy in fftfreq order, fx >= 0; every frequency of a
    # real image appears once (the kx = 0 column twice, as +-ky).
    fy, fx = np.meshgrid(np.fft.fftfreq(tile), np.fft.rfftfreq(tile), indexing="ij")
    r = np.hypot(fy, fx)
    ky, kx = np.rint(fy * tile).astype(int), np.rint(fx * tile).astype(int)
    block = tile // 8
    band = ((r > F_MIN) & (r < F_MAX) & ~((ky % block == 0) & (kx % block == 0))
            & ((kx > 0) | (ky > 0)))
    valid = band & (np.abs(ky) > 1) & (kx > 1)
    # Bins next to an axis: admitted only where the pattern is really off the axis (below).
    near_row = band & (np.abs(ky) == 1) & (kx > 1)
    near_col = band & (kx == 1) & (np.abs(ky) > 1)
    rings = np.minimum(np.rint(r * tile).astype(int), tile // 2 + 1)
    order = np.argsort(rings, axis=None)
    bounds = np.searchsorted(rings.ravel()[order], np.arange(tile // 2 + 3))
    return fy, fx, valid, rings, order, bounds, near_row, near_col


def _searched(w: np.ndarray) -> np.ndarray:
    """Bins of a whitened half spectrum (T, T//2+1) that count as scene frequencies.

    The static band, plus bins one step from an axis when they hold more power than the axis
    bin beside them: a pattern tilted by at least half a bin from the image axes (a screen
    held a little rotated) peaks there, while an axis-aligned camera artefact, leaking through
    the Hann window, is at most a quarter as strong one bin off the axis.
    """
    _, _, valid, _, _, _, near_row, near_col = _GRID[TILE]
    axis_row = np.empty_like(w)
    axis_row[1] = axis_row[-1] = w[0]              # ky = +-1 against ky = 0, same kx
    axis_col = np.empty_like(w)
    axis_col[:, 1] = w[:, 0]                        # kx = 1 against kx = 0, same ky
    return valid | (near_row & (w > axis_row)) | (near_col & (w > axis_col))


_GRID = {TILE: _frequency_grid(TILE)}
_WINDOW = {TILE: np.outer(np.hanning(TILE), np.hanning(TILE)).astype(np.float32)}


def whitened_spectrum(tiles: np.ndarray) -> np.ndarray:
    """Welch power spectrum of a stack of tiles, divided by its radial median.

    Parameters
    ----------
    tiles : ndarray (K, T, T)
        Grey tiles (any real dtype), T = 64.

    Returns
    -------
    ndarray (T, T // 2 + 1) float64
        Half spectrum in ``scipy.fft.rfft2`` order (fy in fftfreq order, fx >= 0): power over
        the median power of the same radial frequency band, ~1 for a smooth spectrum and large
        at a periodic pattern's frequency.
    """
    tiles = np.asarray(tiles)
    if tiles.ndim != 3 or tiles.shape[1] != tiles.shape[2] or tiles.shape[1] not in _GRID \
            or len(tiles) == 0:
        raise ValueError(f"tiles must have shape (K>0, T, T) with T in {sorted(_GRID)}, "
                         f"got {tiles.shape}")
    tile = tiles.shape[1]
    _, _, _, rings, order, bounds, _, _ = _GRID[tile]
    t = tiles.astype(np.float32)
    t = t - t.mean(axis=(1, 2), keepdims=True)
    spec = sfft.rfft2(t * _WINDOW[tile], axes=(1, 2))
    power = (spec.real ** 2 + spec.imag ** 2).mean(axis=0)
    flat = power.ravel()[order]
    med = np.ones(len(bounds) - 1)
    for i in range(len(bounds) - 1):
        if bounds[i + 1] > bounds[i]:
            med[i] = max(float(np.median(flat[bounds[i]:bounds[i + 1]])), 1e-12)
    return power / med[rings]


def _tile_origins(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """Top-left corners of tiles inside [x0, x1) x [y0, y1), half-overlapping, at most MAX_TILES."""
    w, h = x1 - x0, y1 - y0
    if w < TILE or h < TILE:
        return []
    step = TILE // 2
    while ((w - TILE) // step + 1) * ((h - TILE) // step + 1) > MAX_TILES:
        step += TILE // 8
    xs = range(x0, x1 - TILE + 1, step)
    ys = range(y0, y1 - TILE + 1, step)
    return [(x, y) for y in ys for x in xs]


def _stack(grey: np.ndarray, origins: list[tuple[int, int]]) -> np.ndarray:
    return np.stack([grey[y:y + TILE, x:x + TILE] for x, y in origins])


def spectral_peaks(image: np.ndarray, box) -> dict[str, Any]:
    """Periodic-pattern peaks inside the face box, in the ring around it, and in both.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
        The frame (not modified).
    box : tuple of float
        Face box ``(x0, y0, x1, y1)`` in pixels.

    Returns
    -------
    dict
        ``face_peak``, ``ring_peak``: the largest whitened power in each region;
        ``joint_peak``: the largest min(face, ring) at a common frequency (+-1 bin);
        ``local_peak``: the same with each frequency divided by the whitened power of the
        rest of the frame there (at least 1), NaN when the rest of the frame holds fewer than
        MIN_FAR_TILES tiles; ``frequency``: (fy, fx) of the local (else joint) peak in
        cycles/pixel; ``face_tiles``, ``ring_tiles``, ``far_tiles``.

    Raises
    ------
    ValueError
        Bad arguments, or fewer than MIN_FACE_TILES / MIN_RING_TILES tiles fit.
    """
    check_image(image)
    box = check_box(box, image.shape)
    fw, fh = box[2] - box[0], box[3] - box[1]
    scale = max(RING_SCALE, 1.0 + 2.0 * RING_MIN_TILES * TILE / min(fw, fh))
    rx0, ry0, rx1, ry1 = expand_box(box, scale, image.shape)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    fx0, fy0 = int(np.ceil(box[0])), int(np.ceil(box[1]))
    fx1, fy1 = min(int(box[2]), grey.shape[1]), min(int(box[3]), grey.shape[0])
    face_xy = _tile_origins(max(fx0, 0), max(fy0, 0), fx1, fy1)
    ring_xy = [(x, y) for (x, y) in _tile_origins(rx0, ry0, rx1, ry1)
               if x + TILE <= fx0 or y + TILE <= fy0 or x >= fx1 or y >= fy1]
    if len(face_xy) < MIN_FACE_TILES or len(ring_xy) < MIN_RING_TILES:
        raise ValueError(f"box leaves {len(face_xy)} face and {len(ring_xy)} ring tiles of "
                         f"{TILE} px; need {MIN_FACE_TILES} and {MIN_RING_TILES}")
    far_xy = [(x, y) for (x, y) in _tile_origins(0, 0, grey.shape[1], grey.shape[0])
              if x + TILE <= rx0 or y + TILE <= ry0 or x >= rx1 or y >= ry1]
    face_w = whitened_spectrum(_stack(grey, face_xy))
    ring_w = whitened_spectrum(_stack(grey, ring_xy))
    fy, fx = _GRID[TILE][:2]
    face_ok, ring_ok = _searched(face_w), _searched(ring_w)
    # Allow a peak to sit one bin away in another region (the tiles differ in content).
    grow = np.ones((3, 3), np.uint8)
    ring_near = cv2.dilate(np.where(ring_ok, ring_w, 0.0).astype(np.float32), grow,
                           borderType=cv2.BORDER_REPLICATE)
    joint = np.where(face_ok, np.minimum(face_w, ring_near), 0.0)
    local_peak, best = float("nan"), int(np.argmax(joint))
    if len(far_xy) >= MIN_FAR_TILES:
        far_w = whitened_spectrum(_stack(grey, far_xy))
        far_near = cv2.dilate(far_w.astype(np.float32), grow, borderType=cv2.BORDER_REPLICATE)
        local = joint / np.maximum(far_near, 1.0)
        best = int(np.argmax(local))
        local_peak = float(local.flat[best])
    return {
        "face_peak": float(face_w[face_ok].max()),
        "ring_peak": float(ring_w[ring_ok].max()),
        "joint_peak": float(joint.max()),
        "local_peak": local_peak,
        "frequency": (float(fy.flat[best]), float(fx.flat[best])),
        "face_tiles": len(face_xy),
        "ring_tiles": len(ring_xy),
        "far_tiles": len(far_xy),
    }


def moire_score(peak: float, local: bool = True) -> float:
    """Attack score in [0, 1] from a local (or, with ``local=False``, raw joint) peak."""
    if local:
        return logistic(peak, LOCAL_MIDPOINT, LOCAL_WIDTH)
    return logistic(peak, JOINT_MIDPOINT, JOINT_WIDTH)


class MoireAnalyzer(SampledAnalyzer):
    """Screen/print periodic pattern across the face and its surroundings (``moire``).

    Parameters
    ----------
    stride, phase, max_samples :
        Frame sampling (:class:`~kiosk.analysis.context.sampling.FrameSampler`).
    min_face_px : float
        Faces narrower than this are skipped: the face box must hold 2x2 half-overlapping
        tiles of 64 px.

    Signal details: ``peak_kind`` ("local" when at least half the samples had a control
    region, else "joint"), ``local_peak`` and ``joint_peak`` (medians; the one named by
    ``peak_kind`` is the score's input), ``joint_peak_p90``, ``face_peak``, ``ring_peak``,
    ``frequency`` (cycles/pixel (fy, fx) of the strongest sampled peak), plus ``frames``,
    ``samples``, ``skipped``, ``sampled_seq``.
    """

    name = "moire"
    reason = Reason.SCREEN_SUSPECTED

    def __init__(self, stride: int = 6, phase: int = 1, max_samples: int = 32,
                 min_face_px: float = 96.0) -> None:
        super().__init__(stride, phase, max_samples, min_face_px)

    def _measure(self, image: np.ndarray, face: Face) -> dict[str, Any]:
        return spectral_peaks(image, face.box)

    def _aggregate(self, samples: list[dict[str, Any]]) -> Signal:
        joints = np.array([s["joint_peak"] for s in samples])
        locals_ = np.array([s["local_peak"] for s in samples])
        use_local = np.isfinite(locals_).sum() * 2 >= len(samples)
        peaks = locals_ if use_local else joints
        best = samples[int(np.nanargmax(peaks))]
        peak = median_of(samples, "local_peak" if use_local else "joint_peak")
        details = {
            "peak_kind": "local" if use_local else "joint",
            "local_peak": round(median_of(samples, "local_peak"), 3),
            "joint_peak": round(float(np.median(joints)), 3),
            "joint_peak_p90": round(float(np.percentile(joints, 90)), 3),
            "face_peak": round(median_of(samples, "face_peak"), 3),
            "ring_peak": round(median_of(samples, "ring_peak"), 3),
            "frequency": tuple(round(v, 4) for v in best["frequency"]),
        }
        # Without the face's own spectrum the joint peak says much less (see moire_score).
        cap = CONFIDENCE_CAP if use_local else CONFIDENCE_CAP / 4
        return self._signal(samples, moire_score(peak, use_local), details, cap=cap)
