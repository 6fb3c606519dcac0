"""Can exposure and white balance be locked? VIDIOC_QUERYCTRL / G_CTRL / QUERYMENU against a
fake driver."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.camera.v4l2_controls import (
    VIDIOC_G_CTRL,
    VIDIOC_QUERYCTRL,
    VIDIOC_QUERYMENU,
    LockSupport,
    get_control,
    query_control,
    query_light_support,
)
from tests.camera.light_fakes import (
    KERNEL_G_CTRL,
    KERNEL_QUERYCTRL,
    KERNEL_QUERYMENU,
    FakeControl,
    FakeV4L2Node,
    uvc_webcam_controls,
)

EXPOSURE_AUTO, EXPOSURE_ABSOLUTE = 0x009A0901, 0x009A0902
AUTO_WB, WB_TEMPERATURE = 0x0098090C, 0x0098091A


@pytest.fixture
def node_file(tmp_path: Path) -> Path:
    """A real file to open, so the descriptor handling runs for real."""
    path = tmp_path / "video0"
    path.write_bytes(b"")
    return path


def ask(node_file: Path, controls: dict[int, FakeControl]):
    node = FakeV4L2Node(controls)
    return query_light_support(str(node_file), ioctl=node), node


def test_request_numbers_match_the_kernel_headers() -> None:
    assert (VIDIOC_G_CTRL, VIDIOC_QUERYCTRL, VIDIOC_QUERYMENU) == (
        KERNEL_G_CTRL, KERNEL_QUERYCTRL, KERNEL_QUERYMENU)


def test_a_uvc_webcam_can_lock_both(node_file: Path) -> None:
    support, node = ask(node_file, uvc_webcam_controls())
    assert support.exposure == LockSupport(lockable=True, auto=True, value=156, minimum=3,
                                           maximum=2047, unit="100us", detail="")
    assert support.white_balance == LockSupport(lockable=True, auto=True, value=4600,
                                                minimum=2800, maximum=6500, unit="K", detail="")
    assert KERNEL_QUERYMENU in node.requests          # the menu was asked for manual mode


def test_structs_round_trip(node_file: Path) -> None:
    node = FakeV4L2Node(uvc_webcam_controls())
    fd = os.open(node_file, os.O_RDONLY)
    try:
        info = query_control(fd, EXPOSURE_ABSOLUTE, ioctl=node)
        assert (info.id, info.type, info.name, info.minimum, info.maximum, info.default,
                info.flags) == (EXPOSURE_ABSOLUTE, 1, "Exposure Time, Absolute", 3, 2047, 156,
                                0x10)
        node.controls[WB_TEMPERATURE].value = -5                   # signed, as the kernel's
        assert get_control(fd, WB_TEMPERATURE, ioctl=node) == -5
        assert query_control(fd, 0x00980900, ioctl=node) is None   # no such control: EINVAL
    finally:
        os.close(fd)


def test_manual_now(node_file: Path) -> None:
    controls = uvc_webcam_controls()
    controls[EXPOSURE_AUTO].value = 1
    controls[AUTO_WB].value = 0
    support, _ = ask(node_file, controls)
    assert (support.exposure.auto, support.white_balance.auto) == (False, False)
    assert support.exposure.lockable and support.white_balance.lockable


@pytest.mark.parametrize(("change", "which", "detail"), [
    (lambda c: c.pop(EXPOSURE_AUTO), "exposure", "no V4L2_CID_EXPOSURE_AUTO control"),
    (lambda c: c.pop(EXPOSURE_ABSOLUTE), "exposure", "no V4L2_CID_EXPOSURE_ABSOLUTE control"),
    (lambda c: setattr(c[EXPOSURE_AUTO], "menu", (3,)), "exposure",
     "V4L2_CID_EXPOSURE_AUTO offers no manual setting (1)"),
    (lambda c: setattr(c[EXPOSURE_AUTO], "minimum", 2), "exposure",
     "V4L2_CID_EXPOSURE_AUTO offers no manual setting (1)"),
    (lambda c: setattr(c[EXPOSURE_ABSOLUTE], "flags", 0x04), "exposure",
     "V4L2_CID_EXPOSURE_ABSOLUTE is read-only"),
    (lambda c: setattr(c[AUTO_WB], "flags", 0x01), "white_balance",
     "V4L2_CID_AUTO_WHITE_BALANCE is disabled"),
    (lambda c: c.pop(WB_TEMPERATURE), "white_balance",
     "no V4L2_CID_WHITE_BALANCE_TEMPERATURE control"),
])
def test_what_prevents_a_lock_is_named(node_file: Path, change, which: str,
                                       detail: str) -> None:
    controls = uvc_webcam_controls()
    change(controls)
    support, _ = ask(node_file, controls)
    lock = getattr(support, which)
    other = support.white_balance if which == "exposure" else support.exposure
    assert (lock.lockable, lock.detail) == (False, detail)
    assert other.lockable


def test_a_camera_without_controls(node_file: Path) -> None:
    support, _ = ask(node_file, {})
    assert support.exposure == LockSupport(False, None, None, None, None, "100us",
                                           "no V4L2_CID_EXPOSURE_AUTO control; no "
                                           "V4L2_CID_EXPOSURE_ABSOLUTE control")
    assert not support.white_balance.lockable


def test_nodes_that_cannot_be_opened(tmp_path: Path, node_file: Path) -> None:
    assert query_light_support(str(tmp_path / "absent")) is None
    assert query_light_support(str(node_file), opener=lambda path: None) is None
    # A file that is no V4L2 node: the real ioctl fails (ENOTTY), nothing can be locked.
    support = query_light_support(str(node_file))
    assert support is not None
    assert not support.exposure.lockable and not support.white_balance.lockable
