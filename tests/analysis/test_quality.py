"""Face-crop quality and best-frame choice."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.analysis.quality import (
    BEST_FRAMES,
    BestFrame,
    crop_quality,
    face_crop,
    frame_score,
)
from tests.factories import make_face


def test_crop_quality_of_flat_and_textured_crops():
    flat = np.full((64, 64), 128, np.uint8)
    assert crop_quality(flat) == (0.0, 128.0, 0.0)
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    sharpness, _, clipped = crop_quality(noisy)
    assert sharpness > 1000 and 0.02 < clipped < 0.06  # ~10/256 of uniform noise is clipped
    assert crop_quality(np.zeros((0, 0), np.uint8)) == (0.0, 0.0, 1.0)


def test_face_crop_has_fixed_width_and_handles_boxes_outside():
    image = np.zeros((480, 640, 3), np.uint8)
    assert face_crop(image, (100, 100, 300, 400)).shape == (192, 128)
    assert face_crop(image, (700, 10, 800, 50)).shape == (0, 0)
    with pytest.raises(ValueError, match="image"):
        face_crop(np.zeros((10, 10), np.uint8), (0, 0, 5, 5))


def test_frame_score_prefers_sharp_frontal_open_eyes():
    good = frame_score(make_face(sharpness=160.0, brightness=128.0, exposure=0.0))
    assert good == pytest.approx(1.0)
    assert frame_score(make_face(yaw=35.0)) == 0.0
    assert frame_score(make_face(blendshapes={"eyeBlinkLeft": 0.8})) == 0.0
    assert 0 < frame_score(make_face(sharpness=40.0)) < frame_score(make_face(sharpness=120.0))
    assert frame_score(make_face(brightness=40.0)) < frame_score(make_face(brightness=120.0))


def test_best_frame_keeps_the_best_copy():
    best = BestFrame()
    image = np.zeros((4, 4, 3), np.uint8)
    assert best.offer(image, make_face(sharpness=50.0), 1.0)
    assert not best.offer(image, make_face(sharpness=20.0), 2.0)
    assert best.offer(image, make_face(sharpness=150.0), 3.0)
    image[:] = 9  # the kept frame is a copy
    assert best.t == 3.0 and best.image.max() == 0
    assert not best.offer(image, make_face(yaw=40.0), 4.0)


def test_the_k_best_frames_are_kept_best_first_and_apart_in_time():
    best = BestFrame(k=3, gap_s=0.3)
    assert best.frames == () and best.image is None and best.score == 0.0
    for t, sharp in [(0.0, 60.0), (0.1, 80.0), (0.5, 100.0), (1.0, 40.0), (1.5, 120.0),
                     (2.0, 20.0), (2.1, 90.0)]:
        best.offer(np.full((4, 4, 3), int(sharp), np.uint8), make_face(sharpness=sharp), t)
    # 0.1 replaced its worse neighbour at 0.0; 2.1 its neighbour at 2.0; then the best three.
    assert [f.t for f in best.frames] == [1.5, 0.5, 2.1]
    assert [int(f.image[0, 0, 0]) for f in best.frames] == [120, 100, 90]
    assert best.t == 1.5 and best.face is best.frames[0].face
    scores = [f.score for f in best.frames]
    assert scores == sorted(scores, reverse=True)
    times = sorted(f.t for f in best.frames)
    assert all(b - a >= 0.3 for a, b in zip(times, times[1:], strict=False))


def test_a_worse_neighbour_does_not_replace_a_kept_frame():
    best = BestFrame(k=2, gap_s=0.5)
    assert best.offer(np.zeros((2, 2, 3), np.uint8), make_face(sharpness=100.0), 1.0)
    assert not best.offer(np.zeros((2, 2, 3), np.uint8), make_face(sharpness=90.0), 1.2)
    assert [f.t for f in best.frames] == [1.0]
    # A frame kept as second best is not "the best".
    assert not best.offer(np.zeros((2, 2, 3), np.uint8), make_face(sharpness=90.0), 2.0)
    assert [f.t for f in best.frames] == [1.0, 2.0]


def test_best_frame_arguments_are_checked():
    with pytest.raises(ValueError, match="k must"):
        BestFrame(k=0)
    with pytest.raises(ValueError, match="gap_s"):
        BestFrame(gap_s=-1.0)
    assert BEST_FRAMES == 5 and BestFrame().k == 5
