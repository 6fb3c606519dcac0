"""``kiosk cameras`` on a fake sysfs tree, with fake ioctls for exposure and white balance."""

from __future__ import annotations

import io
import json
from pathlib import Path

from kiosk.camera.v4l2 import V4L2Capability
from kiosk.camera.v4l2_controls import LightSupport, query_light_support
from kiosk.cli import Context, build_parser
from kiosk.settings import Settings
from tests.camera.fakes import FakeSysfs, add_usb_video, add_usb_webcam, no_querycap
from tests.camera.light_fakes import (
    FakeControl,
    FakeV4L2Node,
    no_querylight,
    uvc_webcam_controls,
)


def run_cameras(sysfs_root: Path, *argv: str, settings: Settings | None = None,
                querycap=no_querycap, querylight=no_querylight) -> str:
    args = build_parser().parse_args(["cameras", *argv])
    args.sysfs_root = sysfs_root
    args.querycap = querycap              # never reach this machine's real /dev/video*
    args.querylight = querylight
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
    assert lines[0].split() == ["DEVICE", "NAME", "DRIVER", "BUS", "CAPTURE", "VIRTUAL",
                                "EXP-LOCK", "WB-LOCK"]
    assert lines[1].split()[0] == "*"                       # camera.device = "0"
    assert "/dev/video0" in lines[1] and "uvcvideo" in lines[1]
    assert lines[1].split()[-3:] == ["no", "?", "?"]         # physical; node not opened
    assert "/dev/video2" in lines[2] and lines[2].split()[-3:] == ["yes", "?", "?"]
    assert "/dev/video2 is virtual: name 'OBS Virtual Camera' contains 'OBS', 'Virtual'" in text


def test_table_flags_an_hdmi_capture_device(sysfs: FakeSysfs) -> None:
    add_usb_webcam(sysfs, 0)
    add_usb_video(sysfs, 2, "Cam Link 4K", "0fd9:0066", "1-2")
    text = run_cameras(sysfs.root)
    assert text.splitlines()[2].split()[-3:] == ["yes", "?", "?"]
    assert ("/dev/video2 is virtual: USB 0fd9:0066 is a video capture device (Elgato Cam Link "
            "4K): it passes on any video signal as a camera") in text


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
                               "why_virtual", "is_capture", "bus_info", "exposure",
                               "white_balance", "usb_id"}
    assert (devices[0]["exposure"], devices[0]["white_balance"]) == (None, None)


CAPTURE = V4L2Capability("uvcvideo", "HD Webcam C615", "usb-1", 1, 0x84A00001, 0x04200001)
METADATA = V4L2Capability("uvcvideo", "HD Webcam C615", "usb-1", 1, 0x84A00001, 0x04A00000)


def light_from(nodes: dict[str, dict[int, FakeControl]], node_file: Path):
    """``querylight`` answering through the real ioctl code with a fake driver per node."""
    def querylight(path: str) -> LightSupport | None:
        if path not in nodes:
            return None
        return query_light_support(str(node_file), ioctl=FakeV4L2Node(nodes[path]))
    return querylight


def two_node_webcam(sysfs: FakeSysfs) -> None:
    """A webcam's capture node (video0) and its metadata node (video1)."""
    add_usb_webcam(sysfs, 0)
    add_usb_webcam(sysfs, 1)


def test_locks_in_the_table(sysfs: FakeSysfs, tmp_path: Path) -> None:
    two_node_webcam(sysfs)
    sysfs.add(2, "Cheap Cam", parent="pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0",
              driver="uvcvideo", bus="usb")
    node_file = tmp_path / "node"
    node_file.write_bytes(b"")
    cheap = uvc_webcam_controls()
    del cheap[0x009A0901]                      # no auto-exposure switch
    querylight = light_from({"/dev/video0": uvc_webcam_controls(), "/dev/video2": cheap},
                            node_file)
    caps = {"/dev/video0": CAPTURE, "/dev/video1": METADATA, "/dev/video2": CAPTURE}
    text = run_cameras(sysfs.root, querycap=caps.get, querylight=querylight)
    lines = text.splitlines()
    assert [line.split()[-2:] for line in lines[1:4]] == [["yes", "yes"], ["-", "-"],
                                                          ["no", "yes"]]
    assert ("/dev/video0 exposure: auto now; lockable (0.3 ms to 204.7 ms, reads 15.6 ms)"
            in lines)
    assert "/dev/video0 white balance: auto now; lockable (2800 K to 6500 K, reads 4600 K)" in lines
    assert ("/dev/video2 exposure: mode unknown; cannot be locked (no V4L2_CID_EXPOSURE_AUTO "
            "control)" in lines)
    assert not any(line.startswith("/dev/video1 ") for line in lines)
    assert "cannot lock" not in text              # the configured camera (video0) can

    settings = Settings().replace("camera", device="2")
    text = run_cameras(sysfs.root, settings=settings, querycap=caps.get, querylight=querylight)
    assert text.rstrip().endswith("The configured camera cannot lock its exposure: it may "
                                  "re-expose or re-balance by itself while the light check "
                                  "flashes.")


def test_locks_in_json(sysfs: FakeSysfs, tmp_path: Path) -> None:
    two_node_webcam(sysfs)
    node_file = tmp_path / "node"
    node_file.write_bytes(b"")
    controls = uvc_webcam_controls()
    controls[0x009A0901].value = 1             # exposure in manual mode now
    querylight = light_from({"/dev/video0": controls}, node_file)
    caps = {"/dev/video0": CAPTURE, "/dev/video1": METADATA}
    devices = json.loads(run_cameras(sysfs.root, "--json", querycap=caps.get,
                                     querylight=querylight))
    assert devices[0]["exposure"] == {"lockable": True, "auto": False, "value": 156,
                                      "minimum": 3, "maximum": 2047, "unit": "100us",
                                      "detail": ""}
    assert devices[0]["white_balance"]["auto"] is True
    assert devices[1]["is_capture"] is False and devices[1]["exposure"] is None


def test_metadata_nodes_are_not_asked(sysfs: FakeSysfs) -> None:
    two_node_webcam(sysfs)
    asked: list[str] = []
    caps = {"/dev/video0": CAPTURE, "/dev/video1": METADATA}
    run_cameras(sysfs.root, querycap=caps.get, querylight=lambda path: asked.append(path))
    assert asked == ["/dev/video0"]
