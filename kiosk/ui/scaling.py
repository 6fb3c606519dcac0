"""The kiosk's scale on a dense screen that the desktop does not scale (a 4K monitor at 100 %).

Qt draws at the desktop's scale: on X that is the ``Xft.dpi`` setting, 96 dots per inch when
nothing sets it. A kiosk often runs in a bare X session, where nothing does, and on a 27-inch
4K monitor (163 dpi) everything came out at 60 % of its size: Stop 8 mm high, the operator
panel's text 3 mm. Before the QApplication exists, :func:`screen_scale` reads the screen's
size in pixels and millimetres and, when no scale is set already (by the environment's Qt
variables or by the desktop), :func:`apply_screen_scale` sets ``QT_SCALE_FACTOR`` from its
physical density: 96 dpi draws at 1, 163 dpi at 1.75.

No Qt here (Qt cannot change its scale once it runs): the X server is asked through xcffib
(:mod:`kiosk.ui.xclient`), on the libxcb that Qt uses. The size is the primary monitor's,
as RandR reports it from the monitor's EDID; when RandR has none (Xvfb's outputs say 0 mm)
the X screen's own size is used (Xorg makes that 96 dpi, Xvfb takes it from ``-dpi``).
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from kiosk.ui.xclient import open_display, xcb

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


# -- the X server, through xcffib --------------------------------------------------------------

_CONNECTED = 0  # RandR's Connection.Connected


def _monitor(connection: Any, root: int) -> tuple[int, int, int, int] | None:
    """The primary monitor's (width px, height px, width mm, height mm) by RandR, or the
    first connected one's; None without RandR 1.3 or a lit monitor."""
    import xcffib.randr

    if not connection.core.QueryExtension(len(b"RANDR"), "RANDR").reply().present:
        return None  # a request to a missing extension would close the connection
    randr = connection(xcffib.randr.key)
    version = randr.QueryVersion(1, 3).reply()
    if (version.major_version, version.minor_version) < (1, 3):
        return None  # GetOutputPrimary and GetScreenResourcesCurrent are new in 1.3
    outputs: list[int] = []
    primary = randr.GetOutputPrimary(root).reply().output
    if primary:
        outputs.append(primary)
    resources = randr.GetScreenResourcesCurrent(root).reply()
    outputs.extend(o for o in resources.outputs if o not in outputs)
    for output in outputs:
        info = randr.GetOutputInfo(output, 0).reply()
        if info.connection != _CONNECTED or not info.crtc:
            continue
        crtc = randr.GetCrtcInfo(info.crtc, 0).reply()
        if crtc.width and crtc.height:
            return crtc.width, crtc.height, info.mm_width, info.mm_height
    return None


def _xft_dpi(connection: Any, root: int) -> float | None:
    """The ``Xft.dpi`` resource of the root window, or None."""
    from xcffib.xproto import Atom

    resources = connection.core.GetProperty(False, root, Atom.RESOURCE_MANAGER, Atom.STRING,
                                            0, 1 << 20).reply()
    text = resources.value.buf() if resources.value_len else b""
    found = re.search(rb"^Xft\.dpi:\s*([0-9.]+)\s*$", bytes(text), re.MULTILINE)
    return float(found.group(1)) if found else None


def read_x_screen(display: str) -> ScreenSize | None:
    """The size of ``display``'s primary monitor (see the module), or None when libxcb is
    missing or the display cannot be opened or answered."""
    module = xcb()
    if module is None:
        return None
    connection = None
    for _ in range(3):
        # An X server with no other client (Xvfb) resets as the last one leaves, and for a
        # moment then refuses connections: the display check just before was such a client.
        connection, _reason = open_display(display)
        if connection is not None:
            break
        time.sleep(0.02)
    if connection is None:
        return None
    try:
        screen = connection.get_setup().roots[connection.pref_screen]
        xft = _xft_dpi(connection, screen.root)
        monitor = _monitor(connection, screen.root)
    except module.XcffibException:  # the server went away or answered with an error
        return None
    finally:
        connection.disconnect()
    if monitor is not None and monitor[2] > 0 and monitor[3] > 0:
        return ScreenSize(*monitor, xft_dpi=xft, source="monitor")
    width_px, height_px = (monitor[:2] if monitor is not None else
                           (screen.width_in_pixels, screen.height_in_pixels))
    # The X screen's millimetres are for the whole screen: scaled to the monitor's part.
    width_mm = screen.width_in_millimeters * width_px / max(screen.width_in_pixels, 1)
    height_mm = screen.height_in_millimeters * height_px / max(screen.height_in_pixels, 1)
    return ScreenSize(width_px, height_px, round(width_mm, 1), round(height_mm, 1),
                      xft_dpi=xft, source="screen")
