"""5-point alignment: the chip, the landmarks and their geometry, on real photos."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.cloud.align import CHIP_SIZE, AlignedFace, FaceAligner
from kiosk.cloud.results import FaceBox
from kiosk.lab.photo_variants import crop_around


@pytest.fixture(scope="module")
def aligner() -> FaceAligner:
    return FaceAligner()


def test_a_frontal_face_has_its_eyes_level_and_the_nose_between(faces, detector, aligner):
    obama = faces["obama"]
    before = obama.copy()
    face = aligner.align(obama, detector.detect(obama)[0])
    np.testing.assert_array_equal(obama, before)  # input untouched
    assert face.chip.shape == (CHIP_SIZE, CHIP_SIZE, 3) and face.chip.dtype == np.uint8
    assert 90 < face.interocular < 120  # a 910-px-wide portrait
    assert abs(face.turn) < 0.05
    left, right = face.eyes
    assert abs(left[1] - right[1]) < 0.05 * face.interocular
    assert "chip" not in repr(face) and "points" not in repr(face)


def test_turn_changes_sign_with_a_mirror_image(faces, detector, aligner):
    obama2 = faces["obama2"]  # head turned a little
    turn = aligner.align(obama2, detector.detect(obama2)[0]).turn
    mirrored = np.ascontiguousarray(obama2[:, ::-1])
    flipped = aligner.align(mirrored, detector.detect(mirrored)[0]).turn
    assert abs(turn) > 0.05
    assert flipped == pytest.approx(-turn, abs=0.03)


def test_a_face_cut_by_the_frame_gets_no_black_corners(faces, detector, aligner):
    obama = faces["obama"]
    box = detector.detect(obama)[0]
    tight = crop_around(obama, box, 0.8)
    found = detector.detect(tight)[0]
    face = aligner.align(tight, found)
    corners = face.chip[[0, 0, -1, -1], [0, -1, 0, -1]]
    # Black (dlib's fill outside the image) would be 0; the padding is the photo's mean.
    assert corners.min() > 40
    assert face.interocular > 0.3 * tight.shape[1]


def test_degenerate_points_have_an_infinite_turn():
    points = np.zeros((5, 2))
    face = AlignedFace(FaceBox(0, 0, 10, 10), points, np.zeros((150, 150, 3), np.uint8))
    assert face.interocular == 0.0 and face.turn == float("inf")
