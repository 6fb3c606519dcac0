"""The live frames a session would hand the matcher, taken from recordings and photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kiosk.cloud.errors import InvalidImage, NoFaceInImage
from kiosk.lab import live_frames as lf
from tests.camera.fakes import write_video
from tests.cloud.conftest import DEMO_GIF, OBAMA

D9 = "KwaiVGI_LivePortrait/assets/examples/driving/d9.mp4"


def test_a_recording_gives_its_k_best_frames_with_boxes(shared_data: Path):
    frames = lf.best_live_frames(shared_data / D9, k=4)
    assert len(frames) == 4
    for frame in frames:
        assert frame.image.shape == (480, 512, 3) and frame.image.dtype == np.uint8
        x0, y0, x1, y1 = frame.box
        assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 480
    assert len({frame.image.tobytes() for frame in frames}) == 4  # distinct frames


def test_a_segment_is_respected(shared_data: Path):
    frames = lf.best_live_frames(shared_data / DEMO_GIF, (0, 32))
    assert 1 <= len(frames) <= 5


def test_a_photo_is_one_frame_without_a_box(shared_data: Path):
    [frame] = lf.live_frames(shared_data / OBAMA)
    assert frame.box is None and frame.image.shape == (1137, 910, 3)
    with pytest.raises(InvalidImage, match="frame range applies only to videos"):
        lf.live_frames(shared_data / OBAMA, (0, 3))


def test_a_recording_without_a_face_or_not_a_video(tmp_path: Path):
    clip = write_video(tmp_path / "pattern.mp4", n_frames=12)
    with pytest.raises(NoFaceInImage, match="no frame of pattern.mp4 shows one sharp"):
        lf.best_live_frames(clip)
    text = tmp_path / "clip.mp4"
    text.write_text("not a video")
    with pytest.raises(InvalidImage):
        lf.best_live_frames(text)


def test_frames_beyond_the_pixel_limit_are_refused(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch):
    clip = write_video(tmp_path / "wide.mp4", n_frames=3, width=96, height=64)
    monkeypatch.setattr(lf, "PHOTO_MAX_PIXELS", 96 * 64 - 1)
    with pytest.raises(InvalidImage, match="96x64 pixel frames; the limit"):
        lf.best_live_frames(clip)
