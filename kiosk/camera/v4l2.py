"""Video devices seen by Linux (V4L2), and which of them are virtual cameras.

An injected video stream is an attack: v4l2loopback (OBS, DroidCam, ...), akvcam and the
kernel's test drivers present a recorded or synthetic picture as a camera. The kiosk lists
``/sys/class/video4linux/video*`` and flags a device as virtual when

- its driver is a virtual video driver (``v4l2loopback`` / ``v4l2 loopback``, ``akvcam``,
  ``vivid``, ``vimc``, ``vim2m``, ``vicodec``, ``visl``), or its V4L2 bus info names
  v4l2loopback;
- its name contains a virtual-camera marker (OBS, Virtual, Dummy, loopback, ManyCam,
  Snap Camera, XSplit, akvcam, DroidCam, Iriun, EpocCam);
- it has no parent device in sysfs, or its parent is under ``/sys/devices/virtual``: it is
  attached to no physical bus;
- it is a video capture device, not a camera: an HDMI or SDI grabber (MacroSilicon MS2109 and
  MS2130 dongles, Elgato Cam Link, Magewell USB Capture) passes on whatever a laptop or phone
  plugged into it shows, so a recorded or synthetic face enters as a physical USB camera. Known
  by its USB vendor and product id (sysfs ``idVendor``/``idProduct``; Magewell makes nothing
  else) or by a name that says so (Cam Link, HDMI, Game Capture, USB Capture). Only devices
  known from public sources are listed: a generic name such as "USB Video" alone says nothing;
- it is a Linux USB gadget: another computer (a Raspberry Pi, a phone) presenting itself as a
  USB camera (``g_webcam``, a configfs UVC function) sends whatever picture it is given. Known
  by the Linux Foundation's USB vendor id, which no camera maker uses, or by "gadget" in its
  name.

Platform-bus devices with a real driver (the Raspberry Pi camera's ``mmal``/``unicam``, SoC
camera interfaces) are physical. The driver name comes from the ``VIDIOC_QUERYCAP`` ioctl when
the node can be opened, and from the sysfs ``device/driver`` link otherwise.

This is a deterrent, not proof: a modified loopback driver can rename itself, and a gadget or
grabber can claim any vendor id. Beyond it, the feed takes the kiosk out of service on a
picture that repeats itself exactly (:mod:`kiosk.feed`), and the liveness challenges carry the
rest: nothing judges frame timing or sensor noise, so an injected stream that varies is
stopped only by the challenges (the README's limits say so).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

try:  # fcntl exists on POSIX only; elsewhere the driver comes from sysfs (i.e. nowhere).
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

SYSFS_ROOT = Path("/sys")
DEV_ROOT = Path("/dev")

# struct v4l2_capability: driver[16] card[32] bus_info[32] version capabilities device_caps
# reserved[3]; VIDIOC_QUERYCAP = _IOR('V', 0, struct v4l2_capability) in the asm-generic
# ioctl layout (x86, ARM, RISC-V).
_CAPABILITY = struct.Struct("=16s32s32sIII12x")
VIDIOC_QUERYCAP = (2 << 30) | (_CAPABILITY.size << 16) | (ord("V") << 8) | 0
V4L2_CAP_VIDEO_CAPTURE = 0x00000001
V4L2_CAP_VIDEO_CAPTURE_MPLANE = 0x00001000
V4L2_CAP_VIDEO_M2M_MPLANE = 0x00004000
V4L2_CAP_VIDEO_M2M = 0x00008000
V4L2_CAP_DEVICE_CAPS = 0x80000000

VIRTUAL_DRIVERS = frozenset({"akvcam", "vivid", "vimc", "vim2m", "vicodec", "visl"})
VIRTUAL_NAME_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE)) for label, pattern in (
        ("OBS", r"\bobs\b"), ("Virtual", r"virtual"), ("Dummy", r"dummy"),
        ("loopback", r"loop\s*back"), ("ManyCam", r"manycam"), ("Snap Camera", r"snap\s*camera"),
        ("XSplit", r"xsplit"), ("akvcam", r"akvcam"), ("DroidCam", r"droidcam"),
        ("Iriun", r"iriun"), ("EpocCam", r"epoccam"),
    ))
# USB video capture devices (vendor:product as sysfs writes them), from vendors' and users'
# published udev rules and lsusb listings.
CAPTURE_DEVICES: dict[str, str] = {
    "534d:2109": "MacroSilicon MS2109 HDMI capture",
    "345f:2109": "MacroSilicon MS2109 HDMI capture",
    "345f:2130": "MacroSilicon MS2130 HDMI capture",
    "345f:2131": "MacroSilicon MS2130 HDMI capture",
    "0fd9:0066": "Elgato Cam Link 4K",
    "0fd9:0067": "Elgato Cam Link 4K",
}
CAPTURE_VENDORS: dict[str, str] = {"2935": "Magewell USB Capture"}
GADGET_VENDOR = "1d6b"
"""The Linux Foundation's USB vendor id: root hubs and Linux USB gadgets, never a camera."""
CAPTURE_NAME_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE)) for label, pattern in (
        ("Cam Link", r"cam\s*link"), ("HDMI", r"hdmi"), ("Game Capture", r"game\s*capture"),
        ("USB Capture", r"usb\s*capture"),
    ))
PHYSICAL_BUSES = frozenset({"usb", "pci", "platform", "i2c", "spi", "sdio", "mmc", "amba",
                            "thunderbolt", "firewire", "pcmcia", "host1x"})

_NODE = re.compile(r"^video(\d+)$")


@dataclass(frozen=True)
class V4L2Capability:
    """What ``VIDIOC_QUERYCAP`` says about a device node."""

    driver: str
    card: str
    bus_info: str
    version: int
    capabilities: int
    device_caps: int

    @property
    def caps(self) -> int:
        """The node's own capabilities (``device_caps`` when the driver provides them)."""
        if self.capabilities & V4L2_CAP_DEVICE_CAPS:
            return self.device_caps
        return self.capabilities

    @property
    def is_capture(self) -> bool:
        """True for a node that captures video (not metadata, not a memory-to-memory codec)."""
        caps = self.caps
        capture = caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)
        m2m = caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE)
        return bool(capture) and not m2m


QueryCap = Callable[[str], "V4L2Capability | None"]


@dataclass(frozen=True)
class VideoDevice:
    """One ``/dev/videoN`` node.

    Attributes
    ----------
    path : str
        Device node, e.g. ``/dev/video0``.
    index : int
        N of ``videoN`` (what OpenCV takes as a camera index on Linux).
    name : str
        Device name from sysfs (or the V4L2 card name).
    driver : str
        Kernel driver (``uvcvideo``, ``v4l2 loopback``, ...); empty when unknown.
    bus : str
        Physical bus of the parent device (``usb``, ``pci``, ``platform``, ...); empty when
        there is none.
    is_virtual : bool
        True when any virtual-camera rule matched.
    why_virtual : str
        The matching rules, ``"; "``-separated; empty for a physical camera.
    is_capture : bool or None
        True for a video-capture node, False for metadata/codec nodes, None when the node
        could not be queried.
    bus_info : str
        V4L2 bus info (``usb-0000:00:14.0-1``), empty when the node could not be queried.
    usb_id : str
        ``vendor:product`` of the USB device above it (``046d:0825``), empty off USB.
    """

    path: str
    index: int
    name: str
    driver: str
    bus: str
    is_virtual: bool
    why_virtual: str
    is_capture: bool | None = None
    bus_info: str = ""
    usb_id: str = ""


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def open_node(path: str) -> int | None:
    """A file descriptor on a device node for ioctls (read-write, else read-only), or None.

    Non-blocking, so a node that another program streams from still answers queries. None
    when the node is absent or cannot be opened at all; the caller closes the descriptor.
    """
    for flags in (os.O_RDWR | os.O_NONBLOCK, os.O_RDONLY | os.O_NONBLOCK):
        try:
            return os.open(path, flags)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                return None
    return None


def query_capability(path: str) -> V4L2Capability | None:
    """Ask the driver of a device node what it is (``VIDIOC_QUERYCAP``).

    Returns None when the node cannot be opened (absent, no permission, busy exclusively) or
    the ioctl fails; the caller falls back to sysfs.
    """
    if fcntl is None:
        return None
    fd = open_node(path)
    if fd is None:
        return None
    try:
        buffer = bytearray(_CAPABILITY.size)
        fcntl.ioctl(fd, VIDIOC_QUERYCAP, buffer, True)
    except OSError:
        return None
    finally:
        os.close(fd)
    driver, card, bus_info, version, capabilities, device_caps = _CAPABILITY.unpack(buffer)
    return V4L2Capability(_text(driver), _text(card), _text(bus_info), version, capabilities,
                          device_caps)


def virtual_reasons(name: str, driver: str, *, bus_info: str = "", has_parent: bool = True,
                    parent_is_virtual: bool = False, usb_id: str = "") -> list[str]:
    """The virtual-camera rules a device matches (empty for a physical camera).

    Parameters
    ----------
    name : str
        Device or card name.
    driver : str
        Kernel driver name (from the ioctl or sysfs).
    bus_info : str
        V4L2 bus info, when known.
    has_parent : bool
        Whether sysfs shows a parent device.
    parent_is_virtual : bool
        Whether that parent lives under ``/sys/devices/virtual``.
    usb_id : str
        ``vendor:product`` of the USB device above it (lower-case hex), empty when none.
    """
    reasons: list[str] = []
    low_driver = driver.strip().lower()
    if "loopback" in low_driver.replace(" ", "") or low_driver in VIRTUAL_DRIVERS:
        reasons.append(f"driver {driver!r} is a virtual video driver")
    elif "v4l2loopback" in bus_info.lower():
        reasons.append(f"bus info {bus_info!r} names v4l2loopback")
    markers = [label for label, pattern in VIRTUAL_NAME_MARKERS if pattern.search(name)]
    if markers:
        reasons.append(f"name {name!r} contains " + ", ".join(repr(m) for m in markers))
    passes_on = "it passes on any video signal as a camera"
    known = CAPTURE_DEVICES.get(usb_id) or CAPTURE_VENDORS.get(usb_id.split(":")[0])
    if known:
        reasons.append(f"USB {usb_id} is a video capture device ({known}): {passes_on}")
    if usb_id.split(":")[0] == GADGET_VENDOR or re.search(r"gadget", name, re.IGNORECASE):
        reasons.append(f"a Linux USB gadget (USB {usb_id or 'id unknown'}, name {name!r}): "
                       "another computer presenting itself as a camera; "
                       "it sends any picture it is given")
    capture = [label for label, pattern in CAPTURE_NAME_MARKERS if pattern.search(name)]
    if capture:
        reasons.append(f"name {name!r} contains " + ", ".join(repr(m) for m in capture)
                       + f", a video capture device: {passes_on}")
    if not has_parent:
        reasons.append("no parent device in sysfs (not attached to a physical bus)")
    elif parent_is_virtual:
        reasons.append("parent device is under /sys/devices/virtual (no physical bus)")
    return reasons


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _link_name(path: Path) -> str:
    """Basename of the target of a sysfs symlink, empty when it does not resolve."""
    try:
        return Path(os.path.realpath(path)).name if path.exists() else ""
    except OSError:
        return ""


def _bus_of(parent: Path, sysfs_root: Path) -> str:
    """The first physical bus found walking up from ``parent`` (its ``subsystem`` links)."""
    devices = Path(os.path.realpath(sysfs_root / "devices"))
    node = parent
    first = ""
    while node != devices and devices in node.parents:
        subsystem = _link_name(node / "subsystem")
        if subsystem in PHYSICAL_BUSES:
            return subsystem
        first = first or subsystem
        node = node.parent
    return "" if first in ("", "video4linux", "media") else first


def _usb_id(parent: Path, sysfs_root: Path) -> str:
    """``vendor:product`` of the first USB device at or above ``parent`` (its ``idVendor``
    and ``idProduct``), empty when there is none."""
    devices = Path(os.path.realpath(sysfs_root / "devices"))
    node = parent
    while node != devices and devices in node.parents:
        vendor, product = _read_text(node / "idVendor"), _read_text(node / "idProduct")
        if vendor and product:
            return f"{vendor.lower()}:{product.lower()}"
        node = node.parent
    return ""


def describe_node(node: str, *, sysfs_root: Path = SYSFS_ROOT, dev_root: Path = DEV_ROOT,
                  querycap: QueryCap = query_capability) -> VideoDevice | None:
    """Describe one ``videoN`` node, None when sysfs does not list it."""
    match = _NODE.match(node)
    entry = sysfs_root / "class" / "video4linux" / node
    if match is None or not entry.exists():
        return None
    name = _read_text(entry / "name")
    device_link = entry / "device"
    has_parent = device_link.exists()
    parent = Path(os.path.realpath(device_link)) if has_parent else None
    virtual_root = Path(os.path.realpath(sysfs_root / "devices" / "virtual"))
    parent_is_virtual = parent is not None and (parent == virtual_root
                                                or virtual_root in parent.parents)
    bus = _bus_of(parent, sysfs_root) if parent is not None and not parent_is_virtual else ""
    sysfs_driver = _link_name(device_link / "driver") if has_parent else ""
    path = str(dev_root / node)
    cap = querycap(path)
    driver = cap.driver if cap is not None and cap.driver else sysfs_driver
    name = name or (cap.card if cap is not None else "")
    usb_id = _usb_id(parent, sysfs_root) if bus == "usb" and parent is not None else ""
    reasons = virtual_reasons(name, driver, bus_info=cap.bus_info if cap else "",
                              has_parent=has_parent, parent_is_virtual=parent_is_virtual,
                              usb_id=usb_id)
    if cap is not None and sysfs_driver and sysfs_driver != driver:
        # Both names are evidence: a loopback driver may report a harmless ioctl name.
        reasons += [r for r in virtual_reasons("", sysfs_driver) if r not in reasons]
    return VideoDevice(path=path, index=int(match.group(1)), name=name, driver=driver,
                       bus=bus, is_virtual=bool(reasons), why_virtual="; ".join(reasons),
                       is_capture=cap.is_capture if cap is not None else None,
                       bus_info=cap.bus_info if cap is not None else "", usb_id=usb_id)


def list_devices(sysfs_root: Path = SYSFS_ROOT, *, dev_root: Path = DEV_ROOT,
                 querycap: QueryCap = query_capability) -> list[VideoDevice]:
    """Every ``/dev/videoN`` node sysfs lists, ordered by N; empty when there is none.

    Parameters
    ----------
    sysfs_root : Path
        Root of sysfs (``/sys``); tests pass a fake tree.
    dev_root : Path
        Folder of the device nodes (``/dev``).
    querycap : callable
        ``querycap(path) -> V4L2Capability | None``; tests pass a fake.
    """
    class_dir = sysfs_root / "class" / "video4linux"
    try:
        nodes = [p.name for p in class_dir.iterdir() if _NODE.match(p.name)]
    except OSError:
        return []
    nodes.sort(key=lambda n: int(n[5:]))
    devices = [describe_node(n, sysfs_root=sysfs_root, dev_root=dev_root, querycap=querycap)
               for n in nodes]
    return [d for d in devices if d is not None]


def node_of(device: int | str) -> str | None:
    """The ``videoN`` node an index or device path refers to (symlinks resolved).

    ``/dev/v4l/by-id/usb-...-video-index0`` resolves to its ``/dev/videoN`` target. Returns
    None for anything that is not a V4L2 video node.
    """
    if isinstance(device, int):
        return f"video{device}" if device >= 0 else None
    name = Path(os.path.realpath(device)).name
    return name if _NODE.match(name) else None


def find_device(device: int | str, *, sysfs_root: Path = SYSFS_ROOT, dev_root: Path = DEV_ROOT,
                querycap: QueryCap = query_capability) -> VideoDevice | None:
    """Describe the device an index or path refers to; None when sysfs does not list it."""
    node = node_of(device)
    if node is None:
        return None
    return describe_node(node, sysfs_root=sysfs_root, dev_root=dev_root, querycap=querycap)
