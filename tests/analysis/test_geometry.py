"""Geometry on known inputs: eye aspect ratio, mouth metrics, angles from a matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiosk.analysis.geometry import (
    LEFT_EYE,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    RIGHT_EYE,
    eye_aspect_ratio,
    head_angles,
    landmark_box,
    mouth_metrics,
)


def eye(width: float, height: float) -> np.ndarray:
    """Six points p1..p6 of an eye of the given width and opening (x right, y down)."""
    return np.array([[0, 0], [width / 3, -height / 2], [2 * width / 3, -height / 2],
                     [width, 0], [2 * width / 3, height / 2], [width / 3, height / 2]])


def test_ear_of_a_known_eye():
    assert eye_aspect_ratio(eye(30, 9)) == pytest.approx(0.3)
    assert eye_aspect_ratio(eye(30, 0)) == 0.0


def test_ear_ignores_scale_and_z():
    points = np.hstack([eye(30, 9), np.full((6, 1), 123.0)])
    assert eye_aspect_ratio(points * 4) == pytest.approx(0.3)


def test_ear_degenerate_and_bad_shape():
    assert eye_aspect_ratio(np.zeros((6, 2))) == 0.0
    with pytest.raises(ValueError, match="eye"):
        eye_aspect_ratio(np.zeros((5, 2)))


def rotation(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """A 4x4 transform for rotations in camera space (x right, y up, z toward the camera).

    ``yaw`` turns the face about y, ``pitch`` about x, ``roll`` about z, all right-handed,
    composed as Rz @ Ry @ Rx; degrees.
    """
    a, b, c = (math.radians(v) for v in (pitch, yaw, roll))
    rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = rz @ ry @ rx
    m[:3, 3] = [1.0, -2.0, -40.0]
    return m


def test_identity_is_frontal():
    assert head_angles(rotation()) == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)


def test_yaw_sign_follows_the_subjects_left():
    # A right-handed turn about the camera's up axis swings the nose (+z) toward image-right,
    # which is the subject's own left in an unmirrored frame: positive yaw.
    yaw, pitch, roll = head_angles(rotation(yaw=30))
    assert yaw == pytest.approx(30.0)
    assert pitch == pytest.approx(0.0, abs=1e-9) and roll == pytest.approx(0.0, abs=1e-9)
    assert head_angles(rotation(yaw=-25))[0] == pytest.approx(-25.0)


def test_pitch_positive_when_looking_up():
    # Rotating about +x moves the nose (+z) toward -y (down): looking down.
    assert head_angles(rotation(pitch=20))[1] == pytest.approx(-20.0)
    assert head_angles(rotation(pitch=-15))[1] == pytest.approx(15.0)


def test_roll_positive_toward_own_left_shoulder():
    # A counter-clockwise turn in the picture tips the head toward the subject's right.
    assert head_angles(rotation(roll=10))[2] == pytest.approx(-10.0)


def test_angles_ignore_scale_in_the_matrix():
    m = rotation(yaw=12, pitch=-7, roll=5)
    m[:3, :3] *= 3.5
    assert head_angles(m) == pytest.approx(head_angles(rotation(yaw=12, pitch=-7, roll=5)))


def test_angles_reject_bad_matrices():
    with pytest.raises(ValueError, match="shape"):
        head_angles(np.eye(2))
    with pytest.raises(ValueError, match="degenerate"):
        head_angles(np.zeros((4, 4)))


def test_mouth_metrics_are_normalised():
    lm = np.zeros((478, 3))
    lm[[LEFT_EYE[0], LEFT_EYE[3]], 0] = [80, 60]      # left eye centre at x=70
    lm[[RIGHT_EYE[0], RIGHT_EYE[3]], 0] = [20, 40]    # right eye centre at x=30
    lm[MOUTH_LEFT] = [70, 100, 0]
    lm[MOUTH_RIGHT] = [30, 100, 0]
    lm[13] = [50, 96, 0]
    lm[14] = [50, 104, 0]
    width, opening, interocular = mouth_metrics(lm)
    assert interocular == pytest.approx(40.0)
    assert width == pytest.approx(1.0)
    assert opening == pytest.approx(0.2)
    w2, o2, i2 = mouth_metrics(lm * 2.5)
    assert (w2, o2) == pytest.approx((width, opening)) and i2 == pytest.approx(100.0)


def test_landmark_box_clips_to_frame():
    pts = np.array([[-5.0, 10.0], [50.0, 20.0], [700.0, 30.0]])
    assert landmark_box(pts, (480, 640)) == (0.0, 10.0, 640.0, 30.0)
