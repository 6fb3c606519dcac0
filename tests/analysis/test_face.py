"""FaceTracker on synthetic and real frames."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from kiosk.analysis.face import FaceTracker
from kiosk.errors import ResourceError
from kiosk.model import Frame
from kiosk.resources import FACE_LANDMARKER

D7 = "KwaiVGI_LivePortrait/assets/examples/driving/d7.mp4"
TURNS = "tranvanluyt2203_face_anti_spoofing/videos/real.mp4"


@pytest.fixture(scope="module")
def tracker():
    with FaceTracker() as t:
        yield t


def first_frame(path) -> np.ndarray:
    cap = cv2.VideoCapture(str(path))
    ok, image = cap.read()
    cap.release()
    assert ok, path
    return image


def test_a_changed_model_is_refused(tmp_path):
    bad = tmp_path / "face_landmarker.task"
    shutil.copy(FACE_LANDMARKER, bad)
    with bad.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02\x03")
    with pytest.raises(ResourceError, match="SHA-256"):
        FaceTracker(model_path=bad)


def test_a_missing_model_is_refused(tmp_path):
    with pytest.raises(ResourceError, match="cannot be read"):
        FaceTracker(model_path=tmp_path / "none.task")


def test_no_face_in_a_blank_frame(tracker):
    obs = tracker.observe(Frame(np.full((480, 640, 3), 90, np.uint8), 0, 10.0, 0.0))
    assert obs.n_faces == 0 and obs.face is None and obs.frame_shape == (480, 640)


def test_rejects_a_grey_image(tracker):
    with pytest.raises(ValueError, match="frame.image"):
        tracker.observe(Frame(np.zeros((48, 64), np.uint8), 0, 11.0, 0.0))


def test_measures_a_frontal_face(shared_data):
    with FaceTracker() as tracker:
        obs = tracker.observe(Frame(first_frame(shared_data / D7), 0, 0.0, 0.0))
    face = obs.face
    assert obs.n_faces == 1 and face is not None
    assert face.landmarks.shape == (478, 3) and face.landmarks.dtype == np.float32
    x0, y0, x1, y1 = face.box
    assert 0 <= x0 < x1 <= 480 and 0 <= y0 < y1 <= 480
    assert 0.2 < face.size < 0.9
    assert abs(face.yaw) < 10 and abs(face.roll) < 10
    assert 0.2 < face.ear_left < 0.5 and 0.2 < face.ear_right < 0.5
    assert face.blink_left < 0.3 and face.blink_right < 0.3
    assert {"eyeBlinkLeft", "mouthSmileLeft", "jawOpen"} <= set(face.blendshapes)
    assert face.sharpness > 10 and 40 < face.brightness < 220 and face.exposure < 0.2
    assert face.interocular > 20 and 0.5 < face.mouth_width < 2.0


def test_roll_sign_on_a_rotated_face(shared_data):
    image = first_frame(shared_data / D7)
    h, w = image.shape[:2]
    rolls = {}
    for angle in (15, -15):
        # cv2: a positive angle turns the picture counter-clockwise, which tips the head
        # toward the subject's own right shoulder (negative roll by the kiosk's convention).
        turned = cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), (w, h))
        with FaceTracker() as tracker:
            rolls[angle] = tracker.observe(Frame(turned, 0, 0.0, 0.0)).face.roll
    assert rolls[15] < -8 and rolls[-15] > 8


@pytest.mark.parametrize(("side", "counted"), [(320, 2), (150, 1)])
def test_a_second_face_counts_when_comparable_and_the_larger_is_main(shared_data, side,
                                                                     counted):
    """A copy two thirds as large is a second person in the check; one under a third as
    large (the next person in a queue, far behind) is not counted (COMPARABLE_FACE_RATIO)."""
    big = first_frame(shared_data / D7)
    canvas = np.full((480, 840, 3), 120, np.uint8)
    canvas[:, :480] = big
    canvas[80:80 + side, 500:500 + side] = cv2.resize(big, (side, side))
    with FaceTracker() as tracker:
        obs = tracker.observe(Frame(canvas, 0, 0.0, 0.0))
        raw = len(tracker.landmarks(Frame(canvas, 1, 0.04, 0.04)).face_landmarks)
    assert raw == 2  # the landmarker sees both
    assert obs.n_faces == counted
    assert obs.face.box[2] <= 482  # the 480-px face on the left, not the copy


def test_timestamps_that_do_not_advance_are_accepted(shared_data):
    image = first_frame(shared_data / D7)
    with FaceTracker() as tracker:
        a = tracker.observe(Frame(image, 0, 5.0, 0.0))
        b = tracker.observe(Frame(image, 1, 5.0, 0.0))
    assert a.n_faces == b.n_faces == 1


def test_one_face_in_the_bona_fide_clips(manifest_rows, track_clip):
    clips = [r["path"] for r in manifest_rows
             if r["label"] == "bona_fide" and r["media"] == "video"]
    assert len(clips) >= 10
    shares, frames, single = {}, 0, 0
    for path in clips:
        # Every fourth frame (a 6-7.5 fps camera): the share is the same as at the full rate
        # (0.9959 of 1,481 frames against 0.9966 at every frame, measured), at a quarter of
        # the tracking time.
        obs = track_clip(path, step=4)
        ones = sum(o.n_faces == 1 for o in obs)
        shares[path.rsplit("/", 1)[-1]] = round(ones / len(obs), 3)
        frames += len(obs)
        single += ones
    overall = single / frames
    print(f"one face in {overall:.4f} of {frames} frames; per clip: {shares}")
    assert overall >= 0.95, shares


def _median(obs, start, end, attr):
    values = [getattr(o.face, attr) for o in obs if o.face and start <= o.media_t <= end]
    assert values, (start, end)
    return float(np.median(values))


def test_yaw_and_pitch_signs_on_the_head_turn_clip(track_clip):
    obs = track_clip(TURNS)
    # manifest.csv: turn_left@2.5-5.8 (toward image-right), turn_right@7.9-10.5,
    # look_down@12.0-13.5, look_up@14.5-16.0; frontal before 2.3 s.
    rest_yaw = _median(obs, 0.0, 2.0, "yaw")
    rest_pitch = _median(obs, 0.0, 2.0, "pitch")
    assert abs(rest_yaw) < 8
    assert _median(obs, 3.5, 5.0, "yaw") > rest_yaw + 20
    assert _median(obs, 8.8, 10.0, "yaw") < rest_yaw - 10
    assert _median(obs, 12.5, 13.3, "pitch") < rest_pitch - 10
    assert _median(obs, 14.8, 15.5, "pitch") > rest_pitch + 10
