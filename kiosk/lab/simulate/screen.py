"""The screen of a replay: its layout, what it emits, and how it looks from the camera.

Plane coordinates are screen pixels: the lit screen spans ``[0, w] x [0, h]`` of a
:class:`ScreenLayout` and the device (bezel included) extends ``bezel_px`` beyond it on every
side. Each screen pixel is three vertical stripes, R, G, B from left to right, inside a black
matrix; the pattern is looked up per canvas pixel, so a grid finer than the camera aliases
into moire when the camera integrates its pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.lab.simulate.common import saturate, to_linear
from kiosk.lab.simulate.params import DEVICES, ReplayParams

# One screen pixel's emission pattern is tabulated at this resolution (columns, rows).
_STEPS = 24


def stripe_pattern(col_fill: float, row_fill: float, footprint: float) -> np.ndarray:
    """Emission across one screen pixel: R, G, B stripes left to right in a black matrix.

    Parameters
    ----------
    col_fill, row_fill : float
        Lit fraction of each stripe's width and of the pixel's height.
    footprint : float
        Size of one canvas pixel in screen pixels. The pattern is blurred (periodically) by
        about half of it: point-sampling the sharp pattern would alias its harmonics into
        false low-frequency bands that a camera, which integrates light over each pixel,
        does not show.

    Returns
    -------
    ndarray (_STEPS, _STEPS, 3) float32, BGR
        One period, mean 1 per channel (the gaps are made up by brighter stripes).
    """
    pos = (np.arange(_STEPS) + 0.5) / _STEPS
    sub = np.minimum((pos * 3).astype(int), 2)
    lit_col = (pos * 3 - sub) < col_fill
    lit_row = pos < row_fill
    pattern: np.ndarray = np.zeros((_STEPS, _STEPS, 3), np.float32)
    for channel, stripe in ((2, 0), (1, 1), (0, 2)):
        pattern[:, :, channel] = np.outer(lit_row, lit_col & (sub == stripe))
    pattern /= pattern.mean(axis=(0, 1), keepdims=True)
    sigma = 0.5 * footprint * _STEPS
    if sigma > 0.1:
        tiled = np.tile(pattern, (3, 3, 1))
        pattern = cv2.GaussianBlur(tiled, (0, 0), sigmaX=sigma)[_STEPS:2 * _STEPS,
                                                                 _STEPS:2 * _STEPS]
    return np.ascontiguousarray(pattern)


# Texels per screen pixel of the device outline mask (its edge is antialiased over one texel).
_MASK_SCALE = 2.0


@dataclass(frozen=True, eq=False)
class ScreenLayout:
    """Where things are on the device, in plane coordinates (screen pixels).

    Attributes
    ----------
    screen_size : tuple of int
        ``(width, height)`` of the lit screen in screen pixels.
    content_rect : tuple of int
        ``(x, y, width, height)`` of the played video on the screen (letterboxed).
    source_size : tuple of int
        ``(width, height)`` of the played video's frames.
    source_crop : tuple of int
        ``(x, y, width, height)`` of the part of each source frame that is shown.
    bezel_px : float
        Width of the bezel around the screen.
    pattern : ndarray (_STEPS, _STEPS, 3) float32
        One screen pixel's sub-pixel pattern (:func:`stripe_pattern`).
    screen_mask : ndarray (screen_h, screen_w) float32
        Ones: remapped with the screen's pixel indices it tells the screen from elsewhere.
    device_mask : ndarray float32
        The device's rounded outline, ``mask_scale`` texels per screen pixel, from the
        device's corner at (-bezel_px, -bezel_px).
    mask_scale : float
    """

    screen_size: tuple[int, int]
    content_rect: tuple[int, int, int, int]
    source_size: tuple[int, int]
    source_crop: tuple[int, int, int, int]
    bezel_px: float
    pattern: np.ndarray
    screen_mask: np.ndarray
    device_mask: np.ndarray
    mask_scale: float

    @property
    def device_size(self) -> tuple[float, float]:
        """``(width, height)`` of the device's outline in plane units."""
        return (self.screen_size[0] + 2 * self.bezel_px,
                self.screen_size[1] + 2 * self.bezel_px)


def layout_screen(source_size: tuple[int, int], out_size: tuple[int, int],
                  params: ReplayParams, ss: int) -> ScreenLayout:
    """Size the screen for the output frame and fit the played video on it.

    Parameters
    ----------
    source_size : tuple of int
        ``(width, height)`` of the played video.
    out_size : tuple of int
        ``(width, height)`` of the output frames.
    params : ReplayParams
    ss : int
        Supersampling of the canvas (sets how much the sub-pixel pattern is prefiltered).

    Returns
    -------
    ScreenLayout
    """
    src_w, src_h = source_size
    if src_w < 16 or src_h < 16:
        raise ValueError(f"source_size must be at least 16x16, got {source_size}")
    w_out, h_out = out_size
    aspect = DEVICES[params.device]
    if params.device != "monitor" and src_h > src_w:
        aspect = 1.0 / aspect
    # Screen box in output pixels (width / height = aspect), fitted to the scaled frame.
    box_w = min(params.screen_scale * w_out, params.screen_scale * h_out * aspect)
    screen_w = max(8, round(box_w / params.pixel_pitch))
    screen_h = max(8, round(box_w / aspect / params.pixel_pitch))
    # Fit the video whole, magnify by zoom up to filling the screen, crop the overflow.
    fit = min(screen_w / src_w, screen_h / src_h)
    fit = min(fit * params.zoom, max(screen_w / src_w, screen_h / src_h))
    cw, ch = min(screen_w, max(1, round(src_w * fit))), min(screen_h, max(1, round(src_h * fit)))
    crop_w, crop_h = min(src_w, max(1, round(cw / fit))), min(src_h, max(1, round(ch / fit)))
    bezel_px = params.bezel * min(screen_w, screen_h)
    return ScreenLayout(
        screen_size=(screen_w, screen_h),
        content_rect=((screen_w - cw) // 2, (screen_h - ch) // 2, cw, ch),
        source_size=(src_w, src_h),
        source_crop=((src_w - crop_w) // 2, (src_h - crop_h) // 2, crop_w, crop_h),
        bezel_px=bezel_px,
        pattern=stripe_pattern(params.col_fill, params.row_fill,
                               1.0 / (params.pixel_pitch * ss)),
        screen_mask=np.ones((screen_h, screen_w), np.float32),
        device_mask=device_outline(screen_w + 2 * bezel_px, screen_h + 2 * bezel_px,
                                   params.corner_radius, _MASK_SCALE),
        mask_scale=_MASK_SCALE)


def device_outline(width: float, height: float, corner_radius: float,
                   scale: float) -> np.ndarray:
    """A filled rounded rectangle, ``scale`` texels per unit, (ceil(h*s), ceil(w*s)) float32."""
    w, h = math.ceil(width * scale), math.ceil(height * scale)
    r = corner_radius * min(width, height) * scale
    x = np.arange(w, dtype=np.float32)[None, :] + 0.5
    y = np.arange(h, dtype=np.float32)[:, None] + 0.5
    dx = np.maximum(np.abs(x - width * scale / 2.0) - (width * scale / 2.0 - r), 0)
    dy = np.maximum(np.abs(y - height * scale / 2.0) - (height * scale / 2.0 - r), 0)
    inside = r - np.sqrt(dx * dx + dy * dy)   # distance inside the rounded corner
    edge = np.minimum(np.minimum(x, width * scale - x), np.minimum(y, height * scale - y))
    return np.clip(np.minimum(inside + 0.5, edge), 0.0, 1.0).astype(np.float32)


def display_image(frame: np.ndarray, params: ReplayParams, layout: ScreenLayout,
                  t: float) -> np.ndarray:
    """What the screen emits for one source frame, one value per screen pixel.

    Parameters
    ----------
    frame : ndarray (h, w, 3) uint8, BGR
    params : ReplayParams
    layout : ScreenLayout
    t : float
        Time in seconds (the refresh bands roll).

    Returns
    -------
    ndarray (screen_h, screen_w, 3) float32, linear light (1 = the camera's white)
    """
    p = params
    x, y, cw, ch = layout.content_rect
    sw, sh = layout.screen_size
    sx, sy, crop_w, crop_h = layout.source_crop
    if (frame.shape[1], frame.shape[0]) != layout.source_size:
        raise ValueError(f"frame is {frame.shape[1]}x{frame.shape[0]}; the screen was laid "
                         f"out for {layout.source_size[0]}x{layout.source_size[1]}")
    shown = frame[sy:sy + crop_h, sx:sx + crop_w]
    interp = cv2.INTER_AREA if cw < crop_w else cv2.INTER_LINEAR
    lin = saturate(to_linear(cv2.resize(shown, (cw, ch), interpolation=interp)), p.saturation)
    screen = np.zeros((sh, sw, 3), np.float32)
    screen[y:y + ch, x:x + cw] = np.power(lin, np.float32(p.display_gamma))
    white = np.float32(p.brightness) * np.asarray(p.white_tint, np.float32)
    screen = white * (np.float32(p.black_level) + np.float32(1.0 - p.black_level) * screen)
    if p.banding > 0:
        rows = np.arange(sh, dtype=np.float32) / (p.banding_period * sh)
        bands = 1.0 + p.banding * np.sin(2.0 * math.pi * (rows + p.banding_hz * t))
        screen *= bands.astype(np.float32)[:, None, None]
    return screen


def plane_coords(inv: np.ndarray, x0: int, y0: int, x1: int,
                 y1: int) -> tuple[np.ndarray, np.ndarray]:
    """Plane coordinates (u, v) of canvas pixels [y0, y1) x [x0, x1), each (h, w) float32.

    ``inv`` is the homography from canvas pixels to plane coordinates.
    """
    x = np.arange(x0, x1, dtype=np.float32)[None, :]
    y = np.arange(y0, y1, dtype=np.float32)[:, None]
    m = inv.astype(np.float32)
    den = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    u = (m[0, 0] * x + m[0, 1] * y + m[0, 2]) / den
    v = (m[1, 0] * x + m[1, 1] * y + m[1, 2]) / den
    return u, v


def paint_device(region: np.ndarray, u: np.ndarray, v: np.ndarray, screen: np.ndarray,
                 light: np.ndarray, params: ReplayParams, layout: ScreenLayout,
                 glare_offset: float) -> None:
    """Paint the device over canvas pixels at plane coordinates (u, v), in place.

    Parameters
    ----------
    region : ndarray (h, w, 3) float32
        Canvas pixels (linear light) showing what is behind the device.
    u, v : ndarray (h, w) float32
        Their plane coordinates (:func:`plane_coords`).
    screen : ndarray (screen_h, screen_w, 3) float32
        What the screen emits (:func:`display_image`).
    light : ndarray (h, w) float32
        Room light on these pixels (lights the bezel; the screen emits its own).
    params : ReplayParams
    layout : ScreenLayout
    glare_offset : float
        Position of the glare band across the device, fraction of its diagonal.
    """
    p = params
    sw, sh = layout.screen_size
    b = layout.bezel_px
    # Every lookup is a cv2.remap: these arrays are millions of pixels, every frame.
    fu, fv = np.floor(u), np.floor(v)
    sample = cv2.remap(screen, fu, fv, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=0)
    mask = cv2.remap(layout.pattern, (u - fu) * np.float32(_STEPS) - 0.5,
                     (v - fv) * np.float32(_STEPS) - 0.5, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_WRAP)
    emitted = cv2.multiply(sample, mask)
    in_screen = cv2.remap(layout.screen_mask, fu, fv, cv2.INTER_NEAREST,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    scale = np.float32(layout.mask_scale)
    in_device = cv2.remap(layout.device_mask, (u + np.float32(b)) * scale - 0.5,
                          (v + np.float32(b)) * scale - 0.5, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    # Over the background: the bezel (dark, lit by the room), then the emitting screen.
    bezel = light * np.float32(p.bezel_grey)
    region += cv2.merge([in_device * (bezel - region[:, :, c]) for c in range(3)])
    region *= cv2.merge([1.0 - in_screen] * 3)
    region += emitted
    # Specular glare band across the glass (screen and bezel), white, added.
    diag = math.hypot(sw + 2 * b, sh + 2 * b)
    a = math.radians(p.glare_angle)
    across = ((u - np.float32(sw / 2.0)) * np.float32(math.cos(a) / (diag * p.glare_width))
              + (v - np.float32(sh / 2.0)) * np.float32(math.sin(a) / (diag * p.glare_width)))
    across -= np.float32(glare_offset / p.glare_width)
    band = np.exp(-np.square(across)) * (in_device * np.float32(p.glare))
    region += cv2.merge([band] * 3)
