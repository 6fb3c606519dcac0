"""Checked access to the face and its surroundings in a frame.

Pure functions shared by the single-frame analyzers (texture, moire, edges, glare, lighting):
argument checks that name the argument, box arithmetic, and the face-outline mask.
"""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[float, float, float, float]


def check_box(box, shape: tuple[int, ...], name: str = "box") -> Box:
    """Validate a face box ``(x0, y0, x1, y1)`` against an image shape (H, W, ...).

    Returns the box as floats. Raises ValueError when it is malformed, empty, or lies
    entirely outside the image.
    """
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be four numbers (x0, y0, x1, y1), got {box!r}") from None
    if not all(np.isfinite([x0, y0, x1, y1])) or x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError(f"{name} must satisfy x0 < x1 and y0 < y1 (finite), got {box!r}")
    h, w = shape[:2]
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        raise ValueError(f"{name} {box!r} lies outside the {w}x{h} image")
    return x0, y0, x1, y1


def check_landmarks(landmarks: np.ndarray, name: str = "landmarks") -> np.ndarray:
    """Raise ValueError unless ``landmarks`` is (N, 2 or 3) with N >= 3; returns (N, 2) float32."""
    arr = np.asarray(landmarks)
    if arr.ndim != 2 or arr.shape[0] < 3 or arr.shape[1] not in (2, 3):
        raise ValueError(f"{name} must have shape (N, 2 or 3) with N >= 3, got {arr.shape}")
    return arr[:, :2].astype(np.float32)


def expand_box(box: Box, scale: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Box grown about its centre by ``scale`` (1.0 keeps it), clipped to the image.

    Returns integer ``(x0, y0, x1, y1)`` usable as ``image[y0:y1, x0:x1]``.
    """
    h, w = shape[:2]
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    hw, hh = (box[2] - box[0]) * scale / 2.0, (box[3] - box[1]) * scale / 2.0
    x0, y0 = max(int(np.floor(cx - hw)), 0), max(int(np.floor(cy - hh)), 0)
    x1, y1 = min(int(np.ceil(cx + hw)), w), min(int(np.ceil(cy + hh)), h)
    return x0, y0, x1, y1


def pad_box(box: Box, pad: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Box grown by ``pad`` pixels on every side, clipped to the image (integer bounds)."""
    h, w = shape[:2]
    x0, y0 = max(int(np.floor(box[0] - pad)), 0), max(int(np.floor(box[1] - pad)), 0)
    x1, y1 = min(int(np.ceil(box[2] + pad)), w), min(int(np.ceil(box[3] + pad)), h)
    return x0, y0, x1, y1


def hull_mask(landmarks: np.ndarray, shape: tuple[int, ...], offset=(0, 0),
              scale: float = 1.0) -> np.ndarray:
    """Filled convex hull of the landmarks (the face outline) as a uint8 0/1 mask.

    Parameters
    ----------
    landmarks : ndarray (N, 2 or 3)
        Pixel coordinates in the full frame.
    shape : tuple
        (h, w, ...) of the mask to draw (e.g. a crop).
    offset : (x, y)
        Top-left corner of the crop in the full frame.
    scale : float
        Resize factor from the full frame to the crop.
    """
    pts = (check_landmarks(landmarks) - np.float32(offset)) * np.float32(scale)
    hull = cv2.convexHull(np.round(pts).astype(np.int32))
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    return mask


def logistic(x: float, midpoint: float, width: float) -> float:
    """``1 / (1 + exp(-(x - midpoint) / width))``: 0.5 at the midpoint, ~0.73 one width above."""
    z = (float(x) - midpoint) / width
    return float(1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0))))
