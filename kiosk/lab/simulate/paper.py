"""Printing a picture: gamut, CMYK halftone screens, ink density, and bending the sheet."""

from __future__ import annotations

import math

import cv2
import numpy as np

from kiosk.lab.simulate.common import saturate, to_linear
from kiosk.lab.simulate.params import PrintParams

# Screen angles of the four inks (C, M, Y, K), the classic offset-printing rosette.
SCREEN_ANGLES = (15.0, 75.0, 0.0, 45.0)

# How much of each channel (B, G, R) each ink (C, M, Y, K) absorbs at full density. Real
# cyan and magenta inks also absorb outside their band, which is part of a print's small gamut.
INK_ABSORPTION = np.array([[0.10, 0.30, 1.00],
                           [0.35, 1.00, 0.08],
                           [1.00, 0.10, 0.00],
                           [1.00, 1.00, 1.00]], np.float32)

# Limit on the extra print resolution (memory: the picture at this factor times the sheet).
MAX_PRINT_FACTOR = 4


def _spot_rank(bins: int) -> np.ndarray:
    """Fraction of a halftone cell whose spot value exceeds each of ``bins`` levels in [-2, 2]."""
    grid = np.linspace(0.0, 2.0 * math.pi, 512, endpoint=False)
    values = np.sort((np.cos(grid)[None, :] + np.cos(grid)[:, None]).ravel())
    levels = np.linspace(-2.0, 2.0, bins)
    return (1.0 - np.searchsorted(values, levels) / values.size).astype(np.float32)


# The spot function's rank is tabulated over this many levels (a lookup, not a search).
_SPOT_BINS = 4096
_SPOT_RANK = _spot_rank(_SPOT_BINS)


def halftone(coverage: np.ndarray, period: float, angle_deg: float,
             rng: np.random.Generator) -> np.ndarray:
    """Clustered-dot screen of one ink.

    Parameters
    ----------
    coverage : ndarray (H, W) float32 in [0, 1]
        Wanted ink coverage.
    period : float
        Dot spacing in pixels of ``coverage``.
    angle_deg : float
        Screen angle.
    rng : numpy.random.Generator
        Draws the screen's phase.

    Returns
    -------
    ndarray (H, W) float32 in [0, 1]
        Ink per pixel: dots that grow from the cell centres; over a cell the inked area equals
        the coverage. Edges are soft over about one pixel.
    """
    if coverage.ndim != 2:
        raise ValueError(f"coverage must be (H, W), got {coverage.shape}")
    if period < 1.0:
        raise ValueError(f"period must be >= 1 pixel, got {period}")
    h, w = coverage.shape
    a = math.radians(angle_deg)
    k = np.float32(2.0 * math.pi / period)
    x = np.arange(w, dtype=np.float32)[None, :]
    y = np.arange(h, dtype=np.float32)[:, None]
    px, py = rng.uniform(0.0, 2.0 * math.pi, 2)
    spot = (np.cos(k * (x * np.float32(math.cos(a)) + y * np.float32(math.sin(a))) + px)
            + np.cos(k * (y * np.float32(math.cos(a)) - x * np.float32(math.sin(a))) + py))
    # Rank of the spot value within one cell (0 at the centre, 1 at the corners): inking every
    # pixel whose rank is below the coverage gives exactly that area.
    bins = np.clip(((spot + 2.0) * np.float32((_SPOT_BINS - 1) / 4.0)).astype(np.int32),
                   0, _SPOT_BINS - 1)
    rank = _SPOT_RANK[bins]
    soft = np.float32(2.0 / period)
    return np.clip((coverage - rank) / soft + 0.5, 0.0, 1.0)


def print_picture(picture: np.ndarray, params: PrintParams, period: float, fine: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Reflectance of the inked picture (without paper colour or grain).

    Parameters
    ----------
    picture : ndarray (H, W, 3) uint8, BGR
        At sheet resolution.
    params : PrintParams
    period : float
        Halftone period in pixels of ``picture``.
    fine : int
        The dots are drawn ``fine`` times finer than ``picture`` and averaged back, so that a
        period of a pixel or two still prints real dots.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray (H, W, 3) float32 in [0, 1], relative to bare paper
    """
    lin = saturate(to_linear(picture), params.saturation)
    # The driver asks for the coverage that would give the wanted reflectance if the inks
    # absorbed only their own band: black takes gcr of the common part, and C, M, Y make up
    # the rest multiplicatively; the ink density then caps how dark anything gets.
    d = np.float32(params.ink_density)
    target = lin[:, :, ::-1]   # R, G, B reflectance, wanted from C, M, Y
    black = np.float32(params.gcr) * (1.0 - target.max(axis=2))
    under = 1.0 - d * black
    cmy = np.clip((1.0 - target / under[:, :, None]) / d, 0.0, 1.0)
    h, w = picture.shape[:2]
    coverages = [cmy[:, :, 0], cmy[:, :, 1], cmy[:, :, 2], black]
    if fine > 1:
        coverages = [cv2.resize(c, (w * fine, h * fine), interpolation=cv2.INTER_LINEAR)
                     for c in coverages]
    reflect = np.ones((h * fine, w * fine, 3), np.float32)
    for cov, angle, absorb in zip(coverages, SCREEN_ANGLES, INK_ABSORPTION, strict=True):
        ink = halftone(cov, period * fine, angle, rng)
        reflect = cv2.multiply(reflect, cv2.merge([1.0 - d * a * ink for a in absorb]))
    if fine > 1:
        reflect = cv2.resize(reflect, (w, h), interpolation=cv2.INTER_AREA)
    return reflect


def bend_sheet(sheet: np.ndarray, bend: float, distance: float,
               rng: np.random.Generator) -> np.ndarray:
    """Bend a flat sheet about its vertical midline as seen from the front.

    The sides recede by ``bend`` times the width, so they look narrower and the top and
    bottom edges bow; the shading follows the surface's turn away from the light.

    Parameters
    ----------
    sheet : ndarray (H, W, 4) float32
        Premultiplied linear BGR and alpha.
    bend : float
    distance : float
        Camera distance in sheet pixels.
    rng : numpy.random.Generator
        Draws the light's direction.

    Returns
    -------
    ndarray (H, W, 4) float32
    """
    if bend <= 0:
        return sheet
    h, w = sheet.shape[:2]
    radius = w / (8.0 * bend)   # sagitta = w^2 / (8 R) for a shallow arc of chord ~w
    arc = np.linspace(-0.55 * w, 0.55 * w, 4 * w)
    depth = radius * (1.0 - np.cos(arc / radius))
    shrink = distance / (distance + depth)
    seen = radius * np.sin(arc / radius) * shrink
    xs = np.arange(w, dtype=np.float64) - (w - 1) / 2.0
    ys = np.arange(h, dtype=np.float64) - (h - 1) / 2.0
    u = np.interp(xs, seen, arc)
    s = np.interp(u, arc, shrink)
    map_x = np.broadcast_to((u + (w - 1) / 2.0)[None, :], (h, w)).astype(np.float32)
    map_y = (ys[:, None] / s[None, :] + (h - 1) / 2.0).astype(np.float32)
    out = cv2.remap(sheet, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                    borderValue=0)
    tilt = u / radius
    light = rng.uniform(-0.35, 0.35)
    shade = np.clip(np.cos(tilt - light) / math.cos(light), 0.0, 1.2).astype(np.float32)
    out[:, :, :3] *= shade[None, :, None]
    return out

