"""Fixtures of the camera tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.camera.fakes import FakeClock, FakeSysfs, write_video


@pytest.fixture
def video_mp4(tmp_path: Path) -> Path:
    """30 frames, 96x64, 15 fps, MPEG-4 part 2 in MP4."""
    return write_video(tmp_path / "clip.mp4")


@pytest.fixture
def video_avi(tmp_path: Path) -> Path:
    """30 frames, 96x64, 15 fps, Motion JPEG in AVI."""
    return write_video(tmp_path / "clip.avi", fourcc="MJPG")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sysfs(tmp_path: Path) -> FakeSysfs:
    return FakeSysfs(tmp_path / "sys")
