"""Image quality of the face: sharpness, brightness, exposure.

Pure functions over numpy arrays, cheap enough to run on every frame (a fixed-size crop keeps
the cost independent of the camera's resolution).
"""

from __future__ import annotations

import cv2
import numpy as np

# Crops are resized to this width so sharpness is comparable across distances and cameras.
CROP_WIDTH = 128
# Grey levels treated as clipped (sensor saturation or crushed shadows).
DARK_CLIP, BRIGHT_CLIP = 5, 250


def face_crop(image: np.ndarray, box: tuple[float, float, float, float],
              width: int = CROP_WIDTH) -> np.ndarray:
    """Grey crop of the face box, resized to a fixed width.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8, BGR
    box : tuple of float
        ``(x0, y0, x1, y1)`` in pixels.
    width : int
        Output width in pixels; the height keeps the box's aspect ratio.

    Returns
    -------
    ndarray (h, width) uint8
        Empty (0, 0) when the box does not overlap the image.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
    h, w = image.shape[:2]
    x0, y0 = max(int(box[0]), 0), max(int(box[1]), 0)
    x1, y1 = min(int(round(box[2])), w), min(int(round(box[3])), h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((0, 0), np.uint8)
    grey = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    out_h = max(2, int(round(width * (y1 - y0) / (x1 - x0))))
    interp = cv2.INTER_AREA if x1 - x0 > width else cv2.INTER_LINEAR
    return cv2.resize(grey, (width, out_h), interpolation=interp)


def crop_quality(grey: np.ndarray) -> tuple[float, float, float]:
    """Sharpness, brightness and exposure of a grey crop.

    Parameters
    ----------
    grey : ndarray (h, w) uint8

    Returns
    -------
    sharpness : float
        Variance of the Laplacian (higher is sharper; 0 for an empty crop).
    brightness : float
        Mean grey level, 0-255.
    exposure : float
        Fraction of clipped pixels (<= DARK_CLIP or >= BRIGHT_CLIP), in [0, 1].
    """
    if grey.ndim != 2:
        raise ValueError(f"grey must be (h, w), got {grey.shape}")
    if grey.size == 0:
        return 0.0, 0.0, 1.0
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    brightness = float(grey.mean())
    clipped = np.count_nonzero((grey <= DARK_CLIP) | (grey >= BRIGHT_CLIP))
    return sharpness, brightness, clipped / grey.size


# Best-frame choice: the frame sent to the matcher should be sharp, frontal, eyes open and
# well exposed. Each factor is in [0, 1]; the product ranks candidate frames.
FRONTAL_FREE_DEG = 8.0      # pose within this many degrees costs nothing
FRONTAL_ZERO_DEG = 30.0     # beyond this the frame is useless for matching
EYES_OPEN_BLINK = 0.45      # eyeBlink blendshape above this: eyes (nearly) closed
SHARPNESS_GOOD = 150.0      # Laplacian variance of a sharp 128-px webcam face crop


def frame_score(face) -> float:
    """How suitable one face measurement is as the best frame, in [0, 1] (0 = unusable).

    Parameters
    ----------
    face : kiosk.model.Face
    """
    pose = max(abs(face.yaw), abs(face.pitch))
    frontal = float(np.clip((FRONTAL_ZERO_DEG - pose) / (FRONTAL_ZERO_DEG - FRONTAL_FREE_DEG),
                            0.0, 1.0))
    eyes = 0.0 if max(face.blink_left, face.blink_right) > EYES_OPEN_BLINK else 1.0
    # Mid-grey faces expose best; clipped pixels lose detail the matcher needs.
    exposure = float(np.clip(1.0 - abs(face.brightness - 128.0) / 128.0, 0.0, 1.0))
    exposure *= float(np.clip(1.0 - 2.0 * face.exposure, 0.0, 1.0))
    sharp = float(np.clip(face.sharpness / SHARPNESS_GOOD, 0.0, 1.0))
    return frontal * eyes * exposure * sharp


class BestFrame:
    """Keeps the best frame seen so far by :func:`frame_score` (one copy, not a history)."""

    def __init__(self) -> None:
        self.score = 0.0
        self.image: np.ndarray | None = None
        self.face = None
        self.t: float | None = None

    def offer(self, image: np.ndarray, face, t: float) -> bool:
        """Consider a frame ((H, W, 3) uint8 BGR) and its face; True when it became the best."""
        score = frame_score(face)
        if score <= self.score:
            return False
        self.score, self.image, self.face, self.t = score, image.copy(), face, t
        return True
