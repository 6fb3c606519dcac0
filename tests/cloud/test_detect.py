"""The HOG detector, the one-face rule for photos, and face sharpness."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.cloud.detect import (
    HogFaceDetector,
    comparable_faces,
    pad_canvas,
    single_face,
)
from kiosk.cloud.errors import NoFaceInImage, SeveralFaces
from kiosk.cloud.images import load_photo
from kiosk.cloud.results import FaceBox
from kiosk.lab.photo_variants import crop_around, variant
from tests.cloud.conftest import IMAGE_T1, side_by_side


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


def test_pad_canvas_adds_a_mean_colour_border():
    image = np.zeros((4, 6, 3), np.uint8)
    image[:, :3] = 200
    canvas = pad_canvas(image, 2)
    assert canvas.shape == (8, 10, 3)
    np.testing.assert_array_equal(canvas[2:6, 2:8], image)
    assert canvas[0, 0].tolist() == [100, 100, 100]
    with pytest.raises(ValueError, match="margin"):
        pad_canvas(image, -1)


@pytest.mark.data
def test_a_face_that_fills_the_photo_is_found_on_the_padded_canvas(shared_data, detector):
    photo = load_photo(shared_data / IMAGE_T1)
    box = detector.detect(photo)[0]
    tight = crop_around(photo, box, 0.8)  # forehead, chin and cheeks cut by the frame
    assert detector.detect(tight, thorough=False) == []  # plain HOG misses it
    found = detector.detect(tight)
    assert len(found) == 1
    height, width = tight.shape[:2]
    # The face is about as large as the crop, and may extend past its edges.
    assert found[0].width > 0.7 * width and found[0].contains(width / 2, height / 2)


@pytest.mark.data
def test_no_developer_photo_loses_its_face_tight_or_card_size(shared_data, manifest_rows,
                                                               detector):
    # Issue 14: zero "no face found" on any photo in which a person sees one face, whole,
    # cropped tight or scaled to a 120x150 card. Variants are made here, never saved.
    photos = [r["path"] for r in manifest_rows if r["media"] == "image"]
    assert len(photos) == 29
    missed = []
    for path in photos:
        image = load_photo(shared_data / path)
        box = single_face(detector.detect(image), path)
        for name in ("tight", "card"):
            if len(detector.detect(variant(image, name, box))) != 1:
                missed.append((path, name))
    assert missed == []


def test_the_cnn_fallback_can_be_switched_off(faces):
    obama = faces["obama"]
    hog_only = HogFaceDetector(cnn_fallback=False)
    blank = np.full((200, 160, 3), 120, np.uint8)
    assert hog_only.detect(blank) == []
    assert len(hog_only.detect(obama)) == 1
