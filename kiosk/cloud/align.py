"""5-point face alignment: dlib's landmark predictor and the aligned face chip.

The predictor (``shape_predictor_5_face_landmarks.dat`` from ``face-recognition-models``, CC0)
finds the two corners of each eye and the base of the nose inside a detector box. dlib then
cuts a 150x150 chip rotated and scaled so those points sit at fixed places; the ResNet
descriptor is computed on that chip, and the quality gate (:mod:`kiosk.cloud.face_quality`)
measures it. A face cut by the photo's edge (a tight ID crop) gets a canvas padded with the
photo's mean colour first, so the chip holds no black corners.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlib
import face_recognition_models
import numpy as np

from kiosk.cloud.detect import pad_canvas
from kiosk.cloud.images import check_image
from kiosk.cloud.protocol import BoxLike
from kiosk.cloud.results import FaceBox
from kiosk.errors import ResourceError
from kiosk.resources import DLIB_SHAPE_5_SHA256, verified_copy

#: dlib's descriptor network takes 150x150 chips cut with 25% padding around the face.
CHIP_SIZE = 150
CHIP_PADDING = 0.25
#: Room the chip needs around a detector box, in box widths on each side (the padded chip
#: spans about twice the box; rotation adds a little).
CHIP_ROOM = 0.75


@dataclass(frozen=True, eq=False)
class AlignedFace:
    """One face aligned for description.

    Attributes
    ----------
    box : FaceBox
        The detector box it came from, in pixels of the source image.
    points : ndarray (5, 2) float64
        dlib's five landmarks in source pixels: two corners of one eye, two of the other, the
        base of the nose.
    chip : ndarray (150, 150, 3) uint8
        The aligned face, RGB (kept out of ``repr``: it is a picture of the face).
    """

    box: FaceBox
    points: np.ndarray = field(repr=False)
    chip: np.ndarray = field(repr=False)

    @property
    def eyes(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres of the two eyes (source pixels)."""
        return self.points[0:2].mean(axis=0), self.points[2:4].mean(axis=0)

    @property
    def interocular(self) -> float:
        """Distance between the eye centres in source pixels: the face's resolution."""
        a, b = self.eyes
        return float(np.linalg.norm(a - b))

    @property
    def turn(self) -> float:
        """How far the nose sits off the eyes' midline, in inter-ocular distances (signed).

        0 for a frontal face. Turning the head by an angle moves the nose base, which stands
        in front of the eyes, sideways by its depth times the sine of the angle while the eye
        distance shrinks with the cosine, so ``turn`` grows about as ``k tan(angle)``
        (``k`` about 0.53: see :mod:`kiosk.cloud.face_quality`).
        """
        a, b = self.eyes
        axis = b - a
        length = float(np.linalg.norm(axis))
        if length < 1e-6:
            return math.inf
        midpoint = (a + b) / 2.0
        return float(np.dot(self.points[4] - midpoint, axis / length) / length)


def load_model(location: str, loader: Callable[[str], Any], sha256: str) -> Any:
    """A dlib model of ``face-recognition-models`` loaded from ``location``, checked against
    its pinned ``sha256`` (:mod:`kiosk.resources`).

    Raises
    ------
    ResourceError
        The file is missing, is not the pinned one, or dlib cannot read it.
    """
    path = Path(location)
    if not path.is_file():
        raise ResourceError(f"face model {path} is missing; reinstall the "
                            "face-recognition-models package")
    try:
        with verified_copy(path, sha256) as copy:
            return loader(str(copy))
    except RuntimeError as exc:
        raise ResourceError(f"face model {path} could not be loaded: {exc}") from None


class FaceAligner:
    """dlib's 5-point predictor, loaded once.

    Raises
    ------
    ResourceError
        The model file is missing, unreadable or not the pinned one.
    """

    def __init__(self) -> None:
        self._predictor = load_model(
            face_recognition_models.pose_predictor_five_point_model_location(),
            dlib.shape_predictor, DLIB_SHAPE_5_SHA256)

    def align(self, image: np.ndarray, box: BoxLike) -> AlignedFace:
        """Landmarks and the aligned chip of the face in ``box``.

        Parameters
        ----------
        image : ndarray (H, W, 3) uint8
            BGR pixels; not modified.
        box : FaceBox or (x0, y0, x1, y1)
            A dlib-style detector box (it may extend past the image's edge).
        """
        check_image(image)
        box = FaceBox.of(box)
        height, width = image.shape[:2]
        room = CHIP_ROOM * max(box.width, box.height)
        margin = math.ceil(max(0.0, room - box.x0, room - box.y0, box.x1 + room - width,
                               box.y1 + room - height))
        canvas = image if margin == 0 else pad_canvas(image, margin)
        rgb = np.ascontiguousarray(canvas[:, :, ::-1])
        rect = dlib.rectangle(round(box.x0) + margin, round(box.y0) + margin,
                              round(box.x1) + margin - 1, round(box.y1) + margin - 1)
        shape = self._predictor(rgb, rect)
        points = np.array([(p.x - margin, p.y - margin) for p in shape.parts()], np.float64)
        chip = dlib.get_face_chip(rgb, shape, CHIP_SIZE, CHIP_PADDING)
        return AlignedFace(box=box, points=points, chip=np.asarray(chip, np.uint8))
