"""Simulated print attack: one still, printed on paper, held up to the camera by hand.

The still is printed once into a supersampled sheet (:mod:`~kiosk.lab.simulate.paper`:
reduced gamut, CMYK halftone screens, ink that never reaches black, paper dimmer than the
camera's white, paper grain, a white margin, an optional cylindrical bend with its shading);
every frame then places that same sheet with a smooth hand-held pose (a homography), in front
of a background, under uneven light, with thumbs on its edge if asked, and films it.

Typical use::

    rng = np.random.default_rng(seed)
    params = PrintParams.random(rng)
    scene = prepare_print(still, n_frames, fps, params, rng)
    frames = [render_print_frame(scene, i, rng) for i in range(n_frames)]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.lab.simulate.common import camera_capture, check_image
from kiosk.lab.simulate.motion import (
    hand_motion,
    plane_homography,
    plane_normal,
    supersampled,
)
from kiosk.lab.simulate.paper import MAX_PRINT_FACTOR, bend_sheet, print_picture
from kiosk.lab.simulate.params import PrintParams
from kiosk.lab.simulate.scene import (
    background_canvas,
    draw_fingers,
    light_falloff,
    skin_tone,
    smooth_noise,
)


@dataclass(frozen=True, eq=False)
class PrintScene:
    """Everything that stays fixed over a print video.

    Attributes
    ----------
    params : PrintParams
    out_size : tuple of int
        ``(width, height)`` of the output frames.
    sheet : ndarray (h, w, 4) float32
        The printed sheet at ``params.supersample`` times output resolution, linear
        premultiplied BGR and alpha.
    background : ndarray (H * ss, W * ss, 3) float32
        What is behind the sheet, linear light.
    light : ndarray (H * ss, W * ss, 3) float32
        Illumination falloff over the scene.
    sheet_to_frame : ndarray (n, 3, 3)
        Per frame: sheet pixels to output pixels.
    still_to_frame : ndarray (n, 3, 3)
        Per frame: pixels of the source still to output pixels (exact when ``bend == 0``).
    gains : ndarray (n,) float32
        Per frame: Lambertian brightness of the sheet relative to facing the light squarely.
    skin : ndarray (3,) float32
    finger_seed : int
        Seeds the thumbs' positions, which stay put on the sheet.
    """

    params: PrintParams
    out_size: tuple[int, int]
    sheet: np.ndarray
    background: np.ndarray
    light: np.ndarray
    sheet_to_frame: np.ndarray
    still_to_frame: np.ndarray
    gains: np.ndarray
    skin: np.ndarray
    finger_seed: int

    @property
    def n_frames(self) -> int:
        return int(self.sheet_to_frame.shape[0])


def prepare_print(still: np.ndarray, n_frames: int, fps: float, params: PrintParams,
                  rng: np.random.Generator, out_size: tuple[int, int] | None = None,
                  background: np.ndarray | None = None) -> PrintScene:
    """Print the still and plan the hand-held motion.

    Parameters
    ----------
    still : ndarray (H, W, 3) uint8, BGR
        The picture to print.
    n_frames : int
    fps : float
    params : PrintParams
    rng : numpy.random.Generator
    out_size : tuple of int, optional
        ``(width, height)`` of the output; the still's size by default.
    background : ndarray (H, W, 3) uint8, optional
        What is behind the sheet, resized to the output; a synthetic room by default.

    Returns
    -------
    PrintScene
    """
    check_image(still, "still")
    sh_, sw_ = still.shape[:2]
    w_out, h_out = out_size if out_size is not None else (sw_, sh_)
    ss = params.supersample
    # Picture size in sheet pixels: fit the frame's sheet_scale box, keep the aspect ratio.
    fit = params.sheet_scale * min(w_out / sw_, h_out / sh_) * ss
    pic_w, pic_h = max(8, round(sw_ * fit)), max(8, round(sh_ * fit))
    margin = round(params.margin * min(pic_w, pic_h))
    sheet_w, sheet_h = pic_w + 2 * margin, pic_h + 2 * margin

    # Screen the picture at a resolution where a dot spans >= 4 pixels, then average down to
    # the sheet: the printed dots are real, and what the sheet keeps of them is what survives
    # area sampling (a finer screen than the camera resolves mostly averages out).
    period = params.halftone_period * ss
    fine = max(1, min(MAX_PRINT_FACTOR, math.ceil(4.0 / period)))
    interp = cv2.INTER_CUBIC if pic_w > sw_ else cv2.INTER_AREA
    picture = cv2.resize(still, (pic_w, pic_h), interpolation=interp)
    inked = print_picture(picture, params, period, fine, rng)
    paper = np.float32(params.paper_white) * np.asarray(params.paper_tint, np.float32)
    grain = (0.6 * smooth_noise((sheet_h, sheet_w), 0.7 * ss, rng)
             + 0.4 * smooth_noise((sheet_h, sheet_w), 6.0 * ss, rng))
    sheet = np.empty((sheet_h, sheet_w, 4), np.float32)
    sheet[:, :, :3] = paper[None, None, :] * (1.0 + np.float32(params.paper_texture)
                                              * grain)[:, :, None]
    sheet[margin:margin + pic_h, margin:margin + pic_w, :3] *= inked
    sheet[:, :, 3] = 1.0
    focal = (w_out / 2.0) / math.tan(math.radians(params.motion.fov_deg) / 2.0)
    sheet = bend_sheet(sheet, params.bend, focal * ss, rng)

    poses = hand_motion(n_frames, fps, params.motion, rng)
    center = ((sheet_w - 1) / 2.0, (sheet_h - 1) / 2.0)
    sheet_to_frame = np.stack([plane_homography(p, center, 1.0 / ss, (w_out, h_out),
                                                params.motion.fov_deg) for p in poses])
    # cv2.resize maps pixel centres: x_pic = (x_still + 0.5) * f - 0.5.
    fx, fy = pic_w / sw_, pic_h / sh_
    still_to_sheet = np.array([[fx, 0.0, 0.5 * fx - 0.5 + margin],
                               [0.0, fy, 0.5 * fy - 0.5 + margin], [0.0, 0.0, 1.0]])
    still_to_frame = sheet_to_frame @ still_to_sheet

    # Lamp in front of the sheet, off towards light_center; the front face's normal is -R[:, 2].
    lamp = np.array([params.light_center[0] - 0.5, params.light_center[1] - 0.5, -1.0])
    lamp /= np.linalg.norm(lamp)
    gains = np.array([max(0.2, float(-plane_normal(p) @ lamp)) / -lamp[2] for p in poses],
                     np.float32)

    size_hi = (h_out * ss, w_out * ss)
    back = background_canvas(background, (w_out, h_out), ss, rng)
    light = cv2.merge([light_falloff(size_hi, params.light_center, params.light_falloff)] * 3)
    return PrintScene(params=params, out_size=(w_out, h_out), sheet=sheet, background=back,
                      light=light, sheet_to_frame=sheet_to_frame, still_to_frame=still_to_frame,
                      gains=gains, skin=skin_tone(rng), finger_seed=int(rng.integers(2**31)))


def render_print_frame(scene: PrintScene, index: int, rng: np.random.Generator) -> np.ndarray:
    """Film the sheet in its pose for frame ``index``.

    Parameters
    ----------
    scene : PrintScene
    index : int
        0 <= index < scene.n_frames.
    rng : numpy.random.Generator
        Draws the sensor noise.

    Returns
    -------
    ndarray (H, W, 3) uint8, BGR
    """
    if not 0 <= index < scene.n_frames:
        raise ValueError(f"index must be in [0, {scene.n_frames}), got {index}")
    ss = scene.params.supersample
    w_out, h_out = scene.out_size
    hom = supersampled(scene.sheet_to_frame[index], ss)
    warped = cv2.warpPerspective(scene.sheet, hom, (w_out * ss, h_out * ss),
                                 flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=0)
    # Premultiplied "over": sheet * gain + background * (1 - alpha), then the scene light.
    alpha = cv2.merge([warped[:, :, 3]] * 3)
    img = cv2.multiply(warped[:, :, :3], (float(scene.gains[index]),) * 4)
    img = cv2.add(img, cv2.subtract(scene.background, cv2.multiply(scene.background, alpha)))
    img = cv2.multiply(img, scene.light)
    if scene.params.fingers:
        h, w = scene.sheet.shape[:2]
        skin = scene.skin * float(scene.light.mean())
        draw_fingers(img, hom, (w, h), scene.params.fingers, skin,
                     np.random.default_rng(scene.finger_seed))
    return camera_capture(img, ss, scene.params.camera, rng)


def simulate_print(still: np.ndarray, n_frames: int, fps: float, rng: np.random.Generator,
                   params: PrintParams | None = None, out_size: tuple[int, int] | None = None,
                   background: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Frames of a print attack made from ``still`` (see :func:`prepare_print`).

    ``params`` default to :meth:`PrintParams.random` drawn from ``rng``.

    Yields
    ------
    ndarray (H, W, 3) uint8, BGR
    """
    if params is None:
        params = PrintParams.random(rng)
    scene = prepare_print(still, n_frames, fps, params, rng, out_size, background)
    for i in range(n_frames):
        yield render_print_frame(scene, i, rng)

