"""Simulated print and replay attacks: geometry, appearance and determinism."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from kiosk.lab.simulate import (
    CameraParams,
    MotionParams,
    PrintParams,
    ReplayParams,
    camera_capture,
    choose_still,
    halftone,
    hand_motion,
    light_falloff,
    plane_homography,
    prepare_print,
    prepare_replay,
    render_print_frame,
    render_replay_frame,
    simulate_print,
    simulate_replay,
    stripe_pattern,
)

QUIET = CameraParams(blur_sigma=0.5, noise_sigma=0.0, exposure=1.0)
STILL = MotionParams(0, 0, 0, 0, 0, 0)   # no motion, no tremor
FPS = 10.0


def textured_still(shape=(180, 240), seed=0) -> np.ndarray:
    """A colourful picture full of corners (blobs and bars), (H, W, 3) uint8."""
    rng = np.random.default_rng(seed)
    h, w = shape
    img = np.full((h, w, 3), 128, np.uint8)
    for _ in range(60):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), int(rng.integers(4, 16)), colour, -1)
        else:
            cv2.rectangle(img, (x, y), (x + int(rng.integers(5, 30)),
                                        y + int(rng.integers(5, 30))), colour, -1)
    return img


def smooth_clip(n=6, shape=(96, 128), seed=0) -> list[np.ndarray]:
    """Frames of a soft blob drifting over a gradient: no periodic structure at all."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = []
    for i in range(n):
        cx, cy = w * (0.4 + 0.03 * i), h * 0.5
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (h / 5) ** 2))
        base = 60 + 100 * x / w
        img = np.stack([base + 80 * blob, base * 0.8 + 60 * blob, base * 0.6 + 120 * blob], -1)
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


def print_params(**kw) -> PrintParams:
    base = PrintParams(bend=0.0, fingers=0, camera=QUIET, supersample=2)
    return replace(base, **kw)


def replay_params(**kw) -> ReplayParams:
    base = ReplayParams(device="tablet", screen_scale=0.8, pixel_pitch=2.5, supersample=2,
                        banding=0.0, fingers=0, glare=0.0, camera=QUIET)
    return replace(base, **kw)


def warp_pts(hom: np.ndarray, pts) -> np.ndarray:
    return cv2.perspectiveTransform(np.float64([pts]), hom)[0]


# -- shared pieces ---------------------------------------------------------------------------

def test_hand_motion_is_bounded_smooth_and_seeded():
    params = MotionParams()
    poses = hand_motion(200, 25.0, params, np.random.default_rng(3))
    assert poses.shape == (200, 6)
    assert np.abs(poses[:, 0]).max() <= params.yaw_deg + params.tremor_deg + 1e-9
    assert np.abs(poses[:, 3]).max() <= params.shift + 1e-12
    assert np.abs(poses[:, 5] - 1).max() <= params.scale + 1e-12
    # No jumps: sway of <= 0.6 Hz plus tremor of <= 8 Hz bound the change per frame.
    step = 2 * math.pi / 25.0 * (params.yaw_deg * 0.6 + params.tremor_deg * 8.0)
    assert np.abs(np.diff(poses[:, 0])).max() <= step
    assert np.abs(np.diff(poses[:, 0])).max() > 0.05
    again = hand_motion(200, 25.0, params, np.random.default_rng(3))
    assert np.array_equal(poses, again)
    assert not np.array_equal(poses, hand_motion(200, 25.0, params, np.random.default_rng(4)))


def test_plane_homography_frontal_pose_is_a_scaled_translation():
    hom = plane_homography(np.array([0, 0, 0, 0, 0, 1.0]), (50.0, 40.0), 2.0, (320, 240), 60.0)
    pts = warp_pts(hom, [(50, 40), (60, 40), (50, 45)])
    assert pts[0] == pytest.approx((160, 120))
    assert pts[1] == pytest.approx((180, 120))
    assert pts[2] == pytest.approx((160, 130))
    # Yaw keeps the centre on the axis but foreshortens one side more than the other.
    turned = plane_homography(np.array([20, 0, 0, 0, 0, 1.0]), (50.0, 40.0), 2.0, (320, 240),
                              60.0)
    left, right = warp_pts(turned, [(0, 40), (100, 40)])
    assert warp_pts(turned, [(50, 40)])[0] == pytest.approx((160, 120))
    assert abs((160 - left[0]) - (right[0] - 160)) > 5


def test_light_falloff_range():
    light = light_falloff((60, 80), (0.0, 0.0), 0.4)
    assert light[0, 0] == pytest.approx(1.0)
    assert light[-1, -1] == pytest.approx(0.6, abs=1e-6)
    with pytest.raises(ValueError, match="strength"):
        light_falloff((10, 10), (0.5, 0.5), 1.0)


def test_camera_capture_averages_blocks():
    scene = np.zeros((8, 8, 3), np.float32)
    scene[::2] = 1.0   # rows alternate white and black: each 2x2 block averages to 0.5
    out = camera_capture(scene, 2, CameraParams(blur_sigma=0, noise_sigma=0), None)
    assert out.shape == (4, 4, 3)
    assert np.all(out == round(255 * 0.5 ** (1 / 2.2)))
    with pytest.raises(ValueError, match="scene"):
        camera_capture(np.zeros((9, 8, 3), np.float32), 2, CameraParams(), None)


def test_choose_still_prefers_sharp_frontal_open_eyes():
    nan = math.nan
    sharp = np.array([900.0, 500.0, 400.0, 300.0, 800.0])
    yaw = np.array([30.0, 2.0, 1.0, 0.0, 3.0])
    pitch = np.array([0.0, 1.0, 0.0, 0.0, 0.0])
    ear = np.array([0.3, 0.3, 0.31, 0.3, 0.1])   # frame 4: eyes closed
    assert choose_still(sharp, yaw, pitch, ear) == 1
    # Frames without a face lose to any frame with one.
    assert choose_still(np.array([999.0, 1.0]), np.array([nan, 40.0]),
                        np.array([nan, 0.0]), np.array([nan, 0.3])) == 1
    # No face anywhere: the sharpest frame.
    assert choose_still(np.array([1.0, 5.0, 2.0]), np.full(3, nan), np.full(3, nan),
                        np.full(3, nan)) == 1
    # Nothing frontal: the most frontal ones compete on sharpness.
    assert choose_still(np.array([10.0, 20.0, 30.0]), np.array([20.0, 22.0, 40.0]),
                        np.zeros(3), np.full(3, 0.3)) == 1
    with pytest.raises(ValueError, match="1-D"):
        choose_still(np.zeros(3), np.zeros(2), np.zeros(3), np.zeros(3))


# -- print -----------------------------------------------------------------------------------

@pytest.mark.parametrize("coverage", [0.1, 0.5, 0.9])
def test_halftone_keeps_coverage_and_period(coverage):
    period = 6.0
    ink = halftone(np.full((120, 120), coverage, np.float32), period, 0.0,
                   np.random.default_rng(0))
    assert ink.mean() == pytest.approx(coverage, abs=0.03)
    assert ink.min() >= 0.0 and ink.max() <= 1.0
    spectrum = np.abs(np.fft.rfft(ink.mean(axis=0) - ink.mean()))
    assert np.argmax(spectrum) == round(120 / period)


def test_print_is_deterministic_and_sized():
    still = textured_still((60, 80))
    params = PrintParams.random(np.random.default_rng(1), supersample=1)

    def run(seed):
        return list(simulate_print(still, 4, FPS, np.random.default_rng(seed), params,
                                   out_size=(96, 72)))

    a, b, c = run(7), run(7), run(8)
    assert len(a) == 4
    assert all(f.shape == (72, 96, 3) and f.dtype == np.uint8 for f in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    # The sheet moves: consecutive frames differ.
    assert not np.array_equal(a[0], a[3])


def test_print_frames_are_homographies_of_one_still():
    still = textured_still((180, 240))
    rng = np.random.default_rng(5)
    params = print_params(halftone_period=1.0, paper_texture=0.0,
                          motion=MotionParams(yaw_deg=8, pitch_deg=8, roll_deg=6, shift=0.05,
                                              scale=0.08))
    scene = prepare_print(still, 12, FPS, params, rng, out_size=(320, 240))
    frames = [render_print_frame(scene, i, rng) for i in (0, 11)]
    expected = scene.still_to_frame[11] @ np.linalg.inv(scene.still_to_frame[0])
    orb = cv2.ORB_create(nfeatures=800)
    kp0, d0 = orb.detectAndCompute(cv2.cvtColor(frames[0], cv2.COLOR_BGR2GRAY), None)
    kp1, d1 = orb.detectAndCompute(cv2.cvtColor(frames[1], cv2.COLOR_BGR2GRAY), None)
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(d0, d1)
    src = np.float32([kp0[m.queryIdx].pt for m in matches])
    dst = np.float32([kp1[m.trainIdx].pt for m in matches])
    found, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 2.0)
    assert inliers.sum() >= 40
    # The fitted homography agrees with the rendered one over the picture.
    corners = warp_pts(scene.still_to_frame[0], [(0, 0), (239, 0), (239, 179), (0, 179)])
    error = np.linalg.norm(warp_pts(found, corners) - warp_pts(expected, corners), axis=1)
    assert error.max() < 2.0
    # And the motion is real: the frames are not related by the identity.
    assert np.linalg.norm(warp_pts(expected, corners) - corners, axis=1).max() > 5


def test_print_shows_a_bright_margin_around_the_picture():
    still = np.full((80, 80, 3), 70, np.uint8)
    background = np.full((90, 120, 3), 30, np.uint8)
    params = print_params(margin=0.15, light_falloff=0.0, paper_white=0.85, sheet_scale=0.6)
    rng = np.random.default_rng(2)
    scene = prepare_print(still, 3, FPS, params, rng, out_size=(240, 180),
                          background=background)
    frame = render_print_frame(scene, 2, rng).astype(float).mean(axis=2)
    sh, sw = scene.sheet.shape[:2]
    m = 0.15 * min(sw, sh) / (1 + 0.3)    # margin width in sheet pixels (picture side * 0.15)
    along = np.linspace(0.2, 0.8, 9)
    hom = scene.sheet_to_frame[2]

    def sample(points):
        pts = np.rint(warp_pts(hom, points)).astype(int)
        assert (pts >= 0).all() and (pts < (240, 180)).all()
        return frame[pts[:, 1], pts[:, 0]]

    margin = sample([(a * sw, m / 2) for a in along] + [(m / 2, a * sh) for a in along])
    outside = sample([(a * sw, -m / 2) for a in along] + [(-m / 2, a * sh) for a in along])
    picture = sample([(a * sw, 1.5 * m + 2) for a in along])
    assert margin.min() > 180
    assert outside.max() < 60
    assert picture.max() < margin.min() - 60


def saturation(image: np.ndarray) -> np.ndarray:
    blurred = cv2.GaussianBlur(image, (0, 0), 2.0)
    return cv2.cvtColor(blurred, cv2.COLOR_BGR2HSV)[:, :, 1].astype(float)


def test_print_reduces_the_gamut():
    still = textured_still((120, 160), seed=4)
    still[:20, :40] = 0      # a black patch and a white patch
    still[:20, 40:80] = 255
    params = print_params(light_falloff=0.0, motion=STILL)
    rng = np.random.default_rng(3)
    scene = prepare_print(still, 1, FPS, params, rng, out_size=(320, 240))
    frame = render_print_frame(scene, 0, rng)
    hom = scene.still_to_frame[0]
    inside = np.zeros(still.shape[:2], np.uint8)
    inside[25:-5, 5:-5] = 255
    mask = cv2.warpPerspective(inside, hom, (320, 240), flags=cv2.INTER_NEAREST) > 0
    source = cv2.warpPerspective(still, hom, (320, 240), flags=cv2.INTER_LINEAR)
    ratio = saturation(frame)[mask].mean() / saturation(source)[mask].mean()
    assert ratio < 0.85
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(float)
    black = warp_pts(hom, [(20, 10)])[0].round().astype(int)
    white = warp_pts(hom, [(60, 10)])[0].round().astype(int)
    assert grey[black[1], black[0]] > 25      # ink never reaches black
    assert grey[white[1], white[0]] < 240     # paper is dimmer than the camera's white


def test_bend_curves_the_sheet_edges():
    still = np.full((80, 120, 3), 90, np.uint8)
    background = np.zeros((80, 120, 3), np.uint8)

    def top_edge_rows(bend):
        rng = np.random.default_rng(0)
        params = print_params(bend=bend, light_falloff=0.0, motion=STILL)
        scene = prepare_print(still, 1, FPS, params, rng, out_size=(240, 160),
                              background=background)
        grey = render_print_frame(scene, 0, rng).mean(axis=2)
        cols = (60, 120, 180)
        return [int(np.argmax(grey[:, c] > 100)) for c in cols]

    flat = top_edge_rows(0.0)
    bent = top_edge_rows(0.08)
    assert max(flat) - min(flat) <= 1
    # The sides recede: the top edge sits lower at the sides than in the middle.
    assert bent[0] - bent[1] >= 2 and bent[2] - bent[1] >= 2


def test_print_rejects_bad_input():
    with pytest.raises(ValueError, match="still"):
        prepare_print(np.zeros((10, 10), np.uint8), 2, FPS, print_params(),
                      np.random.default_rng(0))
    with pytest.raises(ValueError, match="margin"):
        PrintParams(margin=0.9)
    scene = prepare_print(textured_still((40, 40)), 2, FPS, print_params(supersample=1),
                          np.random.default_rng(0))
    with pytest.raises(ValueError, match="index"):
        render_print_frame(scene, 2, np.random.default_rng(0))


# -- replay ----------------------------------------------------------------------------------

def peak_ratio(grey: np.ndarray) -> float:
    """Strongest spectral peak away from DC over the median spectrum, on a windowed crop."""
    g = grey.astype(float) - grey.mean()
    g *= np.outer(np.hanning(g.shape[0]), np.hanning(g.shape[1]))
    spec = np.abs(np.fft.fftshift(np.fft.fft2(g)))
    h, w = spec.shape
    yy, xx = np.mgrid[0:h, 0:w]
    far = np.hypot((yy - h // 2) / h, (xx - w // 2) / w) > 0.08   # beyond ~12 px periods
    return float(spec[far].max() / np.median(spec[far]))


def screen_crop(scene, frame: np.ndarray, index: int) -> np.ndarray:
    """Grey pixels well inside the played video's rectangle in an output frame."""
    x, y, cw, ch = scene.layout.content_rect
    pts = warp_pts(scene.device_to_frame[index],
                   [(x + 0.3 * cw, y + 0.3 * ch), (x + 0.7 * cw, y + 0.7 * ch)])
    (x0, y0), (x1, y1) = np.rint(pts).astype(int)
    return cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("pitch", [2.5, 0.8])
def test_replay_adds_a_periodic_component(pitch):
    clip = smooth_clip(2, (180, 240))
    rng = np.random.default_rng(1)
    params = replay_params(pixel_pitch=pitch, supersample=3, screen_scale=0.9,
                           camera=CameraParams(blur_sigma=0.3, noise_sigma=0.0))
    scene = prepare_replay(2, FPS, (240, 180), params, rng,
                           background=np.full((180, 240, 3), 90, np.uint8))
    out = render_replay_frame(scene, clip[1], 1, rng)
    replayed = peak_ratio(screen_crop(scene, out, 1))
    x, y, cw, ch = scene.layout.content_rect
    source = peak_ratio(cv2.cvtColor(clip[1], cv2.COLOR_BGR2GRAY)[54:126, 72:168])
    assert source < 20
    assert replayed > 3 * source


def test_replay_is_deterministic_and_sized():
    clip = smooth_clip(4)
    params = ReplayParams.random(np.random.default_rng(2), device="phone", supersample=2)

    def run(seed):
        return list(simulate_replay(clip, 3, FPS, (128, 96), np.random.default_rng(seed),
                                    params))

    a, b, c = run(5), run(5), run(6)
    assert len(a) == 3
    assert all(f.shape == (96, 128, 3) and f.dtype == np.uint8 for f in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    # The frames run out before n_frames: the output stops with them.
    assert len(list(simulate_replay(clip[:2], 5, FPS, (128, 96), np.random.default_rng(5),
                                    params))) == 2


def test_replay_shows_a_dark_bezel_and_glare():
    clip = smooth_clip(1, (120, 160))
    light_room = np.full((120, 160, 3), 200, np.uint8)

    def render(glare):
        rng = np.random.default_rng(3)
        params = replay_params(bezel=0.12, glare=glare, glare_width=0.1, glare_offset=0.0,
                               glare_angle=0.0, motion=STILL, screen_scale=0.6)
        scene = prepare_replay(1, FPS, (160, 120), params, rng, out_size=(240, 180),
                               background=light_room)
        return scene, render_replay_frame(scene, clip[0], 0, rng).astype(float).mean(axis=2)

    scene, plain = render(0.0)
    sw, sh = scene.layout.screen_size
    b = scene.layout.bezel_px
    hom = scene.device_to_frame[0]
    bezel = np.rint(warp_pts(hom, [(sw * a, -b / 2) for a in (0.3, 0.5, 0.7)])).astype(int)
    room = np.rint(warp_pts(hom, [(sw * a, -2 * b) for a in (0.3, 0.5, 0.7)])).astype(int)
    assert room.min() >= 0
    assert plain[bezel[:, 1], bezel[:, 0]].max() < 50
    assert plain[room[:, 1], room[:, 0]].min() > 120   # the room, under uneven light
    # A vertical glare band through the middle brightens the centre, not the far sides.
    _, glared = render(0.6)
    mid = np.rint(warp_pts(hom, [(sw / 2, sh / 2), (sw * 0.02, sh / 2)])).astype(int)
    gain = glared[mid[:, 1], mid[:, 0]] - plain[mid[:, 1], mid[:, 0]]
    assert gain[0] > 20
    assert gain[1] < gain[0] / 3


def test_replay_layout_letterboxes_or_zooms():
    whole = prepare_replay(1, FPS, (200, 200), replay_params(device="phone", zoom=1.0),
                           np.random.default_rng(0)).layout
    sw, sh = whole.screen_size
    x, y, cw, ch = whole.content_rect
    assert sw > sh and ch == sh and cw == pytest.approx(sh, abs=1) and x > 0
    assert whole.source_crop == (0, 0, 200, 200)
    # Zoomed until it fills the screen: nothing letterboxed, top and bottom cropped.
    filled = prepare_replay(1, FPS, (200, 200), replay_params(device="phone", zoom=4.0),
                            np.random.default_rng(0)).layout
    assert filled.content_rect == (0, 0, *filled.screen_size)
    cx, cy, crop_w, crop_h = filled.source_crop
    assert crop_w == 200 and crop_h == pytest.approx(200 * sh / sw, abs=2)
    assert cy == pytest.approx((200 - crop_h) / 2, abs=1)


def test_stripe_pattern_has_rgb_order_and_unit_mean():
    pattern = stripe_pattern(0.8, 0.8, 0.0)
    assert pattern.mean(axis=(0, 1)) == pytest.approx([1.0, 1.0, 1.0], rel=1e-5)
    columns = pattern.sum(axis=0)       # (steps, 3): which channel lights each column
    lit = columns.argmax(axis=1)[columns.max(axis=1) > 0]
    assert lit[0] == 2 and lit[-1] == 0   # red on the left, blue on the right (BGR indices)
    assert pattern[-1].max() == 0         # the black matrix under each pixel row


def test_replay_rejects_bad_input():
    with pytest.raises(ValueError, match="device"):
        ReplayParams(device="projector")
    with pytest.raises(ValueError, match="device"):
        ReplayParams.random(np.random.default_rng(0), device="projector")
    scene = prepare_replay(1, FPS, (64, 48), replay_params(), np.random.default_rng(0))
    with pytest.raises(ValueError, match="frame"):
        render_replay_frame(scene, np.zeros((4, 4, 3), np.uint8), 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="laid out for 64x48"):
        render_replay_frame(scene, np.zeros((40, 64, 3), np.uint8), 0, np.random.default_rng(0))
