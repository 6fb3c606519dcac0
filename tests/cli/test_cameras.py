"""``kiosk cameras`` on a fake sysfs tree."""

from __future__ import annotations

import io
import json
from pathlib import Path

from kiosk.cli import Context, build_parser
from kiosk.settings import Settings
from tests.camera.fakes import FakeSysfs, add_usb_webcam, no_querycap


def run_cameras(sysfs_root: Path, *argv: str, settings: Settings | None = None) -> str:
    args = build_parser().parse_args(["cameras", *argv])
    args.sysfs_root = sysfs_root
    args.querycap = no_querycap           # never reach this machine's real /dev/video*
    out = io.StringIO()
    ctx = Context(config_path=None, environ={}, stdout=out, stderr=io.StringIO(),
                  _settings=settings or Settings())
    assert args.func(args, ctx) == 0
    return out.getvalue()


def test_no_devices(tmp_path: Path) -> None:
    text = run_cameras(tmp_path)
    assert text.startswith("No video devices:")
    assert "This machine has no camera" in text
    assert json.loads(run_cameras(tmp_path, "--json")) == []


def test_table_flags_virtual_cameras(sysfs: FakeSysfs) -> None:
    add_usb_webcam(sysfs, 0)
    sysfs.add(2, "OBS Virtual Camera", parent=None)
    text = run_cameras(sysfs.root)
    lines = text.splitlines()
    assert lines[0].split() == ["DEVICE", "NAME", "DRIVER", "BUS", "CAPTURE", "VIRTUAL"]
    assert lines[1].split()[0] == "*"                       # camera.device = "0"
    assert "/dev/video0" in lines[1] and "uvcvideo" in lines[1] and lines[1].endswith("no")
    assert "/dev/video2" in lines[2] and lines[2].endswith("yes")
    assert "/dev/video2 is virtual: name 'OBS Virtual Camera' contains 'OBS', 'Virtual'" in text


def test_configured_virtual_camera_is_called_out(sysfs: FakeSysfs) -> None:
    sysfs.add(0, "Dummy video device (0x0000)", parent=None)
    text = run_cameras(sysfs.root)
    assert "is virtual and will be refused (camera.allow_virtual = false)" in text
    allowed = Settings().replace("camera", allow_virtual=True)
    assert "accepted because camera.allow_virtual = true" in run_cameras(sysfs.root,
                                                                         settings=allowed)


def test_configured_camera_missing(sysfs: FakeSysfs) -> None:
    add_usb_webcam(sysfs, 0)
    settings = Settings().replace("camera", device="/dev/video5")
    assert "camera.device = '/dev/video5') is not among them" in run_cameras(
        sysfs.root, settings=settings)


def test_json(sysfs: FakeSysfs) -> None:
    add_usb_webcam(sysfs, 0)
    sysfs.add(1, "Dummy video device (0x0000)", parent=None)
    devices = json.loads(run_cameras(sysfs.root, "--json"))
    assert [(d["path"], d["name"], d["driver"], d["bus"], d["is_virtual"]) for d in devices] == [
        ("/dev/video0", "HD Webcam C615", "uvcvideo", "usb", False),
        ("/dev/video1", "Dummy video device (0x0000)", "", "", True),
    ]
    assert set(devices[0]) == {"path", "index", "name", "driver", "bus", "is_virtual",
                               "why_virtual", "is_capture", "bus_info"}
