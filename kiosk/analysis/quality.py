"""Image quality of the face: sharpness, brightness, exposure, and the best frames to match.

Pure functions over numpy arrays, cheap enough to run on every frame (a fixed-size crop keeps
the cost independent of the camera's resolution). :class:`BestFrame` keeps the k best frames
of a session (sharp, frontal, eyes open, well exposed) for the face matcher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


#: Frames kept for the face matcher: the local matcher compares the ID photo with the mean of
#: their descriptors; Rekognition gets the first (the second only when the first is refused
#: for quality).
BEST_FRAMES = 5
#: Kept frames are at least this far apart in time (seconds): neighbouring frames of a 30 fps
#: camera are near copies (same pose, same blur) and would add nothing to the mean.
BEST_FRAME_GAP_S = 0.3


@dataclass(frozen=True, eq=False)
class KeptFrame:
    """One frame kept for matching.

    Attributes
    ----------
    image : ndarray (H, W, 3) uint8
        A copy of the frame (BGR).
    face : kiosk.model.Face
        The tracked face in it.
    t : float
        Its timestamp (seconds).
    score : float
        :func:`frame_score`, in (0, 1].
    """

    image: np.ndarray = field(repr=False)
    face: Any
    t: float
    score: float


class BestFrame:
    """Keeps the ``k`` best frames seen so far by :func:`frame_score`, spread in time.

    A frame is kept when it scores above 0 and either beats the frames kept within ``gap_s`` of
    it (they are dropped) or has no such neighbour; then only the ``k`` best are kept. Each kept
    frame is one copy of the image, so memory is bounded by ``k`` frames.

    Parameters
    ----------
    k : int
        Frames kept (:data:`BEST_FRAMES`).
    gap_s : float
        Least time between two kept frames (:data:`BEST_FRAME_GAP_S`).

    Attributes
    ----------
    image, face, t, score :
        Those of the best frame (None, None, None, 0.0 before any was kept).
    """

    def __init__(self, k: int = BEST_FRAMES, gap_s: float = BEST_FRAME_GAP_S) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if gap_s < 0:
            raise ValueError(f"gap_s must be >= 0, got {gap_s}")
        self.k = int(k)
        self.gap_s = float(gap_s)
        self._kept: list[KeptFrame] = []

    @property
    def frames(self) -> tuple[KeptFrame, ...]:
        """The kept frames, best first."""
        return tuple(self._kept)

    @property
    def score(self) -> float:
        return self._kept[0].score if self._kept else 0.0

    @property
    def image(self) -> np.ndarray | None:
        return self._kept[0].image if self._kept else None

    @property
    def face(self) -> Any:
        return self._kept[0].face if self._kept else None

    @property
    def t(self) -> float | None:
        return self._kept[0].t if self._kept else None

    def offer(self, image: np.ndarray, face: Any, t: float) -> bool:
        """Consider a frame ((H, W, 3) uint8 BGR) and its face; True when it became the best.

        The frame may also be kept as one of the ``k`` without becoming the best; ``image`` is
        copied only when it is kept.
        """
        score = frame_score(face)
        if score <= 0.0:
            return False
        near = [f for f in self._kept if abs(f.t - t) < self.gap_s]
        if any(f.score >= score for f in near):
            return False
        kept = [f for f in self._kept if f not in near]
        if len(kept) >= self.k and score <= kept[-1].score:
            return False
        kept.append(KeptFrame(image.copy(), face, t, score))
        kept.sort(key=lambda f: f.score, reverse=True)
        self._kept = kept[:self.k]
        return self._kept[0].score == score and self._kept[0].t == t
