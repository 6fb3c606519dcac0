"""open_source: which source a spec names, and the errors of bad specs."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from kiosk.camera.device import DeviceSource
from kiosk.camera.factory import is_device_spec, open_source
from kiosk.camera.images import ImageFileSource, ImageFolderSource
from kiosk.camera.video import VideoFileSource
from kiosk.errors import InputError
from kiosk.settings import Settings
from tests.camera.fakes import (
    FakeCamera,
    FakeClock,
    FakeSysfs,
    add_usb_webcam,
    no_querycap,
    pattern,
)


@pytest.mark.parametrize(("spec", "expected"), [
    ("0", True), (" 2 ", True), ("/dev/video0", True), ("/dev/v4l/by-id/usb-cam", True),
    ("clip.mp4", False), ("0.png", False), ("frames/", False), ("", False),
])
def test_is_device_spec(spec: str, expected: bool) -> None:
    assert is_device_spec(spec) is expected


def test_video_file(video_mp4: Path) -> None:
    source = open_source(video_mp4)
    try:
        assert isinstance(source, VideoFileSource)
        assert source.is_open                           # opened by default
        assert source.read().seq == 0
    finally:
        source.close()


def test_video_range_and_pacing(video_mp4: Path, clock: FakeClock) -> None:
    with open_source(str(video_mp4), paced=True, start=3, end=4, clock=clock,
                     sleep=clock.sleep) as source:
        frames = list(source)
    assert [round(f.media_t * 15) for f in frames] == [3, 4]
    assert clock.sleeps == pytest.approx([1 / 15])


def test_folder_and_image(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.PNG"), pattern(i, 16, 12))
    with open_source(tmp_path, fps=5) as folder:
        assert isinstance(folder, ImageFolderSource)
        assert [f.media_t for f in folder] == pytest.approx([0.0, 0.2, 0.4])
    with open_source(tmp_path / "1.PNG") as image:
        assert isinstance(image, ImageFileSource)
        assert len(list(image)) == 1


def test_gif_is_a_video(tmp_path: Path) -> None:
    animation = cv2.Animation()
    animation.frames = [pattern(i, 16, 12) for i in range(3)]
    animation.durations = [50, 50, 50]
    assert cv2.imwriteanimation(str(tmp_path / "a.gif"), animation)
    with open_source(tmp_path / "a.gif") as source:
        assert isinstance(source, VideoFileSource)
        assert len(list(source)) == 3


def test_missing_and_unopened(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        open_source(tmp_path / "missing.mp4")
    with pytest.raises(InputError, match="does not exist"):
        open_source(tmp_path / "missing.jpg")
    video = tmp_path / "later.mp4"
    video.write_bytes(b"x")
    source = open_source(video, open_now=False)        # not opened: no decode error yet
    assert not source.is_open


def test_empty_spec() -> None:
    with pytest.raises(InputError, match="no source given"):
        open_source("  ")


def test_single_image_has_no_later_frames(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), pattern(0, 8, 8))
    with pytest.raises(InputError, match="single image"):
        open_source(tmp_path / "a.png", start=1)


def test_device_from_settings(tmp_path: Path, clock: FakeClock) -> None:
    sysfs = FakeSysfs(tmp_path / "sys")
    add_usb_webcam(sysfs, 1)
    camera = FakeCamera()
    settings = Settings().replace("camera", width=800, height=600, fps=20)
    with open_source("1", settings=settings, clock=clock, capture_factory=camera.factory,
                     sysfs_root=sysfs.root, querycap=no_querycap, platform="linux") as source:
        assert isinstance(source, DeviceSource)
        assert source.device == 1
        assert camera.captures[0].sets[cv2.CAP_PROP_FRAME_WIDTH] == 800
        assert source.read().t == clock.now


def test_frame_range_is_refused_for_a_camera() -> None:
    with pytest.raises(InputError, match="frame range applies to video files"):
        open_source("0", start=5, open_now=False)
