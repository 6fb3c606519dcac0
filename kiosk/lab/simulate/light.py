"""Simulated light challenge: a real clip relit by the kiosk's screen, and three attacks.

For tests and the fusion's simulated block only; every figure from it is reported apart from
real captures. What is simulated (parameters and their physical basis in
:class:`~kiosk.lab.simulate.light_params.LightSimParams`):

- **none** (a live face): each frame's face mesh gives a 3D surface and its normals
  (:mod:`.light_geometry`); the screen is an area light of known size, position and
  luminance; the face receives ``L * G`` lux from it (``G``: projected solid angle) on top of
  the room's ``ambient_lux``, so a pixel's diffuse light grows by ``L G / (E_room S)`` of what
  the room gave it (``S``: the room light's shading at that normal), in the camera's colours
  of the screen's colour; skin's specular lobe adds the screen's colour where it mirrors the
  screen. The wall behind gets the screen's light at its distance.
- **tint** (an injector): the recording itself, its whole picture multiplied by the colour a
  face would take, with the camera's delay: no face, only a stream that knows the colours.
- **screen** (a phone replay): the recording shown on a phone held before the face; the phone
  emits its own picture, and its cover glass mirrors the kiosk's screen uniformly.
- **print**: one frame of the recording printed and held flat, a matte Lambertian plane.

The camera integrates the screen's light over its exposure, after its delay, optionally with
auto exposure, adds shot noise and encodes sRGB. Pure numpy/OpenCV; randomness only from the
``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math

import numpy as np

from kiosk.analysis.light.regions import TO_LINEAR
from kiosk.analysis.light.sequence import LightSequence, srgb_to_linear
from kiosk.lab.simulate.light_geometry import (
    ambient_shading,
    face_distance,
    face_surface,
    mirrored_screen,
    plane_surface,
    screen_irradiance,
    wall_irradiance,
)
from kiosk.lab.simulate.light_params import ATTACKS, LightSimParams

# Rec. 709 luma weights in OpenCV's channel order (B, G, R), for linear light.
_LUMA_BGR = np.array([0.0722, 0.7152, 0.2126], np.float32)
# A glass cover is a mirror: its specular lobe is a fraction of a degree wide.
GLASS_LOBE_DEG = 0.5


def emitted_average(seq: LightSequence, t0: float, t1: float,
                    ui_rgb: tuple[int, int, int]) -> np.ndarray:
    """Mean linear R, G, B the screen emitted during ``[t0, t1]`` (the UI outside the
    sequence), ``(3,)`` float64."""
    ui = np.array([srgb_to_linear(c) for c in ui_rgb])
    if t1 <= t0:
        t1 = t0 + 1e-6
    total = np.zeros(3)
    covered = 0.0
    for s in seq.segments:
        a, b = max(t0, s.start), min(t1, s.end)
        if b > a:
            total += (b - a) * np.array([srgb_to_linear(c) for c in s.rgb])
            covered += b - a
    total += (t1 - t0 - covered) * ui
    return total / (t1 - t0)


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear light (clipped to [0, 1]) to sRGB code values as float (0-255)."""
    v = np.clip(linear, 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1.0 / 2.4) - 0.055) * 255.0


def device_box(landmarks: np.ndarray, shape: tuple[int, int], params: LightSimParams
               ) -> tuple[int, int, int, int]:
    """The phone screen or print around the face: ``(x0, y0, x1, y1)`` pixels, clipped."""
    pts = np.asarray(landmarks)[:468, :2]
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    cx, cy, bw, bh = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    hw, hh = params.device_half_size
    h, w = shape
    return (max(int(cx - hw * bw), 0), max(int(cy - hh * bh), 0),
            min(int(math.ceil(cx + hw * bw)), w), min(int(math.ceil(cy + hh * bh)), h))


class LightSimulator:
    """Renders the frames of one simulated clip, in order.

    Parameters
    ----------
    seq : LightSequence
        Times in the output's media time (frame ``i`` is at ``i / fps``).
    params : LightSimParams
    attack : str
        One of :data:`~kiosk.lab.simulate.light_params.ATTACKS`.
    fps : float
        Output frame rate.
    shape : tuple of int
        (height, width) of the frames.
    rng : numpy.random.Generator
        Sensor noise.
    reference_landmarks : ndarray (478, 3)
        A face of the clip (the first tracked one): sets the camera's exposure, places the
        phone or the print and sizes the injector's tint.

    Notes
    -----
    The camera's exposure is locked while the kiosk's interface lights the face (as the
    kiosk locks it before the sequence): the face under the interface's light keeps the
    recording's brightness, so the dark reference is darker and few colours clip.
    """

    def __init__(self, seq: LightSequence, params: LightSimParams, attack: str, fps: float,
                 shape: tuple[int, int], rng: np.random.Generator,
                 reference_landmarks: np.ndarray | None) -> None:
        if attack not in ATTACKS:
            raise ValueError(f"attack must be one of {', '.join(ATTACKS)}, got {attack!r}")
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        if reference_landmarks is None:
            raise ValueError("reference_landmarks (a face of the clip) is needed")
        self.seq, self.params, self.attack, self.fps = seq, params, attack, float(fps)
        self.shape = (int(shape[0]), int(shape[1]))
        self.rng = rng
        self.exposure = params.exposure_s if params.exposure_s is not None else 1.0 / fps
        self.wall = params.screen_luminance * wall_irradiance(params) / params.ambient_lux
        self._gain = 1.0
        self._target: float | None = None
        self._box: tuple[int, int, int, int] | None = None
        self._plane_rel: np.ndarray | None = None
        self._tint = 0.0
        self._prepare(np.asarray(reference_landmarks, np.float64))
        ui = np.array([srgb_to_linear(c) for c in params.ui_rgb])
        self._lock = np.float32(1.0 / (1.0 + self._face_rel * float(ui.mean())))

    def _prepare(self, lm: np.ndarray) -> None:
        p, h_w = self.params, self.shape
        dist = face_distance(lm, h_w[1], p)
        frontal = screen_irradiance(np.array([0.0, 0.0, dist]), np.array([0.0, 0.0, -1.0]), p)
        self._face_rel = float(p.screen_luminance * frontal / p.ambient_lux)
        self._tint = p.tint_strength if p.tint_strength is not None else self._face_rel
        if self.attack in ("screen", "print"):
            box = device_box(lm, h_w, p)
            self._box = box
            pts = lm[:468, :2]
            centre = (float(pts[:, 0].mean()), float(pts[:, 1].mean()))
            points, normal = plane_surface(centre, dist, p.device_tilt_deg, h_w, p)
            x0, y0, x1, y1 = box
            crop = points[y0:y1, x0:x1]
            if self.attack == "screen":
                mirror = mirrored_screen(crop, normal, p, GLASS_LOBE_DEG)
                self._plane_rel = (p.glass_reflectance * p.screen_luminance
                                   / p.phone_luminance * mirror)
            else:
                irr = screen_irradiance(crop, normal, p)
                shade = float(ambient_shading(normal[None, :], p)[0])
                self._plane_rel = p.screen_luminance * irr / (p.ambient_lux * max(shade, 0.05))

    def camera_colour(self, index: int) -> np.ndarray:
        """The camera's B, G, R response to the screen's light during frame ``index``
        (linear, 1 = the screen's white), ``(3,)`` float32."""
        t = index / self.fps
        end = t - self.params.delay_s
        rgb = emitted_average(self.seq, end - self.exposure, end, self.params.ui_rgb)
        return (np.asarray(self.params.crosstalk) @ rgb)[::-1].astype(np.float32)

    def render(self, image: np.ndarray, landmarks: np.ndarray | None, index: int
               ) -> np.ndarray:
        """Frame ``index`` of the output.

        Parameters
        ----------
        image : ndarray (H, W, 3) uint8, BGR
            The source frame (the still, for a print). Not modified.
        landmarks : ndarray (478, 3) or None
            Its face mesh (used for "none"); None when no face was found.
        index : int
            Output frame number.

        Returns
        -------
        ndarray (H, W, 3) uint8, BGR
        """
        if image.shape[:2] != self.shape or image.dtype != np.uint8 or image.ndim != 3:
            raise ValueError(f"image must be {self.shape} (H, W, 3) uint8, got {image.shape} "
                             f"{image.dtype}")
        p = self.params
        colour = self.camera_colour(index)
        base = TO_LINEAR[image]
        if self.attack == "tint":
            out = base * (1.0 + np.float32(self._tint) * colour)
        else:
            out = base * (1.0 + np.float32(self.wall) * colour)
        if self.attack == "none" and landmarks is not None:
            out = self._relight_face(base, out, np.asarray(landmarks, np.float64), colour)
        elif self.attack in ("screen", "print") and self._box is not None \
                and self._plane_rel is not None:
            x0, y0, x1, y1 = self._box
            rel = self._plane_rel[:, :, None] * colour
            if self.attack == "screen":
                out[y0:y1, x0:x1] = base[y0:y1, x0:x1] + rel
            else:
                out[y0:y1, x0:x1] = base[y0:y1, x0:x1] * (1.0 + rel)
        out *= self._lock
        if p.auto_exposure:
            out = self._auto_exposure(out)
        encoded = srgb_encode(out)
        if p.noise_sigma > 0:
            sigma = p.noise_sigma * np.sqrt(np.clip(out, 1e-4, 1.0) / 0.2)
            encoded = encoded + sigma * self.rng.standard_normal(encoded.shape,
                                                                 dtype=np.float32)
        return np.clip(np.rint(encoded), 0, 255).astype(np.uint8)

    def _relight_face(self, base: np.ndarray, out: np.ndarray, lm: np.ndarray,
                      colour: np.ndarray) -> np.ndarray:
        p = self.params
        surf = face_surface(lm, self.shape, p)
        on = surf.mask > 1e-3
        pts, nrm = surf.points[on], surf.normals[on]
        irr = screen_irradiance(pts, nrm, p)
        shade = np.maximum(ambient_shading(nrm, p), 0.05)
        diffuse = p.screen_luminance * irr / (p.ambient_lux * shade)
        # The camera's scale from radiance to pixel, from the skin's median: a diffuse pixel
        # is k * albedo * E_room * shade / pi. The specular radiance is F * L where the lobe
        # sees the screen, white (not the skin's colour).
        luma = base[on] @ _LUMA_BGR
        k = math.pi * float(np.median(luma / shade)) / (p.skin_albedo * p.ambient_lux)
        spec = k * p.skin_specular * p.screen_luminance * mirrored_screen(
            pts, nrm, p, p.specular_lobe_deg)
        face = base[on] * (1.0 + diffuse[:, None] * colour) + spec[:, None] * colour
        m = surf.mask[on][:, None]
        out[on] = out[on] * (1.0 - m) + face * m
        return out

    def _auto_exposure(self, out: np.ndarray) -> np.ndarray:
        lum = float(np.mean(out @ _LUMA_BGR))
        if self._target is None:
            self._target = lum
        alpha = 1.0 - math.exp(-1.0 / (self.fps * self.params.ae_time_constant_s))
        self._gain += alpha * (self._target / max(lum, 1e-6) - self._gain)
        return out * np.float32(self._gain)
