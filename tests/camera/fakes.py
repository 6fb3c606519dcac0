"""Fakes and synthetic media for the camera tests (imported by the tests and conftest)."""

from __future__ import annotations

import errno
import os
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

D7 = "KwaiVGI_LivePortrait/assets/examples/driving/d7.mp4"
DEMO_GIF = "minivision-ai_Silent-Face-Anti-Spoofing/images/demo.gif"
REALS = ("jomariya23156_face-recognition-with-liveness-web-login/face_recognition_and_liveness/"
         "face_liveness_detection/images/reals")


def pattern(index: int, width: int = 96, height: int = 64, seed: int = 0) -> np.ndarray:
    """A moving bright bar over a noisy background: (height, width, 3) uint8 BGR."""
    rng = np.random.default_rng(seed + index)
    image = rng.integers(20, 60, size=(height, width, 3), dtype=np.uint8)
    x = (index * 3) % (width - 12)
    image[:, x:x + 12] = (40, 200, 240)
    return image


def write_video(path: Path, n_frames: int = 30, fps: float = 15.0, fourcc: str = "mp4v",
                width: int = 96, height: int = 64) -> Path:
    """Write ``n_frames`` of :func:`pattern` with ``cv2.VideoWriter``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"VideoWriter cannot write {fourcc} to {path}"
    for i in range(n_frames):
        writer.write(pattern(i, width, height))
    writer.release()
    return path


@dataclass
class FakeClock:
    """A monotonic clock that only moves when told to (or when something sleeps)."""

    now: float = 100.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeSysfs:
    """A fake ``/sys`` with the layout the kernel uses for video4linux devices."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "class" / "video4linux").mkdir(parents=True)
        (root / "devices" / "virtual").mkdir(parents=True)

    def _bus_dir(self, bus: str) -> Path:
        path = self.root / "bus" / bus
        path.mkdir(parents=True, exist_ok=True)
        return path

    def add(self, index: int, name: str, *, parent: str | None, driver: str | None = None,
            bus: str | None = None, bus_levels: int = 0) -> Path:
        """Add ``videoN``.

        Parameters
        ----------
        parent : str or None
            Parent device path below ``devices/`` (e.g. ``pci0000:00/.../1-1:1.0``); None makes
            an old-style loopback node under ``devices/virtual`` without a ``device`` link.
        driver : str, optional
            Driver of the parent (its ``driver`` symlink).
        bus : str, optional
            Subsystem of the device ``bus_levels`` levels above the parent.
        """
        node = f"video{index}"
        if parent is None:
            node_dir = self.root / "devices" / "virtual" / "video4linux" / node
            node_dir.mkdir(parents=True)
        else:
            parent_dir = self.root / "devices" / parent
            node_dir = parent_dir / "video4linux" / node
            node_dir.mkdir(parents=True)
            os.symlink(os.path.relpath(parent_dir, node_dir), node_dir / "device")
        (node_dir / "name").write_text(name + "\n")
        os.symlink(os.path.relpath(node_dir, self.root / "class" / "video4linux"),
                   self.root / "class" / "video4linux" / node)
        if parent is not None and driver is not None:
            self.set_driver(index, driver, bus or "platform")
        if parent is not None and bus is not None:
            level = self.root / "devices" / parent
            for _ in range(bus_levels):
                level = level.parent
            link = level / "subsystem"
            if not link.is_symlink():
                os.symlink(os.path.relpath(self._bus_dir(bus), level), link)
        return node_dir

    def parent_of(self, index: int) -> Path:
        return Path(os.path.realpath(self.root / "class" / "video4linux" / f"video{index}"
                                     / "device"))

    def set_driver(self, index: int, driver: str, bus: str = "platform") -> None:
        """Point the parent's ``driver`` link at ``driver`` (replacing any previous one)."""
        parent = self.parent_of(index)
        target = self._bus_dir(bus) / "drivers" / driver
        target.mkdir(parents=True, exist_ok=True)
        link = parent / "driver"
        if link.is_symlink():
            link.unlink()
        os.symlink(os.path.relpath(target, parent), link)

    def set_name(self, index: int, name: str) -> None:
        path = Path(os.path.realpath(self.root / "class" / "video4linux" / f"video{index}"))
        (path / "name").write_text(name + "\n")

    def remove(self, index: int) -> None:
        (self.root / "class" / "video4linux" / f"video{index}").unlink()


USB_WEBCAM = "pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0"


def add_usb_webcam(sysfs: FakeSysfs, index: int = 0, name: str = "HD Webcam C615") -> Path:
    return sysfs.add(index, name, parent=USB_WEBCAM, driver="uvcvideo", bus="usb")


def no_querycap(path: str) -> None:
    """A ``querycap`` that never reaches a real device node."""
    return None


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


class FakeCamera:
    """A camera that can be unplugged and plugged back in.

    ``factory`` stands in for ``cv2.VideoCapture``: each call makes a :class:`FakeCapture`
    that opens only while the camera is plugged and reads only until it is unplugged.
    ``make_image(i)`` gives the i-th picture (a noisy pattern by default, so never frozen).
    ``controls`` are the device's exposure and white balance; plugging it back in resets them
    to their defaults, as a real replug does.
    """

    def __init__(self, width: int = 64, height: int = 48, fps: float = 30.0,
                 plugged: bool = True, make_image=None,
                 controls: FakeControls | None = None) -> None:
        self.width = width
        self.height = height
        self.fps = fps
        self._plugged = plugged
        self.make_image = make_image or (lambda i: pattern(i, width, height))
        self.controls = controls or FakeControls()
        self.calls: list[tuple[object, int]] = []
        self.captures: list[FakeCapture] = []
        self.reads = 0

    @property
    def plugged(self) -> bool:
        return self._plugged

    @plugged.setter
    def plugged(self, plugged: bool) -> None:
        if plugged and not self._plugged:
            self.controls.reset()
        self._plugged = plugged

    def factory(self, device: object, api_preference: int) -> FakeCapture:
        self.calls.append((device, api_preference))
        capture = FakeCapture(self)
        self.captures.append(capture)
        return capture


class FakeCapture:
    """The subset of ``cv2.VideoCapture`` the sources use."""

    def __init__(self, camera: FakeCamera) -> None:
        self.camera = camera
        self.opened = camera.plugged
        self.released = False
        self.sets: dict[int, float] = {}

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened and not self.released

    def set(self, prop: int, value: float) -> bool:
        if self.camera.controls.handles(prop):
            return self.camera.controls.set(prop, value)
        self.sets[prop] = value
        return True

    def get(self, prop: int) -> float:
        if self.camera.controls.handles(prop):
            return self.camera.controls.get(prop)
        return {cv2.CAP_PROP_FRAME_WIDTH: self.camera.width,
                cv2.CAP_PROP_FRAME_HEIGHT: self.camera.height,
                cv2.CAP_PROP_FPS: self.camera.fps}.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self.isOpened() or not self.camera.plugged:
            return False, None
        image = self.camera.make_image(self.camera.reads)
        self.camera.reads += 1
        return True, image

    def release(self) -> None:
        self.released = True


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
