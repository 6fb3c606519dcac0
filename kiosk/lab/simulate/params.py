"""Parameters of the simulated attacks: the hand, the camera, the print and the screen.

Frozen dataclasses checked on construction; ``PrintParams.random`` and ``ReplayParams.random``
draw plausible values from a ``numpy.random.Generator``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class MotionParams:
    """Amplitudes of a hand holding a flat object in front of the camera.

    Attributes
    ----------
    yaw_deg, pitch_deg, roll_deg : float
        Peak rotation about the vertical, horizontal and optical axes.
    shift : float
        Peak translation as a fraction of the frame width.
    scale : float
        Peak relative change of distance (0.04: 4% nearer or further).
    tremor_deg : float
        Peak of the physiological tremor (4-8 Hz) added to the rotations.
    fov_deg : float
        Horizontal field of view of the simulated camera (webcams: 55-70 degrees).
    """

    yaw_deg: float = 6.0
    pitch_deg: float = 6.0
    roll_deg: float = 3.0
    shift: float = 0.03
    scale: float = 0.04
    tremor_deg: float = 0.25
    fov_deg: float = 60.0

    def __post_init__(self) -> None:
        amplitudes = (self.yaw_deg, self.pitch_deg, self.roll_deg, self.shift, self.scale,
                      self.tremor_deg)
        if min(amplitudes) < 0 or self.scale >= 0.5:
            raise ValueError("MotionParams amplitudes must be >= 0 (and scale < 0.5)")
        if not 10.0 <= self.fov_deg <= 150.0:
            raise ValueError(f"MotionParams fov_deg must be in [10, 150], got {self.fov_deg}")


@dataclass(frozen=True)
class CameraParams:
    """The camera that films the attack.

    Attributes
    ----------
    blur_sigma : float
        Defocus and lens blur, in output pixels (Gaussian sigma).
    noise_sigma : float
        Sensor noise in 8-bit grey levels at mid-grey (shot noise: grows with brightness).
    exposure : float
        Gain applied to the linear scene before encoding.
    """

    blur_sigma: float = 0.6
    noise_sigma: float = 2.0
    exposure: float = 1.0

    def __post_init__(self) -> None:
        if self.blur_sigma < 0 or self.noise_sigma < 0 or not self.exposure > 0:
            raise ValueError("CameraParams: blur_sigma and noise_sigma must be >= 0, "
                             "exposure > 0")


@dataclass(frozen=True)
class PrintParams:
    """How the print looks and moves.

    Attributes
    ----------
    sheet_scale : float
        The printed picture fits in this fraction of the frame (width and height) when the
        sheet faces the camera at the nominal distance.
    margin : float
        White margin around the picture, as a fraction of the picture's shorter side.
    halftone_period : float
        Halftone dot spacing in output pixels at the nominal distance. A 150 lpi print a
        forearm's length from a VGA webcam is about 0.3; below ~1.5 the camera cannot resolve
        the dots, which average out or alias into faint moire, as with real prints.
    saturation : float
        Chroma kept by the printer (1 = all of it).
    gcr : float
        Grey-component replacement: share of the common C, M, Y coverage printed in black.
    ink_density : float
        Fraction of light that full ink absorbs; below 1 lifts the blacks.
    paper_white : float
        Paper reflectance relative to the camera's white; below 1 dims the whites.
    paper_tint : tuple of float
        Per-channel (B, G, R) factor of the paper colour.
    paper_texture : float
        Standard deviation of the paper grain and mottle (relative reflectance).
    bend : float
        Cylindrical bend about the vertical axis: depth of the sheet's sides behind its
        middle, as a fraction of the sheet width (0: flat).
    light_falloff : float
        Fraction of light lost at the frame corner farthest from the lamp, in [0, 1).
    light_center : tuple of float
        Brightest point of the scene, as fractions of the frame's width and height.
    fingers : int
        Thumbs gripping the sheet's edges (0-3).
    supersample : int
        The sheet and the scene are rendered this many times finer than the output.
    motion : MotionParams
    camera : CameraParams
    """

    sheet_scale: float = 0.75
    margin: float = 0.06
    halftone_period: float = 2.0
    saturation: float = 0.7
    gcr: float = 0.6
    ink_density: float = 0.88
    paper_white: float = 0.85
    paper_tint: tuple[float, float, float] = (0.96, 0.99, 1.0)
    paper_texture: float = 0.03
    bend: float = 0.0
    light_falloff: float = 0.25
    light_center: tuple[float, float] = (0.3, 0.2)
    fingers: int = 0
    supersample: int = 2
    motion: MotionParams = field(default_factory=MotionParams)
    camera: CameraParams = field(default_factory=CameraParams)

    def __post_init__(self) -> None:
        checks = {
            "sheet_scale": 0.1 <= self.sheet_scale <= 1.5,
            "margin": 0.0 <= self.margin <= 0.5,
            "halftone_period": 0.5 <= self.halftone_period <= 20.0,
            "saturation": 0.0 <= self.saturation <= 1.0,
            "gcr": 0.0 <= self.gcr <= 1.0,
            "ink_density": 0.0 < self.ink_density <= 1.0,
            "paper_white": 0.0 < self.paper_white <= 1.0,
            "paper_texture": 0.0 <= self.paper_texture <= 0.3,
            "bend": 0.0 <= self.bend <= 0.2,
            "light_falloff": 0.0 <= self.light_falloff < 1.0,
            "fingers": 0 <= self.fingers <= 3,
            "supersample": 1 <= self.supersample <= 4,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"PrintParams out of range: {', '.join(bad)}")

    @classmethod
    def random(cls, rng: np.random.Generator, **overrides) -> PrintParams:
        """Plausible random parameters (office printer, photo print or poster); ``overrides``
        replace drawn values by name."""
        sway = rng.uniform(0.5, 1.3)
        params = cls(
            sheet_scale=rng.uniform(0.55, 0.85),
            margin=rng.uniform(0.03, 0.09),
            halftone_period=rng.uniform(0.6, 2.0),
            saturation=rng.uniform(0.55, 0.85),
            gcr=rng.uniform(0.4, 0.9),
            ink_density=rng.uniform(0.8, 0.93),
            paper_white=rng.uniform(0.75, 0.92),
            paper_tint=(1.0 + rng.uniform(-0.05, 0.04), 1.0 + rng.uniform(-0.02, 0.01), 1.0),
            paper_texture=rng.uniform(0.015, 0.05),
            bend=0.0 if rng.random() < 0.5 else rng.uniform(0.01, 0.06),
            light_falloff=rng.uniform(0.1, 0.45),
            light_center=(rng.uniform(-0.2, 1.2), rng.uniform(-0.2, 1.0)),
            fingers=int(rng.integers(0, 3)),
            motion=MotionParams(yaw_deg=6.0 * sway, pitch_deg=6.0 * sway, roll_deg=3.0 * sway,
                                shift=0.03 * sway, scale=0.04 * sway),
            camera=CameraParams(blur_sigma=rng.uniform(0.4, 1.0),
                                noise_sigma=rng.uniform(1.0, 3.5),
                                exposure=rng.uniform(0.9, 1.25)),
        )
        return replace(params, **overrides)


# Screen aspect ratios (long side / short side) of the devices.
# Screen aspect ratios (long side / short side) of the devices.
DEVICES = {"phone": 19.5 / 9.0, "tablet": 4.0 / 3.0, "monitor": 16.0 / 9.0}

# Bezel width as a fraction of the screen's short side.
_BEZEL = {"phone": (0.03, 0.07), "tablet": (0.05, 0.1), "monitor": (0.015, 0.04)}


@dataclass(frozen=True)
class ReplayParams:
    """How the screen looks and moves.

    Attributes
    ----------
    device : str
        ``"phone"``, ``"tablet"`` or ``"monitor"`` (screen aspect, landscape when the source
        is at least as wide as it is tall; a monitor is always landscape).
    screen_scale : float
        The screen fits in this fraction of the frame (width and height) at the nominal
        distance; above 1 the bezel leaves the frame.
    zoom : float
        Magnification of the played video over fitting it whole on the screen (1: whole,
        letterboxed); capped where it fills the screen, and what overflows is cropped.
    pixel_pitch : float
        Screen pixel spacing in output pixels at the nominal distance. A 400 ppi phone at
        25 cm from a VGA webcam is about 0.25; near and below 1 the grid aliases into moire.
    bezel : float
        Bezel width as a fraction of the screen's short side.
    corner_radius : float
        Device corner radius as a fraction of its short side.
    bezel_grey : float
        Reflectance of the bezel (linear; black glass or plastic is ~0.01-0.04).
    col_fill, row_fill : float
        Fractions of a sub-pixel's width and a pixel's height that emit light.
    display_gamma : float
        Extra exponent on the linear content (1: faithful; above 1 darker mid-tones).
    black_level : float
        Light from a black pixel (backlight leak plus ambient reflection), relative to white.
    brightness : float
        Screen white relative to the camera's white.
    white_tint : tuple of float
        Per-channel (B, G, R) factor of the screen white (displays run blue-ish).
    saturation : float
        Chroma factor of the display (above 1: vivid).
    glare : float
        Peak of the specular glare band, added in linear light.
    glare_width : float
        Half-width of the band as a fraction of the device diagonal.
    glare_angle : float
        Direction of the band across the device, degrees.
    glare_offset : float
        Position of the band from the device centre, fraction of the diagonal.
    banding : float
        Amplitude of the rolling refresh bands (0: none).
    banding_period : float
        Band spacing as a fraction of the screen height.
    banding_hz : float
        Speed at which the bands roll (beat of refresh and exposure), cycles per second.
    fingers : int
        Thumbs gripping the device (0-3).
    supersample : int
        Rendering is this many times finer than the output (2-4).
    motion : MotionParams
    camera : CameraParams
    """

    device: str = "phone"
    screen_scale: float = 0.7
    zoom: float = 1.0
    pixel_pitch: float = 1.2
    bezel: float = 0.05
    corner_radius: float = 0.08
    bezel_grey: float = 0.02
    col_fill: float = 0.75
    row_fill: float = 0.8
    display_gamma: float = 1.1
    black_level: float = 0.03
    brightness: float = 1.0
    white_tint: tuple[float, float, float] = (1.06, 1.0, 0.94)
    saturation: float = 1.1
    glare: float = 0.15
    glare_width: float = 0.08
    glare_angle: float = 60.0
    glare_offset: float = 0.15
    banding: float = 0.0
    banding_period: float = 0.25
    banding_hz: float = 1.0
    fingers: int = 0
    supersample: int = 3
    motion: MotionParams = field(default_factory=lambda: MotionParams(
        yaw_deg=4.0, pitch_deg=4.0, roll_deg=2.0, shift=0.02, scale=0.03))
    camera: CameraParams = field(default_factory=CameraParams)

    def __post_init__(self) -> None:
        checks = {
            "device": self.device in DEVICES,
            "screen_scale": 0.1 <= self.screen_scale <= 1.5,
            "zoom": 1.0 <= self.zoom <= 4.0,
            "pixel_pitch": 0.2 <= self.pixel_pitch <= 10.0,
            "bezel": 0.0 <= self.bezel <= 0.5,
            "corner_radius": 0.0 <= self.corner_radius <= 0.5,
            "bezel_grey": 0.0 <= self.bezel_grey <= 1.0,
            "col_fill": 0.1 <= self.col_fill <= 1.0,
            "row_fill": 0.1 <= self.row_fill <= 1.0,
            "display_gamma": 0.5 <= self.display_gamma <= 2.0,
            "black_level": 0.0 <= self.black_level < 0.5,
            "brightness": 0.1 <= self.brightness <= 3.0,
            "saturation": 0.0 <= self.saturation <= 2.0,
            "glare": 0.0 <= self.glare <= 2.0,
            "glare_width": 0.0 < self.glare_width <= 1.0,
            "banding": 0.0 <= self.banding < 1.0,
            "banding_period": 0.01 <= self.banding_period <= 2.0,
            "fingers": 0 <= self.fingers <= 3,
            "supersample": 1 <= self.supersample <= 4,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"ReplayParams out of range: {', '.join(bad)}")

    @classmethod
    def random(cls, rng: np.random.Generator, device: str | None = None,
               **overrides) -> ReplayParams:
        """Plausible random parameters for ``device`` (drawn when None: phone 1/2, tablet and
        monitor 1/4 each); ``overrides`` replace drawn values by name."""
        if device is None:
            device = str(rng.choice(["phone", "phone", "tablet", "monitor"]))
        if device not in DEVICES:
            raise ValueError(f"device must be one of {sorted(DEVICES)}, got {device!r}")
        pitch = float(np.exp(rng.uniform(math.log(0.4), math.log(2.5))))
        if device == "monitor":
            # A monitor stands on a desk: only the slightest drift, no grip.
            motion = MotionParams(yaw_deg=0.5, pitch_deg=0.5, roll_deg=0.2, shift=0.004,
                                  scale=0.005, tremor_deg=0.0)
            scale, fingers = rng.uniform(0.75, 1.15), 0
        else:
            sway = rng.uniform(0.4, 1.0)
            motion = MotionParams(yaw_deg=6.0 * sway, pitch_deg=6.0 * sway, roll_deg=3.0 * sway,
                                  shift=0.03 * sway, scale=0.04 * sway)
            scale, fingers = rng.uniform(0.65, 0.95), int(rng.integers(0, 3))
        params = cls(
            device=device,
            screen_scale=scale,
            zoom=rng.uniform(1.0, 1.6),
            pixel_pitch=pitch,
            bezel=rng.uniform(*_BEZEL[device]),
            corner_radius=rng.uniform(0.02, 0.1) if device != "monitor" else 0.01,
            bezel_grey=rng.uniform(0.008, 0.04),
            col_fill=rng.uniform(0.6, 0.9),
            row_fill=rng.uniform(0.65, 0.9),
            display_gamma=rng.uniform(0.85, 1.25),
            black_level=rng.uniform(0.01, 0.08),
            brightness=rng.uniform(0.7, 1.3),
            white_tint=(rng.uniform(1.0, 1.12), 1.0, rng.uniform(0.88, 1.0)),
            saturation=rng.uniform(0.9, 1.25),
            glare=rng.uniform(0.03, 0.35),
            glare_width=rng.uniform(0.04, 0.2),
            glare_angle=rng.uniform(0.0, 180.0),
            glare_offset=rng.uniform(-0.4, 0.4),
            banding=0.0 if rng.random() < 0.5 else rng.uniform(0.02, 0.08),
            banding_period=rng.uniform(0.08, 0.5),
            banding_hz=rng.uniform(0.2, 3.0),
            fingers=fingers,
            supersample=3 if pitch < 1.5 else 2,
            motion=motion,
            camera=CameraParams(blur_sigma=rng.uniform(0.2, 0.6),
                                noise_sigma=rng.uniform(1.0, 3.5),
                                exposure=rng.uniform(0.85, 1.15)),
        )
        return replace(params, **overrides)

