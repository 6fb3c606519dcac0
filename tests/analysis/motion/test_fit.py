"""Two-view fits: a plane's points leave no homography residual; a 3D face's points do."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.analysis.motion.fit import (
    check_pairs,
    fit_homography,
    homography_residuals,
    planar_residual,
    similarity_residual,
    similarity_residuals,
)

F = 600.0  # pinhole focal length, px


def project(points3: np.ndarray, rot: np.ndarray, distance: float = 600.0) -> np.ndarray:
    p = points3 @ rot.T
    z = distance - p[:, 2]
    return np.c_[F * p[:, 0] / z + 320.0, F * p[:, 1] / z + 240.0]


def yaw_pitch(yaw: float, pitch: float) -> np.ndarray:
    y, p = np.radians([yaw, pitch])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    return ry @ rx


def face_cloud(rng: np.random.Generator, n: int = 300) -> np.ndarray:
    """Points on a face-like surface (px at the face): an ellipsoidal cap, a nose in front."""
    r = np.sqrt(rng.uniform(0, 1, n))
    a = rng.uniform(0, 2 * np.pi, n)
    x, y = 60 * r * np.cos(a), 78 * r * np.sin(a)
    z = 45 * np.sqrt(np.clip(1 - (x / 60) ** 2 - (y / 78) ** 2, 0, None))
    z += 20 * np.exp(-((x / 9) ** 2 + ((y - 5) / 20) ** 2))
    return np.c_[x, y, z]


def test_homography_explains_a_turned_plane():
    rng = np.random.default_rng(1)
    flat = np.c_[rng.uniform(-60, 60, (200, 2)), np.zeros(200)]
    a = project(flat, yaw_pitch(0, 0))
    b = project(flat, yaw_pitch(25, -10))
    assert similarity_residual(a, b) > 1.0     # the turn is not a similarity
    assert planar_residual(a, b) < 1e-4        # but it is a homography (float precision)
    h = fit_homography(a, b)
    assert h.shape == (3, 3)


def test_similarity_explains_shift_rotation_scale():
    rng = np.random.default_rng(2)
    a = rng.uniform(0, 100, (50, 2))
    c, s = np.cos(0.3), np.sin(0.3)
    b = 1.4 * a @ np.array([[c, -s], [s, c]]).T + (12.0, -7.0)
    assert similarity_residual(a, b) < 1e-9
    assert np.allclose(similarity_residuals(a, b), 0.0, atol=1e-9)


@pytest.mark.parametrize("yaw", [5.0, 10.0, 20.0])
def test_parallax_of_a_turning_face_is_not_planar(yaw):
    rng = np.random.default_rng(3)
    cloud = face_cloud(rng)
    a = project(cloud, yaw_pitch(0, 0))
    b = project(cloud, yaw_pitch(yaw, 3))
    s, h = similarity_residual(a, b), planar_residual(a, b)
    # Most of the out-of-plane motion is parallax no plane can explain, at any amount of turn.
    assert h / s > 0.6
    # And it grows with the turn: about yaw x relief (45 px) x pi / 180 in size.
    assert h > 0.15 * yaw


def test_noise_alone_is_not_explained_either():
    rng = np.random.default_rng(4)
    a = rng.uniform(0, 200, (100, 2))
    b = a + rng.normal(0, 0.5, a.shape)
    assert planar_residual(a, b) / similarity_residual(a, b) > 0.9


def test_inputs_are_not_changed_and_z_is_ignored():
    rng = np.random.default_rng(5)
    a = rng.uniform(0, 100, (20, 3)).astype(np.float32)
    b = a + 1.0
    a0, b0 = a.copy(), b.copy()
    planar_residual(a, b)
    similarity_residual(a, b)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)
    b[:, 2] += 50.0  # z differs wildly: only x and y count
    assert planar_residual(a, b) < 1e-4


def test_bad_inputs_name_the_argument():
    good = np.zeros((10, 2))
    with pytest.raises(ValueError, match="points_a"):
        planar_residual(np.zeros((10,)), good)
    with pytest.raises(ValueError, match="points_b"):
        similarity_residual(good, np.zeros((10, 4)))
    with pytest.raises(ValueError, match="at least 6"):
        check_pairs(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="differ in length"):
        check_pairs(np.zeros((8, 2)), np.zeros((9, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        check_pairs(np.full((8, 2), np.nan), np.zeros((8, 2)))


def test_degenerate_points_raise():
    line = np.c_[np.arange(10.0), np.zeros(10)]
    with pytest.raises(ValueError, match="degenerate"):
        homography_residuals(line, line + 1)
