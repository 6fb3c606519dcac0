"""Simulated presentation attacks rendered from bona fide material: print and replay.

For tests and training only: every evaluation reports simulated and real material apart, and
real material is what counts.

- Print (:mod:`.printing`, :mod:`.paper`): one still printed on paper (reduced gamut, CMYK
  halftone, lifted blacks, dim paper white, grain, white margin, optional bend) and moved by
  hand as a plane in front of a background.
- Replay (:mod:`.replay`, :mod:`.screen`): a video played on a phone, tablet or monitor (RGB
  stripe pixel grid, display tone curve, refresh bands, glare, bezel) moved as a plane.

Shared pieces: parameters (:mod:`.params`), hand motion and homographies (:mod:`.motion`),
background, light and thumbs (:mod:`.scene`), linear light and the filming camera
(:mod:`.common`). Rendering works in linear light (float32, 0-1, BGR) on a canvas ``ss`` times
the output size; :func:`camera_capture` blurs it, averages each output pixel's ``ss x ss``
block (where a fine grid or halftone aliases into moire), adds shot noise and encodes 8 bits.
Everything random comes from the ``numpy.random.Generator`` the caller passes, so one seed
reproduces a video exactly. No Qt, no cloud, no SQL: numpy and OpenCV only.
"""

from kiosk.lab.simulate.common import (
    camera_capture,
    check_image,
    choose_still,
    saturate,
    to_linear,
    to_srgb,
)
from kiosk.lab.simulate.motion import (
    hand_motion,
    plane_homography,
    plane_normal,
    rotation,
    supersampled,
)
from kiosk.lab.simulate.paper import bend_sheet, halftone, print_picture
from kiosk.lab.simulate.params import (
    DEVICES,
    CameraParams,
    MotionParams,
    PrintParams,
    ReplayParams,
)
from kiosk.lab.simulate.printing import (
    PrintScene,
    prepare_print,
    render_print_frame,
    simulate_print,
)
from kiosk.lab.simulate.replay import (
    ReplayScene,
    prepare_replay,
    render_replay_frame,
    simulate_replay,
)
from kiosk.lab.simulate.scene import (
    background_canvas,
    draw_fingers,
    light_falloff,
    skin_tone,
    smooth_noise,
    synthetic_background,
)
from kiosk.lab.simulate.screen import (
    ScreenLayout,
    display_image,
    layout_screen,
    paint_device,
    plane_coords,
    stripe_pattern,
)

__all__ = [
    "DEVICES", "CameraParams", "MotionParams", "PrintParams", "PrintScene", "ReplayParams",
    "ReplayScene", "ScreenLayout", "bend_sheet", "camera_capture", "check_image",
    "choose_still", "display_image", "draw_fingers", "halftone", "hand_motion",
    "layout_screen", "light_falloff", "paint_device", "plane_coords", "plane_homography",
    "plane_normal", "prepare_print", "prepare_replay", "print_picture", "render_print_frame",
    "render_replay_frame", "rotation", "saturate", "simulate_print", "simulate_replay",
    "skin_tone", "smooth_noise", "stripe_pattern", "supersampled", "synthetic_background",
    "background_canvas",
    "to_linear", "to_srgb",
]
