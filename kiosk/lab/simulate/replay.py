"""Simulated replay attack: a bona fide video played on a phone, tablet or monitor and filmed.

Every frame of the source is shown on the screen (:mod:`~kiosk.lab.simulate.screen`:
whole pixels of R, G, B stripes in a black matrix, a display tone curve, optional rolling
refresh bands). The device (screen inside a dark bezel with rounded corners) moves as a plane
in front of a background, a glare band lies across its glass and moves with it, thumbs may
grip it, and the camera films it: the scene is rendered ``ss`` times finer than the output
and each output pixel averages its block, so a screen grid finer than the camera aliases into
moire, as it does on a real sensor.

Typical use::

    rng = np.random.default_rng(seed)
    params = ReplayParams.random(rng)
    scene = prepare_replay(n_frames, fps, (width, height), params, rng)
    out = [render_replay_frame(scene, frame, i, rng) for i, frame in enumerate(frames)]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.lab.simulate.common import camera_capture, check_image
from kiosk.lab.simulate.motion import hand_motion, plane_homography, supersampled
from kiosk.lab.simulate.params import ReplayParams
from kiosk.lab.simulate.scene import (
    background_canvas,
    draw_fingers,
    light_falloff,
    skin_tone,
)
from kiosk.lab.simulate.screen import (
    ScreenLayout,
    display_image,
    layout_screen,
    paint_device,
    plane_coords,
)


@dataclass(frozen=True, eq=False)
class ReplayScene:
    """Everything that stays fixed over a replay video.

    Attributes
    ----------
    params : ReplayParams
    out_size : tuple of int
        ``(width, height)`` of the output frames.
    layout : ScreenLayout
        The screen, the played video's place on it and the bezel, in plane coordinates.
    device_to_frame : ndarray (n, 3, 3)
        Per frame: plane coordinates (screen pixels) to output pixels.
    glare_offsets : ndarray (n,)
        Per frame: position of the glare band (it moves as the device turns).
    background : ndarray (H * ss, W * ss, 3) float32
        Lit background, linear light.
    light : ndarray (H * ss, W * ss) float32
        Illumination falloff (lights the bezel and the background, not the screen).
    skin : ndarray (3,) float32
    finger_seed : int
        Seeds the thumbs' positions, which stay put on the device.
    fps : float
    """

    params: ReplayParams
    out_size: tuple[int, int]
    layout: ScreenLayout
    device_to_frame: np.ndarray
    glare_offsets: np.ndarray
    background: np.ndarray
    light: np.ndarray
    skin: np.ndarray
    finger_seed: int
    fps: float

    @property
    def n_frames(self) -> int:
        return int(self.device_to_frame.shape[0])


def prepare_replay(n_frames: int, fps: float, source_size: tuple[int, int],
                   params: ReplayParams, rng: np.random.Generator,
                   out_size: tuple[int, int] | None = None,
                   background: np.ndarray | None = None) -> ReplayScene:
    """Lay out the screen and plan its motion.

    Parameters
    ----------
    n_frames : int
    fps : float
    source_size : tuple of int
        ``(width, height)`` of the played video.
    params : ReplayParams
    rng : numpy.random.Generator
    out_size : tuple of int, optional
        ``(width, height)`` of the output; ``source_size`` by default.
    background : ndarray (H, W, 3) uint8, optional
        What is behind the device; a synthetic room by default.

    Returns
    -------
    ReplayScene
    """
    w_out, h_out = out_size if out_size is not None else source_size
    ss = params.supersample
    layout = layout_screen(source_size, (w_out, h_out), params, ss)
    poses = hand_motion(n_frames, fps, params.motion, rng)
    sw, sh = layout.screen_size
    homs = np.stack([plane_homography(p, (sw / 2.0, sh / 2.0), params.pixel_pitch,
                                      (w_out, h_out), params.motion.fov_deg) for p in poses])
    # A reflection moves across the glass as the device turns (~2% of the diagonal a degree).
    glare = params.glare_offset + 0.02 * (poses[:, 0] + poses[:, 1])

    size_hi = (h_out * ss, w_out * ss)
    light_center = (rng.uniform(-0.2, 1.2), rng.uniform(-0.2, 1.0))
    light = light_falloff(size_hi, light_center, rng.uniform(0.1, 0.4))
    back = background_canvas(background, (w_out, h_out), ss, rng)
    back *= light[:, :, None]
    return ReplayScene(params=params, out_size=(w_out, h_out), layout=layout,
                       device_to_frame=homs, glare_offsets=glare, background=back, light=light,
                       skin=skin_tone(rng), finger_seed=int(rng.integers(2**31)),
                       fps=float(fps))


def render_replay_frame(scene: ReplayScene, frame: np.ndarray, index: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Film the device showing ``frame`` in its pose for frame ``index``.

    Parameters
    ----------
    scene : ReplayScene
    frame : ndarray (h, w, 3) uint8, BGR
        The source frame shown on the screen.
    index : int
        0 <= index < scene.n_frames.
    rng : numpy.random.Generator
        Draws the sensor noise.

    Returns
    -------
    ndarray (H, W, 3) uint8, BGR
    """
    check_image(frame, "frame")
    if not 0 <= index < scene.n_frames:
        raise ValueError(f"index must be in [0, {scene.n_frames}), got {index}")
    p = scene.params
    ss = p.supersample
    w_out, h_out = scene.out_size
    canvas = scene.background.copy()
    hom = supersampled(scene.device_to_frame[index], ss)
    dev_w, dev_h = scene.layout.device_size
    b = scene.layout.bezel_px
    corners = np.array([[[-b, -b], [dev_w - b, -b], [dev_w - b, dev_h - b], [-b, dev_h - b]]],
                       np.float64)
    pts = cv2.perspectiveTransform(corners, hom)[0]
    # Only the device's bounding box needs the per-pixel work.
    x0, y0 = np.maximum(np.floor(pts.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(pts.max(axis=0)).astype(int) + 1, (w_out * ss, h_out * ss))
    if x1 > x0 and y1 > y0:
        u, v = plane_coords(np.linalg.inv(hom), x0, y0, x1, y1)
        screen = display_image(frame, p, scene.layout, index / scene.fps)
        paint_device(canvas[y0:y1, x0:x1], u, v, screen, scene.light[y0:y1, x0:x1], p,
                     scene.layout, float(scene.glare_offsets[index]))
    if p.fingers:
        # The thumbs' plane starts at the device's corner, (-b, -b) in screen pixels.
        corner = np.array([[1.0, 0.0, -b], [0.0, 1.0, -b], [0.0, 0.0, 1.0]])
        draw_fingers(canvas, hom @ corner, (dev_w, dev_h), p.fingers,
                     scene.skin * float(scene.light.mean()),
                     np.random.default_rng(scene.finger_seed))
    return camera_capture(canvas, ss, p.camera, rng)


def simulate_replay(frames: Iterable[np.ndarray], n_frames: int, fps: float,
                    source_size: tuple[int, int], rng: np.random.Generator,
                    params: ReplayParams | None = None, out_size: tuple[int, int] | None = None,
                    background: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Frames of a replay attack of ``frames`` (see :func:`prepare_replay`).

    ``params`` default to :meth:`ReplayParams.random` drawn from ``rng``. Stops after
    ``n_frames`` or when ``frames`` ends, whichever comes first.

    Yields
    ------
    ndarray (H, W, 3) uint8, BGR
    """
    if params is None:
        params = ReplayParams.random(rng)
    scene = prepare_replay(n_frames, fps, source_size, params, rng, out_size, background)
    for i, frame in enumerate(frames):
        if i >= n_frames:
            break
        yield render_replay_frame(scene, frame, i, rng)
