"""The kiosk's scale on a dense screen that the desktop does not scale (a 4K monitor at 100 %).

Qt draws at the desktop's scale: on X that is the ``Xft.dpi`` setting, 96 dots per inch when
nothing sets it. A kiosk often runs in a bare X session, where nothing does, and on a 27-inch
4K monitor (163 dpi) everything came out at 60 % of its size: Stop 8 mm high, the operator
panel's text 3 mm. Before the QApplication exists, :func:`screen_scale` reads the screen's
size in pixels and millimetres and, when no scale is set already (by the environment's Qt
variables or by the desktop), :func:`apply_screen_scale` sets ``QT_SCALE_FACTOR`` from its
physical density: 96 dpi draws at 1, 163 dpi at 1.75.

No Qt here (Qt cannot change its scale once it runs): the X server is asked through libxcb
with ctypes, as :func:`kiosk.ui.qtenv.xcb_refusal` does. The size is the primary monitor's,
as RandR reports it from the monitor's EDID; when RandR has none (Xvfb's outputs say 0 mm)
the X screen's own size is used (Xorg makes that 96 dpi, Xvfb takes it from ``-dpi``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import re
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass

#: Variables by which the environment (a desktop session, a unit, a person) already sets
#: Qt's scale: with any of them the kiosk leaves the scale alone.
SCALE_VARIABLES = ("QT_SCALE_FACTOR", "QT_SCREEN_SCALE_FACTORS", "QT_USE_PHYSICAL_DPI",
                   "QT_ENABLE_HIGHDPI_SCALING", "QT_AUTO_SCREEN_SCALE_FACTOR", "QT_FONT_DPI")
#: The density the kiosk's sizes are drawn for (Qt's logical inch).
BASE_DPI = 96.0
#: Scales go in quarter steps; below the first step the kiosk stays at 1.
STEP, SMALLEST = 0.25, 1.25
#: The logical screen a scale must leave (long side, short side): the kiosk's screens are
#: laid out for 1280x800 and still fit 768 wide and 614 high, but no scale is chosen that
#: makes a screen smaller than a 720p one.
MIN_LOGICAL = (1280, 720)
#: Monitors report sizes outside these (diagonal, mm) only when their EDID is made up (a TV
#: that says 16x9 cm for its aspect ratio, a projector that says 0): such a size is not used.
DIAGONAL_MM = (250.0, 2600.0)


@dataclass(frozen=True)
class ScreenSize:
    """A screen's size in pixels and millimetres, and the desktop's own dpi setting.

    ``xft_dpi`` is the ``Xft.dpi`` resource (None when unset); ``source`` says where the
    millimetres came from (``"monitor"``: RandR; ``"screen"``: the X screen).
    """

    width_px: int
    height_px: int
    width_mm: float
    height_mm: float
    xft_dpi: float | None = None
    source: str = "monitor"

    @property
    def dpi(self) -> float | None:
        """Dots per inch along the diagonal (None without a physical size)."""
        diagonal_mm = math.hypot(self.width_mm, self.height_mm)
        if diagonal_mm <= 0:
            return None
        return math.hypot(self.width_px, self.height_px) / diagonal_mm * 25.4


def choose_scale(screen: ScreenSize) -> float | None:
    """The scale for ``screen``, or None to leave Qt's (1, or the desktop's).

    The density over :data:`BASE_DPI`, to the nearest quarter; none below
    :data:`SMALLEST`, none when the desktop sets its own dpi (``Xft.dpi`` other than 96) or
    the monitor's size is not believable (:data:`DIAGONAL_MM`), and never so large that the
    logical screen is smaller than :data:`MIN_LOGICAL`.
    """
    if screen.xft_dpi is not None and abs(screen.xft_dpi - BASE_DPI) > 0.5:
        return None
    dpi = screen.dpi
    diagonal = math.hypot(screen.width_mm, screen.height_mm)
    if dpi is None or not DIAGONAL_MM[0] <= diagonal <= DIAGONAL_MM[1]:
        return None
    scale = round(dpi / BASE_DPI / STEP) * STEP
    long_px = max(screen.width_px, screen.height_px)
    short_px = min(screen.width_px, screen.height_px)
    while scale >= SMALLEST and (long_px / scale < MIN_LOGICAL[0]
                                 or short_px / scale < MIN_LOGICAL[1]):
        scale -= STEP
    return scale if scale >= SMALLEST else None


def scale_set_by(environ: Mapping[str, str]) -> str | None:
    """The variable that already sets Qt's scale, or None."""
    return next((name for name in SCALE_VARIABLES if environ.get(name, "").strip()), None)


def on_x(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will draw on X here (the only place this module asks for a size)."""
    if not platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    return chosen == "xcb" or (not chosen and not environ.get("WAYLAND_DISPLAY"))


def apply_screen_scale(environ: MutableMapping[str, str], *,
                       read: Callable[[str], ScreenSize | None] | None = None,
                       platform: str = sys.platform) -> str:
    """Set ``QT_SCALE_FACTOR`` in ``environ`` for the screen when nothing sets a scale.

    Call it before the QApplication exists. Returns one line for the log saying what was
    decided and why.

    Parameters
    ----------
    environ : MutableMapping[str, str]
        The process environment (``os.environ``), changed in place.
    read : callable, optional
        ``display -> ScreenSize or None`` (:func:`read_x_screen` by default).
    platform : str
        ``sys.platform``.
    """
    name = scale_set_by(environ)
    if name is not None:
        return f"screen scale left to {name}={environ[name]}"
    if not on_x(environ, platform):
        return "screen scale left to Qt (not an X display)"
    screen = (read or read_x_screen)(environ["DISPLAY"])
    if screen is None:
        return "screen scale left to Qt (the X screen's size could not be read)"
    scale = choose_scale(screen)
    dpi = screen.dpi
    where = (f"{screen.width_px}x{screen.height_px} px, {screen.width_mm:g}x"
             f"{screen.height_mm:g} mm ({screen.source}), "
             + (f"{dpi:.0f} dpi" if dpi is not None else "no physical size")
             + (f", Xft.dpi {screen.xft_dpi:g}" if screen.xft_dpi is not None else ""))
    if scale is None:
        return f"screen scale 1 (Qt's): {where}"
    environ["QT_SCALE_FACTOR"] = f"{scale:g}"
    return f"screen scale {scale:g} (QT_SCALE_FACTOR) for {where}"


# -- X through libxcb (ctypes) ---------------------------------------------------------------

class _Cookie(ctypes.Structure):
    _fields_ = [("sequence", ctypes.c_uint)]


class _Screen(ctypes.Structure):
    _fields_ = [("root", ctypes.c_uint32), ("default_colormap", ctypes.c_uint32),
                ("white_pixel", ctypes.c_uint32), ("black_pixel", ctypes.c_uint32),
                ("current_input_masks", ctypes.c_uint32),
                ("width_in_pixels", ctypes.c_uint16), ("height_in_pixels", ctypes.c_uint16),
                ("width_in_millimeters", ctypes.c_uint16),
                ("height_in_millimeters", ctypes.c_uint16),
                ("min_installed_maps", ctypes.c_uint16), ("max_installed_maps", ctypes.c_uint16),
                ("root_visual", ctypes.c_uint32), ("backing_stores", ctypes.c_uint8),
                ("save_unders", ctypes.c_uint8), ("root_depth", ctypes.c_uint8),
                ("allowed_depths_len", ctypes.c_uint8)]


class _ScreenIterator(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(_Screen)), ("rem", ctypes.c_int),
                ("index", ctypes.c_int)]


class _PrimaryReply(ctypes.Structure):
    _fields_ = [("response_type", ctypes.c_uint8), ("pad0", ctypes.c_uint8),
                ("sequence", ctypes.c_uint16), ("length", ctypes.c_uint32),
                ("output", ctypes.c_uint32)]


class _ResourcesReply(ctypes.Structure):
    _fields_ = [("response_type", ctypes.c_uint8), ("pad0", ctypes.c_uint8),
                ("sequence", ctypes.c_uint16), ("length", ctypes.c_uint32),
                ("timestamp", ctypes.c_uint32), ("config_timestamp", ctypes.c_uint32),
                ("num_crtcs", ctypes.c_uint16), ("num_outputs", ctypes.c_uint16),
                ("num_modes", ctypes.c_uint16), ("names_len", ctypes.c_uint16),
                ("pad1", ctypes.c_uint8 * 8)]


class _OutputReply(ctypes.Structure):
    _fields_ = [("response_type", ctypes.c_uint8), ("status", ctypes.c_uint8),
                ("sequence", ctypes.c_uint16), ("length", ctypes.c_uint32),
                ("timestamp", ctypes.c_uint32), ("crtc", ctypes.c_uint32),
                ("mm_width", ctypes.c_uint32), ("mm_height", ctypes.c_uint32),
                ("connection", ctypes.c_uint8), ("subpixel_order", ctypes.c_uint8),
                ("num_crtcs", ctypes.c_uint16), ("num_modes", ctypes.c_uint16),
                ("num_preferred", ctypes.c_uint16), ("num_clones", ctypes.c_uint16),
                ("name_len", ctypes.c_uint16)]


class _CrtcReply(ctypes.Structure):
    _fields_ = [("response_type", ctypes.c_uint8), ("status", ctypes.c_uint8),
                ("sequence", ctypes.c_uint16), ("length", ctypes.c_uint32),
                ("timestamp", ctypes.c_uint32), ("x", ctypes.c_int16), ("y", ctypes.c_int16),
                ("width", ctypes.c_uint16), ("height", ctypes.c_uint16),
                ("mode", ctypes.c_uint32), ("rotation", ctypes.c_uint16),
                ("rotations", ctypes.c_uint16), ("num_outputs", ctypes.c_uint16),
                ("num_possible_outputs", ctypes.c_uint16)]


class _PropertyReply(ctypes.Structure):
    _fields_ = [("response_type", ctypes.c_uint8), ("format", ctypes.c_uint8),
                ("sequence", ctypes.c_uint16), ("length", ctypes.c_uint32),
                ("type", ctypes.c_uint32), ("bytes_after", ctypes.c_uint32),
                ("value_len", ctypes.c_uint32), ("pad0", ctypes.c_uint8 * 12)]


_ATOM_RESOURCE_MANAGER, _ATOM_STRING = 23, 31
_CONNECTED = 0


def _library(name: str) -> ctypes.CDLL | None:
    found = ctypes.util.find_library(name)
    return ctypes.CDLL(found) if found else None


def _reply(xcb: ctypes.CDLL, function: str, conn: int, *args: int) -> ctypes.c_void_p | None:
    """Send a request and wait for its reply (a malloc'd pointer, or None on an error)."""
    request = getattr(xcb, function)
    request.restype = _Cookie
    cookie = request(ctypes.c_void_p(conn), *(ctypes.c_uint32(a) for a in args))
    answer = getattr(xcb, function + "_reply")
    answer.restype = ctypes.c_void_p
    answer.argtypes = [ctypes.c_void_p, _Cookie, ctypes.c_void_p]
    pointer = answer(ctypes.c_void_p(conn), cookie, None)
    return ctypes.c_void_p(pointer) if pointer else None


def _monitor(randr: ctypes.CDLL, conn: int, root: int
             ) -> tuple[int, int, int, int] | None:
    """The primary monitor's (width px, height px, width mm, height mm) by RandR, or the
    first connected one's; None without RandR or a lit monitor."""
    libc = ctypes.CDLL(None)
    libc.free.argtypes = [ctypes.c_void_p]
    outputs: list[int] = []
    primary = _reply(randr, "xcb_randr_get_output_primary", conn, root)
    if primary is not None:
        first = ctypes.cast(primary, ctypes.POINTER(_PrimaryReply)).contents.output
        libc.free(primary)
        if first:
            outputs.append(first)
    resources = _reply(randr, "xcb_randr_get_screen_resources_current", conn, root)
    if resources is not None:
        head = ctypes.cast(resources, ctypes.POINTER(_ResourcesReply)).contents
        # The outputs follow the fixed part, after the CRTCs (32-bit ids each).
        base = (resources.value or 0) + ctypes.sizeof(_ResourcesReply) + 4 * head.num_crtcs
        ids = (ctypes.c_uint32 * head.num_outputs).from_address(base)
        outputs.extend(i for i in ids if i not in outputs)
        libc.free(resources)
    for output in outputs:
        info = _reply(randr, "xcb_randr_get_output_info", conn, output, 0)
        if info is None:
            continue
        out = ctypes.cast(info, ctypes.POINTER(_OutputReply)).contents
        crtc, mm = out.crtc, (out.mm_width, out.mm_height)
        connected = out.connection == _CONNECTED
        libc.free(info)
        if not connected or not crtc:
            continue
        lit = _reply(randr, "xcb_randr_get_crtc_info", conn, crtc, 0)
        if lit is None:
            continue
        c = ctypes.cast(lit, ctypes.POINTER(_CrtcReply)).contents
        size = (c.width, c.height)
        libc.free(lit)
        if size[0] and size[1]:
            return size[0], size[1], mm[0], mm[1]
    return None


def _xft_dpi(xcb: ctypes.CDLL, conn: int, root: int) -> float | None:
    """The ``Xft.dpi`` resource of the root window, or None."""
    libc = ctypes.CDLL(None)
    libc.free.argtypes = [ctypes.c_void_p]
    request = xcb.xcb_get_property
    request.restype = _Cookie
    request.argtypes = [ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint32, ctypes.c_uint32,
                        ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32]
    cookie = request(ctypes.c_void_p(conn), 0, root, _ATOM_RESOURCE_MANAGER, _ATOM_STRING, 0,
                     1 << 20)
    xcb.xcb_get_property_reply.restype = ctypes.c_void_p
    xcb.xcb_get_property_reply.argtypes = [ctypes.c_void_p, _Cookie, ctypes.c_void_p]
    pointer = xcb.xcb_get_property_reply(ctypes.c_void_p(conn), cookie, None)
    if not pointer:
        return None
    head = ctypes.cast(pointer, ctypes.POINTER(_PropertyReply)).contents
    text = ctypes.string_at(pointer + ctypes.sizeof(_PropertyReply), head.value_len)
    libc.free(pointer)
    found = re.search(rb"^Xft\.dpi:\s*([0-9.]+)\s*$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def read_x_screen(display: str) -> ScreenSize | None:
    """The size of ``display``'s primary monitor (see the module), or None when libxcb is
    missing or the display cannot be opened."""
    xcb = _library("xcb")
    if xcb is None:
        return None
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    xcb.xcb_get_setup.restype = ctypes.c_void_p
    xcb.xcb_get_setup.argtypes = [ctypes.c_void_p]
    xcb.xcb_setup_roots_iterator.restype = _ScreenIterator
    xcb.xcb_setup_roots_iterator.argtypes = [ctypes.c_void_p]
    xcb.xcb_screen_next.argtypes = [ctypes.POINTER(_ScreenIterator)]
    number = ctypes.c_int(0)
    conn = None
    for _ in range(3):
        # An X server with no other client (Xvfb) resets as the last one leaves, and for a
        # moment then refuses connections: the display check just before was such a client.
        conn = xcb.xcb_connect(display.encode(), ctypes.byref(number))
        if conn and not xcb.xcb_connection_has_error(conn):
            break
        if conn:
            xcb.xcb_disconnect(conn)
        conn = None
        time.sleep(0.02)
    try:
        if not conn:
            return None
        roots = xcb.xcb_setup_roots_iterator(xcb.xcb_get_setup(conn))
        for _ in range(number.value):
            if roots.rem <= 1:
                break
            xcb.xcb_screen_next(ctypes.byref(roots))
        if not roots.data:
            return None
        screen = roots.data.contents
        xft = _xft_dpi(xcb, conn, screen.root)
        randr = _library("xcb-randr")
        monitor = _monitor(randr, conn, screen.root) if randr is not None else None
        if monitor is not None and monitor[2] > 0 and monitor[3] > 0:
            return ScreenSize(*monitor, xft_dpi=xft, source="monitor")
        width_px, height_px = (monitor[:2] if monitor is not None else
                               (screen.width_in_pixels, screen.height_in_pixels))
        # The X screen's millimetres are for the whole screen: scaled to the monitor's part.
        width_mm = screen.width_in_millimeters * width_px / max(screen.width_in_pixels, 1)
        height_mm = screen.height_in_millimeters * height_px / max(screen.height_in_pixels, 1)
        return ScreenSize(width_px, height_px, round(width_mm, 1), round(height_mm, 1),
                          xft_dpi=xft, source="screen")
    finally:
        if conn:
            xcb.xcb_disconnect(conn)
