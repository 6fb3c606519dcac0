"""Live guidance for the person in front of the kiosk: one plain instruction per frame.

Pure function of a FaceObservation. The limits are usability limits, not security limits:
they keep the face large, lit and sharp enough for the detectors and the matcher.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.model import FaceObservation

# Face width as a share of the frame width. Below ~0.15 a 640-px frame gives the face fewer
# than ~100 px, where eye landmarks get too coarse for blink detection; above ~0.65 a head
# turn pushes the face out of the frame.
MIN_SIZE, MAX_SIZE = 0.15, 0.65
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
    if face.size < MIN_SIZE:
        return TOO_FAR
    if face.size > MAX_SIZE:
        return TOO_CLOSE
    h, w = obs.frame_shape
    x0, y0, x1, y1 = face.box
    margin_x, margin_y = EDGE_MARGIN * w, EDGE_MARGIN * h
    if x0 <= margin_x or y0 <= margin_y or x1 >= w - margin_x or y1 >= h - margin_y:
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
