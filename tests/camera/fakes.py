"""Fakes and synthetic media for the camera tests (imported by the tests and conftest)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from tests.camera.light_fakes import FakeControls

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


def add_usb_video(sysfs: FakeSysfs, index: int, name: str, usb_id: str, port: str) -> Path:
    """A UVC node on USB port ``port`` whose USB device says ``usb_id`` (``vvvv:pppp``) in its
    ``idVendor`` and ``idProduct``, as the kernel writes them one level above the interface."""
    device = f"pci0000:00/0000:00:14.0/usb1/{port}"
    node = sysfs.add(index, name, parent=f"{device}/{port}:1.0", driver="uvcvideo", bus="usb")
    vendor, product = usb_id.split(":")
    (sysfs.root / "devices" / device / "idVendor").write_text(vendor + "\n")
    (sysfs.root / "devices" / device / "idProduct").write_text(product + "\n")
    return node


def no_querycap(path: str) -> None:
    """A ``querycap`` that never reaches a real device node."""
    return None


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


def oversized_jpeg(width: int = 20000, height: int = 20000) -> bytes:
    """A small real JPEG whose header declares ``width`` x ``height`` pixels.

    The start-of-frame segment of a 16x16 JPEG is rewritten, so the file is a few hundred
    bytes while a decoder that trusts the header allocates width x height x 3 bytes.
    """
    ok, buf = cv2.imencode(".jpg", pattern(0, 16, 16))
    assert ok
    data = bytearray(buf.tobytes())
    sof = data.index(b"\xff\xc0")  # baseline start of frame: FFC0, length, precision, H, W
    data[sof + 5:sof + 7] = height.to_bytes(2, "big")
    data[sof + 7:sof + 9] = width.to_bytes(2, "big")
    return bytes(data)
