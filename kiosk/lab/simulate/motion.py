"""A hand holding a flat object: smooth random poses and the homographies they give."""

from __future__ import annotations

import math

import numpy as np

from kiosk.lab.simulate.params import MotionParams

# Slow sway of a hand: a few tenths of a hertz (seconds-long drifts, no jumps).
_SWAY_HZ = (0.08, 0.6)
# Physiological hand tremor.
_TREMOR_HZ = (4.0, 8.0)


def hand_motion(n_frames: int, fps: float, params: MotionParams,
                rng: np.random.Generator) -> np.ndarray:
    """Smooth random poses of a hand-held plane, one per frame.

    Each degree of freedom is a sum of three slow sinusoids with random frequencies, phases
    and weights (weights sum to one, so the peak never exceeds the amplitude); the rotations
    get a small tremor on top.

    Parameters
    ----------
    n_frames : int
    fps : float
    params : MotionParams
    rng : numpy.random.Generator

    Returns
    -------
    ndarray (n_frames, 6) float64
        Columns: yaw, pitch, roll (degrees), x and y shift (fractions of the frame width),
        distance (1.0 = nominal).
    """
    if n_frames < 1 or not fps > 0:
        raise ValueError(f"n_frames must be >= 1 and fps > 0, got {n_frames} and {fps}")
    t = np.arange(n_frames, dtype=np.float64) / fps
    amplitudes = (params.yaw_deg, params.pitch_deg, params.roll_deg,
                  params.shift, params.shift, params.scale)
    poses = np.zeros((n_frames, 6))
    for k, amp in enumerate(amplitudes):
        freq = rng.uniform(*_SWAY_HZ, size=3)
        phase = rng.uniform(0.0, 2.0 * math.pi, size=3)
        weight = rng.dirichlet(np.ones(3))
        poses[:, k] = amp * (weight[None, :] * np.sin(2 * math.pi * freq[None, :] * t[:, None]
                                                       + phase[None, :])).sum(axis=1)
    # A tremor above the Nyquist rate would alias into a jitter the hand never makes.
    tremor_hz = min(rng.uniform(*_TREMOR_HZ), 0.4 * fps)
    for k in range(3):
        poses[:, k] += params.tremor_deg * np.sin(2 * math.pi * tremor_hz * t
                                                  + rng.uniform(0.0, 2.0 * math.pi))
    poses[:, 5] += 1.0
    return poses


def rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """Rotation matrix (3, 3): roll about z, then pitch about x, then yaw about y."""
    a, b, c = (math.radians(v) for v in (yaw_deg, pitch_deg, roll_deg))
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return ry @ rx @ rz


def plane_homography(pose: np.ndarray, center: tuple[float, float], units_to_px: float,
                     out_size: tuple[int, int], fov_deg: float) -> np.ndarray:
    """Homography from a plane's own coordinates to output pixels for one pose.

    The plane point ``center`` sits on the optical axis at the nominal distance, where one
    plane unit spans ``units_to_px`` output pixels when the plane faces the camera.

    Parameters
    ----------
    pose : ndarray (6,)
        One row of :func:`hand_motion`.
    center : tuple of float
        ``(u, v)`` of the plane's centre, in plane units.
    units_to_px : float
    out_size : tuple of int
        ``(width, height)`` of the output in pixels.
    fov_deg : float
        Horizontal field of view of the camera.

    Returns
    -------
    ndarray (3, 3) float64, normalised so that ``H[2, 2] == 1``
    """
    w, h = out_size
    f = (w / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
    r = rotation(pose[0], pose[1], pose[2])
    # Units: output pixels at the nominal distance f, so X projects to f * X / f = X pixels.
    t = np.array([pose[3] * w, pose[4] * w, f * pose[5]])
    k = units_to_px
    cols = np.column_stack([r[:, 0] * k, r[:, 1] * k,
                            t - r @ np.array([center[0] * k, center[1] * k, 0.0])])
    cam = np.array([[f, 0.0, w / 2.0], [0.0, f, h / 2.0], [0.0, 0.0, 1.0]])
    hom = cam @ cols
    return hom / hom[2, 2]


def plane_normal(pose: np.ndarray) -> np.ndarray:
    """Unit normal (3,) of the plane in camera coordinates (z along the optical axis)."""
    return rotation(pose[0], pose[1], pose[2])[:, 2]


def supersampled(hom: np.ndarray, ss: int) -> np.ndarray:
    """The homography into the canvas ``ss`` times larger than the output.

    Output pixel ``j`` is the mean of canvas pixels ``j * ss .. j * ss + ss - 1``, so its
    centre is canvas coordinate ``ss * j + (ss - 1) / 2``.
    """
    off = (ss - 1) / 2.0
    return np.array([[ss, 0.0, off], [0.0, ss, off], [0.0, 0.0, 1.0]]) @ hom

