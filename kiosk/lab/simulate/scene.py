"""The room around the attack: background, uneven light, the thumbs holding the object."""

from __future__ import annotations

import math

import cv2
import numpy as np

from kiosk.lab.simulate.common import TO_LINEAR, check_image, to_linear


def smooth_noise(shape: tuple[int, int], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian-filtered white noise of zero mean and unit standard deviation, (H, W) float32."""
    noise: np.ndarray = rng.standard_normal(shape).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), sigmaX=max(sigma, 0.3))
    std = float(noise.std())
    return (noise - noise.mean()) / (std if std > 0 else 1.0)


def synthetic_background(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A plain room behind the attack: a wall with a gradient, a few blurred furnishings.

    Colours are muted (an office or a hallway); nothing in it is a face.

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)``.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray (H, W, 3) float32, linear light
    """
    h, w = shape

    def muted(value: float) -> np.ndarray:
        hsv = np.array([[[rng.uniform(0, 180), rng.uniform(10, 70), value]]]).astype(np.uint8)
        return TO_LINEAR[cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]]

    wall = muted(rng.uniform(90, 200))
    ramp = np.linspace(rng.uniform(0.75, 1.0), rng.uniform(0.75, 1.0), h, dtype=np.float32)
    canvas: np.ndarray = np.empty((h, w, 3), np.float32)
    canvas[:] = wall[None, None, :] * ramp[:, None, None]
    for _ in range(int(rng.integers(2, 5))):
        x0, x1 = sorted(rng.uniform(-0.2, 1.2, 2) * w)
        y0, y1 = sorted(rng.uniform(-0.2, 1.2, 2) * h)
        cv2.rectangle(canvas, (int(x0), int(y0)), (int(x1), int(y1)),
                      tuple(float(c) for c in muted(rng.uniform(40, 180))), thickness=-1)
    canvas = cv2.GaussianBlur(canvas, (0, 0), sigmaX=max(w, h) / 60.0)
    mottle = 1.0 + 0.05 * smooth_noise((h, w), max(w, h) / 20.0, rng)
    return np.clip(canvas * mottle[:, :, None], 0.0, 1.0)


def background_canvas(background: np.ndarray | None, out_size: tuple[int, int], ss: int,
                      rng: np.random.Generator) -> np.ndarray:
    """What is behind the attack, on the supersampled canvas.

    Parameters
    ----------
    background : ndarray (h, w, 3) uint8 or None
        A photo, stretched to the frame; None for :func:`synthetic_background`.
    out_size : tuple of int
        ``(width, height)`` of the output frames.
    ss : int
        Supersampling factor of the canvas.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray (height * ss, width * ss, 3) float32, linear light
    """
    w, h = out_size
    if background is None:
        # Drawn at output size: it is blurred anyway, and blurring the canvas costs ss^2 more.
        small = synthetic_background((h, w), rng)
        return cv2.resize(small, (w * ss, h * ss), interpolation=cv2.INTER_LINEAR)
    check_image(background, "background")
    return to_linear(cv2.resize(background, (w * ss, h * ss), interpolation=cv2.INTER_LINEAR))


def light_falloff(shape: tuple[int, int], center: tuple[float, float],
                  strength: float) -> np.ndarray:
    """Illumination that fades away from a bright spot (a lamp off to one side).

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)``.
    center : tuple of float
        Brightest point ``(x, y)`` as fractions of the width and height.
    strength : float
        Fraction of light lost at the farthest corner, in [0, 1).

    Returns
    -------
    ndarray (H, W) float32 in (0, 1]
    """
    if not 0.0 <= strength < 1.0:
        raise ValueError(f"strength must be in [0, 1), got {strength}")
    h, w = shape
    x = (np.arange(w, dtype=np.float32) / max(w - 1, 1) - center[0])[None, :]
    y = (np.arange(h, dtype=np.float32) / max(h - 1, 1) - center[1])[:, None]
    r2 = x * x + y * y
    far = max((cx - center[0]) ** 2 + (cy - center[1]) ** 2 for cx in (0, 1) for cy in (0, 1))
    return (1.0 - strength * r2 / far).astype(np.float32)


def skin_tone(rng: np.random.Generator) -> np.ndarray:
    """A random skin colour (3,) in linear light, BGR, from light to dark."""
    light = np.array([150, 175, 225], np.float32)
    dark = np.array([45, 65, 105], np.float32)
    mix = rng.uniform(0.0, 1.0)
    bgr = (light * (1 - mix) + dark * mix) * rng.uniform(0.95, 1.05, 3)
    return TO_LINEAR[np.clip(np.rint(bgr), 0, 255).astype(np.uint8)]


def draw_fingers(canvas: np.ndarray, hom: np.ndarray, plane_size: tuple[float, float],
                 count: int, skin: np.ndarray, rng: np.random.Generator) -> None:
    """Paint thumbs gripping the edges of a hand-held plane, in place.

    Each thumb is a tapered shape with a rounded tip that reaches a little over one of the
    plane's edges (bottom, left or right) from outside, and moves with the plane.

    Parameters
    ----------
    canvas : ndarray (H, W, 3) float32, linear light
    hom : ndarray (3, 3)
        Plane units to canvas pixels.
    plane_size : tuple of float
        ``(width, height)`` of the plane (its outer edge) in plane units.
    count : int
        Number of thumbs, 0-3.
    skin : ndarray (3,)
    rng : numpy.random.Generator
    """
    pw, ph = plane_size
    # About a thumb's half-width on an A4 sheet or a phone held in landscape.
    radius = min(0.045 * max(pw, ph), 0.2 * min(pw, ph))
    h, w = canvas.shape[:2]
    for edge in ["bottom", "left", "right"][:max(0, min(count, 3))]:
        along = rng.uniform(0.25, 0.75)
        over, out = rng.uniform(0.6, 1.6) * radius, 0.3 * max(pw, ph)
        if edge == "bottom":
            tip, base, side = (along * pw, ph - over), (along * pw, ph + out), (1.0, 0.0)
        elif edge == "left":
            tip, base, side = (over, along * ph), (-out, along * ph), (0.0, 1.0)
        else:
            tip, base, side = (pw - over, along * ph), (pw + out, along * ph), (0.0, 1.0)
        # Outline in plane units: a half-disc tip, then sides widening towards the hand.
        ang = np.linspace(0.0, math.pi, 12)
        ux, uy = (tip[0] - base[0]), (tip[1] - base[1])
        norm = math.hypot(ux, uy)
        ux, uy = ux / norm, uy / norm
        cap = [(tip[0] + radius * (math.cos(a) * side[0] + math.sin(a) * ux),
                tip[1] + radius * (math.cos(a) * side[1] + math.sin(a) * uy)) for a in ang]
        outline = cap + [(base[0] - 1.5 * radius * side[0], base[1] - 1.5 * radius * side[1]),
                         (base[0] + 1.5 * radius * side[0], base[1] + 1.5 * radius * side[1])]
        pts = cv2.perspectiveTransform(np.array([outline], np.float64), hom)[0]
        # Work on the bounding box only: the canvas is supersampled and large.
        x0, y0 = np.maximum(np.floor(pts.min(axis=0)).astype(int) - 2, 0)
        x1, y1 = np.minimum(np.ceil(pts.max(axis=0)).astype(int) + 2, (w, h))
        if x1 <= x0 or y1 <= y0:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        poly = np.rint((pts - (x0, y0)) * 4).astype(np.int32)
        cv2.fillPoly(mask, [poly], 1.0, lineType=cv2.LINE_AA, shift=2)
        # Rounded shading across the finger: its sides turn away from the light.
        thick = max(1.0, float(np.sqrt(mask.sum() / max(np.ptp(pts, axis=0).max(), 1.0))))
        core = cv2.GaussianBlur(mask, (0, 0), sigmaX=thick / 3.0)
        shade = 0.55 + 0.45 * np.clip(core, 0.0, 1.0)
        region = canvas[y0:y1, x0:x1]
        region *= (1.0 - mask)[:, :, None]
        region += (mask * shade)[:, :, None] * skin[None, None, :]

