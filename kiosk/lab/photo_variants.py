"""ID-photo variants made in memory from a full photo: a tight crop and a card-size scan.

Real ID photos are rarely like the developer set's portraits: the face often fills the frame
(a cropped ID photo) or the whole photo is as small as a scanned card's (about 120x150 px).
These variants are cut from the detected face of a full photo, never saved.

* ``tight``: 0.9 times the detector box wide and 1.25 times that high, on the box's centre:
  the face fills the frame and its outline (ears, chin, hair) is cut.
* ``card``: a passport-style crop (1.5 box widths wide, 35:45 like an ID photo, the head a
  little above centre) scaled to 120x150 pixels: about 32 pixels between the eyes.
"""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.cloud.detect import HogFaceDetector, single_face
from kiosk.cloud.images import check_image
from kiosk.cloud.results import FaceBox

VARIANTS = ("full", "tight", "card")
CARD_SIZE = (120, 150)  # width, height in pixels
TIGHT_WIDTH, CARD_WIDTH = 0.9, 1.5  # in detector-box widths
ASPECT = 45.0 / 35.0
CARD_LIFT = 0.08  # the crop's centre sits this fraction of its height above the box centre


def crop_around(image: np.ndarray, box: FaceBox, width_boxes: float, lift: float = 0.0
                ) -> np.ndarray:
    """A copy of the crop ``width_boxes`` box widths wide (aspect 35:45) around ``box``.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        Not modified.
    box : FaceBox
        The face.
    width_boxes : float
        Crop width in box widths.
    lift : float
        Shift of the crop's centre above the box centre, as a fraction of the crop height.

    Returns
    -------
    ndarray (h, w, 3) uint8
        Clipped to the image.
    """
    check_image(image)
    cx, cy = box.center
    width = box.width * width_boxes
    height = width * ASPECT
    cy -= lift * height
    x0, y0 = max(0, int(round(cx - width / 2))), max(0, int(round(cy - height / 2)))
    x1 = min(image.shape[1], int(round(cx + width / 2)))
    y1 = min(image.shape[0], int(round(cy + height / 2)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError(f"box {box} lies outside the image")
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def variant(image: np.ndarray, name: str, box: FaceBox | None = None,
            detector: HogFaceDetector | None = None) -> np.ndarray:
    """The ``name`` variant (one of :data:`VARIANTS`) of a full photo.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        The full photo; not modified.
    box : FaceBox, optional
        Its face; found with ``detector`` (or a new HOG detector) when omitted.
    """
    if name not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {name!r}")
    if name == "full":
        return image
    if box is None:
        detector = detector if detector is not None else HogFaceDetector()
        box = single_face(detector.detect(image), "the photo")
    if name == "tight":
        return crop_around(image, box, TIGHT_WIDTH)
    crop = crop_around(image, box, CARD_WIDTH, CARD_LIFT)
    return cv2.resize(crop, CARD_SIZE, interpolation=cv2.INTER_AREA)
