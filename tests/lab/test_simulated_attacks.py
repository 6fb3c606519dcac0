"""Simulated attacks for training and evaluation: kinds, parameters, rendering, encoding."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.errors import InputError
from kiosk.lab.simulate import PrintParams, ReplayParams
from kiosk.lab.simulated_attacks import (
    KINDS,
    SPECIES,
    TILT_PITCH_DEG,
    TILT_YAW_DEG,
    attack_params,
    kinds,
    print_frame_index,
    render_attack,
    write_video,
)
from kiosk.model import Face, FaceObservation


def test_kinds_cycle_in_a_fixed_order():
    assert kinds(0) == []
    assert kinds(2) == ["print", "replay"]
    assert kinds(5) == ["print", "replay", "print_tilted", "print", "replay"]
    assert {SPECIES[k] for k in KINDS} == {"print", "replay"}
    with pytest.raises(ValueError):
        kinds(-1)


def test_a_tilted_print_turns_like_a_prompted_head():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = attack_params("print_tilted", rng)
        assert isinstance(p, PrintParams)
        assert TILT_YAW_DEG[0] <= p.motion.yaw_deg <= TILT_YAW_DEG[1]
        assert TILT_PITCH_DEG[0] <= p.motion.pitch_deg <= TILT_PITCH_DEG[1]
    held = attack_params("print", np.random.default_rng(0))
    assert held.motion.yaw_deg < TILT_YAW_DEG[0]  # PrintParams.random's sway: <= 7.8 deg
    assert isinstance(attack_params("replay", rng), ReplayParams)
    with pytest.raises(ValueError, match="kind"):
        attack_params("mask", rng)


def picture(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8), (80, 60),
                     interpolation=cv2.INTER_CUBIC)
    return img


@pytest.mark.parametrize("kind", KINDS)
def test_one_seed_renders_one_attack(kind):
    def render(seed):
        frames = [picture(i) for i in range(6)]
        return np.stack(list(render_attack(kind, still=picture(), source=iter(frames),
                                           n_frames=5, fps=10.0, size=(80, 60),
                                           rng=np.random.default_rng(seed))))
    a, b, c = render(3), render(3), render(4)
    assert a.shape == (5, 60, 80, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_missing_inputs_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="still"):
        next(render_attack("print", n_frames=2, fps=10.0, size=(80, 60), rng=rng))
    with pytest.raises(ValueError, match="source"):
        next(render_attack("replay", n_frames=2, fps=10.0, size=(80, 60), rng=rng))
    with pytest.raises(ValueError, match="ended after 1"):
        list(render_attack("replay", source=iter([picture()]), n_frames=3, fps=10.0,
                           size=(80, 60), rng=rng))


def _obs(sharpness, yaw=0.0, ear=0.3, face=True) -> FaceObservation:
    f = None
    if face:
        f = Face(box=(0, 0, 10, 10), landmarks=np.zeros((478, 3), np.float32),
                 blendshapes={}, yaw=yaw, pitch=0.0, roll=0.0, ear_left=ear, ear_right=ear,
                 mouth_width=1.0, mouth_open=0.0, sharpness=sharpness, brightness=100.0,
                 exposure=0.0, size=0.2, interocular=5.0, matrix=np.eye(4, dtype=np.float32))
    return FaceObservation(seq=0, t=0.0, media_t=0.0, frame_shape=(60, 80), n_faces=int(face),
                           face=f)


def test_the_printed_frame_is_the_sharpest_frontal_open_eyed_one():
    candidates = [(0, _obs(50.0)), (6, _obs(400.0, yaw=40.0)), (12, _obs(300.0, ear=0.05)),
                  (18, _obs(200.0)), (24, _obs(0.0, face=False))]
    assert print_frame_index(candidates) == 18
    with pytest.raises(ValueError):
        print_frame_index([])


def test_videos_are_written_and_read_back(tmp_path):
    frames = [picture(i) for i in range(4)]
    out = tmp_path / "a.mp4"
    assert write_video(frames, out, 10.0, (80, 60)) == 4
    cap = cv2.VideoCapture(str(out))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    assert count == 4
    with pytest.raises(InputError, match="cannot write"):
        write_video(frames, tmp_path / "missing" / "a.mp4", 10.0, (80, 60))
