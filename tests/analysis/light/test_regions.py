"""Per-frame measurement: linear-light means of the skin regions and the background bands."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.analysis.light.regions import (
    BACKGROUND_NAMES,
    REGION_NAMES,
    TO_LINEAR,
    background_boxes,
    background_means,
    face_region_means,
    srgb_to_linear,
)


def mesh(box=(240, 160, 400, 360), seed=0) -> np.ndarray:
    """478 points spread over a face box (the regions are hulls of index subsets)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = box
    pts = np.column_stack([rng.uniform(x0, x1, 478), rng.uniform(y0, y1, 478),
                           np.zeros(478)])
    pts[0, :2], pts[1, :2] = (x0, y0), (x1, y1)     # the box's corners
    return pts.astype(np.float32)


def test_srgb_decoding_is_the_standards():
    assert TO_LINEAR[0] == 0 and TO_LINEAR[255] == pytest.approx(1.0)
    assert TO_LINEAR[10] == pytest.approx(10 / 255 / 12.92, rel=1e-5)
    assert TO_LINEAR[128] == pytest.approx(0.2158605, rel=1e-5)
    with pytest.raises(ValueError, match="uint8"):
        srgb_to_linear(np.zeros((2, 2, 3)))


def test_a_uniform_picture_gives_its_linear_colour_everywhere():
    img = np.empty((480, 640, 3), np.uint8)
    img[:] = (40, 120, 200)                           # B, G, R
    means, counts, clipped, lower = face_region_means(img, mesh())
    assert means.shape == (5, 3) and len(REGION_NAMES) == 5
    assert np.allclose(means, [TO_LINEAR[200], TO_LINEAR[120], TO_LINEAR[40]], atol=1e-6)
    assert (counts >= 12).all() and not clipped.any()
    assert np.allclose(lower, means, atol=1e-6)     # R, G, B order too
    bg, n = background_means(img, mesh())
    assert bg.shape == (2, 3) and len(BACKGROUND_NAMES) == 2 and (n > 100).all()
    assert np.allclose(bg, means[0], atol=1e-6)


def test_means_are_taken_in_linear_light_and_clipping_is_counted():
    rng = np.random.default_rng(1)
    img = np.repeat((rng.random((480, 640, 1)) < 0.5).astype(np.uint8) * 255, 3, axis=2)
    # Half the pixels black, half white, at random.
    means, _, clipped, lower = face_region_means(img, mesh())
    # Half the light of white, not the mean code value (127.5, i.e. 0.21 linear).
    assert np.allclose(means, 0.5, atol=0.06)
    assert np.allclose(clipped, 0.5, atol=0.06)
    assert np.allclose(lower, 0.0, atol=0.06)       # about the black half


def test_a_highlight_that_clips_moves_the_mean_and_not_the_darker_half():
    # Skin of codes 60-180 at random (B, G, R alike), lit 1.5 times brighter in linear
    # light; a highlight saturates a third of every region, before and after.
    rng = np.random.default_rng(3)
    codes = rng.integers(60, 181, (480, 640, 1)).astype(np.uint8)
    dim = np.repeat(codes, 3, axis=2)
    lin = TO_LINEAR[codes[..., 0]] * 1.5
    bright_codes = np.searchsorted(TO_LINEAR, np.minimum(lin, 1.0)).clip(0, 255)
    bright = np.repeat(bright_codes[..., None].astype(np.uint8), 3, axis=2)
    spot = rng.random((480, 640)) < 1 / 3
    dim[spot] = bright[spot] = 255
    m0, _, c0, lo0 = face_region_means(dim, mesh())
    m1, _, c1, lo1 = face_region_means(bright, mesh())
    assert np.allclose(c0, 1 / 3, atol=0.05) and np.allclose(c1, 1 / 3, atol=0.05)
    # The darker half answers the light as the unclipped skin does; the mean, dragged by the
    # saturated third that cannot brighten, answers far less.
    assert np.allclose(lo1 / lo0, 1.5, atol=0.03)
    assert (m1 / m0 < 1.3).all()


def test_clipped_background_pixels_are_left_out_and_input_untouched():
    img = np.full((480, 640, 3), 90, np.uint8)
    lm = mesh()
    for x0, y0, x1, y1 in background_boxes(img.shape[:2], lm):
        img[y0:y1, x0:(x0 + x1) // 2] = 255           # half of each band is a bright window
    before = img.copy()
    bg, counts = background_means(img, lm)
    assert np.allclose(bg, TO_LINEAR[90], atol=1e-6)
    assert np.array_equal(img, before)


def test_bands_lie_beside_the_head_and_vanish_off_the_picture():
    lm = mesh((240, 160, 400, 360))
    right, left = background_boxes((480, 640), lm)
    assert background_boxes((480, 500), lm)[0][2] == 500     # clipped at the edge
    cx, w = 320, 160
    assert right[0] == round(cx + 0.95 * w) and right[2] == round(cx + 1.6 * w)
    assert left[2] == round(cx - 0.95 * w) and left[0] == 64
    assert right[3] == 360 and right[1] == 80
    wide = mesh((10, 100, 630, 470))
    boxes = background_boxes((480, 640), wide)
    assert all(b[2] <= b[0] for b in boxes)
    bg, counts = background_means(np.zeros((480, 640, 3), np.uint8), wide)
    assert np.isnan(bg).all() and (counts == 0).all()


def test_a_face_outside_the_picture_gives_nan():
    lm = mesh((700, 500, 800, 600))
    means, counts, _, _ = face_region_means(np.zeros((480, 640, 3), np.uint8), lm)
    assert np.isnan(means).all() and (counts == 0).all()


@pytest.mark.parametrize("image, landmarks, name", [
    (np.zeros((480, 640), np.uint8), mesh(), "image"),
    (np.zeros((480, 640, 3), np.float32), mesh(), "image"),
    (np.zeros((480, 640, 3), np.uint8), np.zeros((100, 3)), "landmarks"),
    (np.zeros((480, 640, 3), np.uint8), np.full((478, 3), np.nan), "landmarks"),
])
def test_bad_inputs_name_the_argument(image, landmarks, name):
    with pytest.raises(ValueError, match=name):
        face_region_means(image, landmarks)
