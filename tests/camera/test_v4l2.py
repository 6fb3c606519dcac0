"""Device listing and virtual-camera detection on a fake sysfs tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.camera.v4l2 import (
    VIDIOC_QUERYCAP,
    V4L2Capability,
    find_device,
    list_devices,
    node_of,
    query_capability,
    virtual_reasons,
)
from tests.camera.fakes import FakeSysfs, add_usb_video, add_usb_webcam, no_querycap

CAPTURE_CAPS = 0x84200001      # DEVICE_CAPS | STREAMING | EXT_PIX_FORMAT | VIDEO_CAPTURE
METADATA_CAPS = 0x84A00000     # DEVICE_CAPS | STREAMING | EXT_PIX_FORMAT | META_CAPTURE


def cap(driver: str, card: str, bus_info: str, device_caps: int = 0x04200001) -> V4L2Capability:
    return V4L2Capability(driver, card, bus_info, 0x60800, CAPTURE_CAPS | 0x04A00000,
                          device_caps)


def test_querycap_request_number() -> None:
    assert VIDIOC_QUERYCAP == 0x80685600     # _IOR('V', 0, 104-byte struct v4l2_capability)


def test_querycap_on_non_devices(tmp_path: Path) -> None:
    plain = tmp_path / "video0"
    plain.write_bytes(b"")
    assert query_capability(str(plain)) is None             # ioctl fails (ENOTTY)
    assert query_capability(str(tmp_path / "absent")) is None


def test_capture_capabilities() -> None:
    webcam = V4L2Capability("uvcvideo", "HD", "usb-1", 1, CAPTURE_CAPS | 0x00800000,
                            0x04200001)
    metadata = V4L2Capability("uvcvideo", "HD", "usb-1", 1, CAPTURE_CAPS | 0x00800000,
                              0x04A00000 & ~0x1 | 0x00800000)
    old_driver = V4L2Capability("x", "y", "z", 1, 0x00000001, 0)   # no DEVICE_CAPS
    codec = V4L2Capability("bcm2835-codec", "c", "platform:x", 1, 0x84208000, 0x04208000)
    assert webcam.is_capture and old_driver.is_capture
    assert not metadata.is_capture
    assert not codec.is_capture


@pytest.mark.parametrize(("name", "driver", "expected"), [
    ("HD Webcam C615", "uvcvideo", []),
    ("mmal service 16.1", "bm2835 mmal", []),                  # Raspberry Pi camera
    ("Jobs Camera", "uvcvideo", []),                           # 'obs' only as a word
    ("Dummy video device (0x0000)", "v4l2 loopback",
     ["driver 'v4l2 loopback' is a virtual video driver", "name 'Dummy video device (0x0000)' "
      "contains 'Dummy'"]),
    ("OBS Virtual Camera", "v4l2loopback",
     ["driver 'v4l2loopback' is a virtual video driver",
      "name 'OBS Virtual Camera' contains 'OBS', 'Virtual'"]),
    ("Droidcam", "v4l2loopback_dc", ["driver 'v4l2loopback_dc' is a virtual video driver",
                                     "name 'Droidcam' contains 'DroidCam'"]),
    ("Webcam", "akvcam", ["driver 'akvcam' is a virtual video driver"]),
    ("vivid-000-vid-cap", "vivid", ["driver 'vivid' is a virtual video driver"]),
    ("ManyCam Virtual Webcam", "", ["name 'ManyCam Virtual Webcam' contains 'Virtual', "
                                    "'ManyCam'"]),
    ("Snap Camera", "", ["name 'Snap Camera' contains 'Snap Camera'"]),
    ("XSplitBroadcaster", "", ["name 'XSplitBroadcaster' contains 'XSplit'"]),
    ("My loop back cam", "", ["name 'My loop back cam' contains 'loopback'"]),
])
def test_virtual_reasons_by_name_and_driver(name: str, driver: str,
                                            expected: list[str]) -> None:
    assert virtual_reasons(name, driver) == expected


def test_virtual_reasons_by_bus() -> None:
    assert virtual_reasons("Cam", "x", has_parent=False) == [
        "no parent device in sysfs (not attached to a physical bus)"]
    assert virtual_reasons("Cam", "x", parent_is_virtual=True) == [
        "parent device is under /sys/devices/virtual (no physical bus)"]
    assert virtual_reasons("Cam", "", bus_info="platform:v4l2loopback-000") == [
        "bus info 'platform:v4l2loopback-000' names v4l2loopback"]


def test_video_capture_devices_are_not_cameras(sysfs: FakeSysfs) -> None:
    # An HDMI grabber presents whatever a laptop plugged into it shows as a physical USB
    # camera: known ones by their USB id or name; an ordinary webcam's id says nothing.
    add_usb_video(sysfs, 0, "HD Webcam C270", "046d:0825", "1-1")
    add_usb_video(sysfs, 2, "USB Video", "534d:2109", "1-2")          # MS2109's own name
    add_usb_video(sysfs, 4, "Cam Link 4K", "0fd9:0099", "1-3")        # a model not listed
    add_usb_video(sysfs, 6, "USB Capture HDMI+", "2935:0007", "1-4")  # Magewell
    add_usb_video(sysfs, 8, "USB3.0 Capture", "345F:2130", "1-5")     # upper-case hex
    found = {d.index: d for d in list_devices(sysfs.root, querycap=no_querycap)}
    assert [i for i, d in found.items() if d.is_virtual] == [2, 4, 6, 8]
    assert found[0].why_virtual == ""
    assert found[2].why_virtual == (
        "USB 534d:2109 is a video capture device (MacroSilicon MS2109 HDMI capture): it passes "
        "on any video signal as a camera")
    assert found[4].why_virtual == (
        "name 'Cam Link 4K' contains 'Cam Link', a video capture device: it passes on any "
        "video signal as a camera")
    assert found[6].why_virtual.startswith("USB 2935:0007 is a video capture device (Magewell "
                                           "USB Capture)")
    assert "'USB Capture'" in found[6].why_virtual
    assert "MacroSilicon MS2130" in found[8].why_virtual


def test_a_linux_usb_gadget_is_not_a_camera(sysfs: FakeSysfs) -> None:
    # A Raspberry Pi or a phone running the kernel's UVC gadget presents any picture it is
    # given as a physical USB camera: by the Linux Foundation's vendor id (g_webcam's
    # default 1d6b:0102), or by its name when the id was changed.
    add_usb_video(sysfs, 0, "Webcam gadget: UVC Camera", "1d6b:0102", "1-1")
    add_usb_video(sysfs, 2, "UVC Camera", "1D6B:0104", "1-2")
    add_usb_video(sysfs, 4, "UVC Gadget", "0c45:6366", "1-3")
    found = {d.index: d for d in list_devices(sysfs.root, querycap=no_querycap)}
    assert [i for i, d in found.items() if d.is_virtual] == [0, 2, 4]
    assert found[2].why_virtual == (
        "a Linux USB gadget (USB 1d6b:0104, name 'UVC Camera'): another computer presenting "
        "itself as a camera; it sends any picture it is given")
    assert "USB 0c45:6366, name 'UVC Gadget'" in found[4].why_virtual


@pytest.mark.parametrize("name", ["HD Pro Webcam C920", "Integrated Camera", "USB Video",
                                  "USB2.0 HD UVC WebCam", "Video Capture 3"])
def test_camera_names_that_say_nothing_of_capture(name: str) -> None:
    assert virtual_reasons(name, "uvcvideo", usb_id="0c45:6366") == []


def test_no_video4linux_class(tmp_path: Path) -> None:
    assert list_devices(tmp_path / "sys", querycap=no_querycap) == []


def test_fake_tree_listing(sysfs: FakeSysfs) -> None:
    add_usb_webcam(sysfs, 0)
    add_usb_webcam(sysfs, 1)                               # the UVC metadata node
    sysfs.add(2, "Dummy video device (0x0000)", parent=None)   # old v4l2loopback
    sysfs.add(3, "OBS Virtual Camera", parent="platform/v4l2loopback.0",
              driver="v4l2loopback", bus="platform")
    sysfs.add(10, "mmal service 16.1", parent="platform/soc/soc:vchiq/bcm2835-camera",
              driver="bcm2835-v4l2", bus="platform", bus_levels=2)
    sysfs.add(11, "Integrated Camera", parent="pci0000:00/0000:00:1c.0/0000:03:00.0",
              driver="ipu6", bus="pci")
    devices = list_devices(sysfs.root, dev_root=Path("/dev"), querycap=no_querycap)
    assert [d.path for d in devices] == ["/dev/video0", "/dev/video1", "/dev/video2",
                                         "/dev/video3", "/dev/video10", "/dev/video11"]
    table = {d.index: (d.name, d.driver, d.bus, d.is_virtual) for d in devices}
    assert table == {
        0: ("HD Webcam C615", "uvcvideo", "usb", False),
        1: ("HD Webcam C615", "uvcvideo", "usb", False),
        2: ("Dummy video device (0x0000)", "", "", True),
        3: ("OBS Virtual Camera", "v4l2loopback", "platform", True),
        10: ("mmal service 16.1", "bcm2835-v4l2", "platform", False),
        11: ("Integrated Camera", "ipu6", "pci", False),
    }
    by_index = {d.index: d for d in devices}
    assert by_index[2].why_virtual == ("name 'Dummy video device (0x0000)' contains 'Dummy'; "
                                       "no parent device in sysfs (not attached to a physical "
                                       "bus)")
    assert "driver 'v4l2loopback' is a virtual video driver" in by_index[3].why_virtual
    assert by_index[0].why_virtual == ""
    assert by_index[0].is_capture is None                 # not queried


def test_ioctl_answers_take_precedence(sysfs: FakeSysfs) -> None:
    add_usb_webcam(sysfs, 0)
    add_usb_webcam(sysfs, 1)
    sysfs.add(4, "Camera", parent="platform/x.0", driver="innocent", bus="platform")
    answers = {
        "/dev/video0": cap("uvcvideo", "HD Webcam C615", "usb-0000:00:14.0-1"),
        "/dev/video1": cap("uvcvideo", "HD Webcam C615", "usb-0000:00:14.0-1",
                           device_caps=0x04A00000 | 0x00800000 & ~0x1),
        "/dev/video4": cap("v4l2 loopback", "Camera", "platform:v4l2loopback-004"),
    }
    devices = {d.index: d for d in list_devices(sysfs.root, querycap=answers.get)}
    assert devices[0].is_capture is True and devices[0].bus_info == "usb-0000:00:14.0-1"
    assert devices[1].is_capture is False
    assert devices[4].driver == "v4l2 loopback"
    assert devices[4].is_virtual
    assert devices[4].why_virtual == "driver 'v4l2 loopback' is a virtual video driver"


def test_sysfs_driver_also_counts_when_ioctl_names_another(sysfs: FakeSysfs) -> None:
    """A loopback module that reports a harmless name through the ioctl is still caught."""
    sysfs.add(5, "Integrated Camera", parent="platform/v4l2loopback.0",
              driver="v4l2loopback", bus="platform")
    answer = cap("uvcvideo", "Integrated Camera", "usb-0000:00:14.0-8")
    device = find_device(5, sysfs_root=sysfs.root, querycap=lambda path: answer)
    assert device is not None and device.driver == "uvcvideo"
    assert device.is_virtual
    assert device.why_virtual == "driver 'v4l2loopback' is a virtual video driver"


def test_akvcam_under_devices_virtual(sysfs: FakeSysfs) -> None:
    node = sysfs.add(6, "AkVCam Video Device", parent="virtual/akvcam/akvcam0",
                     driver="akvcam")
    assert node.exists()
    device = find_device("/dev/video6", sysfs_root=sysfs.root, querycap=no_querycap)
    assert device is not None and device.is_virtual
    assert "parent device is under /sys/devices/virtual" in device.why_virtual
    assert "driver 'akvcam' is a virtual video driver" in device.why_virtual


def test_find_device(sysfs: FakeSysfs, tmp_path: Path) -> None:
    add_usb_webcam(sysfs, 0)
    assert find_device(0, sysfs_root=sysfs.root, querycap=no_querycap).name == "HD Webcam C615"
    assert find_device(1, sysfs_root=sysfs.root, querycap=no_querycap) is None
    assert find_device("/dev/foo", sysfs_root=sysfs.root, querycap=no_querycap) is None
    by_id = tmp_path / "usb-Logitech_HD_Webcam-video-index0"
    os.symlink("/dev/video0", by_id)
    assert find_device(str(by_id), sysfs_root=sysfs.root, querycap=no_querycap).index == 0


def test_node_of() -> None:
    assert node_of(0) == "video0"
    assert node_of(-1) is None
    assert node_of("/dev/video12") == "video12"
    assert node_of("/dev/videoX") is None
    assert node_of("rtsp://camera/stream") is None
