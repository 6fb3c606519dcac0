"""Is it still the same single face? Checks that run on every frame of a challenge session.

Reason codes:

- ``FACE_LOST``: no face for longer than ``max_missing_s``. Short dropouts are normal (MediaPipe
  loses a face near profile for a few frames during a turn).
- ``MULTIPLE_FACES``: a second face in ``multi_face_frames`` consecutive frames (one stray
  frame is not enough).
- ``FACE_CHANGED``: between consecutive observations the face centre jumps further than a head
  moves (relative to the face's size, allowing more across longer intervals), its scale
  changes abruptly (3-D eye-corner span), or the proportions of the upper face change
  abruptly (ratios of 3-D distances that do not move with expressions or pose).

The limits sit well above what the developer clips show for real people: per-frame centre
steps up to 0.14 face widths (a walking hand-held selfie at 30 fps), scale steps up to
|log| 0.13, proportion steps up to |log| 0.15. They catch a cut to another video, a swapped
photo, a face appearing somewhere else; they do not recognise a look-alike in the same place
(MediaPipe's mesh proportions vary as much within one person as between people): identity is
the face matcher's job.
"""

from __future__ import annotations

import math

import numpy as np

from kiosk.model import Face, FaceObservation
from kiosk.reasons import Reason

# Mesh indices: eye outer corners, nose bridge (between the eyes), nose tip, cheek edges,
# forehead top. None of them moves with the mouth or the eyelids.
_EYE_OUTER_LEFT, _EYE_OUTER_RIGHT = 263, 33
_NOSE_BRIDGE, _NOSE_TIP = 168, 1
_CHEEK_LEFT, _CHEEK_RIGHT = 454, 234
_FOREHEAD = 10


def face_shape(face: Face) -> tuple[float, np.ndarray] | None:
    """Scale and proportions of the upper face from its 3-D landmarks.

    Returns
    -------
    span : float
        3-D distance between the outer eye corners (pixels).
    ratios : ndarray (3,)
        Eye span / nose length, face width / eye span, forehead height / nose length.
        None when the landmarks are missing or degenerate.
    """
    lm = np.asarray(face.landmarks, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] < 468 or lm.shape[1] != 3:
        return None

    def dist(a: int, b: int) -> float:
        return float(np.linalg.norm(lm[a] - lm[b]))

    span = dist(_EYE_OUTER_LEFT, _EYE_OUTER_RIGHT)
    nose = dist(_NOSE_BRIDGE, _NOSE_TIP)
    width = dist(_CHEEK_LEFT, _CHEEK_RIGHT)
    forehead = dist(_FOREHEAD, _NOSE_BRIDGE)
    if min(span, nose, width, forehead) < 1e-6:
        return None
    return span, np.array([span / nose, width / span, forehead / nose])


class FaceContinuity:
    """Checks every observation of a session against the previous one.

    Parameters
    ----------
    max_missing_s : float
        Longest time without a face.
    multi_face_frames : int
        Consecutive frames with two or more faces that fail the session.
    max_jump : float
        Largest step of the face centre between consecutive observations, in face widths...
    jump_per_s : float
        ... plus this many face widths per second of interval (longer gaps allow more).
    max_scale_step : float
        Largest |log| change of the eye-corner span between consecutive observations.
    max_shape_step : float
        Largest |log| change of any upper-face proportion between consecutive observations.
    """

    def __init__(self, *, max_missing_s: float = 1.0, multi_face_frames: int = 2,
                 max_jump: float = 0.4, jump_per_s: float = 3.0, max_scale_step: float = 0.3,
                 max_shape_step: float = 0.3) -> None:
        self.max_missing_s = max_missing_s
        self.multi_face_frames = multi_face_frames
        self.max_jump = max_jump
        self.jump_per_s = jump_per_s
        self.max_scale_step = max_scale_step
        self.max_shape_step = max_shape_step
        self.reset()

    def reset(self) -> None:
        """Start a new session."""
        self._start: float | None = None
        self._last_face: tuple[float, Face, tuple[float, np.ndarray] | None] | None = None
        self._anchor: np.ndarray | None = None
        self._multi = 0
        self.detail = ""

    def forget_position(self) -> None:
        """The face may come back anywhere (it left the picture and the person is asked to
        place it again): forget its position, time and scale, but keep its proportions, so a
        different face coming back is still noticed."""
        if self._last_face is not None and self._last_face[2] is not None:
            self._anchor = self._last_face[2][1]
        self._last_face = None
        self._start = None
        self._multi = 0

    def update(self, obs: FaceObservation) -> str | None:
        """Check one observation; returns a reason code, or None when all is well.

        :attr:`detail` then says what was measured (for the operator, not for the screen).
        """
        if self._start is None:
            self._start = obs.t
        self._multi = self._multi + 1 if obs.n_faces >= 2 else 0
        if self._multi >= self.multi_face_frames:
            self.detail = f"{obs.n_faces} faces in {self._multi} consecutive frames"
            return Reason.MULTIPLE_FACES
        face = obs.face
        if face is None:
            since = self._last_face[0] if self._last_face is not None else self._start
            if obs.t - since > self.max_missing_s:
                self.detail = f"no face for {obs.t - since:.2f} s"
                return Reason.FACE_LOST
            return None
        shape = face_shape(face)
        if self._last_face is not None:
            reason = self._compare(obs.t, face, shape)
        else:
            reason = self._compare_anchor(shape)
        self._last_face = (obs.t, face, shape)
        return reason

    def _compare_anchor(self, shape) -> str | None:
        anchor, self._anchor = self._anchor, None
        if anchor is None or shape is None:
            return None
        proportions = float(np.max(np.abs(np.log(shape[1] / anchor))))
        if proportions > self.max_shape_step:
            self.detail = (f"the face that came back has other proportions ({proportions:.2f} "
                           "log)")
            return Reason.FACE_CHANGED
        return None

    def _compare(self, t: float, face: Face, shape) -> str | None:
        assert self._last_face is not None
        last_t, last, last_shape = self._last_face
        dt = max(t - last_t, 0.0)
        if dt > self.max_missing_s:
            self.detail = f"no face for {dt:.2f} s"
            return Reason.FACE_LOST
        width = max(face.width, last.width, 1e-6)
        step = math.dist(face.center, last.center) / width
        if step > self.max_jump + self.jump_per_s * dt:
            self.detail = f"face centre moved {step:.2f} face widths in {dt * 1000:.0f} ms"
            return Reason.FACE_CHANGED
        if shape is not None and last_shape is not None:
            scale = abs(math.log(shape[0] / last_shape[0]))
            if scale > self.max_scale_step:
                self.detail = f"face scale changed by {math.exp(scale):.2f}x in one frame"
                return Reason.FACE_CHANGED
            proportions = float(np.max(np.abs(np.log(shape[1] / last_shape[1]))))
            if proportions > self.max_shape_step:
                self.detail = f"face proportions changed by {proportions:.2f} (log) in one frame"
                return Reason.FACE_CHANGED
        return None
