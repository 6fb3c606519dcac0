"""Fakes of a camera's exposure and white-balance controls: as OpenCV's V4L2 backend shows
them (for DeviceSource) and as a V4L2 driver answers ioctls (for ``kiosk cameras``)."""

from __future__ import annotations

import errno
import struct
import threading
from dataclasses import dataclass

import cv2

AUTO_EXPOSURE, EXPOSURE = cv2.CAP_PROP_AUTO_EXPOSURE, cv2.CAP_PROP_EXPOSURE
AUTO_WB, WB_TEMPERATURE = cv2.CAP_PROP_AUTO_WB, cv2.CAP_PROP_WB_TEMPERATURE
SWITCH_OF = {EXPOSURE: AUTO_EXPOSURE, WB_TEMPERATURE: AUTO_WB}


class FakeControls:
    """Exposure and white balance of a fake UVC webcam, as OpenCV's V4L2 backend shows them.

    Raw values (``CAP_PROP_MODE`` 0): auto exposure is a menu of ``exposure_modes`` (1 manual,
    3 aperture priority on a typical webcam); while a switch is automatic, the value reads
    what auto has chosen (``auto_values``), and switching to manual makes the device fall back
    to its stored manual value (``values``), as UVC firmware does. ``get`` answers -1 and
    ``set`` False for a ``missing`` property, as OpenCV does for a control the driver lacks;
    ``refuse`` lists properties whose writes fail; values are clamped to ``ranges``. With
    ``normalised`` the backend keeps OpenCV 3's [0, 1) mapping (exposure menu / 4) whatever
    ``CAP_PROP_MODE`` is set to. Every call is logged with the calling thread's name.
    """

    def __init__(self, *, exposure_modes: tuple[int, ...] = (1, 3), auto_exposure: int = 3,
                 auto_wb: int = 1, missing: tuple[int, ...] = (), refuse: tuple[int, ...] = (),
                 normalised: bool = False) -> None:
        self.exposure_modes = exposure_modes
        self.defaults = {AUTO_EXPOSURE: float(auto_exposure), AUTO_WB: float(auto_wb),
                         EXPOSURE: 156.0, WB_TEMPERATURE: 6500.0}
        self.auto_values = {EXPOSURE: 312.0, WB_TEMPERATURE: 4650.0}
        self.ranges = {EXPOSURE: (3.0, 2047.0), WB_TEMPERATURE: (2800.0, 6500.0)}
        self.missing = set(missing)
        self.refuse = set(refuse)
        self.normalised = normalised
        self.calls: list[tuple[str, str, int, float]] = []
        self.reset()

    def reset(self) -> None:
        """Back to the device's defaults (what a replugged camera does)."""
        self.state = dict(self.defaults)

    def is_auto(self, switch: int) -> bool:
        return self.state[switch] != (1.0 if switch == AUTO_EXPOSURE else 0.0)

    def handles(self, prop: int) -> bool:
        return prop in self.defaults or prop == cv2.CAP_PROP_MODE

    def get(self, prop: int) -> float:
        self.calls.append((threading.current_thread().name, "get", prop, 0.0))
        if prop == cv2.CAP_PROP_MODE:
            return 1196444237.0 if self.normalised else 0.0   # the palette, as OpenCV does
        if prop in self.missing:
            return -1.0
        if prop in SWITCH_OF and self.is_auto(SWITCH_OF[prop]):
            value = self.auto_values[prop]
        else:
            value = self.state[prop]
        return self._out(prop, value)

    def set(self, prop: int, value: float) -> bool:
        self.calls.append((threading.current_thread().name, "set", prop, float(value)))
        if prop == cv2.CAP_PROP_MODE:
            return True
        if prop in self.missing or prop in self.refuse:
            return False
        raw = self._in(prop, value)
        if prop == AUTO_EXPOSURE and raw not in self.exposure_modes:
            return False
        if prop == AUTO_WB and raw not in (0.0, 1.0):
            return False
        if prop in SWITCH_OF:
            if self.is_auto(SWITCH_OF[prop]):
                return False   # the value control is inactive while auto is on
            low, high = self.ranges[prop]
            raw = min(max(raw, low), high)
        self.state[prop] = raw
        return True

    def _out(self, prop: int, raw: float) -> float:
        if not self.normalised:
            return raw
        if prop == AUTO_EXPOSURE:
            return raw / 4
        if prop == EXPOSURE:
            low, high = self.ranges[prop]
            return (raw - low) / (high - low)
        return raw

    def _in(self, prop: int, value: float) -> float:
        if not self.normalised:
            return float(round(value))
        if prop == AUTO_EXPOSURE:
            return float(round(value * 4))
        if prop == EXPOSURE:
            low, high = self.ranges[prop]
            return float(round(value * (high - low) + low))
        return float(round(value))

    def sets(self, prop: int) -> list[float]:
        return [value for _, kind, p, value in self.calls if kind == "set" and p == prop]

    def threads(self, kind: str = "set") -> set[str]:
        return {name for name, k, prop, _ in self.calls
                if k == kind and prop != cv2.CAP_PROP_MODE}


# -- a V4L2 node answering ioctls --------------------------------------------------------------

QUERYCTRL = struct.Struct("=II32siiiiI8x")
CONTROL = struct.Struct("=Ii")
QUERYMENU = struct.Struct("=II32sI")
# Request numbers from the kernel headers (linux/videodev2.h), checked with a C compiler.
KERNEL_G_CTRL, KERNEL_QUERYCTRL, KERNEL_QUERYMENU = 0xC008561B, 0xC0445624, 0xC02C5625


@dataclass
class FakeControl:
    """One control as the driver describes it (VIDIOC_QUERYCTRL) and its value."""

    type: int
    name: str
    minimum: int
    maximum: int
    value: int
    flags: int = 0
    menu: tuple[int, ...] = ()


def uvc_webcam_controls() -> dict[int, FakeControl]:
    """The four controls of a typical UVC webcam: auto exposure in aperture priority."""
    return {
        0x009A0901: FakeControl(3, "Auto Exposure", 0, 3, 3, menu=(1, 3)),
        0x009A0902: FakeControl(1, "Exposure Time, Absolute", 3, 2047, 156, flags=0x10),
        0x0098090C: FakeControl(2, "White Balance, Automatic", 0, 1, 1),
        0x0098091A: FakeControl(1, "White Balance Temperature", 2800, 6500, 4600, flags=0x10),
    }


class FakeV4L2Node:
    """``ioctl(fd, request, buffer)`` as a V4L2 driver answers it, for a set of controls.

    Unknown controls and menu items fail with EINVAL, unknown requests with ENOTTY, as the
    kernel does. ``requests`` logs every request number received.
    """

    def __init__(self, controls: dict[int, FakeControl]) -> None:
        self.controls = controls
        self.requests: list[int] = []

    def __call__(self, fd: int, request: int, buffer: bytearray) -> int:
        self.requests.append(request)
        if request == KERNEL_QUERYCTRL:
            cid = QUERYCTRL.unpack(buffer)[0]
            c = self._control(cid)
            buffer[:] = QUERYCTRL.pack(cid, c.type, c.name.encode(), c.minimum, c.maximum, 1,
                                       c.value, c.flags)
        elif request == KERNEL_G_CTRL:
            cid = CONTROL.unpack(buffer)[0]
            buffer[:] = CONTROL.pack(cid, self._control(cid).value)
        elif request == KERNEL_QUERYMENU:
            cid, index, _, _ = QUERYMENU.unpack(buffer)
            if index not in self._control(cid).menu:
                raise OSError(errno.EINVAL, "no such menu item")
        else:
            raise OSError(errno.ENOTTY, "inappropriate ioctl for device")
        return 0

    def _control(self, cid: int) -> FakeControl:
        if cid not in self.controls:
            raise OSError(errno.EINVAL, "no such control")
        return self.controls[cid]


def no_querylight(path: str) -> None:
    """A ``querylight`` that never reaches a real device node."""
    return None
