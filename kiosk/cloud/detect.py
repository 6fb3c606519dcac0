"""dlib's HOG frontal face detector, and the "exactly one face" rule for photos.

The kiosk finds faces in the camera stream with MediaPipe (kiosk.analysis); this detector is for
the places where no tracker ran: ID and member photos, the local matcher without a tracked box,
and picking a frame from a video file. It is cheap to build (no model file) and is run on a
downscaled copy because its cost grows with the pixel count.

Photos where the face fills the frame (a cropped ID photo) defeat HOG: its 80-pixel window
needs the outline of the head, which the crop cuts away. A thorough search therefore retries
on a canvas padded with the photo's mean colour (on a copy upscaled first when the photo is
small, like a 120x150 card scan), and last with dlib's CNN face detector (MMOD, from the same
``face-recognition-models`` package, public domain), which finds cut and tilted faces that HOG
misses but costs 0.3-0.7 s at 360 pixels, so it only runs when HOG found nothing.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import cv2
import dlib
import face_recognition_models
import numpy as np

from kiosk.cloud.errors import NoFaceInImage, SeveralFaces
from kiosk.cloud.images import check_image
from kiosk.cloud.results import FaceBox, same_face
from kiosk.errors import ResourceError
from kiosk.model import COMPARABLE_FACE_RATIO
from kiosk.resources import DLIB_MMOD_SHA256, verified_copy

log = logging.getLogger(__name__)

#: Margin of the padded canvas on each side, as a fraction of the photo's longer side: a face
#: that fills the photo then fills a third of the canvas, with room for HOG's outline.
PAD_FRACTION = 0.5
#: A photo whose longer side is below this is upscaled (bicubic) before padding, so that a
#: face filling a 120x150 card scan is about 200 pixels wide on the canvas.
SMALL_PHOTO_SIDE = 400
#: Longer side of the padded canvas the CNN detector sees (its cost grows with the pixel
#: count; a face filling the photo is then about 120 pixels, above MMOD's 80-pixel window).
CNN_SIDE = 360


def pad_canvas(image: np.ndarray, margin: int) -> np.ndarray:
    """A copy of ``image`` with ``margin`` pixels of its mean colour on every side.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        Not modified.
    margin : int
        Border width in pixels (>= 0).

    Returns
    -------
    ndarray (H + 2 margin, W + 2 margin, 3) uint8
    """
    check_image(image)
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    mean = tuple(float(v) for v in image.reshape(-1, 3).mean(axis=0))
    return cv2.copyMakeBorder(image, margin, margin, margin, margin, cv2.BORDER_CONSTANT,
                              value=mean)


class _Canvas:
    """A photo upscaled when small and padded; maps canvas boxes back to the photo."""

    def __init__(self, image: np.ndarray) -> None:
        height, width = image.shape[:2]
        self.scale = max(1.0, SMALL_PHOTO_SIDE / max(height, width))
        work = image if self.scale == 1.0 else cv2.resize(
            image, (round(width * self.scale), round(height * self.scale)),
            interpolation=cv2.INTER_CUBIC)
        self.margin = round(PAD_FRACTION * max(work.shape[:2]))
        self.image = pad_canvas(work, self.margin)

    def to_photo(self, box: FaceBox) -> FaceBox:
        """A canvas box in photo pixels; it may extend past the photo's edge (a cut face)."""
        m, s = self.margin, self.scale
        return FaceBox((box.x0 - m) / s, (box.y0 - m) / s, (box.x1 - m) / s, (box.y1 - m) / s)


def _working_size(image: np.ndarray, side: int) -> tuple[float, tuple[int, int]]:
    """The scale (at most 1) that fits ``image``'s longer side in ``side`` pixels, and the
    ``(width, height)`` it gives."""
    height, width = image.shape[:2]
    scale = min(1.0, side / max(height, width))
    return scale, (max(1, round(width * scale)), max(1, round(height * scale)))


#: A face found this much more confidently (HOG's SVM margin) in the picture turned by a
#: quarter or a half, and confidently there (above the detector's own threshold, 0), says the
#: picture is not upright. On the developer set's 20 photos the upright score led every other
#: orientation's; a scan turned upside down or sideways scored 1.7-1.8 higher turned back.
ROTATED_MARGIN = 0.5


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
    cnn_fallback : bool
        Let :meth:`detect` end with dlib's CNN detector when HOG finds nothing (its model is
        loaded on first use).
    """

    def __init__(self, max_side: int = 640, upsample_below: int = 500, *,
                 cnn_fallback: bool = True) -> None:
        if max_side < 80:
            raise ValueError(f"max_side must be at least 80 pixels, got {max_side}")
        self.max_side = int(max_side)
        self.upsample_below = int(upsample_below)
        self.cnn_fallback = bool(cnn_fallback)
        self._detector = dlib.get_frontal_face_detector()
        self._cnn: object | None = None
        self._aligner: object | None = None

    @property
    def aligner(self) -> Any:
        """dlib's 5-point aligner (:class:`kiosk.cloud.align.FaceAligner`), loaded on first
        use and shared by whoever holds this detector (the ID-photo quality gate)."""
        if self._aligner is None:
            from kiosk.cloud.align import FaceAligner  # align imports this module

            self._aligner = FaceAligner()
        return self._aligner

    def detect(self, image: np.ndarray, *, thorough: bool = True) -> list[FaceBox]:
        """Faces in ``image``, largest first.

        Parameters
        ----------
        image : ndarray (H, W, 3) uint8
            BGR pixels; not modified.
        thorough : bool
            When nothing is found, try again at 0.75 and 1.25 times the working size (HOG
            scores of a slightly tilted face swing around its threshold from one pyramid level
            to the next, so another starting scale often finds a face the first pass missed),
            then on a padded canvas (a face filling the photo), then with the CNN detector.
            Frame sampling passes False: another frame will do.

        Returns
        -------
        list of FaceBox
            Boxes in pixels of ``image``, sorted by area (largest first). Boxes of the first
            passes are clipped to the image; those found on the padded canvas may extend past
            its edge, where the face is cut by the frame.
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
        if not thorough:
            return []
        canvas = _Canvas(image)
        boxes = self._detect_at(canvas.image, self.max_side, set())
        if not boxes and self.cnn_fallback:
            boxes = self._detect_cnn(canvas.image)
        found = sorted((canvas.to_photo(b) for b in boxes), key=lambda b: b.width * b.height,
                       reverse=True)
        if found:
            log.info("face found on a padded canvas (%d face(s))", len(found))
        return found

    def _detect_cnn(self, canvas: np.ndarray) -> list[FaceBox]:
        """dlib's MMOD CNN detector on ``canvas`` scaled to :data:`CNN_SIDE` pixels."""
        if self._cnn is None:
            path = Path(face_recognition_models.cnn_face_detector_model_location())
            try:
                with verified_copy(path, DLIB_MMOD_SHA256) as copy:
                    self._cnn = dlib.cnn_face_detection_model_v1(str(copy))
            except RuntimeError as exc:
                raise ResourceError(f"the CNN face detector {path} cannot be loaded "
                                    f"({exc}); reinstall face-recognition-models") from None
        height, width = canvas.shape[:2]
        scale = CNN_SIDE / max(height, width)
        small = cv2.resize(canvas, (max(1, round(width * scale)), max(1, round(height * scale))),
                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        found = self._cnn(np.ascontiguousarray(small[:, :, ::-1]), 0)  # type: ignore[operator]
        return [FaceBox(d.rect.left() / scale, d.rect.top() / scale,
                        (d.rect.right() + 1) / scale, (d.rect.bottom() + 1) / scale)
                for d in found]

    def upright_turns(self, image: np.ndarray) -> int:
        """Quarter turns (``np.rot90``'s ``k``, counter-clockwise) that make the picture's
        face upright: 0 when it is upright already, or when no turn shows a face clearly
        better (see :data:`ROTATED_MARGIN`). Four HOG passes at the working size.

        Parameters
        ----------
        image : ndarray (H, W, 3) uint8
            BGR pixels.
        """
        scale, size = _working_size(image, self.max_side)
        rgb, upsample = self._working_rgb(image, scale, size)
        scores = []
        for k in range(4):
            _, found, _ = self._detector.run(np.ascontiguousarray(np.rot90(rgb, k)), upsample,
                                             -0.5)
            scores.append(max(found) if len(found) else -math.inf)
        best = int(np.argmax(scores))
        if best and scores[best] > 0 and scores[best] >= scores[0] + ROTATED_MARGIN:
            return best
        return 0

    def _detect_at(self, image: np.ndarray, side: int,
                   tried: set[tuple[int, int]]) -> list[FaceBox]:
        height, width = image.shape[:2]
        scale, size = _working_size(image, side)
        if size in tried:  # a small image is the same at every working size
            return []
        tried.add(size)
        rgb, upsample = self._working_rgb(image, scale, size)
        boxes = []
        for r in self._detector(rgb, upsample):
            box = FaceBox(max(0.0, r.left() / scale), max(0.0, r.top() / scale),
                          min(float(width), (r.right() + 1) / scale),
                          min(float(height), (r.bottom() + 1) / scale))
            if box.width > 1 and box.height > 1:
                boxes.append(box)
        boxes.sort(key=lambda b: b.width * b.height, reverse=True)
        return boxes

    def _working_rgb(self, image: np.ndarray, scale: float, size: tuple[int, int]
                     ) -> tuple[np.ndarray, int]:
        """``image`` (BGR) at the working ``size`` as contiguous RGB, and dlib's upsampling
        for it (once below ``upsample_below``)."""
        small = image if scale >= 1.0 else cv2.resize(image, size,
                                                      interpolation=cv2.INTER_AREA)
        upsample = 1 if max(small.shape[:2]) < self.upsample_below else 0
        return np.ascontiguousarray(small[:, :, ::-1]), upsample


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
