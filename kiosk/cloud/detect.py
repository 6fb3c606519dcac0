"""dlib's HOG frontal face detector, and the "exactly one face" rule for photos.

The kiosk finds faces in the camera stream with MediaPipe (kiosk.analysis); this detector is for
the places where no tracker ran: ID and member photos, the local matcher without a tracked box,
and picking a frame from a video file. It is cheap to build (no model file) and is run on a
downscaled copy because its cost grows with the pixel count.
"""

from __future__ import annotations

import cv2
import dlib
import numpy as np

from kiosk.cloud.errors import NoFaceInImage, SeveralFaces
from kiosk.cloud.images import check_image
from kiosk.cloud.results import FaceBox, same_face

#: A second face counts as "another person in the photo" when its width is at least this
#: fraction of the largest face's width. Smaller faces are ignored: the ghost portrait printed
#: on many ID cards, or a bystander far behind.
COMPARABLE_FACE_RATIO = 0.5


class HogFaceDetector:
    """Frontal faces with dlib's HOG + linear SVM detector.

    Parameters
    ----------
    max_side : int
        The image is downscaled so its longer side is at most this many pixels before
        detection (HOG finds faces down to about 80 px at that scale).
    upsample_below : int
        Images whose longer side is below this (after downscaling) are upsampled once by dlib,
        so faces down to about 40 px are found in small pictures.
    """

    def __init__(self, max_side: int = 640, upsample_below: int = 500) -> None:
        if max_side < 80:
            raise ValueError(f"max_side must be at least 80 pixels, got {max_side}")
        self.max_side = int(max_side)
        self.upsample_below = int(upsample_below)
        self._detector = dlib.get_frontal_face_detector()

    def detect(self, image: np.ndarray, *, thorough: bool = True) -> list[FaceBox]:
        """Faces in ``image``, largest first.

        Parameters
        ----------
        image : ndarray (H, W, 3) uint8
            BGR pixels; not modified.
        thorough : bool
            When nothing is found, try again at 0.75 and 1.25 times the working size. HOG
            scores of a slightly tilted face swing around its threshold from one pyramid level
            to the next, so another starting scale often finds a face the first pass missed.
            Frame sampling passes False: another frame will do.

        Returns
        -------
        list of FaceBox
            Boxes in pixels of ``image``, clipped to it, sorted by area (largest first).
        """
        check_image(image)
        sides = [self.max_side]
        if thorough:
            sides += [round(self.max_side * 0.75), round(self.max_side * 1.25)]
        tried: set[tuple[int, int]] = set()
        for side in sides:
            boxes = self._detect_at(image, side, tried)
            if boxes:
                return boxes
        return []

    def _detect_at(self, image: np.ndarray, side: int,
                   tried: set[tuple[int, int]]) -> list[FaceBox]:
        height, width = image.shape[:2]
        scale = min(1.0, side / max(height, width))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if size in tried:  # a small image is the same at every working size
            return []
        tried.add(size)
        small = image if scale >= 1.0 else cv2.resize(image, size,
                                                      interpolation=cv2.INTER_AREA)
        rgb = np.ascontiguousarray(small[:, :, ::-1])
        upsample = 1 if max(small.shape[:2]) < self.upsample_below else 0
        boxes = []
        for r in self._detector(rgb, upsample):
            box = FaceBox(max(0.0, r.left() / scale), max(0.0, r.top() / scale),
                          min(float(width), (r.right() + 1) / scale),
                          min(float(height), (r.bottom() + 1) / scale))
            if box.width > 1 and box.height > 1:
                boxes.append(box)
        boxes.sort(key=lambda b: b.width * b.height, reverse=True)
        return boxes


    def detect_near(self, image: np.ndarray, guess: FaceBox, face_px: int = 120) -> FaceBox | None:
        """The detector's own box for the face at ``guess``, or None if it does not see it.

        Searches a crop of twice the guessed face size, scaled so the face is about
        ``face_px`` pixels wide (HOG's window is 80), so it costs a few milliseconds.

        Parameters
        ----------
        image : ndarray (H, W, 3) uint8
            BGR pixels; not modified.
        guess : FaceBox
            Roughly where and how large the face is (e.g. from a landmark tracker).
        """
        check_image(image)
        height, width = image.shape[:2]
        pad = guess.width * 0.5
        x0, y0 = max(0, int(guess.x0 - pad)), max(0, int(guess.y0 - pad))
        x1 = min(width, int(round(guess.x1 + pad)))
        y1 = min(height, int(round(guess.y1 + pad)))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        scale = face_px / max(guess.width, 1.0)
        crop = image[y0:y1, x0:x1]
        size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1
                          else cv2.INTER_LINEAR)
        rects = self._detector(np.ascontiguousarray(crop[:, :, ::-1]), 0)
        boxes = [FaceBox(x0 + r.left() / scale, y0 + r.top() / scale,
                         x0 + (r.right() + 1) / scale, y0 + (r.bottom() + 1) / scale)
                 for r in rects]
        near = [b for b in boxes if same_face(b, guess)]
        return max(near, key=lambda b: b.width * b.height) if near else None


def comparable_faces(boxes: list[FaceBox], ratio: float = COMPARABLE_FACE_RATIO) -> int:
    """How many boxes are at least ``ratio`` times as wide as the widest one."""
    if not boxes:
        return 0
    widest = max(b.width for b in boxes)
    return sum(1 for b in boxes if b.width >= ratio * widest)


def single_face(boxes: list[FaceBox], what: str = "the ID photo",
                ratio: float = COMPARABLE_FACE_RATIO) -> FaceBox:
    """The one face of a photo that must show exactly one person.

    Parameters
    ----------
    boxes : list of FaceBox
        Detections, largest first (as :meth:`HogFaceDetector.detect` returns them).
    what : str
        How the message names the photo.

    Raises
    ------
    NoFaceInImage
        No face was found.
    SeveralFaces
        Two or more faces of comparable size (see :data:`COMPARABLE_FACE_RATIO`).
    """
    if not boxes:
        raise NoFaceInImage(f"no face was found in {what}; use a sharp, frontal photo of one "
                            "person")
    count = comparable_faces(boxes, ratio)
    if count > 1:
        raise SeveralFaces(f"{what} shows {count} faces; it must show exactly one person")
    return max(boxes, key=lambda b: b.width * b.height)


def face_sharpness(image: np.ndarray, box: FaceBox, width: int = 128) -> float:
    """Variance of the Laplacian of the grey face crop resized to ``width`` pixels.

    Resizing to a fixed width makes the value comparable between frames where the face has
    different sizes.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        BGR pixels.
    box : FaceBox
        The face, in pixels of ``image``.
    """
    check_image(image)
    height, img_width = image.shape[:2]
    x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
    x1, y1 = min(img_width, int(round(box.x1))), min(height, int(round(box.y1)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0.0
    grey = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    new_height = max(2, round(grey.shape[0] * width / grey.shape[1]))
    grey = cv2.resize(grey, (width, new_height), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())
