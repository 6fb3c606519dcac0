"""Synthetic observation streams for tests and benchmarks of the challenge detectors.

A stream is a neutral face sampled at a frame rate, with actions layered on it as functions
of time (:func:`blink`, :func:`turn`, :func:`smile`, ...), plus optional Gaussian noise from a
seeded generator. The values are the ones the detectors read (EAR, blendshapes, pose, mouth
width), with the magnitudes measured on the developer clips: open EAR 0.3 (0.2 behind
glasses), eyeBlink ~0.75 closed, smile scores ~0.9 in a broad smile. Nothing here is used by
the kiosk at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from kiosk.model import Face, FaceObservation

#: A neutral face; every action changes some of these values.
NEUTRAL: Mapping[str, float] = MappingProxyType(dict(
    ear_left=0.30, ear_right=0.30, blink_left=0.05, blink_right=0.05, squint=0.3,
    look_down=0.05, yaw=0.0, pitch=-5.0, roll=0.0, smile_left=0.02, smile_right=0.02,
    cheek=0.0, mouth_width=0.85, jaw=0.02, cx=320.0, cy=240.0, width=200.0, shape=1.0))

#: Eyes behind glasses: narrow landmark EAR, eyeBlink reading ~0.5 with the eyes open.
GLASSES: Mapping[str, float] = MappingProxyType(
    dict(NEUTRAL, ear_left=0.20, ear_right=0.20, blink_left=0.5, blink_right=0.5))

BLINK_CLOSED = 0.78  # eyeBlink score of a shut eye on the developer clips

Action = Callable[[float, dict], None]


def trapezoid(t: float, start: float, rise_s: float, hold_s: float, fall_s: float) -> float:
    """0 before ``start``, ramps to 1 over ``rise_s``, holds ``hold_s``, back to 0 over
    ``fall_s``."""
    x = t - start
    if x <= 0:
        return 0.0
    if x < rise_s:
        return x / rise_s
    x -= rise_s
    if x <= hold_s:
        return 1.0
    x -= hold_s
    return max(1.0 - x / fall_s, 0.0) if fall_s > 0 else 0.0


def eyes(start: float, *, closed_s: float = 0.1, rise_s: float = 0.04, fall_s: float = 0.08,
         depth: float = 1.0, left: bool = True, right: bool = True,
         gaze_down: float = 0.0) -> Action:
    """Eyelid closure (a blink by default; one eye for a wink; slow and shallow for a look
    down)."""
    def apply(t: float, v: dict) -> None:
        c = depth * trapezoid(t, start, rise_s, closed_s, fall_s)
        for side, on in (("left", left), ("right", right)):
            if on:
                v[f"ear_{side}"] *= 1.0 - c
                rest = v[f"blink_{side}"]
                v[f"blink_{side}"] = rest + c * max(BLINK_CLOSED - rest, 0.1)
        v["look_down"] = max(v["look_down"], gaze_down * c, 0.7 * c)
    return apply


def blink(start: float, closed_s: float = 0.1, **kw) -> Action:
    """A blink whose lids are fully shut for ``closed_s`` (plus 40 ms closing, 80 ms opening)."""
    return eyes(start, closed_s=closed_s, **kw)


def wink(start: float, side: str = "left", closed_s: float = 0.4) -> Action:
    """One eye shut; the other narrows by 15%."""
    main = eyes(start, closed_s=closed_s, left=side == "left", right=side == "right")
    other = eyes(start, closed_s=closed_s, depth=0.15, left=side != "left",
                 right=side != "right")

    def apply(t: float, v: dict) -> None:
        main(t, v)
        other(t, v)
    return apply


def gaze_down(start: float, hold_s: float = 1.5, lower_s: float = 0.6, depth: float = 0.85
              ) -> Action:
    """Eyes lowered without moving the head: the lids follow slowly, gaze blendshapes rise."""
    lids = eyes(start, closed_s=hold_s, rise_s=lower_s, fall_s=0.3, depth=depth)

    def apply(t: float, v: dict) -> None:
        lids(t, v)
        v["look_down"] = max(v["look_down"], 0.65 * trapezoid(t, start - 0.2, 0.2, hold_s +
                                                               lower_s, 0.3))
    return apply


def _angle(key: str, start: float, angle: float, move_s: float, hold_s: float,
           back_s: float | None) -> Action:
    def apply(t: float, v: dict) -> None:
        if back_s is None:  # never comes back
            v[key] += angle * min(max((t - start) / move_s, 0.0), 1.0)
        else:
            v[key] += angle * trapezoid(t, start, move_s, hold_s, back_s)
    return apply


def turn(start: float, angle: float, *, move_s: float = 0.4, hold_s: float = 0.5,
         back_s: float | None = 0.4) -> Action:
    """Yaw excursion of ``angle`` degrees (positive: the subject's own left); ``back_s=None``
    leaves the head turned."""
    return _angle("yaw", start, angle, move_s, hold_s, back_s)


def pitch(start: float, angle: float, *, move_s: float = 0.3, hold_s: float = 0.2,
          back_s: float | None = 0.3) -> Action:
    """Pitch excursion of ``angle`` degrees (negative: down). The defaults make a nod."""
    return _angle("pitch", start, angle, move_s, hold_s, back_s)


def smile(start: float, hold_s: float = 1.0, strength: float = 0.9, *, one_sided: bool = False,
          squint: float = 0.3, rise_s: float = 0.25, fall_s: float = 0.3) -> Action:
    """Both mouth corners up (one for a smirk), wider mouth, cheeks up, eyes narrowed by
    ``squint``."""
    def apply(t: float, v: dict) -> None:
        s = trapezoid(t, start, rise_s, hold_s, fall_s)
        v["smile_left"] += strength * s
        v["smile_right"] += (0.2 if one_sided else 1.0) * strength * s
        v["mouth_width"] *= 1.0 + 0.25 * s
        v["cheek"] += 0.4 * s
        v["squint"] += 0.4 * s
        v["ear_left"] *= 1.0 - squint * s
        v["ear_right"] *= 1.0 - squint * s
        rise = 0.15 * s
        v["blink_left"] += rise
        v["blink_right"] += rise
    return apply


def make_face(values: Mapping[str, float]) -> Face:
    """A :class:`Face` with the given detector-facing values (see :data:`NEUTRAL`).

    The landmarks hold only the upper-face points the continuity check reads, scaled by
    ``width`` around (``cx``, ``cy``); ``shape`` stretches the nose (another person).
    """
    v = values
    w, cx, cy = v["width"], v["cx"], v["cy"]
    lm = np.zeros((478, 3), np.float32)
    points = {263: (0.23, -0.10), 33: (-0.23, -0.10), 168: (0.0, -0.10),
              1: (0.0, -0.10 + 0.22 * v["shape"]), 454: (0.45, 0.0), 234: (-0.45, 0.0),
              10: (0.0, -0.45)}
    for index, (x, y) in points.items():
        lm[index] = (cx + x * w, cy + y * w, 0.0)
    blend = {
        "eyeBlinkLeft": v["blink_left"], "eyeBlinkRight": v["blink_right"],
        "eyeSquintLeft": v["squint"], "eyeSquintRight": v["squint"],
        "eyeLookDownLeft": v["look_down"], "eyeLookDownRight": v["look_down"],
        "mouthSmileLeft": v["smile_left"], "mouthSmileRight": v["smile_right"],
        "cheekSquintLeft": v["cheek"], "cheekSquintRight": v["cheek"], "jawOpen": v["jaw"],
    }
    blend = {k: float(min(max(x, 0.0), 1.0)) for k, x in blend.items()}
    half = w / 2.0
    return Face(
        box=(cx - half, cy - 1.2 * half, cx + half, cy + 1.2 * half), landmarks=lm,
        blendshapes=MappingProxyType(blend), yaw=v["yaw"], pitch=v["pitch"], roll=v["roll"],
        ear_left=max(v["ear_left"], 0.0), ear_right=max(v["ear_right"], 0.0),
        mouth_width=v["mouth_width"], mouth_open=0.02, sharpness=100.0, brightness=120.0,
        exposure=0.0, size=w / 640.0, interocular=0.46 * w, matrix=np.eye(4, dtype=np.float32))


def stream(duration_s: float, fps: float, *actions: Action, neutral: Mapping[str, float] = NEUTRAL,
           noise: float = 0.0, seed: int = 0, phase_s: float = 0.0,
           edit: Callable[[float, dict], dict | None] | None = None) -> list[FaceObservation]:
    """Sample a synthetic face at ``fps`` for ``duration_s`` seconds.

    Parameters
    ----------
    actions :
        Functions ``(t, values)`` that change the values in place, applied in order.
    neutral : mapping
        The resting face (:data:`NEUTRAL`, :data:`GLASSES`, or a variant).
    noise : float
        Scale of the Gaussian noise: ``noise`` x (0.01 EAR, 0.5 degree, 0.02 blendshape).
    seed : int
        Seed of the noise generator.
    phase_s : float
        Time of the first frame (shifts the sampling grid against the actions).
    edit : callable, optional
        ``(t, values) -> None`` to drop the face at that frame, or a dict of
        :class:`FaceObservation` overrides (e.g. ``{"n_faces": 2}``).
    """
    rng = np.random.default_rng(seed)
    out = []
    n = int(round(duration_s * fps))
    for i in range(n):
        t = phase_s + i / fps
        v = dict(neutral)
        for action in actions:
            action(t, v)
        if noise:
            for key in ("ear_left", "ear_right"):
                v[key] += rng.normal(0.0, 0.01 * noise)
            for key in ("yaw", "pitch", "roll"):
                v[key] += rng.normal(0.0, 0.5 * noise)
            for key in ("blink_left", "blink_right", "smile_left", "smile_right", "look_down"):
                v[key] += rng.normal(0.0, 0.02 * noise)
            v["mouth_width"] += rng.normal(0.0, 0.01 * noise)
        overrides: dict | None = {}
        if edit is not None:
            overrides = edit(t, v)
        face = make_face(v) if overrides is not None else None
        fields: dict[str, Any] = dict(seq=i, t=t, media_t=t, frame_shape=(480, 640),
                      n_faces=1 if face is not None else 0, face=face)
        fields.update(overrides or {})
        out.append(FaceObservation(**fields))
    return out
