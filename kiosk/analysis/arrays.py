"""Checks of the arrays the analysis takes: a BGR frame, a grey image and a face mesh.

Shared by the analysis sub-packages (which may not import each other), so every cue refuses
malformed input with the same message.
"""

from __future__ import annotations

import numpy as np

#: Points of MediaPipe's face mesh without the iris points (468 of 478).
MESH = 468


def _check_pixels(image: np.ndarray, name: str, colour: bool) -> np.ndarray:
    shaped = isinstance(image, np.ndarray) and image.dtype == np.uint8 and (
        image.ndim == 3 and image.shape[2] == 3 if colour else image.ndim == 2)
    if not shaped:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        what = "(H, W, 3) uint8 BGR" if colour else "(H, W) uint8"
        raise ValueError(f"{name} must be an {what} array, got {shape} {dtype}")
    if image.shape[0] < 8 or image.shape[1] < 8:
        raise ValueError(f"{name} must be at least 8x8 pixels, got {image.shape[:2]}")
    return image


def check_image(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Raise ValueError unless ``image`` is an (H, W, 3) uint8 array of at least 8x8 pixels."""
    return _check_pixels(image, name, colour=True)


def check_grey(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Raise ValueError unless ``image`` is an (H, W) uint8 array of at least 8x8 pixels."""
    return _check_pixels(image, name, colour=False)


def check_mesh(landmarks: np.ndarray, name: str = "landmarks") -> np.ndarray:
    """Return the (N, 2) float64 x, y of a face mesh; raise ValueError naming ``name`` if
    malformed.

    Parameters
    ----------
    landmarks : ndarray (N, 2) or (N, 3), N >= 468
    """
    arr = np.asarray(landmarks)
    if arr.ndim != 2 or arr.shape[1] not in (2, 3) or arr.shape[0] < MESH:
        raise ValueError(f"{name} must have shape (>= {MESH}, 2 or 3), got {arr.shape}")
    out = np.array(arr[:, :2], dtype=np.float64)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} holds non-finite values")
    return out
