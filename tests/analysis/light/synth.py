"""Synthetic per-frame measurements for the light judge: a face whose five regions reflect the
screen's light by stated amounts, a background, and the camera's delay, exposure, drift and
noise. No images: the numbers :func:`kiosk.analysis.light.judge.judge` reads.
"""

from __future__ import annotations

import numpy as np

from kiosk.analysis.light.sequence import LightSequence
from kiosk.lab.simulate.light import emitted_average
from kiosk.lab.simulate.light_params import LightSimParams

#: Relative response of forehead, nose, chin, right and left cheek to the screen's white (a
#: face about 0.3 m from a 24-inch screen in 300 lux: see kiosk/lab/simulate/light.py).
FACE = (0.45, 0.85, 1.3, 0.7, 0.72)
FLAT = (0.8, 0.8, 0.8, 0.8, 0.8)
#: The room's light on each region (R, G, B linear): skin, a little redder on the cheeks.
SKIN = np.array([[0.30, 0.21, 0.16], [0.28, 0.19, 0.15], [0.22, 0.15, 0.12],
                 [0.27, 0.17, 0.13], [0.27, 0.17, 0.13]])
WALL = np.array([[0.35, 0.33, 0.30], [0.20, 0.22, 0.25]])
CROSSTALK = LightSimParams().crosstalk


def trace(seq: LightSequence, fps: float = 30.0, seconds: float | None = None, *,
          seed: int = 0, delay: float = 0.09, response=FACE, wall: float = 0.07,
          tint: float = 0.0, auto_exposure: float = 0.0, drift: float = 0.002,
          noise: float = 0.003, jitter: float = 0.0, clipped: float = 0.0,
          ui=(235, 235, 235)):
    """``(t, face, background, clipped)`` as :func:`judge` takes them.

    Parameters
    ----------
    delay : float
        Camera latency (s); ``jitter`` adds a random latency per colour (an answer that does
        not come through a camera's fixed pipeline).
    response : sequence of 5 floats
        Relative response of each region to the screen's white.
    wall : float
        Relative response of the background.
    tint : float
        A tint of the whole picture (face and background alike) following the colours.
    auto_exposure : float
        0-1: how much of a brightness change the camera's exposure takes back (smoothed
        over 0.3 s).
    clipped : float or sequence of 5 floats
        Share of clipped pixels (all regions, or per region).
    drift, noise : float
        Per-frame random walk and white noise, relative (head motion, sensor).
    """
    rng = np.random.default_rng(seed)
    duration = seconds if seconds is not None else seq.end + 1.0
    n = int(duration * fps)
    t = np.arange(n) / fps
    shift = {s.start: rng.uniform(-jitter, jitter) for s in seq.segments} if jitter else {}
    cam = np.zeros((n, 3))
    for i, ti in enumerate(t):
        d = delay
        if shift:
            # The colour shown at ti - delay decides which segment's jitter applies.
            starts = [s for s in shift if s <= ti - delay]
            d += shift[max(starts)] if starts else 0.0
        rgb = emitted_average(seq, ti - d - 1.0 / fps, ti - d, ui)
        cam[i] = CROSSTALK @ rgb
    resp = np.asarray(response, np.float64)
    walk = np.cumsum(rng.normal(0, drift, (n, 1, 3)), axis=0)
    face = SKIN[None] * (1.0 + resp[None, :, None] * cam[:, None, :]) * np.exp(walk)
    bg = WALL[None] * (1.0 + wall * cam[:, None, :])
    if tint:
        face = face * (1.0 + tint * cam[:, None, :])
        bg = bg * (1.0 + tint * cam[:, None, :])
    if auto_exposure:
        bright = face.mean(axis=(1, 2))
        alpha = 1.0 - np.exp(-1.0 / (0.3 * fps))
        gain = np.ones(n)
        for i in range(1, n):
            target = bright[0] / bright[i]
            gain[i] = gain[i - 1] + alpha * (target - gain[i - 1])
        gain = 1.0 + auto_exposure * (gain - 1.0)
        face = face * gain[:, None, None]
        bg = bg * gain[:, None, None]
    face = face * (1.0 + rng.normal(0, noise, face.shape))
    bg = bg * (1.0 + rng.normal(0, noise / 3, bg.shape))
    return t, face, bg, np.broadcast_to(np.asarray(clipped, np.float64), (n, 5)).copy()
