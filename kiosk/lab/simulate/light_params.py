"""Parameters of the simulated light challenge: the kiosk's screen, the room, the camera, and
the three attacks. One frozen dataclass; every default has its physical basis beside it.

Coordinates are the camera's: x to the image's right, y down, z forward (metres), the
camera's centre at the origin. The kiosk's screen lies in the plane z = 0 below the camera
(the camera sits on its top edge, as AWS asks and as kiosks mount it), facing the person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The attacks ``kiosk simulate light`` renders besides a live face ("none").
ATTACKS = ("none", "tint", "screen", "print")


def _default_crosstalk() -> np.ndarray:
    # Camera channels (rows R, G, B) seen from each screen primary (columns R, G, B),
    # white-balanced so that each row sums to 1 (the screen's white reads neutral). The
    # overlaps are those of typical CMOS colour filters under an LCD's primaries: green
    # light reaches the red and blue filters at 10-15 %, red and blue light the green filter
    # at 10 % (e.g. the spectral sensitivities published for the Sony IMX sensors).
    return np.array([[0.85, 0.12, 0.03],
                     [0.08, 0.84, 0.08],
                     [0.02, 0.13, 0.85]])


@dataclass(frozen=True, eq=False)
class LightSimParams:
    """How the light challenge is simulated on a real clip.

    Attributes
    ----------
    screen_luminance : float
        Luminance of the screen's white, cd/m^2. Office monitors give 250-350 at full
        brightness (AWS asks for full brightness).
    screen_size_m : tuple of float
        Width and height of the lit area: a 24-inch 16:9 monitor, 0.53 x 0.30 m.
    screen_top_m : float
        Distance of the screen's top edge below the camera (a webcam clipped on the bezel).
    face_width_m : float
        Width of the face mesh's box (bizygomatic width plus the mesh's margin: 0.14-0.15 m
        for adults), which with the field of view gives the face's distance.
    fov_deg : float
        Horizontal field of view of the camera (webcams 55-78 degrees).
    ambient_lux : float
        Illuminance of the room's light on the face: offices 300-500 lux (EN 12464-1),
        corridors 100-200, a bright window or sun 1,000-10,000.
    ambient_elevation_deg : float
        Elevation of the room's main light above the horizontal (ceiling lights 45-70).
    ambient_diffuse : float
        Share of the room's light that arrives from all directions alike (0-1).
    skin_albedo : float
        Mean diffuse reflectance of skin in linear light (0.25-0.45 across skin tones), used
        only to scale the specular term against the diffuse one.
    skin_specular : float
        Specular reflectance of skin at normal incidence: Fresnel for a refractive index of
        about 1.4, 0.028 (Weyrich et al., SIGGRAPH 2006).
    specular_lobe_deg : float
        Width of skin's specular lobe (roughness 0.3-0.4: 15-25 degrees).
    background_distance_m : float
        Distance of the wall behind the person from the screen.
    ui_rgb : tuple of int
        What the screen shows before and after the sequence (the kiosk's light interface).
    delay_s : float
        Camera latency: a frame stamped t integrated light emitted until ``t - delay_s``.
    exposure_s : float or None
        Exposure time; None for one frame interval (the longest possible).
    auto_exposure : bool
        Let the camera's exposure follow the picture's brightness (a camera that could not
        be locked); off for the kiosk, which locks it.
    ae_time_constant_s : float
        Time constant of that auto exposure (webcams settle in 0.3-1 s).
    noise_sigma : float
        Sensor noise in 8-bit levels at mid-grey (shot noise, grows with brightness).
    crosstalk : ndarray (3, 3)
        Camera channels' response to the screen's primaries (see the default).
    tint_strength : float or None
        The injector's tint (attack "tint"): relative change of each channel at full
        emitted colour; None for the change a real face at this distance would show, so the
        face changes as much as a live one.
    glass_reflectance : float
        Specular reflectance of a phone's cover glass (attack "screen"): Fresnel at normal
        incidence for n = 1.5, 0.04.
    phone_luminance : float
        Luminance of the phone's white, cd/m^2 (phones 400-800 at full brightness); the
        camera exposes for it, which sets how large the kiosk's reflection looks.
    device_half_size : tuple of float
        Half width and half height of the phone screen or the print around the face, in
        face-box widths and heights; the background bands beside the head (0.95-1.6 widths)
        show the room, not the device, unless this reaches them.
    device_tilt_deg : float
        The phone or print tipped back (top away) by this much, so the glass mirrors the
        kiosk's screen below the camera.
    print_albedo_scale : float
        Paper reflectance relative to the skin it shows (matte photo paper: 0.8-0.9).
    """

    screen_luminance: float = 300.0
    screen_size_m: tuple[float, float] = (0.53, 0.30)
    screen_top_m: float = 0.02
    face_width_m: float = 0.145
    fov_deg: float = 65.0
    ambient_lux: float = 300.0
    ambient_elevation_deg: float = 55.0
    ambient_diffuse: float = 0.5
    skin_albedo: float = 0.35
    skin_specular: float = 0.028
    specular_lobe_deg: float = 20.0
    background_distance_m: float = 1.5
    ui_rgb: tuple[int, int, int] = (235, 235, 235)
    delay_s: float = 0.09
    exposure_s: float | None = None
    auto_exposure: bool = False
    ae_time_constant_s: float = 0.5
    noise_sigma: float = 1.5
    crosstalk: np.ndarray = field(default_factory=_default_crosstalk)
    tint_strength: float | None = None
    glass_reflectance: float = 0.04
    phone_luminance: float = 500.0
    device_half_size: tuple[float, float] = (0.85, 1.1)
    device_tilt_deg: float = 15.0
    print_albedo_scale: float = 0.85

    def __post_init__(self) -> None:
        positive = {"screen_luminance": self.screen_luminance, "face_width_m": self.face_width_m,
                    "ambient_lux": self.ambient_lux, "skin_albedo": self.skin_albedo,
                    "specular_lobe_deg": self.specular_lobe_deg,
                    "background_distance_m": self.background_distance_m,
                    "ae_time_constant_s": self.ae_time_constant_s,
                    "phone_luminance": self.phone_luminance,
                    "print_albedo_scale": self.print_albedo_scale}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"LightSimParams {name} must be > 0, got {value}")
        if min(self.screen_size_m) <= 0 or self.screen_top_m < 0:
            raise ValueError("LightSimParams screen_size_m must be > 0 and screen_top_m >= 0")
        if not 10.0 <= self.fov_deg <= 150.0:
            raise ValueError(f"LightSimParams fov_deg must be in [10, 150], got {self.fov_deg}")
        for name in ("ambient_diffuse", "skin_specular", "glass_reflectance"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"LightSimParams {name} must be in [0, 1]")
        if self.delay_s < 0 or (self.exposure_s is not None and not self.exposure_s > 0):
            raise ValueError("LightSimParams delay_s must be >= 0 and exposure_s > 0")
        if self.noise_sigma < 0 or (self.tint_strength is not None and self.tint_strength < 0):
            raise ValueError("LightSimParams noise_sigma and tint_strength must be >= 0")
        if np.asarray(self.crosstalk).shape != (3, 3) or (np.asarray(self.crosstalk) < 0).any():
            raise ValueError("LightSimParams crosstalk must be a (3, 3) non-negative matrix")
        if min(self.device_half_size) <= 0:
            raise ValueError("LightSimParams device_half_size must be > 0")

    def describe(self) -> str:
        """One line of the parameters that decide the outcome, for reports."""
        return (f"screen {self.screen_luminance:g} cd/m2 {self.screen_size_m[0]:g}x"
                f"{self.screen_size_m[1]:g} m, ambient {self.ambient_lux:g} lux at "
                f"{self.ambient_elevation_deg:g} deg ({self.ambient_diffuse:g} diffuse), "
                f"delay {self.delay_s * 1e3:g} ms, noise {self.noise_sigma:g}, auto exposure "
                f"{'on' if self.auto_exposure else 'off'}")
