"""One face image from a photo, a video or a GIF (for ``kiosk match`` and pair evaluation).

The kiosk itself passes its tracked best frame to the matcher; this module is for files. A
video is sampled about every 0.3 s (at most ``max_samples`` frames spread over the range), and
the sharpest sampled frame that shows exactly one detected face is used.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.cloud.detect import HogFaceDetector, face_sharpness
from kiosk.cloud.errors import InvalidImage, NoFaceInImage
from kiosk.cloud.images import PHOTO_MAX_PIXELS, load_photo
from kiosk.cloud.results import FaceBox

log = logging.getLogger(__name__)

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def parse_frames(text: str | None) -> tuple[int, int] | None:
    """``"33-61"`` -> ``(33, 61)`` (inclusive, 0-based); empty or None -> None (whole file).

    Raises
    ------
    ValueError
        Not ``START-END`` with ``START <= END``.
    """
    if text is None or not text.strip():
        return None
    match = _RANGE.match(text)
    if match is None or int(match[1]) > int(match[2]):
        raise ValueError(f"frame range must be START-END with START <= END, got {text!r}")
    return int(match[1]), int(match[2])


@dataclass(frozen=True, eq=False)
class BestFrame:
    """The frame chosen from a video.

    Attributes
    ----------
    image : ndarray (H, W, 3) uint8
        BGR pixels of the frame.
    index : int
        0-based frame number in decode order.
    box : FaceBox
        The detected face.
    sharpness : float
        Laplacian variance of the face crop (see :func:`face_sharpness`).
    sampled : int
        Frames examined.
    """

    image: np.ndarray
    index: int
    box: FaceBox
    sharpness: float
    sampled: int


def best_video_frame(path: str | Path, detector: HogFaceDetector,
                     frames: tuple[int, int] | None = None, *, step_s: float = 0.3,
                     max_samples: int = 24) -> BestFrame:
    """The sharpest sampled frame of a video or GIF that shows exactly one face.

    Parameters
    ----------
    path : path-like
        Any file OpenCV's VideoCapture decodes (MP4, GIF, ...).
    detector : HogFaceDetector
        Finds the faces.
    frames : (int, int), optional
        Inclusive 0-based frame range; the whole file when None.
    step_s : float
        Sampling step in seconds of media time.
    max_samples : int
        Upper bound on examined frames; the step grows for long ranges.

    Raises
    ------
    InvalidImage
        The file cannot be opened as a video, its frames have more pixels than
        :data:`~kiosk.cloud.images.PHOTO_MAX_PIXELS`, or the range lies outside it.
    NoFaceInImage
        No sampled frame shows exactly one face.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidImage(f"video {path} does not exist")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise InvalidImage(f"{path} is neither a JPEG/PNG photo nor a video or GIF that "
                               "OpenCV can decode")
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > PHOTO_MAX_PIXELS:
            raise InvalidImage(f"{path} has {width}x{height} pixel frames; the limit is "
                               f"{PHOTO_MAX_PIXELS / 1e6:.0f} megapixels")
        fps = capture.get(cv2.CAP_PROP_FPS)
        fps = fps if 1.0 <= fps <= 240.0 else 30.0  # some containers report 0 or nonsense
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        first, last = frames if frames is not None else (0, max(count - 1, 0))
        step = max(1, round(step_s * fps))
        if count > 0:
            last = min(last, count - 1)
        span = last - first + 1
        if span > 0 and math.ceil(span / step) > max_samples:
            step = math.ceil(span / max_samples)
        best: BestFrame | None = None
        sampled = 0
        index = 0
        while index <= last:
            if not capture.grab():
                break
            if index >= first and (index - first) % step == 0:
                ok, image = capture.retrieve()
                if ok and image is not None and image.ndim == 3:
                    sampled += 1
                    boxes = detector.detect(image, thorough=False)
                    if len(boxes) == 1:
                        sharpness = face_sharpness(image, boxes[0])
                        if best is None or sharpness > best.sharpness:
                            best = BestFrame(image.copy(), index, boxes[0], sharpness, 0)
            index += 1
    finally:
        capture.release()
    if sampled == 0:
        raise InvalidImage(f"{path} has no decodable frame in the range {first}-{last}")
    if best is None:
        raise NoFaceInImage(f"no sampled frame of {path.name} shows exactly one face "
                            f"({sampled} frames examined)")
    log.info("picked frame %d of %s (%d sampled)", best.index, path.name, sampled)
    return BestFrame(best.image, best.index, best.box, best.sharpness, sampled)


def load_face_image(path: str | Path, detector: HogFaceDetector,
                    frames: tuple[int, int] | None = None) -> np.ndarray:
    """Pixels of a photo (JPEG/PNG, EXIF orientation applied) or of a video's best frame.

    Returns
    -------
    ndarray (H, W, 3) uint8
        BGR pixels.
    """
    path = Path(path)
    if path.suffix.lower() in PHOTO_SUFFIXES:
        if frames is not None:
            raise InvalidImage(f"{path} is a photo; a frame range applies only to videos")
        return load_photo(path, what="image")
    return best_video_frame(path, detector, frames).image
