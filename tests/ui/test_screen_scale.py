"""The kiosk's scale on a dense screen that nothing scales (kiosk/ui/scaling.py): chosen from
the screen's physical size before Qt starts, unless the environment or the desktop sets one.
Before, a 27-inch 4K monitor in a bare X session drew everything at 96-dpi pixel sizes (Stop
8 mm high)."""

from __future__ import annotations

import pytest

from kiosk.ui.scaling import ScreenSize, apply_screen_scale, choose_scale, read_x_screen
from tests.ui.xvfb import run_on_xvfb, xvfb_display


@pytest.mark.parametrize(("screen", "scale"), [
    (ScreenSize(3840, 2160, 598, 337), 1.75),        # 27-inch 4K, 163 dpi
    (ScreenSize(3840, 2160, 344, 194), 3.0),         # 15.6-inch 4K laptop, 282 dpi
    (ScreenSize(2560, 1440, 288, 162), 2.0),         # 13-inch, 226 dpi: 2.25 leaves < 720p
    (ScreenSize(2160, 3840, 337, 598), 1.75),        # the 4K monitor turned to portrait
    (ScreenSize(1920, 1080, 527, 296), None),        # 24-inch, 92 dpi
    (ScreenSize(1366, 768, 294, 165), None),         # 13-inch laptop, 118 dpi: too little
    (ScreenSize(1280, 800, 217, 136), None),         # 10-inch tablet, 150 dpi: 720p floor
    (ScreenSize(1920, 1080, 160, 90), None),         # a TV's made-up EDID (aspect only)
    (ScreenSize(3840, 2160, 0, 0), None),            # no size at all
    (ScreenSize(3840, 2160, 598, 337, xft_dpi=192), None),  # the desktop scales (2x)
    (ScreenSize(3840, 2160, 598, 337, xft_dpi=96), 1.75),   # ... or says 96: its default
])
def test_the_scale_follows_the_physical_density(screen, scale) -> None:
    assert choose_scale(screen) == scale


def test_a_scale_set_by_the_environment_or_not_on_x_is_left_alone() -> None:
    def dense(display: str) -> ScreenSize:
        return ScreenSize(3840, 2160, 598, 337)

    env = {"DISPLAY": ":5", "QT_SCALE_FACTOR": "1"}
    assert "QT_SCALE_FACTOR=1" in apply_screen_scale(env, read=dense, platform="linux")
    assert env["QT_SCALE_FACTOR"] == "1"
    env = {"DISPLAY": ":5", "QT_SCREEN_SCALE_FACTORS": "2"}
    apply_screen_scale(env, read=dense, platform="linux")
    assert "QT_SCALE_FACTOR" not in env
    for env in ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"},
                {"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, {}):
        apply_screen_scale(env, read=dense, platform="linux")
        assert "QT_SCALE_FACTOR" not in env, env
    env = {"DISPLAY": ":5"}
    assert "1.75" in apply_screen_scale(env, read=dense, platform="linux")
    assert env["QT_SCALE_FACTOR"] == "1.75"
    env = {"DISPLAY": ":5"}
    assert "could not be read" in apply_screen_scale(env, read=lambda d: None,
                                                     platform="linux")
    assert "QT_SCALE_FACTOR" not in env


@pytest.mark.xvfb
def test_the_x_screens_size_is_read_from_the_server() -> None:
    with xvfb_display("3840x2160x24", dpi=163) as display:
        screen = read_x_screen(display)
    assert screen is not None
    assert (screen.width_px, screen.height_px) == (3840, 2160)
    assert screen.dpi == pytest.approx(163, abs=1) and screen.xft_dpi is None
    assert choose_scale(screen) == 1.75
    assert read_x_screen(":999") is None  # no such display


@pytest.mark.xvfb
def test_the_desktops_own_dpi_is_read_from_the_root_window() -> None:
    """``Xft.dpi`` as ``xrdb`` sets it, in the root window's RESOURCE_MANAGER among other
    resources: a desktop that scales (144) is left to itself."""
    import xcffib
    import xcffib.xproto
    from xcffib.xproto import Atom, PropMode

    resources = b"Xcursor.size:\t24\nXft.dpi:\t144\nXft.antialias:\t1\n"
    with xvfb_display("3840x2160x24", dpi=163) as display:
        # Held open while the kiosk reads: Xvfb forgets the property when its last client goes.
        holder = xcffib.connect(display=display)
        try:
            root = holder.get_setup().roots[holder.pref_screen].root
            holder.core.ChangePropertyChecked(PropMode.Replace, root, Atom.RESOURCE_MANAGER,
                                              Atom.STRING, 8, len(resources),
                                              resources).check()
            screen = read_x_screen(display)
        finally:
            holder.disconnect()
    assert screen is not None and screen.xft_dpi == 144
    assert choose_scale(screen) is None
    env = {"DISPLAY": display}
    assert "Xft.dpi 144" in apply_screen_scale(env, read=lambda d: screen, platform="linux")
    assert "QT_SCALE_FACTOR" not in env


SCALED = r"""
import json, os
from kiosk.ui.scaling import apply_screen_scale
said = apply_screen_scale(os.environ)
from PySide6.QtWidgets import QApplication
app = QApplication([])
screen = app.primaryScreen()
print(json.dumps({"said": said, "ratio": screen.devicePixelRatio(),
                  "logical": screen.geometry().getRect()}))
"""


@pytest.mark.xvfb
def test_qt_draws_a_dense_screen_at_its_scale() -> None:
    result = run_on_xvfb(SCALED, size="3840x2160x24", dpi=163)
    assert result["ratio"] == 1.75, result["said"]
    assert result["logical"] == [0, 0, 2194, 1234]
