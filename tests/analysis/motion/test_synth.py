"""Synthetic sessions with a known answer for the multi-frame cues, and checks of the generators.

- ``plane_session``: a textured face-like picture on a flat sheet turned in 3D in front of a
  pinhole camera (a print or a screen): every point, landmarks included, moves by one
  homography per frame.
- ``relief_session``: the same texture on a face-shaped relief (an ellipsoidal cap with a nose
  in front of it) turned the same way: points at different depths shift against each other.
- ``textured``, ``make_face``, ``observation``: small builders shared by the motion tests.
"""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.analysis.geometry import landmark_box
from kiosk.analysis.motion.fit import planar_residual, similarity_residual
from kiosk.model import Face, FaceObservation, Frame

FPS = 30.0
FRAME_W, FRAME_H = 480, 400
FOCAL = 500.0          # pinhole focal length, px (a ~51 deg horizontal field of view)
DISTANCE = 500.0       # face centre's distance, in the same units: 1 unit = 1 px at the face
FACE_A, FACE_B = 60.0, 78.0   # half-width and half-height of the face ellipse
EYES = np.array([[-0.36 * FACE_A, -0.22 * FACE_B], [0.36 * FACE_A, -0.22 * FACE_B]])


def textured(rng: np.random.Generator, h: int, w: int, sigma: float = 1.6) -> np.ndarray:
    """Smooth random texture (h, w, 3) uint8 with corners everywhere (skin-ish tint)."""
    t = cv2.GaussianBlur(rng.uniform(0, 255, (h, w)).astype(np.float32), (0, 0), sigma)
    t = cv2.normalize(t, None, 40, 215, cv2.NORM_MINMAX)
    return np.clip(np.dstack([t * 0.8, t * 0.9, t]), 0, 255).astype(np.uint8)


def make_face(landmarks: np.ndarray, interocular: float, shape: tuple[int, int]) -> Face:
    """A Face around synthetic landmarks (478, 3); fields the motion cues do not read are
    neutral."""
    box = landmark_box(landmarks, shape)
    return Face(box=box, landmarks=landmarks.astype(np.float32), blendshapes={}, yaw=0.0,
                pitch=0.0, roll=0.0, ear_left=0.3, ear_right=0.3, mouth_width=1.5,
                mouth_open=0.0, sharpness=100.0, brightness=128.0, exposure=0.0,
                size=(box[2] - box[0]) / shape[1], interocular=float(interocular),
                matrix=np.eye(4, dtype=np.float32))


def observation(seq: int, image: np.ndarray, face: Face | None,
                fps: float = FPS) -> tuple[Frame, FaceObservation]:
    t = seq / fps
    frame = Frame(image=image, seq=seq, t=t, media_t=t)
    obs = FaceObservation(seq=seq, t=t, media_t=t, frame_shape=image.shape[:2],
                          n_faces=int(face is not None), face=face)
    return frame, obs


def template_points(rng: np.random.Generator) -> np.ndarray:
    """478 face-plane points (x, y) about the face centre: the ellipse's outline, then the inside."""
    ang = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    outline = np.c_[FACE_A * np.cos(ang), FACE_B * np.sin(ang)]
    r = 0.95 * np.sqrt(rng.uniform(0, 1, 478 - 120 - 2))
    a = rng.uniform(0, 2 * np.pi, r.size)
    inside = np.c_[FACE_A * r * np.cos(a), FACE_B * r * np.sin(a)]
    return np.vstack([outline, inside, EYES])


def relief(xy: np.ndarray, depth: float) -> np.ndarray:
    """Height toward the camera of a face-like relief at face-plane points (N, 2), same units:
    an ellipsoidal cap ``depth`` deep and a nose 0.45 ``depth`` high at the centre."""
    u, v = xy[:, 0] / FACE_A, xy[:, 1] / FACE_B
    cap = depth * np.sqrt(np.clip(1.0 - u * u - v * v, 0.0, None))
    nose = 0.45 * depth * np.exp(-((xy[:, 0] / 9.0) ** 2 + ((xy[:, 1] - 5.0) / 20.0) ** 2))
    return cap + nose


def rotation(yaw: float, pitch: float, roll: float = 0.0) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def pose(i: int, yaw_amp: float, pitch_amp: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotation and shift of frame i: slow turns, a little roll and a hand's drift."""
    t = i / FPS
    rot = rotation(yaw_amp * np.sin(2 * np.pi * t / 2.4), pitch_amp * np.sin(2 * np.pi * t / 3.1),
                   2.0 * np.sin(2 * np.pi * t / 4.0))
    shift = np.array([12.0 * np.sin(2 * np.pi * t / 3.7), 6.0 * np.cos(2 * np.pi * t / 2.9), 0.0])
    return rot, shift


def project(points3: np.ndarray, rot: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Pinhole projection (N, 2) of face-centred 3D points (z toward the camera) after a turn."""
    p = points3 @ rot.T + shift
    depth = DISTANCE - p[:, 2]
    return np.c_[FOCAL * p[:, 0] / depth + FRAME_W / 2, FOCAL * p[:, 1] / depth + FRAME_H / 2]


def _landmarks(xy2: np.ndarray) -> np.ndarray:
    return np.c_[xy2, np.zeros(len(xy2))].astype(np.float32)


def plane_session(n: int = 60, yaw_amp: float = 20.0, pitch_amp: float = 10.0, seed: int = 0,
                  noise: float = 2.0) -> list[tuple[Frame, FaceObservation]]:
    """A flat textured picture turned in 3D: a print or a screen held up to the camera."""
    rng = np.random.default_rng(seed)
    size = 400  # the sheet, in face-plane units, centred on the face
    sheet = textured(rng, size, size)
    background = textured(rng, FRAME_H, FRAME_W, 3.0)
    template = template_points(rng)
    # Sheet pixel (c, r) is the face-plane point (c - size/2, r - size/2, 0).
    corners = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float64)
    out = []
    for i in range(n):
        rot, shift = pose(i, yaw_amp, pitch_amp)
        dst = project(np.c_[corners - size / 2, np.zeros(4)], rot, shift)
        hom = cv2.getPerspectiveTransform(corners.astype(np.float32), dst.astype(np.float32))
        image = cv2.warpPerspective(sheet, hom, (FRAME_W, FRAME_H), dst=background.copy(),
                                    borderMode=cv2.BORDER_TRANSPARENT)
        image = np.clip(image + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
        marks = project(np.c_[template, np.zeros(len(template))], rot, shift)
        face = make_face(_landmarks(marks), np.linalg.norm(marks[-1] - marks[-2]), image.shape[:2])
        out.append(observation(i, image, face))
    return out


def relief_session(n: int = 60, yaw_amp: float = 20.0, pitch_amp: float = 10.0, seed: int = 0,
                   depth: float = 45.0, noise: float = 2.0) -> list[tuple[Frame, FaceObservation]]:
    """The same texture on a face-shaped relief turned the same way: a real head's parallax.

    Rendered by splatting a dense surface (4 points per face-plane unit) with a depth test at
    twice the output size, then averaged down (anti-aliasing).
    """
    rng = np.random.default_rng(seed)
    size = 400
    sheet = textured(rng, size, size)
    background = textured(rng, FRAME_H, FRAME_W, 3.0)
    template = template_points(rng)
    g = np.arange(-FACE_A * 1.02, FACE_A * 1.02, 0.5)
    h = np.arange(-FACE_B * 1.02, FACE_B * 1.02, 0.5)
    gx, gy = np.meshgrid(g, h)
    inside = (gx / FACE_A) ** 2 + (gy / FACE_B) ** 2 <= 1.0
    surf = np.c_[gx[inside], gy[inside]]
    surf3 = np.c_[surf, relief(surf, depth)]
    colour = sheet[np.clip((surf[:, 1] + size / 2).astype(int), 0, size - 1),
                   np.clip((surf[:, 0] + size / 2).astype(int), 0, size - 1)]
    big_w, big_h = 2 * FRAME_W, 2 * FRAME_H
    out = []
    for i in range(n):
        rot, shift = pose(i, yaw_amp, pitch_amp)
        p = project(surf3, rot, shift) * 2.0
        near = (surf3 @ rot.T)[:, 2]  # larger is nearer the camera
        col, row = np.round(p[:, 0]).astype(int), np.round(p[:, 1]).astype(int)
        ok = (col >= 0) & (col < big_w) & (row >= 0) & (row < big_h)
        index = row[ok] * big_w + col[ok]
        # Per pixel, keep the nearest surface point: sort by pixel, then by nearness.
        order = np.lexsort((-near[ok], index))
        first = np.r_[True, index[order][1:] != index[order][:-1]]
        keep = order[first]
        canvas = cv2.resize(background, (big_w, big_h), interpolation=cv2.INTER_NEAREST)
        filled = np.zeros(big_w * big_h, bool)
        flat = canvas.reshape(-1, 3)
        flat[index[keep]] = colour[ok][keep]
        filled[index[keep]] = True
        # Fill the rare holes inside the face from their neighbours.
        face_area = cv2.dilate(filled.reshape(big_h, big_w).astype(np.uint8), np.ones((3, 3)))
        holes = (face_area > 0) & ~filled.reshape(big_h, big_w)
        if holes.any():
            smooth = cv2.medianBlur(canvas, 3)
            canvas[holes] = smooth[holes]
        image = cv2.resize(canvas, (FRAME_W, FRAME_H), interpolation=cv2.INTER_AREA)
        image = np.clip(image + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
        marks = project(np.c_[template, relief(template, depth)], rot, shift)
        face = make_face(_landmarks(marks), np.linalg.norm(marks[-1] - marks[-2]), image.shape[:2])
        out.append(observation(i, image, face))
    return out


def test_plane_session_landmarks_follow_one_homography():
    session = plane_session(n=13)
    a = session[0][1].face.landmarks
    b = session[12][1].face.landmarks
    iod = session[0][1].face.interocular
    assert similarity_residual(a, b) / iod > 0.02   # the sheet turned out of its plane
    assert planar_residual(a, b) / iod < 1e-4       # and a homography explains all of it


def test_relief_session_landmarks_show_parallax():
    session = relief_session(n=13)
    a = session[0][1].face.landmarks
    b = session[12][1].face.landmarks
    assert planar_residual(a, b) / similarity_residual(a, b) > 0.5


def test_relief_session_renders_the_face_where_its_landmarks_are():
    frame, obs = relief_session(n=1)[0]
    x0, y0, x1, y1 = (int(v) for v in obs.face.box)
    inner = frame.image[y0 + 10:y1 - 10, x0 + 10:x1 - 10]
    # The sheet's texture is finer than the background's: more high-frequency energy inside.
    lap_in = cv2.Laplacian(cv2.cvtColor(inner, cv2.COLOR_BGR2GRAY), cv2.CV_32F).var()
    corner = cv2.cvtColor(frame.image[:60, :60], cv2.COLOR_BGR2GRAY)
    assert lap_in > 1.5 * cv2.Laplacian(corner, cv2.CV_32F).var()
