"""Geometry of the simulated light challenge: the face in metres, its normals, and the light
that the kiosk's screen (an area light) casts on it, diffuse and specular.

Coordinates are the camera's (x right, y down, z forward, metres); see
:mod:`~kiosk.lab.simulate.light_params`. Pure numpy/OpenCV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from kiosk.lab.simulate.light_params import LightSimParams

# The screen is integrated on this grid of samples (columns, rows): a 0.53 x 0.30 m screen at
# 0.3 m or more is then sampled every 6-7 cm, where the kernel cos/r^2 varies by under 10 %.
SCREEN_SAMPLES = (8, 5)
# Normals are smoothed over this share of the face's width (skin and the mesh's facets are
# smooth at that scale: a mesh facet is about 3 % of the face).
NORMAL_SMOOTHING = 0.04


@lru_cache(maxsize=1)
def mesh_triangles() -> np.ndarray:
    """MediaPipe's face-mesh triangles, ``(T, 3)`` int32 landmark indices."""
    from mediapipe.tasks.python.vision import FaceLandmarksConnections

    edges = FaceLandmarksConnections.FACE_LANDMARKS_TESSELATION
    starts = np.array([c.start for c in edges], np.int32)
    return starts.reshape(-1, 3)


def focal_px(width: int, params: LightSimParams) -> float:
    """Focal length in pixels of a camera ``width`` pixels wide."""
    return (width / 2.0) / math.tan(math.radians(params.fov_deg) / 2.0)


def face_distance(landmarks: np.ndarray, width: int, params: LightSimParams) -> float:
    """Distance of the face from the camera (m), from its mesh width and the field of view."""
    span = float(np.ptp(np.asarray(landmarks)[:468, 0]))
    return focal_px(width, params) * params.face_width_m / max(span, 1.0)


def pixel_rays(shape: tuple[int, int], params: LightSimParams) -> np.ndarray:
    """Direction of each pixel's ray, scaled to z = 1, ``(H, W, 3)`` float32."""
    h, w = shape
    f = focal_px(w, params)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([(xs + 0.5 - w / 2.0) / f, (ys + 0.5 - h / 2.0) / f,
                     np.ones_like(xs)], axis=2)


@dataclass(frozen=True, eq=False)
class FaceSurface:
    """The face in metres on the picture's pixels.

    Attributes
    ----------
    mask : ndarray (H, W) float32
        1 on the face mesh, feathered to 0 over a few pixels at its edge.
    points : ndarray (H, W, 3) float32
        The surface point seen by each pixel (valid where ``mask`` > 0).
    normals : ndarray (H, W, 3) float32
        Unit normals facing the camera (valid where ``mask`` > 0).
    distance : float
        The face's distance from the camera (m).
    """

    mask: np.ndarray
    points: np.ndarray
    normals: np.ndarray
    distance: float


def face_surface(landmarks: np.ndarray, shape: tuple[int, int], params: LightSimParams
                 ) -> FaceSurface:
    """Rasterise the face mesh: a 3D point and a normal per pixel.

    Parameters
    ----------
    landmarks : ndarray (478, 3)
        MediaPipe mesh in pixels (z on x's scale, smaller is closer).
    shape : tuple of int
        (height, width) of the picture.
    params : LightSimParams
    """
    lm = np.asarray(landmarks, np.float64)
    if lm.ndim != 2 or lm.shape[0] < 468 or lm.shape[1] != 3:
        raise ValueError(f"landmarks must be (478, 3), got {lm.shape}")
    h, w = shape
    f = focal_px(w, params)
    dist = face_distance(lm, w, params)
    scale = dist / f                                   # metres per pixel at the face
    xyz = np.column_stack([(lm[:, 0] - w / 2.0) * scale, (lm[:, 1] - h / 2.0) * scale,
                           dist + lm[:, 2] * scale])
    tri = mesh_triangles()
    a, b, c = xyz[tri[:, 0]], xyz[tri[:, 1]], xyz[tri[:, 2]]
    n = np.cross(b - a, c - a)
    centre = (a + b + c) / 3.0
    n *= np.where(np.einsum("ij,ij->i", n, -centre) < 0, -1.0, 1.0)[:, None]
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    index = np.zeros((h, w), np.int32)
    for k, t in enumerate(tri):
        cv2.fillConvexPoly(index, np.round(lm[t, :2]).astype(np.int32), k + 1)
    inside = index > 0
    normals = np.zeros((h, w, 3), np.float32)
    normals[inside] = n[index[inside] - 1]
    depth = np.zeros((h, w), np.float32)
    depth[inside] = centre[index[inside] - 1, 2]
    sigma = max(NORMAL_SMOOTHING * float(np.ptp(lm[:468, 0])), 0.5)
    m = inside.astype(np.float32)
    weight = cv2.GaussianBlur(m, (0, 0), sigma)
    safe = np.maximum(weight, 1e-6)
    for ch in range(3):
        normals[:, :, ch] = cv2.GaussianBlur(normals[:, :, ch] * m, (0, 0), sigma) / safe
    smooth_depth = cv2.GaussianBlur(depth * m, (0, 0), sigma) / safe
    normals /= np.maximum(np.linalg.norm(normals, axis=2, keepdims=True), 1e-6)
    points = pixel_rays(shape, params) * smooth_depth[:, :, None]
    # A soft edge, so the relit face has no seam; normals and depth just outside the mesh
    # are the normalised blur's extension of those inside.
    feather = cv2.GaussianBlur(m, (0, 0), max(sigma / 2.0, 0.5))
    return FaceSurface(feather, points.astype(np.float32), normals, dist)


def plane_surface(centre_px: tuple[float, float], distance: float, tilt_deg: float,
                  shape: tuple[int, int], params: LightSimParams
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Points and normal of a flat sheet facing the camera, its top tipped away.

    Parameters
    ----------
    centre_px : tuple of float
        Pixel where the sheet's centre is seen.
    distance : float
        Depth of that centre (m).
    tilt_deg : float
        Rotation about the horizontal axis, top away from the camera.

    Returns
    -------
    points : ndarray (H, W, 3) float32
    normal : ndarray (3,) float64
    """
    h, w = shape
    f = focal_px(w, params)
    tilt = math.radians(tilt_deg)
    normal = np.array([0.0, math.sin(tilt), -math.cos(tilt)])
    c = np.array([(centre_px[0] - w / 2.0) / f, (centre_px[1] - h / 2.0) / f, 1.0]) * distance
    rays = pixel_rays(shape, params)
    lam = float(c @ normal) / np.minimum(rays @ normal, -1e-6)
    return (rays * lam[:, :, None]).astype(np.float32), normal


def screen_irradiance(points: np.ndarray, normals: np.ndarray, params: LightSimParams
                      ) -> np.ndarray:
    """Illuminance from the screen's white per cd/m^2 of its luminance (projected solid
    angle, sr): ``E = L * sum(cos_s cos_p / r^2 dA)`` over the screen.

    Parameters
    ----------
    points : ndarray (..., 3)
    normals : ndarray (..., 3) or (3,)

    Returns
    -------
    ndarray (...) float32
    """
    sw, sh = params.screen_size_m
    nx, ny = SCREEN_SAMPLES
    xs = (np.arange(nx) + 0.5) / nx * sw - sw / 2.0
    ys = params.screen_top_m + (np.arange(ny) + 0.5) / ny * sh
    area = sw * sh / (nx * ny)
    p = np.asarray(points, np.float32)
    n = np.broadcast_to(np.asarray(normals, np.float32), p.shape)
    total = np.zeros(p.shape[:-1], np.float32)
    for sx in xs:
        for sy in ys:
            vx, vy, vz = sx - p[..., 0], sy - p[..., 1], -p[..., 2]
            r2 = vx * vx + vy * vy + vz * vz
            r = np.sqrt(r2)
            cos_p = np.maximum((n[..., 0] * vx + n[..., 1] * vy + n[..., 2] * vz) / r, 0.0)
            cos_s = np.maximum(p[..., 2] / r, 0.0)
            total += cos_p * cos_s / r2
    return total * np.float32(area)


def mirrored_screen(points: np.ndarray, normals: np.ndarray, params: LightSimParams,
                    lobe_deg: float) -> np.ndarray:
    """Share of a glossy surface's specular lobe that sees the screen, 0-1.

    The camera's view ray is mirrored about the normal; where it meets the screen's plane,
    a Gaussian footprint of the lobe's width (at that distance) is integrated over the
    screen's rectangle.
    """
    from scipy.special import ndtr

    p = np.asarray(points, np.float64)
    n = np.broadcast_to(np.asarray(normals, np.float64), p.shape)
    view = -p / np.maximum(np.linalg.norm(p, axis=-1, keepdims=True), 1e-9)
    r = 2.0 * np.sum(n * view, axis=-1, keepdims=True) * n - view
    toward = r[..., 2] < -1e-6
    lam = np.where(toward, -p[..., 2] / np.where(toward, r[..., 2], -1.0), 0.0)
    hx, hy = p[..., 0] + lam * r[..., 0], p[..., 1] + lam * r[..., 1]
    sigma = np.maximum(lam * math.tan(math.radians(lobe_deg)), 1e-4)
    sw, sh = params.screen_size_m
    top, bottom = params.screen_top_m, params.screen_top_m + sh
    fx = ndtr((hx + sw / 2.0) / sigma) - ndtr((hx - sw / 2.0) / sigma)
    fy = ndtr((hy - top) / sigma) - ndtr((hy - bottom) / sigma)
    return np.where(toward, fx * fy, 0.0).astype(np.float32)


def ambient_shading(normals: np.ndarray, params: LightSimParams) -> np.ndarray:
    """The room's light on a surface relative to a surface facing the camera, ``(...)``.

    A share ``ambient_diffuse`` arrives from everywhere alike; the rest comes from a light
    ``ambient_elevation_deg`` above the horizontal, in front of the person.
    """
    e = math.radians(params.ambient_elevation_deg)
    light = np.array([0.0, -math.sin(e), -math.cos(e)], np.float32)
    n = np.asarray(normals, np.float32)
    d = params.ambient_diffuse
    front = d + (1.0 - d) * math.cos(e)
    return ((d + (1.0 - d) * np.maximum(n @ light, 0.0)) / front).astype(np.float32)


def wall_irradiance(params: LightSimParams) -> float:
    """Projected solid angle of the screen seen from the wall behind the person (sr)."""
    return float(params.screen_size_m[0] * params.screen_size_m[1]
                 / params.background_distance_m ** 2)
