"""The simulated light challenge: the screen as an area light, the face's surface, the camera
and the attacks, on synthetic pictures (no video needed)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from kiosk.analysis.light import LightSequence, Segment
from kiosk.analysis.light.regions import TO_LINEAR
from kiosk.lab.simulate.light import LightSimulator, emitted_average, srgb_encode
from kiosk.lab.simulate.light_geometry import (
    ambient_shading,
    face_surface,
    mirrored_screen,
    plane_surface,
    screen_irradiance,
    wall_irradiance,
)
from kiosk.lab.simulate.light_params import LightSimParams

QUIET = LightSimParams(noise_sigma=0.0)
SEQ = LightSequence((Segment(1.0, 1.5, (0, 0, 0)), Segment(1.5, 2.0, (255, 255, 255)),
                     Segment(2.0, 2.5, (0, 255, 0)), Segment(2.5, 3.0, (255, 0, 0))))


def flat_mesh(shape=(240, 320), tilt_per_px: float = 0.0) -> np.ndarray:
    """478 points on a grid over the middle of the picture; z = tilt * (y - centre)."""
    h, w = shape
    gx, gy = np.meshgrid(np.linspace(w * 0.35, w * 0.65, 22), np.linspace(h * 0.25, h * 0.75, 22))
    pts = np.column_stack([gx.ravel(), gy.ravel()])[:478]
    z = tilt_per_px * (pts[:, 1] - h / 2)
    return np.column_stack([pts, z]).astype(np.float32)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="ambient_lux"):
        LightSimParams(ambient_lux=0)
    with pytest.raises(ValueError, match="fov_deg"):
        LightSimParams(fov_deg=5)
    with pytest.raises(ValueError, match="crosstalk"):
        LightSimParams(crosstalk=np.eye(2))
    assert "300 lux" in LightSimParams().describe()
    assert np.allclose(LightSimParams().crosstalk.sum(axis=1), 1.0)   # white reads neutral


def test_emitted_light_is_averaged_over_the_exposure():
    white, green = np.ones(3), np.array([0.0, 1.0, 0.0])
    ui = np.full(3, TO_LINEAR[235])
    assert np.allclose(emitted_average(SEQ, 1.6, 1.7, (235, 235, 235)), white)
    assert np.allclose(emitted_average(SEQ, 1.9, 2.1, (235, 235, 235)), (white + green) / 2)
    assert np.allclose(emitted_average(SEQ, 0.0, 0.5, (235, 235, 235)), ui, atol=1e-6)
    assert np.allclose(emitted_average(SEQ, 0.9, 1.1, (235, 235, 235)), ui / 2, atol=1e-6)
    codes = np.arange(256, dtype=np.uint8)
    assert np.array_equal(np.rint(srgb_encode(TO_LINEAR[codes])).astype(np.uint8), codes)


def test_the_screen_is_an_area_light():
    p = replace(QUIET, screen_size_m=(0.01, 0.01), screen_top_m=0.0)
    far = screen_irradiance(np.array([0.0, 0.005, 2.0]), np.array([0.0, 0.0, -1.0]), p)
    assert float(far) == pytest.approx(1e-4 / 4.0, rel=0.01)           # A cos cos / r^2
    big = LightSimParams()
    front = np.array([0.0, 0.0, -1.0])
    near = screen_irradiance(np.array([0.0, 0.1, 0.35]), front, big)
    further = screen_irradiance(np.array([0.0, 0.1, 0.7]), front, big)
    assert near > 2 * further > 0
    # Never more than the whole hemisphere (pi), and nothing on a surface facing away.
    assert near < math.pi
    assert screen_irradiance(np.array([0.0, 0.1, 0.35]), -front, big) == 0
    # A surface tipped toward the screen (below the camera) receives more than one tipped up.
    down = np.array([0.0, 0.5, -0.866])
    up = np.array([0.0, -0.5, -0.866])
    p0 = np.array([0.0, 0.0, 0.4])
    assert screen_irradiance(p0, down, big) > screen_irradiance(p0, front, big) \
        > screen_irradiance(p0, up, big)
    assert wall_irradiance(big) == pytest.approx(0.53 * 0.30 / 1.5 ** 2)


def test_glass_mirrors_the_screen_only_when_tipped_toward_it():
    p = LightSimParams()
    shape = (240, 320)
    tipped, normal = plane_surface((160, 120), 0.4, 15.0, shape, p)
    assert mirrored_screen(tipped[120, 160], normal, p, 0.5) > 0.99
    upright, normal0 = plane_surface((160, 120), 0.4, 0.0, shape, p)
    assert mirrored_screen(upright[120, 160], normal0, p, 0.5) < 0.01   # mirrors the camera
    back, normal_b = plane_surface((160, 120), 0.4, -15.0, shape, p)
    assert mirrored_screen(back[120, 160], normal_b, p, 0.5) == 0
    # The plane passes through its centre at the stated depth.
    assert tipped[120, 160, 2] == pytest.approx(0.4, rel=0.01)


def test_the_rooms_light_comes_from_above():
    p = LightSimParams()
    up = np.array([[0.0, -1.0, 0.0]])
    down = np.array([[0.0, 1.0, 0.0]])
    front = np.array([[0.0, 0.0, -1.0]])
    assert ambient_shading(front, p)[0] == pytest.approx(1.0)
    assert ambient_shading(up, p)[0] > 1.0 > ambient_shading(down, p)[0]
    assert ambient_shading(down, p)[0] == pytest.approx(
        0.5 / (0.5 + 0.5 * math.cos(math.radians(55))))


def test_a_flat_mesh_has_normals_toward_the_camera_and_a_tilted_one_does_not():
    flat = face_surface(flat_mesh(), (240, 320), QUIET)
    inside = flat.mask > 0.99
    assert inside.sum() > 1000
    assert np.allclose(flat.normals[inside], [0, 0, -1], atol=0.02)
    assert flat.distance == pytest.approx(
        (160 / math.tan(math.radians(32.5))) * 0.145 / (0.3 * 320), rel=0.05)
    tilted = face_surface(flat_mesh(tilt_per_px=0.5), (240, 320), QUIET)
    n = tilted.normals[tilted.mask > 0.99].mean(axis=0)
    # z grows downward: the surface's top leans toward the camera, its normal points down.
    assert n[1] > 0.3 and n[2] < 0


def grey(shape=(240, 320), value=120) -> np.ndarray:
    return np.full((*shape, 3), value, np.uint8)


def test_the_simulator_checks_its_inputs():
    with pytest.raises(ValueError, match="reference_landmarks"):
        LightSimulator(SEQ, QUIET, "none", 15, (240, 320), np.random.default_rng(0), None)
    with pytest.raises(ValueError, match="attack"):
        LightSimulator(SEQ, QUIET, "mask", 15, (240, 320), np.random.default_rng(0),
                       flat_mesh())
    sim = LightSimulator(SEQ, QUIET, "none", 15, (240, 320), np.random.default_rng(0),
                         flat_mesh())
    with pytest.raises(ValueError, match="image"):
        sim.render(grey((100, 100)), None, 0)


def render(attack: str, index: int, params=QUIET, image=None, seed=0):
    image = grey() if image is None else image
    sim = LightSimulator(SEQ, params, attack, 10, (240, 320), np.random.default_rng(seed),
                         flat_mesh())
    for i in range(index):
        sim.render(image, flat_mesh(), i)
    return sim.render(image, flat_mesh(), index)


def test_a_face_answers_far_more_than_the_wall():
    dark, white = render("none", 14), render("none", 19)   # 1.4 s (dark) and 1.9 s (white)
    face = (slice(100, 140), slice(140, 180))
    wall = (slice(0, 30), slice(0, 30))
    gain_face = TO_LINEAR[white[face]].mean() / TO_LINEAR[dark[face]].mean()
    gain_wall = TO_LINEAR[white[wall]].mean() / TO_LINEAR[dark[wall]].mean()
    assert gain_face - 1 > 5 * (gain_wall - 1) > 0


def test_a_tint_changes_the_whole_picture_alike():
    rng = np.random.default_rng(3)
    image = rng.integers(40, 200, (240, 320, 3), dtype=np.uint8)
    dark, green = render("tint", 14, image=image), render("tint", 24, image=image)
    ratio = TO_LINEAR[green].astype(np.float64) / np.maximum(TO_LINEAR[dark], 1e-4)
    g = ratio[:, :, 1]
    assert g.mean() > 1.3 and g.std() < 0.05 * g.mean()


def test_a_phone_adds_its_glass_reflection_and_a_print_scales():
    screen_dark, screen_white = render("screen", 14), render("screen", 19)
    inside = (slice(110, 130), slice(150, 170))
    added = TO_LINEAR[screen_white[inside]] - TO_LINEAR[screen_dark[inside]]
    # 4 % of a 300 cd/m2 screen against a 500 cd/m2 phone, the same everywhere on the glass.
    assert 0 < added.mean() < 0.03 and added.std() < 0.002
    print_dark, print_white = render("print", 14), render("print", 19)
    gain = TO_LINEAR[print_white[inside]].mean() / TO_LINEAR[print_dark[inside]].mean()
    assert gain > 1.3


def test_same_seed_same_frames_and_noise_differs_by_seed():
    noisy = LightSimParams()
    a, b = render("none", 5, noisy, seed=1), render("none", 5, noisy, seed=1)
    c = render("none", 5, noisy, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_auto_exposure_takes_back_a_change_of_brightness():
    auto_params = replace(QUIET, auto_exposure=True, ae_time_constant_s=0.1)
    before = TO_LINEAR[render("none", 0)].mean()         # the interface's light
    locked = TO_LINEAR[render("none", 14)].mean()        # the dark reference
    auto = TO_LINEAR[render("none", 14, auto_params)].mean()
    assert locked < auto < before
