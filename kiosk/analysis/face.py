"""FaceTracker: MediaPipe Face Landmarker (VIDEO mode) turned into FaceObservations.

The model is read once, checked against its published SHA-256, and handed to MediaPipe as a
buffer, so the file that was verified is the file that runs.
"""

from __future__ import annotations

import logging
from types import MappingProxyType

import cv2
import numpy as np

from kiosk.analysis.geometry import (
    LEFT_EYE,
    RIGHT_EYE,
    eye_aspect_ratio,
    head_angles,
    landmark_box,
    mouth_metrics,
)
from kiosk.analysis.quality import crop_quality, face_crop
from kiosk.errors import ResourceError
from kiosk.model import COMPARABLE_FACE_RATIO, Face, FaceObservation, Frame
from kiosk.resources import FACE_LANDMARKER, FACE_LANDMARKER_SHA256, verified_bytes

log = logging.getLogger(__name__)

# Blendshapes kept per frame: the challenge actions and the cues that tell them apart
# (a smile squints the eyes; looking down lowers the lids without a blink).
BLENDSHAPES = (
    "eyeBlinkLeft", "eyeBlinkRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookUpLeft", "eyeLookUpRight", "mouthSmileLeft", "mouthSmileRight",
    "cheekSquintLeft", "cheekSquintRight", "jawOpen", "mouthClose",
    "browDownLeft", "browDownRight", "browInnerUp",
)
_KEEP = frozenset(BLENDSHAPES)

# Three: a bystander far behind (not counted, see COMPARABLE_FACE_RATIO) must not hide a
# second person beside the first.
MAX_FACES = 3


class FaceTracker:
    """Turns frames into :class:`~kiosk.model.FaceObservation`, one per frame.

    Parameters
    ----------
    model_path : Path, optional
        The Face Landmarker bundle; defaults to the shipped one.
    sha256 : str, optional
        Its expected SHA-256; defaults to the shipped model's.
    max_faces : int
        How many faces MediaPipe looks for.

    Raises
    ------
    ResourceError
        The model is missing or its hash differs, or MediaPipe cannot load it.

    Notes
    -----
    VIDEO mode tracks between frames and needs strictly increasing timestamps; frames whose
    timestamp does not advance are given one 1 ms later. Use one tracker per stream and call
    :meth:`close` (or use it as a context manager) when done.
    """

    def __init__(self, model_path=FACE_LANDMARKER, sha256: str = FACE_LANDMARKER_SHA256,
                 max_faces: int = MAX_FACES) -> None:
        model = verified_bytes(model_path, sha256)
        # Imported here: importing mediapipe loads its whole task library (and matplotlib,
        # a dependency of its drawing helpers), which nothing needs before a tracker exists.
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=model),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=max_faces,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        try:
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ResourceError(f"the face landmark model cannot be loaded: {exc}") from None
        self._last_ms = -1

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release MediaPipe's graph; the tracker cannot be used afterwards."""
        landmarker, self._landmarker = getattr(self, "_landmarker", None), None
        if landmarker is not None:
            landmarker.close()

    def _timestamp_ms(self, t: float) -> int:
        ms = int(round(t * 1000.0))
        if ms <= self._last_ms:
            ms = self._last_ms + 1
        self._last_ms = ms
        return ms

    def landmarks(self, frame: Frame):
        """Run the landmarker alone; returns MediaPipe's raw result (for benchmarks)."""
        if self._landmarker is None:
            raise ResourceError("the face tracker was closed")
        image = frame.image
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"frame.image must be (H, W, 3) uint8, got {image.shape} "
                             f"{image.dtype}")
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        mp_image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        return self._landmarker.detect_for_video(mp_image, self._timestamp_ms(frame.t))

    def observe(self, frame: Frame) -> FaceObservation:
        """Measure the faces in one frame.

        Parameters
        ----------
        frame : Frame
            ``frame.image`` is (H, W, 3) uint8 BGR.

        Returns
        -------
        FaceObservation
            ``face`` is the largest face, or None when no face was found.
        """
        result = self.landmarks(frame)
        n_faces = 0
        face = None
        if result.face_landmarks:
            h, w = frame.shape
            meshes = [np.array([(p.x * w, p.y * h, p.z * w) for p in pts], np.float32)
                      for pts in result.face_landmarks]
            widths = np.array([np.ptp(mesh[:, 0]) for mesh in meshes])
            main = int(np.argmax(widths))
            n_faces = int(np.count_nonzero(widths >= COMPARABLE_FACE_RATIO * widths[main]))
            face = _measure(frame.image, meshes[main], result.face_blendshapes[main],
                            result.facial_transformation_matrixes[main])
        return FaceObservation(seq=frame.seq, t=frame.t, media_t=frame.media_t,
                               frame_shape=frame.shape, n_faces=n_faces, face=face)


def _measure(image: np.ndarray, mesh: np.ndarray, categories, matrix) -> Face:
    """Build a :class:`Face` from one face's mesh (478, 3), blendshapes and matrix."""
    h, w = image.shape[:2]
    box = landmark_box(mesh, (h, w))
    blend = {c.category_name: float(c.score) for c in categories if c.category_name in _KEEP}
    m = np.asarray(matrix, dtype=np.float32)
    yaw, pitch, roll = head_angles(m)
    mouth_width, mouth_open, interocular = mouth_metrics(mesh)
    sharpness, brightness, exposure = crop_quality(face_crop(image, box))
    return Face(
        box=box,
        landmarks=mesh,
        blendshapes=MappingProxyType(blend),
        yaw=yaw, pitch=pitch, roll=roll,
        ear_left=eye_aspect_ratio(mesh[list(LEFT_EYE)]),
        ear_right=eye_aspect_ratio(mesh[list(RIGHT_EYE)]),
        mouth_width=mouth_width,
        mouth_open=mouth_open,
        sharpness=sharpness,
        brightness=brightness,
        exposure=exposure,
        size=(box[2] - box[0]) / w,
        interocular=interocular,
        matrix=m,
    )
