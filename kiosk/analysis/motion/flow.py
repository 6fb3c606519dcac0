"""Sparse optical flow helpers: corner detection and pyramidal Lucas-Kanade tracking.

Pure functions over grey uint8 images. Tracks are checked forward and backward (Kalal et al.,
"Forward-backward error", ICPR 2010): a point that does not come back to where it started was
lost (occlusion, a blink, a textureless patch) and is dropped rather than trusted.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from kiosk.analysis.arrays import check_grey

# Lucas-Kanade window and pyramid: 15x15 px with levels 0-3 follows motions of up to about
# 7 x 2^3 = 56 px per step, more than a quick head turn moves a 100-160 px face in 1/15 s
# (with levels 0-2 the laughing, head-shaking man of LivePortrait d12 lost most windows).
LK_WINDOW = 15
LK_LEVELS = 3
_LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)
# A track is kept when it returns within this many pixels of its start (working scale).
FB_MAX_PX = 0.5
# Weakest corner kept, from the image's own noise: the smaller eigenvalue of the structure
# tensor (central-difference gradients summed over 7x7 px) must reach STRENGTH_PER_NOISE times
# the noise variance. ``goodFeaturesToTrack`` alone only ranks corners against the strongest
# one, so on a plain wall it returns "corners" made of sensor noise: their strength measured
# 36, 135 and 544 (about 34-42 sigma^2) for noise of sigma = 1, 2 and 4 grey levels. 100 sigma^2
# keeps a 2.4x margin above them and locates a kept corner to about 0.1 px (Lucas-Kanade's
# error is about sigma / sqrt(strength)). STRENGTH_FLOOR applies to noise-free or heavily
# compressed frames (sigma ~0.25 from 8-bit quantisation alone).
STRENGTH_PER_NOISE = 100.0
STRENGTH_FLOOR = 25.0
_STRENGTH_RADIUS = 3
# Immerkaer's noise operator (a difference of two Laplacians, "Fast noise variance
# estimation", CVIU 64(2), 1996): flat on smooth image content, 6 sigma in response to noise.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sigma(grey: np.ndarray) -> float:
    """Standard deviation of the image noise, grey levels (robust Immerkaer estimate).

    The median absolute response of Immerkaer's operator, on every second pixel, scaled to a
    standard deviation: image structure affects a median far less than the mean of the
    original method.

    Parameters
    ----------
    grey : ndarray (H, W) uint8, H and W >= 3
    """
    g = check_grey(grey, "grey")
    if g.shape[0] < 3 or g.shape[1] < 3:
        raise ValueError(f"grey must be at least 3x3, got {g.shape}")
    response = cv2.filter2D(g.astype(np.float32), -1, _NOISE_KERNEL)[1:-1:2, 1:-1:2]
    return float(1.4826 * np.median(np.abs(response)) / 6.0)


def min_strength(sigma: float) -> float:
    """Weakest corner strength kept for images with noise ``sigma`` (grey levels)."""
    return max(STRENGTH_FLOOR, STRENGTH_PER_NOISE * float(sigma) ** 2)


def corner_strength(grey: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Smaller eigenvalue of the structure tensor around each point (7x7 px window).

    Parameters
    ----------
    grey : ndarray (H, W) uint8
    points : ndarray (N, 2)
        Positions (x, y); windows are clipped at the image border.

    Returns
    -------
    ndarray (N,) float64
        Grey levels squared (sum over the window of central-difference gradients).
    """
    g = check_grey(grey, "grey")
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {p.shape}")
    if len(p) == 0:
        return np.zeros(0)
    r = _STRENGTH_RADIUS
    offs = np.arange(-r - 1, r + 2)
    xs = np.clip(np.round(p[:, 0]).astype(int)[:, None] + offs, 0, g.shape[1] - 1)
    ys = np.clip(np.round(p[:, 1]).astype(int)[:, None] + offs, 0, g.shape[0] - 1)
    patch = g[ys[:, :, None], xs[:, None, :]].astype(np.float64)  # (N, 2r+3, 2r+3)
    gx = (patch[:, 1:-1, 2:] - patch[:, 1:-1, :-2]) / 2.0
    gy = (patch[:, 2:, 1:-1] - patch[:, :-2, 1:-1]) / 2.0
    a, b, c = (gx * gx).sum(axis=(1, 2)), (gx * gy).sum(axis=(1, 2)), (gy * gy).sum(axis=(1, 2))
    return (a + c) / 2.0 - np.sqrt(((a - c) / 2.0) ** 2 + b * b)


def detect_points(grey: np.ndarray, mask: np.ndarray, max_points: int,
                  min_distance: float, quality: float = 0.01,
                  strength: float = STRENGTH_FLOOR) -> np.ndarray:
    """Shi-Tomasi corners inside a mask.

    Parameters
    ----------
    grey : ndarray (H, W) uint8
    mask : ndarray (H, W) uint8
        Non-zero where corners may be taken.
    max_points : int
        Most corners returned (the strongest first).
    min_distance : float
        Smallest distance between two corners, pixels.
    quality : float
        Corners weaker than this fraction of the strongest are dropped.
    strength : float
        Corners weaker than this (see :func:`corner_strength` and :func:`min_strength`) are
        dropped too.

    Returns
    -------
    ndarray (N, 2) float32
        Corner positions (x, y); N may be 0.
    """
    g = check_grey(grey, "grey")
    m = np.asarray(mask)
    if m.shape != g.shape or m.dtype != np.uint8:
        raise ValueError(f"mask must be (H, W) uint8 like grey {g.shape}, got {m.shape} {m.dtype}")
    if max_points < 1:
        return np.zeros((0, 2), np.float32)
    # The corner measure is computed over the whole image it is given, mask or not: work on
    # the mask's bounding box only.
    x, y, w, h = cv2.boundingRect(m)
    if w < 3 or h < 3:
        return np.zeros((0, 2), np.float32)
    pts = cv2.goodFeaturesToTrack(g[y:y + h, x:x + w], maxCorners=int(max_points),
                                  qualityLevel=quality,
                                  minDistance=max(1.0, float(min_distance)),
                                  mask=np.ascontiguousarray(m[y:y + h, x:x + w]), blockSize=5)
    if pts is None:
        return np.zeros((0, 2), np.float32)
    pts = pts.reshape(-1, 2).astype(np.float32) + np.array((x, y), np.float32)
    if strength > 0:
        pts = pts[corner_strength(g, pts) >= strength]
    return pts


def track_points(grey_a: np.ndarray, grey_b: np.ndarray, points: np.ndarray,
                 fb_max: float = FB_MAX_PX) -> tuple[np.ndarray, np.ndarray]:
    """Follow points from one grey image to the next, with a forward-backward check.

    Parameters
    ----------
    grey_a, grey_b : ndarray (H, W) uint8
        Two views of the same size.
    points : ndarray (N, 2) float32
        Positions (x, y) in ``grey_a``.
    fb_max : float
        Largest forward-backward error kept, pixels.

    Returns
    -------
    moved : ndarray (N, 2) float32
        Positions in ``grey_b`` (meaningless where ``ok`` is False).
    ok : ndarray (N,) bool
        True for points tracked both ways and back within ``fb_max`` of their start.
    """
    a = check_grey(grey_a, "grey_a")
    b = check_grey(grey_b, "grey_b")
    if a.shape != b.shape:
        raise ValueError(f"grey_b must have the shape of grey_a {a.shape}, got {b.shape}")
    p = np.asarray(points, dtype=np.float32)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {p.shape}")
    if len(p) == 0:
        return np.zeros((0, 2), np.float32), np.zeros(0, bool)
    p = np.ascontiguousarray(p).reshape(-1, 1, 2)
    kw: dict[str, Any] = {"winSize": (LK_WINDOW, LK_WINDOW), "maxLevel": LK_LEVELS,
                          "criteria": _LK_CRITERIA}
    fwd, st1, _ = cv2.calcOpticalFlowPyrLK(a, b, p, None, **kw)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, fwd, None, **kw)
    err = np.linalg.norm((back - p).reshape(-1, 2), axis=1)
    ok = (st1.reshape(-1) == 1) & (st2.reshape(-1) == 1) & (err <= fb_max)
    return fwd.reshape(-1, 2), ok


def grey_crop(image: np.ndarray, roi: tuple[int, int, int, int], scale: float) -> np.ndarray:
    """A region of a BGR image, in grey and resized by ``scale``.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
    roi : tuple of int
        ``(x0, y0, x1, y1)`` in pixels, inside the image.
    scale : float
        Resize factor, in (0, 1] (1 keeps the size).

    Returns
    -------
    ndarray (h, w) uint8
        ``h = round((y1 - y0) * scale)``, ``w = round((x1 - x0) * scale)``.
    """
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8, got {img.shape} {img.dtype}")
    x0, y0, x1, y1 = (int(v) for v in roi)
    if not (0 <= x0 < x1 <= img.shape[1] and 0 <= y0 < y1 <= img.shape[0]):
        raise ValueError(f"roi must lie inside the image {img.shape[1]}x{img.shape[0]}, "
                         f"got {roi}")
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    grey = cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    if scale == 1:
        return grey
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def highpass(grey: np.ndarray, sigma: float, gain: float = 2.0) -> np.ndarray:
    """Remove an image's slow brightness changes: ``gain * (grey - blur(grey)) + 128``,
    saturated to uint8.

    Light that does not move with the surface (a lamp's fall-off across a print turned under
    it, the camera's exposure) breaks Lucas-Kanade's brightness constancy and drags tracks; the
    texture that tracking needs is finer than ``sigma``.

    Parameters
    ----------
    grey : ndarray (H, W) uint8
    sigma : float
        Gaussian sigma, pixels, of the part removed.
    gain : float
        Contrast gain of what is kept (saturating at 0 and 255).

    Returns
    -------
    ndarray (H, W) uint8
    """
    g = check_grey(grey, "grey")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    # The blur is taken at a quarter of the size (area-averaged, blurred by sigma / 4, scaled
    # back up): the same low-pass for a tenth of the cost of a full-size Gaussian.
    h, w = g.shape
    small = cv2.resize(g, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    blur = cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / 4.0), (w, h),
                      interpolation=cv2.INTER_LINEAR)
    return cv2.addWeighted(g, float(gain), blur, -float(gain), 128.0)

