"""The HOG detector, the one-face rule for photos, and face sharpness."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.cloud.detect import HogFaceDetector, comparable_faces, face_sharpness, single_face
from kiosk.cloud.errors import NoFaceInImage, SeveralFaces
from kiosk.cloud.results import FaceBox
from tests.cloud.conftest import side_by_side


def _box(x: float, width: float) -> FaceBox:
    return FaceBox(x, 10.0, x + width, 10.0 + width)


def test_no_face_is_a_plain_error():
    with pytest.raises(NoFaceInImage, match="no face was found in the ID photo"):
        single_face([], "the ID photo")


def test_two_people_of_similar_size_are_refused():
    with pytest.raises(SeveralFaces, match="shows 2 faces; it must show exactly one person"):
        single_face([_box(0, 100), _box(200, 80)], "the ID photo")


def test_small_ghost_portrait_is_ignored():
    # ID cards often print a small second copy of the portrait; it is not a second person.
    main, ghost = _box(0, 100), _box(300, 30)
    assert single_face([main, ghost]) == main
    assert comparable_faces([main, ghost]) == 1
    assert comparable_faces([]) == 0


def test_sharpness_ranks_a_blurred_face_lower():
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    blurred = cv2.GaussianBlur(image, (0, 0), 3)
    box = FaceBox(50, 50, 150, 150)
    assert face_sharpness(image, box) > 10 * face_sharpness(blurred, box)
    assert face_sharpness(image, FaceBox(0, 0, 1, 1)) == 0.0


def test_blank_image_has_no_face(detector: HogFaceDetector):
    assert detector.detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_real_face_is_found_in_pixels_of_the_full_image(faces, detector: HogFaceDetector):
    obama = faces["obama"]
    boxes = detector.detect(obama)
    assert len(boxes) == 1
    box = boxes[0]
    height, width = obama.shape[:2]
    assert 0 <= box.x0 < box.x1 <= width and 0 <= box.y0 < box.y1 <= height
    assert box.width > 0.2 * width  # a portrait: the face is large


def test_two_real_faces_side_by_side_are_several(faces, detector: HogFaceDetector):
    pair = side_by_side(faces["obama"], faces["biden"])
    boxes = detector.detect(pair)
    assert len(boxes) == 2
    assert boxes[0].width * boxes[0].height >= boxes[1].width * boxes[1].height
    with pytest.raises(SeveralFaces):
        single_face(boxes, "the ID photo")


def test_max_side_is_checked():
    with pytest.raises(ValueError, match="max_side"):
        HogFaceDetector(max_side=50)


def test_detect_near_finds_the_face_at_the_guess_only(faces, detector: HogFaceDetector):
    pair = side_by_side(faces["obama"], faces["biden"])
    left, right = sorted(detector.detect(pair), key=lambda b: b.x0)
    # A rough guess around the right-hand face, as a landmark tracker would give it.
    guess = FaceBox(right.x0 + 10, right.y0 - 5, right.x1 - 5, right.y1 + 15)
    found = detector.detect_near(pair, guess)
    assert found is not None
    assert found.contains(*right.center) and not found.contains(*left.center)
    assert detector.detect_near(np.full((300, 300, 3), 90, np.uint8),
                                FaceBox(100, 100, 200, 200)) is None
