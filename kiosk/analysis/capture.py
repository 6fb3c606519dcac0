"""Whether a capture's frame rate lets the liveness cues see what they look for.

The passive evidence of life is motion over time: eyelids that close and open, a mouth that
deforms, a head whose parallax shows depth. A blink is the shortest of these: its lids are
closed for 100 ms or more (:data:`~kiosk.analysis.physiology.SHORTEST_BLINK_S`), so a frame
at least every 100 ms, 10 per second, is the slowest capture in which every blink shows in at
least one frame. Below that the cues can still fire on an attack, but a live face cannot earn
its evidence, and a failed check would blame the person for the camera: the fusion refuses to
judge such a capture (:meth:`kiosk.analysis.fusion.Fusion.fuse`, reason CAPTURE_TOO_SLOW),
as it refuses a still.

The rate is that of the frames the analysis saw (a slow camera and a worker that drops frames
look the same to the cues): the inverse of the median interval between their times, robust to
a stall or a burst. A session need not run its prompts to learn it: once
:data:`EARLY_SPAN_S` of frames are in, :func:`too_slow_so_far` says whether the frames so far
came too slowly, and the session ends then rather than after the person answered every prompt.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kiosk.analysis.physiology import SHORTEST_BLINK_S

#: Slowest analysed frame rate (frames per second) at which a capture is judged.
MIN_ANALYSIS_FPS = 1.0 / SHORTEST_BLINK_S

EARLY_SPAN_S = 3.0
"""Frames a session analyses before it may end on their rate: 30 intervals at the limit, so
the median is not a camera's first stall or its exposure settling."""


def frame_rate(times: Sequence[float] | np.ndarray) -> float | None:
    """Frames per second of a capture: the inverse of the median interval between frames.

    Parameters
    ----------
    times : sequence of float, shape (N,)
        Times of the analysed frames in seconds, in order.

    Returns
    -------
    float or None
        None when it cannot be measured: fewer than two frames, or no time between them.
    """
    t = np.asarray(times, dtype=float)
    if t.ndim != 1:
        raise ValueError(f"times must be one-dimensional, got shape {t.shape}")
    steps = np.diff(t)
    steps = steps[steps > 0]
    if steps.size == 0:
        return None
    return float(1.0 / np.median(steps))


def too_slow(rate: float | None) -> bool:
    """Whether a capture analysed at ``rate`` frames per second is too slow to be judged
    (False when the rate is unknown: too few frames is the evidence floor's matter)."""
    if rate is None:
        return False
    # A rounding margin: a nominal 10 fps camera whose timestamps jitter by a millisecond is
    # a 10 fps camera.
    return rate < MIN_ANALYSIS_FPS * 0.99


def too_slow_so_far(times: Sequence[float] | np.ndarray) -> bool:
    """Whether the frames analysed so far already show a capture too slow to be judged.

    Parameters
    ----------
    times : sequence of float, shape (N,)
        Times of the frames analysed so far, in order.

    Returns
    -------
    bool
        False until they span :data:`EARLY_SPAN_S`; then :func:`too_slow` of their rate (the
        rate the end of the session would judge, from the frames it has).
    """
    if len(times) < 2 or times[-1] - times[0] < EARLY_SPAN_S:
        return False
    return too_slow(frame_rate(times))
