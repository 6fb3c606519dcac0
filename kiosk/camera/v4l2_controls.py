"""Can this camera's exposure and white balance be locked? Asked of the driver, read-only.

``kiosk cameras`` opens each capture node and asks with ioctls, changing nothing:
``VIDIOC_QUERYCTRL`` (does the control exist; its type, range and flags), ``VIDIOC_QUERYMENU``
(does the auto-exposure menu offer manual mode) and ``VIDIOC_G_CTRL`` (its value now).

A control can be locked when its automatic switch exists, is writable and has a manual
setting, *and* the value it would hold exists and is writable: exposure needs
``V4L2_CID_EXPOSURE_AUTO`` (menu; 1 = manual) and ``V4L2_CID_EXPOSURE_ABSOLUTE`` (100 us
units), white balance ``V4L2_CID_AUTO_WHITE_BALANCE`` (boolean) and
``V4L2_CID_WHITE_BALANCE_TEMPERATURE`` (kelvin). The same rule decides what
:class:`~kiosk.camera.controls.LightControls` locks through OpenCV.

Struct layouts (``linux/videodev2.h``, native byte order)::

    struct v4l2_queryctrl { __u32 id; __u32 type; __u8 name[32]; __s32 minimum; __s32 maximum;
                            __s32 step; __s32 default_value; __u32 flags; __u32 reserved[2]; }
                                                                                  /* 68 bytes */
    struct v4l2_control   { __u32 id; __s32 value; }                              /*  8 bytes */
    struct v4l2_querymenu { __u32 id; __u32 index; union { __u8 name[32]; __s64 value; };
                            __u32 reserved; } __attribute__ ((packed))            /* 44 bytes */

Request numbers are ``_IOWR('V', nr, struct)`` in the asm-generic ioctl layout (x86, ARM,
RISC-V): ``3 << 30 | sizeof << 16 | 'V' << 8 | nr`` with nr 27 (``VIDIOC_G_CTRL``), 36
(``VIDIOC_QUERYCTRL``) and 37 (``VIDIOC_QUERYMENU``).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.camera.v4l2 import open_node

try:  # fcntl exists on POSIX only
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None  # type: ignore[assignment]

_QUERYCTRL = struct.Struct("=II32siiiiI8x")
_CONTROL = struct.Struct("=Ii")
_QUERYMENU = struct.Struct("=II32sI")


def _iowr(nr: int, size: int) -> int:
    return (3 << 30) | (size << 16) | (ord("V") << 8) | nr


VIDIOC_G_CTRL = _iowr(27, _CONTROL.size)
VIDIOC_QUERYCTRL = _iowr(36, _QUERYCTRL.size)
VIDIOC_QUERYMENU = _iowr(37, _QUERYMENU.size)

V4L2_CID_AUTO_WHITE_BALANCE = 0x0098090C          # V4L2_CID_BASE + 12
V4L2_CID_WHITE_BALANCE_TEMPERATURE = 0x0098091A   # V4L2_CID_BASE + 26
V4L2_CID_EXPOSURE_AUTO = 0x009A0901               # V4L2_CID_CAMERA_CLASS_BASE + 1
V4L2_CID_EXPOSURE_ABSOLUTE = 0x009A0902           # V4L2_CID_CAMERA_CLASS_BASE + 2

V4L2_CTRL_TYPE_MENU = 3
V4L2_CTRL_TYPE_INTEGER_MENU = 9
V4L2_CTRL_FLAG_DISABLED = 0x0001
V4L2_CTRL_FLAG_READ_ONLY = 0x0004

Ioctl = Callable[[int, int, bytearray], object]
"""``ioctl(fd, request, buffer)``: fills ``buffer`` in place, raises OSError on failure
(``fcntl.ioctl`` with ``mutate_flag=True``); tests pass a fake."""

Opener = Callable[[str], "int | None"]


def _ioctl(fd: int, request: int, buffer: bytearray) -> object:
    if fcntl is None:  # pragma: no cover - non-POSIX
        raise OSError("ioctl is not available on this platform")
    return fcntl.ioctl(fd, request, buffer, True)


@dataclass(frozen=True)
class ControlInfo:
    """What ``VIDIOC_QUERYCTRL`` says about one control."""

    id: int
    type: int
    name: str
    minimum: int
    maximum: int
    step: int
    default: int
    flags: int


@dataclass(frozen=True)
class LockSupport:
    """Whether one automatic control can be locked, and its state now.

    Attributes
    ----------
    lockable : bool
        The switch can be set to manual and the value control can be written.
    auto : bool or None
        Automatic now (``VIDIOC_G_CTRL`` on the switch); None when it could not be read.
    value : int or None
        The value control's reading now (exposure in 100 us, white balance in kelvin); some
        firmware reports a stale value while automatic is on. None when unreadable.
    minimum, maximum : int or None
        The value control's range, None when there is no value control.
    unit : str
        ``"100us"`` or ``"K"``.
    detail : str
        Why it cannot be locked; empty when it can.
    """

    lockable: bool
    auto: bool | None
    value: int | None
    minimum: int | None
    maximum: int | None
    unit: str
    detail: str


@dataclass(frozen=True)
class LightSupport:
    """Exposure and white balance of one capture node."""

    exposure: LockSupport
    white_balance: LockSupport


@dataclass(frozen=True)
class _Spec:
    label: str
    switch: int
    switch_name: str
    value: int
    value_name: str
    manual: int
    auto_modes: tuple[int, ...]
    unit: str


_EXPOSURE = _Spec("exposure", V4L2_CID_EXPOSURE_AUTO, "V4L2_CID_EXPOSURE_AUTO",
                  V4L2_CID_EXPOSURE_ABSOLUTE, "V4L2_CID_EXPOSURE_ABSOLUTE", manual=1,
                  auto_modes=(0, 2, 3), unit="100us")
_WHITE_BALANCE = _Spec("white balance", V4L2_CID_AUTO_WHITE_BALANCE,
                       "V4L2_CID_AUTO_WHITE_BALANCE", V4L2_CID_WHITE_BALANCE_TEMPERATURE,
                       "V4L2_CID_WHITE_BALANCE_TEMPERATURE", manual=0, auto_modes=(1,),
                       unit="K")


def query_control(fd: int, cid: int, *, ioctl: Ioctl = _ioctl) -> ControlInfo | None:
    """``VIDIOC_QUERYCTRL`` for one control; None when the driver does not have it."""
    buffer = bytearray(_QUERYCTRL.pack(cid, 0, b"", 0, 0, 0, 0, 0))
    try:
        ioctl(fd, VIDIOC_QUERYCTRL, buffer)
    except OSError:
        return None
    cid_back, ctype, name, minimum, maximum, step, default, flags = _QUERYCTRL.unpack(buffer)
    text = name.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    return ControlInfo(cid_back, ctype, text, minimum, maximum, step, default, flags)


def get_control(fd: int, cid: int, *, ioctl: Ioctl = _ioctl) -> int | None:
    """``VIDIOC_G_CTRL``: the control's value now, None when it cannot be read."""
    buffer = bytearray(_CONTROL.pack(cid, 0))
    try:
        ioctl(fd, VIDIOC_G_CTRL, buffer)
    except OSError:
        return None
    return int(_CONTROL.unpack(buffer)[1])


def has_menu_item(fd: int, cid: int, index: int, *, ioctl: Ioctl = _ioctl) -> bool:
    """``VIDIOC_QUERYMENU``: whether a menu control offers item ``index``."""
    buffer = bytearray(_QUERYMENU.pack(cid, index, b"", 0))
    try:
        ioctl(fd, VIDIOC_QUERYMENU, buffer)
    except OSError:
        return False
    return True


def _refusal(info: ControlInfo | None, name: str) -> str:
    if info is None:
        return f"no {name} control"
    if info.flags & V4L2_CTRL_FLAG_DISABLED:
        return f"{name} is disabled"
    if info.flags & V4L2_CTRL_FLAG_READ_ONLY:
        return f"{name} is read-only"
    return ""


def _support(fd: int, spec: _Spec, ioctl: Ioctl) -> LockSupport:
    switch = query_control(fd, spec.switch, ioctl=ioctl)
    value = query_control(fd, spec.value, ioctl=ioctl)
    reasons = [r for r in (_refusal(switch, spec.switch_name), _refusal(value, spec.value_name))
               if r]
    if switch is not None and not reasons:
        in_range = switch.minimum <= spec.manual <= switch.maximum
        menu = switch.type in (V4L2_CTRL_TYPE_MENU, V4L2_CTRL_TYPE_INTEGER_MENU)
        if not in_range or (menu and not has_menu_item(fd, spec.switch, spec.manual,
                                                       ioctl=ioctl)):
            reasons.append(f"{spec.switch_name} offers no manual setting ({spec.manual})")
    mode = get_control(fd, spec.switch, ioctl=ioctl) if switch is not None else None
    reading = get_control(fd, spec.value, ioctl=ioctl) if value is not None else None
    auto = None
    if mode is not None:
        auto = mode in spec.auto_modes if mode in (*spec.auto_modes, spec.manual) else None
    return LockSupport(lockable=not reasons, auto=auto, value=reading,
                       minimum=value.minimum if value is not None else None,
                       maximum=value.maximum if value is not None else None,
                       unit=spec.unit, detail="; ".join(reasons))


def query_light_support(path: str, *, ioctl: Ioctl = _ioctl,
                        opener: Opener = open_node) -> LightSupport | None:
    """Whether the node's exposure and white balance can be locked, and their state now.

    Parameters
    ----------
    path : str
        A capture node, e.g. ``/dev/video0``.
    ioctl, opener :
        ``fcntl.ioctl`` and :func:`~kiosk.camera.v4l2.open_node` by default; tests pass fakes.

    Returns
    -------
    LightSupport or None
        None when the node cannot be opened (absent, no permission) or ioctls are not
        available on this platform.
    """
    if fcntl is None and ioctl is _ioctl:  # pragma: no cover - non-POSIX
        return None
    fd = opener(path)
    if fd is None:
        return None
    try:
        return LightSupport(_support(fd, _EXPOSURE, ioctl), _support(fd, _WHITE_BALANCE, ioctl))
    finally:
        os.close(fd)
