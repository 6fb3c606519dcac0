"""What an attempt's audit row records about its frames' source: the device as
``kiosk cameras`` describes it, or a recording's kind and base name, in a shape the audit log
accepts."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kiosk.audit.records import check_camera
from kiosk.camera import DeviceSource, ImageFolderSource, VideoFileSource
from kiosk.lab.standin import SyntheticCamera
from kiosk.session.camera import camera_record
from tests.camera.fakes import FakeCamera, FakeClock, FakeSysfs, add_usb_video, write_video


def opened_camera(tmp_path: Path, name: str, usb_id: str, **options) -> DeviceSource:
    sysfs = FakeSysfs(tmp_path / "sys")
    add_usb_video(sysfs, 0, name, usb_id, "1-1")
    source = DeviceSource(0, capture_factory=FakeCamera().factory, clock=FakeClock(),
                          sysfs_root=sysfs.root, querycap=lambda path: None, platform="linux",
                          **options)
    source.open()
    return source


def recorded(source) -> dict | None:
    """The record, checked as the audit log checks it."""
    record = camera_record(source)
    assert check_camera(record) == record
    return record


def test_a_webcam_is_named_as_kiosk_cameras_names_it(tmp_path: Path) -> None:
    source = opened_camera(tmp_path, "HD Webcam C615", "046d:0825")
    assert recorded(source) == {"kind": "camera", "device": "/dev/video0",
                                "name": "HD Webcam C615", "driver": "uvcvideo", "bus": "usb",
                                "usb": "046d:0825"}
    source.close()


def test_a_grabber_let_through_says_why_it_was_flagged(tmp_path: Path) -> None:
    # A development kiosk takes a flagged device; its attempts say so.
    source = opened_camera(tmp_path, "USB Video", "0fd9:0066", allow_virtual=True)
    record = recorded(source)
    assert record is not None and record["allow_virtual"] is True
    assert "USB 0fd9:0066 is a video capture device (Elgato Cam Link 4K)" in record["virtual"]
    source.close()


def test_a_name_with_control_characters_is_recorded_harmlessly(tmp_path: Path) -> None:
    # The log refuses control characters: a device naming itself so must not stop sessions.
    source = opened_camera(tmp_path, "Web\x1b[2Jcam", "046d:0825")
    record = recorded(source)
    assert record is not None and record["name"] == "Web\ufffd[2Jcam"
    source.close()


def test_a_camera_not_described_is_named_by_its_device(tmp_path: Path) -> None:
    source = DeviceSource(0, capture_factory=FakeCamera().factory, clock=FakeClock(),
                          platform="darwin")  # no sysfs: the check does not run
    source.open()
    assert recorded(source) == {"kind": "camera", "device": "0"}
    source.close()


def test_a_recording_is_named_by_its_kind_and_base_name(tmp_path: Path) -> None:
    home = tmp_path / "home" / "ana"
    home.mkdir(parents=True)
    video = write_video(home / "clip.mp4")
    (home / "frames").mkdir()
    for i in range(2):
        cv2.imwrite(str(home / "frames" / f"{i}.png"), np.zeros((8, 8, 3), np.uint8))
    assert recorded(VideoFileSource(video)) == {"kind": "video file", "name": "clip.mp4"}
    assert recorded(ImageFolderSource(home / "frames")) == {"kind": "image folder",
                                                           "name": "frames"}


def test_another_source_is_not_known() -> None:
    assert camera_record(SyntheticCamera()) is None
