"""Two-view point fits: how much of a motion a similarity or a plane explains.

Pure functions over matched 2D point sets, used by the planar-motion cue. A flat object (a
photo, a screen) moves between two views by a homography; a head that rotates does not, because
points at different depths (the nose tip against the cheeks) shift by different amounts.
"""

from __future__ import annotations

import cv2
import numpy as np

# A homography has 8 degrees of freedom: 4 point pairs determine it, so at least 6 are asked
# for before its residual says anything.
MIN_POINTS = 6


def check_pairs(points_a: np.ndarray, points_b: np.ndarray,
                min_points: int = MIN_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Validate two matched point sets and return them as float64 (N, 2) copies.

    Parameters
    ----------
    points_a, points_b : ndarray (N, 2) or (N, 3)
        The same N points seen in two views; only x and y are used.
    min_points : int
        Fewest points accepted.

    Raises
    ------
    ValueError
        Naming the argument whose shape is wrong, or when the sets differ in length, are too
        short or hold non-finite values.
    """
    out = []
    for name, pts in (("points_a", points_a), ("points_b", points_b)):
        arr = np.asarray(pts)
        if arr.ndim != 2 or arr.shape[1] not in (2, 3):
            raise ValueError(f"{name} must have shape (N, 2) or (N, 3), got {arr.shape}")
        if arr.shape[0] < min_points:
            raise ValueError(f"{name} needs at least {min_points} points, got {arr.shape[0]}")
        arr = np.array(arr[:, :2], dtype=np.float64)
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} holds non-finite values")
        out.append(arr)
    if out[0].shape[0] != out[1].shape[0]:
        raise ValueError(f"points_a and points_b differ in length: {out[0].shape[0]} and "
                         f"{out[1].shape[0]}")
    return out[0], out[1]


def similarity_residuals(points_a: np.ndarray, points_b: np.ndarray) -> np.ndarray:
    """Per-point distance left after the best similarity (shift, rotation, scale) maps a to b.

    Parameters
    ----------
    points_a, points_b : ndarray (N, 2) or (N, 3)
        Matched points, N >= 6; only x and y are used.

    Returns
    -------
    ndarray (N,) float64
        Euclidean residuals in the units of ``points_b`` (least squares, closed form).
    """
    a, b = check_pairs(points_a, points_b)
    za = (a[:, 0] - a[:, 0].mean()) + 1j * (a[:, 1] - a[:, 1].mean())
    zb = (b[:, 0] - b[:, 0].mean()) + 1j * (b[:, 1] - b[:, 1].mean())
    energy = float(np.vdot(za, za).real)
    c = np.vdot(za, zb) / energy if energy > 0 else 0.0
    return np.abs(zb - c * za)


def fit_homography(points_a: np.ndarray, points_b: np.ndarray) -> np.ndarray:
    """Least-squares homography from a to b over all points (no outlier rejection).

    Every point counts on purpose: a robust fit would call the nose an outlier and hide the
    very parallax the planar test looks for.

    Parameters
    ----------
    points_a, points_b : ndarray (N, 2) or (N, 3)
        Matched points, N >= 6; only x and y are used.

    Returns
    -------
    ndarray (3, 3) float64

    Raises
    ------
    ValueError
        When the points are degenerate (e.g. all on one line) and no homography exists.
    """
    a, b = check_pairs(points_a, points_b)
    h, _ = cv2.findHomography(a, b, 0)
    if h is None or not np.isfinite(h).all():
        raise ValueError("points_a are degenerate: no homography fits them")
    return h


def homography_residuals(points_a: np.ndarray, points_b: np.ndarray) -> np.ndarray:
    """Per-point distance left after the least-squares homography maps a to b.

    Parameters
    ----------
    points_a, points_b : ndarray (N, 2) or (N, 3)
        Matched points, N >= 6; only x and y are used.

    Returns
    -------
    ndarray (N,) float64
        Euclidean residuals in the units of ``points_b``.
    """
    a, b = check_pairs(points_a, points_b)
    h = fit_homography(a, b)
    mapped = cv2.perspectiveTransform(a.reshape(-1, 1, 2), h).reshape(-1, 2)
    return np.linalg.norm(mapped - b, axis=1)


def planar_residual(points_a: np.ndarray, points_b: np.ndarray) -> float:
    """Root-mean-square distance that no plane explains, in the units of ``points_b``.

    Near zero (the point noise) when the points lie on one plane, whatever that plane's motion;
    grows with the depth relief of the points times the out-of-plane rotation between views.

    Parameters
    ----------
    points_a, points_b : ndarray (N, 2) or (N, 3)
        Matched points, N >= 6; only x and y are used.
    """
    r = homography_residuals(points_a, points_b)
    return float(np.sqrt(np.mean(r * r)))


def similarity_residual(points_a: np.ndarray, points_b: np.ndarray) -> float:
    """Root-mean-square distance that no similarity explains: the motion beyond a shift, an
    in-plane rotation and a scale change, in the units of ``points_b``.

    Parameters
    ----------
    points_a, points_b : ndarray (N, 2) or (N, 3)
        Matched points, N >= 6; only x and y are used.
    """
    r = similarity_residuals(points_a, points_b)
    return float(np.sqrt(np.mean(r * r)))
