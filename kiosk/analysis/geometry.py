"""Face geometry from MediaPipe face-mesh landmarks and the facial transformation matrix.

Pure functions over numpy arrays. Landmark indices are those of MediaPipe's 478-point mesh;
"left" and "right" are the subject's own sides (in an unmirrored frame the subject's left eye
is on the image's right).
"""

from __future__ import annotations

import math

import numpy as np

# Six-point eye contours in the order p1..p6 of Soukupova and Cech's eye aspect ratio:
# outer corner, two upper-lid points, inner corner, two lower-lid points.
LEFT_EYE = (263, 387, 385, 362, 380, 373)
RIGHT_EYE = (33, 160, 158, 133, 153, 144)
MOUTH_LEFT, MOUTH_RIGHT = 291, 61
LIP_UPPER_INNER, LIP_LOWER_INNER = 13, 14
NOSE_TIP = 1


def _check_points(points: np.ndarray, name: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2 or (n is not None and arr.shape[0] != n):
        want = f"({n}, 2 or 3)" if n is not None else "(N, 2 or 3)"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    return arr[:, :2]


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """Eye aspect ratio of one eye.

    Parameters
    ----------
    eye : ndarray (6, 2) or (6, 3)
        Points p1..p6: outer corner, upper lid (two), inner corner, lower lid (two), matched
        so that p2-p6 and p3-p5 are vertical pairs. Only x and y are used.

    Returns
    -------
    float
        ``(|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|)``: about 0.2-0.4 for an open eye, near 0
        closed. 0.0 when the eye width is degenerate.
    """
    p = _check_points(eye, "eye", 6)
    width = np.linalg.norm(p[0] - p[3])
    if width < 1e-9:
        return 0.0
    height = np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])
    return float(height / (2.0 * width))


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (x, y) of the subject's left and right eye: the midpoints of the eye corners.

    Parameters
    ----------
    landmarks : ndarray (478, 2 or 3)
    """
    lm = _check_points(landmarks, "landmarks")
    left = (lm[LEFT_EYE[0]] + lm[LEFT_EYE[3]]) / 2.0
    right = (lm[RIGHT_EYE[0]] + lm[RIGHT_EYE[3]]) / 2.0
    return left, right


def mouth_metrics(landmarks: np.ndarray) -> tuple[float, float, float]:
    """Mouth width and opening, normalised so they do not depend on the face's distance.

    Parameters
    ----------
    landmarks : ndarray (478, 2 or 3)

    Returns
    -------
    width : float
        Corner-to-corner distance divided by the inter-ocular distance.
    opening : float
        Inner-lip gap divided by the corner-to-corner distance.
    interocular : float
        Distance between the eye centres in the landmarks' units.
    """
    lm = _check_points(landmarks, "landmarks")
    left, right = eye_centres(lm)
    interocular = float(np.linalg.norm(left - right))
    corners = float(np.linalg.norm(lm[MOUTH_LEFT] - lm[MOUTH_RIGHT]))
    gap = float(np.linalg.norm(lm[LIP_UPPER_INNER] - lm[LIP_LOWER_INNER]))
    width = corners / interocular if interocular > 1e-9 else 0.0
    opening = gap / corners if corners > 1e-9 else 0.0
    return width, opening, interocular


def head_angles(matrix: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch and roll in degrees from MediaPipe's facial transformation matrix.

    Parameters
    ----------
    matrix : ndarray (4, 4) or (3, 3)
        Rotation in the upper-left 3x3 block, mapping the canonical face into camera space
        (x to image-right, y up, z toward the camera).

    Returns
    -------
    yaw, pitch, roll : float
        Degrees, with the kiosk's signs (kiosk.model): yaw > 0 when the subject turns to
        their own left (image-right in an unmirrored frame), pitch > 0 looking up, roll > 0
        tilting toward their own left shoulder.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape not in ((4, 4), (3, 3)):
        raise ValueError(f"matrix must have shape (4, 4) or (3, 3), got {m.shape}")
    r = m[:3, :3]
    # The rotation may carry the face's scale; normalise each column before reading angles.
    norms = np.linalg.norm(r, axis=0)
    if np.any(norms < 1e-9):
        raise ValueError("matrix has a degenerate rotation block")
    r = r / norms
    yaw = math.degrees(math.atan2(-r[2, 0], math.hypot(r[2, 1], r[2, 2])))
    # Camera y points up, so a chin-up nod rotates z toward -y: atan2 is negative there.
    pitch = -math.degrees(math.atan2(r[2, 1], r[2, 2]))
    # A counter-clockwise tilt in the picture lowers the head toward the subject's own right.
    roll = -math.degrees(math.atan2(r[1, 0], r[0, 0]))
    return yaw, pitch, roll


def landmark_box(landmarks: np.ndarray, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    """Bounding box of the landmarks, clipped to the frame.

    Parameters
    ----------
    landmarks : ndarray (N, 2 or 3)
        Pixel coordinates.
    shape : tuple of int
        (height, width) of the frame.

    Returns
    -------
    tuple of float
        ``(x0, y0, x1, y1)`` in pixels.
    """
    lm = _check_points(landmarks, "landmarks")
    h, w = shape
    x0, y0 = np.clip(lm.min(axis=0), 0, [w, h])
    x1, y1 = np.clip(lm.max(axis=0), 0, [w, h])
    return float(x0), float(y0), float(x1), float(y1)
