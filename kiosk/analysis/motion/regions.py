"""Image regions from face-mesh landmarks: the face, a ring of scene around it, skin patches.

Pure functions over numpy arrays. Landmark indices are those of MediaPipe's 478-point mesh;
"left" and "right" are the subject's own sides.
"""

from __future__ import annotations

import cv2
import numpy as np

# MESH: the face mesh without the iris points (468-477), which move with gaze, not the head.
from kiosk.analysis.arrays import MESH, check_mesh

# Skin patches for the pulse, chosen on the mesh and checked on frames of the developer set:
# the forehead between the brows and the hairline, and each cheek below the eye, away from the
# nose, the lips and glasses' rims.
FOREHEAD = (109, 10, 338, 108, 151, 337, 69, 299, 107, 9, 336)
CHEEK_RIGHT = (116, 117, 118, 119, 100, 142, 203, 206, 207, 187, 123, 50, 36, 205)
CHEEK_LEFT = (345, 346, 347, 348, 329, 371, 423, 426, 427, 411, 352, 280, 266, 425)
SKIN_REGIONS = (FOREHEAD, CHEEK_RIGHT, CHEEK_LEFT)
SKIN_REGION_NAMES = ("forehead", "cheek_right", "cheek_left")

# Skin colour in YCrCb (Chai and Ngan, "Face segmentation using skin-color map", IEEE TCSVT
# 9(4), 1999): Cr 133-173 and Cb 77-127. Keeps fringes of hair and the rims of glasses out of
# the skin patches.
SKIN_YCRCB_LOW = (0, 133, 77)
SKIN_YCRCB_HIGH = (255, 173, 127)

# The ring of scene compared with the face, in face-box widths (w) and heights (h) from the
# box of the mesh. A head with its hair and ears reaches about 0.75 w either side of the
# face's centre line and 0.5 h above the top of the mesh, so the ring starts there: points on
# a live person's own head would move with the face and are left out. The ring ends at 1.2 w
# sideways and 0.9 h above; it stops at the chin, because below it are the person's own neck
# and shoulders.
RING_INNER_HALF_W = 0.75
RING_OUTER_HALF_W = 1.2
RING_INNER_TOP_H = 0.5
RING_OUTER_TOP_H = 0.9


def _check_shape(shape: tuple[int, int]) -> tuple[int, int]:
    if len(shape) < 2 or shape[0] < 1 or shape[1] < 1:
        raise ValueError(f"shape must be (height, width) with positive sizes, got {shape}")
    return int(shape[0]), int(shape[1])


def face_mask(shape: tuple[int, int], landmarks: np.ndarray, erode_px: int = 0) -> np.ndarray:
    """Mask of the convex hull of the face mesh.

    Parameters
    ----------
    shape : tuple of int
        (height, width) of the mask.
    landmarks : ndarray (N, 2) or (N, 3), N >= 468
        Mesh points in the mask's pixel coordinates.
    erode_px : int
        Pixels taken off the hull's edge (keeps corners off the background).

    Returns
    -------
    ndarray (height, width) uint8
        255 inside, 0 outside.
    """
    h, w = _check_shape(shape)
    pts = check_mesh(landmarks)[:MESH]
    mask: np.ndarray = np.zeros((h, w), np.uint8)
    hull = cv2.convexHull(np.round(pts).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    if erode_px > 0:
        k = 2 * int(erode_px) + 1
        mask = cv2.erode(mask, np.ones((k, k), np.uint8))
    return mask


def scene_masks(shape: tuple[int, int], landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ring of scene just beyond a head, and the far scene beyond that.

    Parameters
    ----------
    shape : tuple of int
        (height, width) of the masks.
    landmarks : ndarray (N, 2) or (N, 3), N >= 468
        Mesh points in the masks' pixel coordinates.

    Returns
    -------
    ring : ndarray (height, width) uint8
        255 on two side bands (0.75-1.2 box widths from the face's centre line, from 0.9 box
        heights above the mesh down to the chin) and a top band (0.5-0.9 heights above the
        mesh, 2.4 widths across).
    far : ndarray (height, width) uint8
        255 outside the ring's outer bounds and outside the column below them (the body).
    """
    h, w = _check_shape(shape)
    pts = check_mesh(landmarks)[:MESH]
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    cx, bw, bh = (x0 + x1) / 2.0, x1 - x0, y1 - y0

    def clip_x(v: float) -> int:
        return int(np.clip(round(v), 0, w))

    def clip_y(v: float) -> int:
        return int(np.clip(round(v), 0, h))

    ox0, ox1 = clip_x(cx - RING_OUTER_HALF_W * bw), clip_x(cx + RING_OUTER_HALF_W * bw)
    oy0, chin = clip_y(y0 - RING_OUTER_TOP_H * bh), clip_y(y1)
    ix0, ix1 = clip_x(cx - RING_INNER_HALF_W * bw), clip_x(cx + RING_INNER_HALF_W * bw)
    iy0 = clip_y(y0 - RING_INNER_TOP_H * bh)
    ring = np.zeros((h, w), np.uint8)
    ring[oy0:chin, ox0:ox1] = 255
    ring[iy0:chin, ix0:ix1] = 0
    far = np.full((h, w), 255, np.uint8)
    far[oy0:, ox0:ox1] = 0
    return ring, far


def skin_means(image: np.ndarray, landmarks: np.ndarray,
               regions: tuple[tuple[int, ...], ...] = SKIN_REGIONS
               ) -> tuple[np.ndarray, np.ndarray]:
    """Mean colour of the skin pixels in patches of the face.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
    landmarks : ndarray (N, 2) or (N, 3), N >= 468
        Mesh points in the image's pixel coordinates.
    regions : tuple of tuple of int
        Mesh indices whose convex hull makes each patch.

    Returns
    -------
    means : ndarray (K, 3) float64
        Mean red, green, blue of each patch's skin-coloured pixels (NaN where none).
    counts : ndarray (K,) int64
        Number of skin pixels averaged in each patch.
    """
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8, got {img.shape} {img.dtype}")
    pts_all = check_mesh(landmarks)
    h, w = img.shape[:2]
    means = np.full((len(regions), 3), np.nan)
    counts = np.zeros(len(regions), np.int64)
    for k, idx in enumerate(regions):
        pts = pts_all[list(idx)]
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        crop = img[y0:y1, x0:x1]
        mask: np.ndarray = np.zeros(crop.shape[:2], np.uint8)
        hull = cv2.convexHull(np.round(pts - (x0, y0)).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 255)
        skin = cv2.inRange(cv2.cvtColor(crop, cv2.COLOR_BGR2YCrCb), SKIN_YCRCB_LOW,
                           SKIN_YCRCB_HIGH)
        mask = cv2.bitwise_and(mask, skin)
        n = int(cv2.countNonZero(mask))
        if n == 0:
            continue
        b, g, r, _ = cv2.mean(crop, mask=mask)
        means[k] = (r, g, b)
        counts[k] = n
    return means, counts
