"""Builders of synthetic observations for tests that need no video."""

from __future__ import annotations

import numpy as np

from kiosk.model import Face, FaceObservation


def make_face(**overrides) -> Face:
    """A plausible frontal face in a 640x480 frame; any field can be overridden."""
    values = dict(
        box=(220.0, 140.0, 420.0, 360.0), landmarks=np.zeros((478, 3), np.float32),
        blendshapes={}, yaw=0.0, pitch=0.0, roll=0.0, ear_left=0.3, ear_right=0.3,
        mouth_width=0.9, mouth_open=0.02, sharpness=120.0, brightness=130.0, exposure=0.01,
        size=200 / 640, interocular=70.0, matrix=np.eye(4, dtype=np.float32))
    values.update(overrides)
    return Face(**values)


def make_obs(face: Face | None = None, *, n_faces: int | None = None, t: float = 0.0,
             seq: int = 0, shape: tuple[int, int] = (480, 640)) -> FaceObservation:
    """An observation of ``face`` (None: no face)."""
    if n_faces is None:
        n_faces = 0 if face is None else 1
    return FaceObservation(seq=seq, t=t, media_t=t, frame_shape=shape, n_faces=n_faces,
                           face=face)
