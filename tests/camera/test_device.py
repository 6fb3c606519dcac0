"""DeviceSource with a fake camera: open, unplug, backoff, reconnect, virtual refusal."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.camera.device import (
    CameraDisconnected,
    DeviceSource,
    VirtualCameraRefused,
    parse_device,
)
from kiosk.camera.source import FrameSource
from kiosk.camera.v4l2 import V4L2Capability
from kiosk.errors import CameraError
from kiosk.settings import Settings
from tests.camera.fakes import (
    FakeCamera,
    FakeClock,
    FakeSysfs,
    add_usb_video,
    add_usb_webcam,
    no_querycap,
)


def make_source(camera: FakeCamera, clock: FakeClock, sysfs: FakeSysfs, device: int | str = 0,
                **kwargs: object) -> DeviceSource:
    options: dict[str, object] = {"reconnect_min_s": 0.5, "reconnect_max_s": 3.0,
                                  "capture_factory": camera.factory, "clock": clock,
                                  "sysfs_root": sysfs.root, "querycap": no_querycap,
                                  "platform": "linux"}
    options.update(kwargs)
    return DeviceSource(device, **options)  # type: ignore[arg-type]


@pytest.fixture
def webcam(sysfs: FakeSysfs) -> FakeSysfs:
    add_usb_webcam(sysfs, 0)
    return sysfs


def test_opens_with_requested_settings_and_stamps_frames(webcam: FakeSysfs,
                                                         clock: FakeClock) -> None:
    camera = FakeCamera(width=1280, height=720, fps=25.0)
    source = make_source(camera, clock, webcam, width=1920, height=1080, fps=60)
    assert isinstance(source, FrameSource) and source.is_live
    with source:
        capture = camera.captures[0]
        assert camera.calls == [(0, cv2.CAP_V4L2)]
        assert capture.sets == {cv2.CAP_PROP_FRAME_WIDTH: 1920, cv2.CAP_PROP_FRAME_HEIGHT: 1080,
                                cv2.CAP_PROP_FPS: 60.0}
        assert source.resolution == (1280, 720)          # what the driver granted
        assert source.fps == 25.0
        assert source.device_info.name == "HD Webcam C615"
        frames = []
        for _ in range(3):
            frames.append(source.read())
            clock.advance(0.04)
        health = source.health
    assert [f.seq for f in frames] == [0, 1, 2]
    assert [f.t for f in frames] == pytest.approx([100.0, 100.04, 100.08])
    assert [f.media_t for f in frames] == pytest.approx([0.0, 0.04, 0.08])
    assert frames[0].image.shape == (720, 1280, 3)
    assert (health.frames, health.connected, health.nominal_fps) == (3, True, 25.0)
    assert health.fps == pytest.approx(25.0)
    assert capture.released and not source.health.connected


def test_device_path_is_passed_as_is(webcam: FakeSysfs, clock: FakeClock) -> None:
    camera = FakeCamera()
    with make_source(camera, clock, webcam, device="/dev/video0") as source:
        source.read()
    assert camera.calls == [("/dev/video0", cv2.CAP_V4L2)]


def test_unplug_backoff_and_reconnect(webcam: FakeSysfs, clock: FakeClock) -> None:
    camera = FakeCamera()
    source = make_source(camera, clock, webcam)
    source.open()
    for _ in range(3):
        source.read()
        clock.advance(0.1)
    camera.plugged = False
    with pytest.raises(CameraDisconnected, match="stopped delivering frames .*reconnecting in "
                                                 "0.5 s") as lost:
        source.read()
    assert lost.value.retry_in == 0.5
    assert camera.captures[0].released
    health = source.health
    assert (health.connected, health.frames) == (False, 3)
    assert "stopped delivering frames" in health.last_error

    # reads before the attempt is due fail fast, without touching the device
    clock.advance(0.2)
    with pytest.raises(CameraDisconnected, match="next reconnection attempt in 0.3 s"):
        source.read()
    assert source.retry_in == pytest.approx(0.3)
    assert len(camera.calls) == 1

    # failed attempts double the wait up to reconnect_max_s (3.0)
    delays = []
    for _ in range(4):
        clock.advance(source.retry_in)
        with pytest.raises(CameraError, match="retrying in") as failed:
            source.read()
        assert not isinstance(failed.value, CameraDisconnected)
        delays.append(source.retry_in)
    assert delays == pytest.approx([1.0, 2.0, 3.0, 3.0])
    assert len(camera.calls) == 5

    # plugged back in: the next due attempt reconnects and frames continue
    camera.plugged = True
    clock.advance(source.retry_in)
    frame = source.read()
    assert frame.seq == 3
    assert frame.media_t == pytest.approx(clock.now - 100.0)
    health = source.health
    assert (health.reconnects, health.connected, health.frames) == (1, True, 4)

    # the backoff starts over after a success
    camera.plugged = False
    with pytest.raises(CameraDisconnected) as lost_again:
        source.read()
    assert lost_again.value.retry_in == 0.5
    source.close()
    assert source.retry_in == 0.0


def test_open_before_the_camera_is_plugged(webcam: FakeSysfs, clock: FakeClock) -> None:
    camera = FakeCamera(plugged=False)
    source = make_source(camera, clock, webcam)
    with pytest.raises(CameraError, match="cannot open camera 0"):
        source.open()
    assert source.is_open                      # still trying
    assert source.retry_in == 0.5
    camera.plugged = True
    clock.advance(0.5)
    assert source.read().seq == 0
    assert source.health.reconnects == 0       # a first connection, not a reconnection
    source.close()


def test_unplugged_node_disappears_from_sysfs(webcam: FakeSysfs, clock: FakeClock) -> None:
    camera = FakeCamera()
    source = make_source(camera, clock, webcam)
    source.open()
    source.read()
    camera.plugged = False
    webcam.remove(0)
    with pytest.raises(CameraDisconnected):
        source.read()
    clock.advance(0.5)
    with pytest.raises(CameraError, match="no such video device"):
        source.read()
    assert len(camera.calls) == 1              # never handed to OpenCV
    source.close()


def test_unknown_device_is_not_opened(sysfs: FakeSysfs, clock: FakeClock) -> None:
    camera = FakeCamera()
    source = make_source(camera, clock, sysfs, device=2)
    with pytest.raises(CameraError, match=r"cannot open camera 2: no such video device"):
        source.open()
    assert camera.calls == []
    source.close()


def test_virtual_camera_is_refused(sysfs: FakeSysfs, clock: FakeClock) -> None:
    sysfs.add(0, "OBS Virtual Camera", parent=None)
    camera = FakeCamera()
    source = make_source(camera, clock, sysfs)
    with pytest.raises(VirtualCameraRefused, match="virtual camera refused: /dev/video0 'OBS "
                                                   "Virtual Camera' .*contains 'OBS'"):
        source.open()
    assert camera.calls == []
    assert "virtual camera refused" in source.health.last_error
    source.close()


def test_an_hdmi_capture_dongle_is_refused(sysfs: FakeSysfs, clock: FakeClock) -> None:
    # A physical USB device with the UVC driver: only its USB id says it passes on a laptop's
    # screen rather than filming the room.
    add_usb_video(sysfs, 0, "USB Video", "534d:2109", "1-2")
    camera = FakeCamera()
    source = make_source(camera, clock, sysfs)
    with pytest.raises(VirtualCameraRefused, match="virtual camera refused: /dev/video0 'USB "
                                                   "Video' .*534d:2109 is a video capture device"):
        source.open()
    assert camera.calls == []
    source.close()


def test_virtual_camera_allowed_for_development(sysfs: FakeSysfs, clock: FakeClock,
                                                caplog: pytest.LogCaptureFixture) -> None:
    sysfs.add(0, "Dummy video device (0x0000)", parent=None)
    camera = FakeCamera()
    with make_source(camera, clock, sysfs, allow_virtual=True) as source:
        assert source.read().seq == 0
        assert source.device_info.is_virtual
    assert "accepted because camera.allow_virtual is true" in caplog.text


def test_loopback_swapped_in_during_an_outage_is_refused(webcam: FakeSysfs,
                                                         clock: FakeClock) -> None:
    """Unplugging the webcam and loading v4l2loopback at the same index must not work."""
    camera = FakeCamera()
    source = make_source(camera, clock, webcam)
    source.open()
    source.read()
    camera.plugged = False
    with pytest.raises(CameraDisconnected):
        source.read()
    webcam.set_driver(0, "v4l2loopback", "platform")
    camera.plugged = True
    clock.advance(0.5)
    with pytest.raises(VirtualCameraRefused, match="driver 'v4l2loopback'"):
        source.read()
    assert len(camera.calls) == 1
    source.close()


def test_metadata_node_is_refused(webcam: FakeSysfs, clock: FakeClock) -> None:
    metadata = V4L2Capability("uvcvideo", "HD Webcam C615", "usb-1", 1, 0x84A00001, 0x04A00000)
    camera = FakeCamera()
    source = make_source(camera, clock, webcam, querycap=lambda path: metadata)
    with pytest.raises(CameraError, match="not a video-capture node"):
        source.open()
    source.close()


def test_other_platforms_skip_the_sysfs_check(sysfs: FakeSysfs, clock: FakeClock,
                                              caplog: pytest.LogCaptureFixture) -> None:
    camera = FakeCamera()
    with make_source(camera, clock, sysfs, platform="darwin") as source:
        source.read()
    assert camera.calls == [(0, cv2.CAP_ANY)]
    assert "virtual-camera check needs Linux sysfs" in caplog.text


def test_unusable_frames(webcam: FakeSysfs, clock: FakeClock) -> None:
    images = {0: np.zeros((48, 64), np.uint8)}        # grey: converted
    camera = FakeCamera(make_image=lambda i: images.get(i, np.zeros((48, 64, 3), np.float32)))
    with make_source(camera, clock, webcam) as source:
        grey = source.read()
        assert grey.image.shape == (48, 64, 3)
        with pytest.raises(CameraDisconnected, match="delivers unusable frames "
                                                     r"\(shape \(48, 64, 3\), dtype float32\)"):
            source.read()
        assert source.health.corrupt == 5


def test_permission_hint(webcam: FakeSysfs, clock: FakeClock, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "video0").touch(mode=0o000)
    # root may open anything: answer as an unprivileged kiosk user would be answered
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    camera = FakeCamera(plugged=False)
    source = make_source(camera, clock, webcam, dev_root=dev)
    with pytest.raises(CameraError, match="permission denied on .*video0"):
        source.open()
    source.close()


def test_busy_hint(webcam: FakeSysfs, clock: FakeClock, tmp_path: Path) -> None:
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "video0").touch(mode=0o666)
    camera = FakeCamera(plugged=False)
    source = make_source(camera, clock, webcam, dev_root=dev)
    with pytest.raises(CameraError, match="busy in another program"):
        source.open()
    source.close()


def test_from_settings(webcam: FakeSysfs, clock: FakeClock) -> None:
    settings = Settings().replace("camera", device="/dev/video0", width=1280, height=720,
                                  fps=15, reconnect_min_s=0.5, reconnect_max_s=0.5)
    camera = FakeCamera()
    source = DeviceSource.from_settings(settings, capture_factory=camera.factory, clock=clock,
                                        sysfs_root=webcam.root, querycap=no_querycap,
                                        platform="linux")
    with source:
        assert camera.captures[0].sets[cv2.CAP_PROP_FRAME_WIDTH] == 1280
        assert source.device == "/dev/video0"
        source.read()
        camera.plugged = False
        for _ in range(3):
            with pytest.raises(CameraError):
                source.read()
            assert source.retry_in <= 0.5      # capped by camera.reconnect_max_s
            clock.advance(source.retry_in)


@pytest.mark.parametrize(("spec", "expected"), [
    (0, 0), ("0", 0), (" 12 ", 12), ("/dev/video2", "/dev/video2"),
])
def test_parse_device(spec: int | str, expected: int | str) -> None:
    assert parse_device(spec) == expected


@pytest.mark.parametrize("spec", [-1, "", "  "])
def test_parse_device_rejects(spec: int | str) -> None:
    with pytest.raises(CameraError):
        parse_device(spec)


def test_backoff_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="reconnect"):
        DeviceSource(0, reconnect_min_s=2.0, reconnect_max_s=1.0)


def test_a_change_of_picture_size_is_a_lost_camera(webcam: FakeSysfs, clock: FakeClock) -> None:
    """Passed on, the new size read to the session as a face that changed scale (an attack,
    FACE_CHANGED); it ends the connection instead, and the reconnection takes the new size."""
    sizes = {i: (48, 64) for i in range(3)}
    camera = FakeCamera(make_image=lambda i: np.zeros((*sizes.get(i, (96, 128)), 3), np.uint8))
    with make_source(camera, clock, webcam) as source:
        assert [source.read().image.shape for _ in range(3)] == [(48, 64, 3)] * 3
        with pytest.raises(CameraDisconnected, match="changed its picture size from 64x48 to "
                                                     "128x96 .*reconnecting in 0.5 s"):
            source.read()
        assert camera.captures[0].released and not source.health.connected
        clock.advance(0.5)
        assert source.read().image.shape == (96, 128, 3)
        assert source.read().image.shape == (96, 128, 3)
        assert source.health.reconnects == 1


def test_missing_node_hint(webcam: FakeSysfs, clock: FakeClock, tmp_path: Path) -> None:
    camera = FakeCamera(plugged=False)
    source = make_source(camera, clock, webcam, dev_root=tmp_path)
    with pytest.raises(CameraError, match=r"no device node .*video0 \(unplugged"):
        source.open()
    source.close()
