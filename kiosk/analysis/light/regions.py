"""Per-frame measurement for the light challenge: linear-light colour of skin and background.

Five skin regions from the face mesh (forehead, nose, chin, both cheeks) face the screen at
different angles, which is what the shape check compares; two background bands beside the
head, beyond the hair and above the shoulders, show what the whole picture does (auto
exposure, white balance, an injected tint). Every mean is taken in linear light (the sRGB
transfer function undone per pixel before averaging), because light adds linearly and the
8-bit code values do not.

Pure functions over numpy arrays. Landmark indices are those of MediaPipe's 478-point mesh;
"left" and "right" are the subject's own sides. Colours leave this module in R, G, B order
(the sequence's order), not OpenCV's B, G, R.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from kiosk.analysis.arrays import MESH, check_image, check_mesh

# Skin regions. Forehead and cheeks are the pulse cue's patches (kiosk.analysis.motion, chosen
# on frames of the developer set: between the brows and the hairline; below each eye, away
# from the nose, the lips and the rims of glasses). The nose is its lower half (tip, alae and
# the dorsum below the glasses' bridge); the chin runs from below the lower lip to the
# menton. Drawn on frames of five developer clips (glasses, fringe, beard shadow) to check.
FOREHEAD = (109, 10, 338, 108, 151, 337, 69, 299, 107, 9, 336)
NOSE = (195, 3, 248, 5, 4, 45, 275, 1, 19, 94, 2, 48, 278, 64, 294, 220, 440)
CHIN = (18, 200, 199, 175, 152, 148, 377, 176, 400, 171, 396, 208, 428, 32, 262, 83, 313)
CHEEK_RIGHT = (116, 117, 118, 119, 100, 142, 203, 206, 207, 187, 123, 50, 36, 205)
CHEEK_LEFT = (345, 346, 347, 348, 329, 371, 423, 426, 427, 411, 352, 280, 266, 425)
REGIONS = (FOREHEAD, NOSE, CHIN, CHEEK_RIGHT, CHEEK_LEFT)
REGION_NAMES = ("forehead", "nose", "chin", "cheek_right", "cheek_left")

# The face mesh without the iris points (468-477).

# Background bands, in widths (w) and heights (h) of the mesh's box, measured from the face's
# centre line. A head with its hair and ears reaches about 0.75 w either side of it (the
# coupling cue's ring starts there); full or curly hair reaches further, so the bands start at
# 0.95 w and end at 1.6 w. They run from 0.4 h above the top of the mesh (above it is often
# the frame's edge or more hair) down to the chin: the shoulders and the neck below the chin
# are the person's own skin and clothes, lit by the screen like the face.
BAND_INNER_W, BAND_OUTER_W = 0.95, 1.6
BAND_TOP_H = 0.4
BACKGROUND_NAMES = ("background_right_of_image", "background_left_of_image")

# Averages need no more than this many pixels per region (a 1-2 grey-level noise per pixel is
# averaged far below the colour changes measured); larger regions are sampled on a grid.
MAX_PIXELS = 2500
# A region counts in a frame with at least this many pixels.
MIN_PIXELS = 12

# A channel at or above this 8-bit code is clipped: it cannot show added light.
CLIP_CODE = 250


def _srgb_decode_table() -> np.ndarray:
    """8-bit sRGB code -> linear light in [0, 1] (IEC 61966-2-1), (256,) float32."""
    v = np.arange(256, dtype=np.float64) / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return lin.astype(np.float32)


#: 8-bit sRGB code value -> linear light, (256,) float32.
TO_LINEAR = _srgb_decode_table()


def srgb_to_linear(image: np.ndarray) -> np.ndarray:
    """Decode 8-bit sRGB to linear light.

    Parameters
    ----------
    image : ndarray (..., 3) uint8

    Returns
    -------
    ndarray (..., 3) float32 in [0, 1], same channel order.
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {arr.dtype}")
    return TO_LINEAR[arr]


def _masked_mean(image: np.ndarray, x0: int, y0: int, x1: int, y1: int,
                 polygon: np.ndarray | None, skip_clipped: bool = False,
                 lower: bool = False) -> tuple[np.ndarray, int, float, np.ndarray]:
    """Linear R, G, B mean, pixel count, clipped share and (with ``lower``, else NaN) the
    mean of each channel's darker half of a box (or a polygon in it); with ``skip_clipped``
    the mean leaves clipped pixels out."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    nan = np.full(3, np.nan)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return nan, 0, 0.0, nan
    step = max(1, int(math.sqrt((x1 - x0) * (y1 - y0) / MAX_PIXELS)))
    crop = image[y0:y1:step, x0:x1:step]
    hot = crop.max(axis=2) >= CLIP_CODE
    if polygon is None:
        mask = np.ones(crop.shape[:2], np.uint8)
    else:
        mask = np.zeros(crop.shape[:2], np.uint8)
        pts = np.round((polygon - (x0, y0)) / step).astype(np.int32)
        cv2.fillConvexPoly(mask, cv2.convexHull(pts), 1)
    n = int(cv2.countNonZero(mask))
    if n < MIN_PIXELS:
        return nan, n, 0.0, nan
    n_hot = int(np.count_nonzero(hot & (mask > 0)))
    if skip_clipped and n_hot:
        mask[hot] = 0
        if n - n_hot < MIN_PIXELS:
            return nan, n - n_hot, n_hot / n, nan
    lin = TO_LINEAR[crop]
    b, g, r, _ = cv2.mean(lin, mask=mask)
    dark = _darker_half_mean(crop[mask > 0]) if lower else nan
    return np.array([r, g, b]), n - (n_hot if skip_clipped else 0), n_hot / n, dark


def _darker_half_mean(codes: np.ndarray) -> np.ndarray:
    """Linear mean of each channel's darker half, R, G, B, of (n, 3) B, G, R 8-bit pixels.

    From each channel's histogram of codes (their order is that of linear light), without
    sorting the pixels: about 50 us a region of 2,500 pixels.
    """
    half = max(1, codes.shape[0] // 2)
    out = np.empty(3)
    for c in range(3):
        hist = np.bincount(codes[:, c], minlength=256)
        cum = np.cumsum(hist)
        k = int(np.searchsorted(cum, half))       # the code that completes the half
        below = int(cum[k - 1]) if k else 0
        total = float(hist[:k] @ TO_LINEAR[:k]) + (half - below) * float(TO_LINEAR[k])
        out[2 - c] = total / half
    return out


def face_region_means(image: np.ndarray, landmarks: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Linear-light colour of the five skin regions.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
        Not modified.
    landmarks : ndarray (N, 2) or (N, 3), N >= 468
        Mesh points in the image's pixel coordinates.

    Returns
    -------
    means : ndarray (5, 3) float64
        Mean linear R, G, B of each region in :data:`REGION_NAMES` order (NaN where the region
        is outside the image or smaller than :data:`MIN_PIXELS`).
    counts : ndarray (5,) int64
        Pixels averaged (after grid sampling).
    clipped : ndarray (5,) float64
        Share of those pixels with a channel at or above :data:`CLIP_CODE`.
    lower : ndarray (5, 3) float64
        Mean linear R, G, B of each channel's darker half of each region. Clipped pixels rank
        above every other, so while fewer than half of a region's pixels clip, its darker
        half is the one it would have unclipped. Under a change of light that scales a
        region's pixels alike (the screen's diffuse light on a small patch of skin) the
        darker half keeps its pixels and scales as the mean does, which a highlight that
        clips cannot do. A median would too; the darker half averages half the pixels.
    """
    img = check_image(image)
    pts = check_mesh(landmarks)
    means = np.full((len(REGIONS), 3), np.nan)
    lower = np.full((len(REGIONS), 3), np.nan)
    counts = np.zeros(len(REGIONS), np.int64)
    clipped = np.zeros(len(REGIONS))
    for k, idx in enumerate(REGIONS):
        poly = pts[list(idx)]
        x0, y0 = np.floor(poly.min(axis=0)).astype(int)
        x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + 1
        means[k], counts[k], clipped[k], lower[k] = _masked_mean(
            img, int(x0), int(y0), int(x1), int(y1), poly, lower=True)
    return means, counts, clipped, lower


def background_boxes(shape: tuple[int, int], landmarks: np.ndarray
                     ) -> list[tuple[int, int, int, int]]:
    """The two background bands beside the head, as ``(x0, y0, x1, y1)`` (may be empty).

    Parameters
    ----------
    shape : tuple of int
        (height, width) of the image.
    landmarks : ndarray (N, 2) or (N, 3), N >= 468

    Returns
    -------
    list of tuple of int
        Band on the image's right of the face, then on its left, clipped to the image (an
        empty band has ``x1 <= x0`` or ``y1 <= y0``).
    """
    h, w = int(shape[0]), int(shape[1])
    pts = check_mesh(landmarks)[:MESH]
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    cx, bw, bh = (x0 + x1) / 2.0, x1 - x0, y1 - y0
    top = int(np.clip(round(y0 - BAND_TOP_H * bh), 0, h))
    bottom = int(np.clip(round(y1), 0, h))

    def cx_(v: float) -> int:
        return int(np.clip(round(v), 0, w))

    return [(cx_(cx + BAND_INNER_W * bw), top, cx_(cx + BAND_OUTER_W * bw), bottom),
            (cx_(cx - BAND_OUTER_W * bw), top, cx_(cx - BAND_INNER_W * bw), bottom)]


def background_means(image: np.ndarray, landmarks: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Linear-light colour of the background bands beside the head.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
        Not modified.
    landmarks : ndarray (N, 2) or (N, 3), N >= 468

    Returns
    -------
    means : ndarray (2, 3) float64
        Mean linear R, G, B of each band's unclipped pixels in :data:`BACKGROUND_NAMES`
        order (NaN where the band is outside the picture or too small): a clipped window or
        lamp cannot show a change of the whole picture.
    counts : ndarray (2,) int64
    """
    img = check_image(image)
    boxes = background_boxes(img.shape[:2], landmarks)
    means = np.full((len(boxes), 3), np.nan)
    counts = np.zeros(len(boxes), np.int64)
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        means[k], counts[k], _, _ = _masked_mean(img, x0, y0, x1, y1, None,
                                                 skip_clipped=True)
    return means, counts
