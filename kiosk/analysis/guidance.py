"""Placement and live guidance: where the face should be, and one plain instruction per frame.

The oval on the screen and the checks are the same thing: :func:`target_oval` gives the face
box a well-placed face has in a frame of a given shape, the screen draws the oval around it, and
:func:`guidance` judges a face against it (size, centre, inside the picture, light, pose,
sharpness, one face). :class:`PlacementTracker` smooths the per-frame verdict with hysteresis
so the instruction does not flicker, and says when the face has been placed long enough for
the session to start.

The limits are usability limits, not security limits: they keep the face large, lit and sharp
enough for the detectors and the matcher, with room for a head turn.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from kiosk.model import FaceObservation

# The ideal face box (MediaPipe's landmark box, forehead to chin) as a share of the frame's
# shorter side, and its height/width ratio. On the developer clips webcam and laptop framings
# give a face box 0.46-0.56 of the shorter side (hand-held phone selfies 0.82-0.87, too close
# for a head turn); the box is 1.16-1.28 times as high as wide.
FACE_HEIGHT_SHARE = 0.55
FACE_ASPECT = 1.22
# Where the ideal face box sits: centred, a little above the middle (eyes near the top third).
OVAL_CX, OVAL_CY = 0.5, 0.48
# Accepted face box height as a share of the ideal: below, the landmarks get coarse (a
# 480-pixel frame still gives a face of 160 px); above, a 20-degree turn pushes it out of the
# picture.
MIN_SCALE, MAX_SCALE = 0.6, 1.3
# The face centre must lie within this share of the oval's half-axes from its centre.
CENTRE_TOLERANCE = 0.45
# Mean grey level of the face crop: under 60 the sensor noise swamps the skin texture, over
# 200 the skin clips; exposure is the share of clipped pixels in the crop.
MIN_BRIGHTNESS, MAX_BRIGHTNESS, MAX_CLIPPED = 60.0, 200.0, 0.25
# Variance of the Laplacian on the 128-px face crop; sharp webcam faces read 80-200 here, a
# moving head blurs below ~20 (measured on the developer clips with kiosk track).
MIN_SHARPNESS = 20.0
# The box touching within this share of the frame edge means part of the face is cut off.
EDGE_MARGIN = 0.01
# Head pose beyond which the face is not looking at the camera (outside a turn prompt).
MAX_FRONTAL_DEG = 25.0


@dataclass(frozen=True)
class Oval:
    """The ideal face box in a frame, in unmirrored frame pixels.

    ``(cx, cy)`` is its centre, ``width`` and ``height`` its size. The screen draws the guide
    ellipse around it (:meth:`ellipse`), mirrored with the picture.
    """

    cx: float
    cy: float
    width: float
    height: float

    def ellipse(self, margin: float = 1.25) -> tuple[float, float, float, float]:
        """``(cx, cy, rx, ry)`` of the drawn guide: an ellipse that holds the ideal face box
        with room for hair and ears."""
        return self.cx, self.cy, margin * self.width / 2, margin * self.height / 2

    def offset(self, x: float, y: float) -> float:
        """Distance of ``(x, y)`` from the centre in half-axes (1 = on the ideal box's
        inscribed ellipse)."""
        return math.hypot((x - self.cx) / (self.width / 2), (y - self.cy) / (self.height / 2))


def target_oval(frame_shape: tuple[int, int]) -> Oval:
    """The ideal face box for a frame of ``frame_shape`` (height, width) pixels."""
    h, w = int(frame_shape[0]), int(frame_shape[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"frame_shape must be positive (height, width), got {frame_shape}")
    height = FACE_HEIGHT_SHARE * min(h, w)
    return Oval(OVAL_CX * w, OVAL_CY * h, height / FACE_ASPECT, height)


@dataclass(frozen=True)
class Guidance:
    """An instruction for the screen: a stable code and the words to show."""

    code: str
    message: str

    @property
    def ok(self) -> bool:
        return self.code == "OK"


NO_FACE = Guidance("NO_FACE", "Step in front of the camera")
SEVERAL_FACES = Guidance("SEVERAL_FACES", "One person at a time, please")
TOO_FAR = Guidance("TOO_FAR", "Move closer")
TOO_CLOSE = Guidance("TOO_CLOSE", "Move back a little")
OFF_CENTRE = Guidance("OFF_CENTRE", "Centre your face in the oval")
TOO_DARK = Guidance("TOO_DARK", "More light is needed on your face")
TOO_BRIGHT = Guidance("TOO_BRIGHT", "Too much light: step out of direct light")
HOLD_STILL = Guidance("HOLD_STILL", "Hold still")
LOOK_AT_CAMERA = Guidance("LOOK_AT_CAMERA", "Look at the camera")
OK = Guidance("OK", "Good")


def guidance(obs: FaceObservation, *, frontal_required: bool = True) -> Guidance:
    """The most useful single instruction for this frame, in order of what to fix first.

    Parameters
    ----------
    obs : FaceObservation
    frontal_required : bool
        False while a head-movement prompt is showing, when a turned head is expected.
    """
    face = obs.face
    if face is None or obs.n_faces == 0:
        return NO_FACE
    if obs.n_faces > 1:
        return SEVERAL_FACES
    h, w = obs.frame_shape
    oval = target_oval((h, w))
    x0, y0, x1, y1 = face.box
    scale = (y1 - y0) / oval.height
    if scale < MIN_SCALE:
        return TOO_FAR
    if scale > MAX_SCALE:
        return TOO_CLOSE
    margin_x, margin_y = EDGE_MARGIN * w, EDGE_MARGIN * h
    if x0 <= margin_x or y0 <= margin_y or x1 >= w - margin_x or y1 >= h - margin_y:
        return OFF_CENTRE
    if frontal_required and oval.offset(*face.center) > CENTRE_TOLERANCE:
        return OFF_CENTRE
    if face.brightness < MIN_BRIGHTNESS:
        return TOO_DARK
    if face.brightness > MAX_BRIGHTNESS or face.exposure > MAX_CLIPPED:
        return TOO_BRIGHT
    if frontal_required and (abs(face.yaw) > MAX_FRONTAL_DEG or abs(face.pitch) > MAX_FRONTAL_DEG):
        return LOOK_AT_CAMERA
    if face.sharpness < MIN_SHARPNESS:
        return HOLD_STILL
    return OK


#: Share of the last ``switch_s`` of frames a new instruction needs before it is shown: two
#: in three, so neither of two alternating problems is shown and a face tracked in five frames
#: out of six is.
SHOW_SHARE = 2.0 / 3.0


class PlacementTracker:
    """Guidance with hysteresis, and whether the face is placed.

    Per-frame guidance is noisy (one blurred frame, one frame with the chin at the edge). The
    shown instruction changes only when a new one has been the instruction of at least
    SHOW_SHARE of the frames of the last ``switch_s``, so it does not flicker, and an OK face
    whose tracker drops one frame in six still comes to be shown OK. The face becomes *placed* once the per-frame guidance has been OK for
    ``hold_s`` without a break of ``switch_s`` or more, and stays placed until the guidance
    has not been OK for ``switch_s``: the session starts, and a prompt's timer pauses, on these debounced edges.

    Parameters
    ----------
    hold_s : float
        How long the face must be well placed before it counts as placed.
    switch_s : float
        How long a change must persist before it is shown (and before a placed face counts
        as no longer placed).
    """

    def __init__(self, hold_s: float = 0.5, switch_s: float = 0.3) -> None:
        if hold_s < 0 or switch_s < 0:
            raise ValueError("hold_s and switch_s must be >= 0")
        self.hold_s = float(hold_s)
        self.switch_s = float(switch_s)
        self.reset()

    def reset(self) -> None:
        self.shown: Guidance = NO_FACE
        self.placed = False
        self._recent: deque[tuple[float, Guidance]] = deque()
        self._ok_since: float | None = None
        self._bad_since: float | None = None

    def update(self, t: float, raw: Guidance) -> Guidance:
        """Take the per-frame guidance at time ``t``; return the instruction to show."""
        self._recent.append((t, raw))
        # Keep the last switch_s and the frame just before it, so the window covers switch_s
        # at any frame rate.
        while len(self._recent) > 1 and self._recent[1][0] <= t - self.switch_s + 1e-9:
            self._recent.popleft()
        if raw.code != self.shown.code and t - self._recent[0][0] >= self.switch_s - 1e-9:
            same = sum(1 for _, g in self._recent if g.code == raw.code)
            if same >= SHOW_SHARE * len(self._recent):
                self.shown = raw
        elif raw.code == self.shown.code:
            self.shown = raw  # the same instruction, perhaps reworded
        # The same debounce on both edges: a break shorter than switch_s (one mistracked
        # frame, a dropped one) neither unplaces the face nor restarts its hold, as it does
        # not change the instruction shown. Restarting the hold on every glitch kept a face
        # that flickered OK for want of a steady tracker at "Put your face in the oval" with
        # nothing said about why.
        if raw.ok:
            self._bad_since = None
            self._ok_since = t if self._ok_since is None else self._ok_since
            self.placed = self.placed or t - self._ok_since >= self.hold_s
        else:
            self._bad_since = t if self._bad_since is None else self._bad_since
            if t - self._bad_since >= self.switch_s:
                self.placed = False
                self._ok_since = None
        return self.shown

    def held_s(self, t: float) -> float:
        """How long the face has been well placed at time ``t`` (breaks shorter than
        ``switch_s`` included)."""
        return 0.0 if self._ok_since is None else max(t - self._ok_since, 0.0)
