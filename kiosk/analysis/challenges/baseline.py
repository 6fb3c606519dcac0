"""A person's own neutral face, against which every action is measured.

Fixed global thresholds fail real people: open-eye EAR ranges from about 0.2 (narrow eyes,
glasses) to 0.4, resting yaw and pitch depend on where the camera sits, and some faces rest
with a slight smile. Each detector therefore measures excursions from a :class:`Baseline`
taken in the first moments of a session (or, for offline analysis of a whole clip, from the
clip's typical frames), which then adapts slowly while the face is neutral.

Statistics are robust ones: medians for pose and mouth, and an upper quantile for eye
openness and a lower quantile for the smile and blink scores, because blinks only ever lower
the EAR and smiles only ever raise the smile score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from kiosk.analysis.guidance import MAX_FRONTAL_DEG
from kiosk.model import Face, FaceObservation

# Quantiles for the one-sided statistics (see the module docstring).
OPEN_EYE_QUANTILE = 75.0
REST_SCORE_QUANTILE = 25.0
# A baseline window is accepted only when the head holds still: the spread (max - min) of yaw
# and of pitch over the window stays under this many degrees.
MAX_POSE_SPREAD_DEG = 8.0
# Smallest plausible open-eye EAR; protects the relative measures from a degenerate baseline.
MIN_OPEN_EAR = 0.08
# Eye openness is taken from frames within this many degrees of the median pose: a turned
# head foreshortens the eye's width and inflates its EAR (0.2 frontal, 0.5 at 40 degrees of
# yaw on one developer clip).
FRONTAL_DEG = 10.0


@dataclass(frozen=True)
class Baseline:
    """Neutral values of one person's face.

    Attributes
    ----------
    ear_left, ear_right : float
        Open-eye aspect ratio of the subject's own left and right eye.
    blink_left, blink_right : float
        Resting ``eyeBlinkLeft``/``eyeBlinkRight`` blendshape scores (about 0.5 behind some
        glasses, near 0 otherwise).
    yaw, pitch, roll : float
        Resting head pose in degrees (kiosk signs).
    mouth_width : float
        Resting mouth corner distance over the inter-ocular distance.
    smile : float
        Resting smile score: the smaller of ``mouthSmileLeft`` and ``mouthSmileRight``.
    frames : int
        How many observations it was computed from.
    """

    ear_left: float
    ear_right: float
    blink_left: float
    blink_right: float
    yaw: float
    pitch: float
    roll: float
    mouth_width: float
    smile: float
    frames: int

    @classmethod
    def from_faces(cls, faces: Sequence[Face]) -> Baseline:
        """Robust statistics over some faces (at least one).

        Raises
        ------
        ValueError
            ``faces`` is empty.
        """
        if not faces:
            raise ValueError("faces must hold at least one Face")
        col = {name: np.array([_value(f, name) for f in faces], dtype=np.float64)
               for name in _FIELDS}
        frontal = (np.abs(col["yaw"] - np.median(col["yaw"])) <= FRONTAL_DEG) & \
            (np.abs(col["pitch"] - np.median(col["pitch"])) <= FRONTAL_DEG)
        eyes = frontal if frontal.any() else np.ones_like(frontal)
        return cls(
            ear_left=max(_percentile(col["ear_left"][eyes], OPEN_EYE_QUANTILE), MIN_OPEN_EAR),
            ear_right=max(_percentile(col["ear_right"][eyes], OPEN_EYE_QUANTILE), MIN_OPEN_EAR),
            blink_left=_percentile(col["blink_left"], REST_SCORE_QUANTILE),
            blink_right=_percentile(col["blink_right"], REST_SCORE_QUANTILE),
            yaw=float(np.median(col["yaw"])),
            pitch=float(np.median(col["pitch"])),
            roll=float(np.median(col["roll"])),
            mouth_width=float(np.median(col["mouth_width"])),
            smile=_percentile(col["smile"], REST_SCORE_QUANTILE),
            frames=len(faces),
        )

    @classmethod
    def from_observations(cls, observations: Iterable[FaceObservation]) -> Baseline:
        """Baseline of a whole recording: robust statistics over every frame with one face.

        For offline analysis, where the first second may already hold an action; the
        statistics are the module's robust ones, so actions that fill less than about a
        quarter of the clip do not move it.

        Raises
        ------
        ValueError
            No observation has exactly one face.
        """
        faces = [o.face for o in observations if o.face is not None and o.n_faces == 1]
        if not faces:
            raise ValueError("no observation has exactly one face; no baseline can be taken")
        return cls.from_faces(faces)

    def blended(self, face: Face, weight: float) -> Baseline:
        """Move ``weight`` (0-1) of the way toward ``face``'s values (slow adaptation)."""
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight must be in [0, 1], got {weight}")
        changes = {}
        for name in _FIELDS:
            old = getattr(self, name)
            changes[name] = old + weight * (_value(face, name) - old)
        changes["ear_left"] = max(changes["ear_left"], MIN_OPEN_EAR)
        changes["ear_right"] = max(changes["ear_right"], MIN_OPEN_EAR)
        return replace(self, **changes)


_FIELDS = ("ear_left", "ear_right", "blink_left", "blink_right", "yaw", "pitch", "roll",
           "mouth_width", "smile")


def _value(face: Face, name: str) -> float:
    if name == "blink_left":
        return face.blink_left
    if name == "blink_right":
        return face.blink_right
    if name == "smile":
        return smile_score(face)
    return float(getattr(face, name))


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q))


def smile_score(face: Face) -> float:
    """Smile score of one face: the smaller of the two mouth-smile blendshapes.

    A smile lifts both mouth corners; a one-sided pull (smirk) lifts one, and the minimum
    keeps it low.
    """
    return min(face.blend("mouthSmileLeft"), face.blend("mouthSmileRight"))


def eye_closure(face: Face, baseline: Baseline) -> tuple[float, float]:
    """How closed each eye is relative to the person's open eye, from the landmark EAR.

    Returns
    -------
    left, right : float
        ``1 - EAR / open EAR``, clipped to [0, 1]: 0 open (or wider than usual), 1 shut.
    """
    left = 1.0 - face.ear_left / baseline.ear_left
    right = 1.0 - face.ear_right / baseline.ear_right
    return min(max(left, 0.0), 1.0), min(max(right, 0.0), 1.0)


def blink_rise(face: Face, baseline: Baseline) -> tuple[float, float]:
    """Rise of the eyeBlink blendshapes above their resting values (left, right)."""
    return face.blink_left - baseline.blink_left, face.blink_right - baseline.blink_right


class BaselineEstimator:
    """Takes a baseline from the first steady moments of a stream, then adapts it slowly.

    Parameters
    ----------
    duration_s : float
        Length of the window of steady frames the first baseline needs (settings
        ``liveness.baseline_s``).
    min_frames : int
        Fewest observations in that window (a 15 fps camera gives 15 a second).
    adapt_tau_s : float
        Time constant of the slow adaptation; each neutral frame moves the baseline by
        ``1 - exp(-dt / adapt_tau_s)`` of the way toward it.
    max_pose_spread_deg : float
        The window is steady when the spread of yaw and of pitch stays under this.

    Notes
    -----
    Only observations with exactly one face facing the camera (yaw and pitch within
    :data:`~kiosk.analysis.guidance.MAX_FRONTAL_DEG`, as the placement check asks) count: a
    head held turned is steady but is not the person's rest. Until the window is steady it
    slides: the
    oldest frames are dropped, so a person who turns around while the kiosk waits still gets
    a clean baseline once they hold still. :meth:`freeze` ends the wait early (scripted mode
    issues its first prompt at a fixed time). :meth:`renew` keeps the window sliding after
    the baseline exists and takes it again from each later steady window, for callers that
    wait between the baseline and the first prompt.
    """

    def __init__(self, duration_s: float = 1.0, min_frames: int = 5, adapt_tau_s: float = 20.0,
                 max_pose_spread_deg: float = MAX_POSE_SPREAD_DEG) -> None:
        if duration_s <= 0 or min_frames < 1 or adapt_tau_s <= 0:
            raise ValueError("duration_s and adapt_tau_s must be > 0 and min_frames >= 1")
        self.duration_s = float(duration_s)
        self.min_frames = int(min_frames)
        self.adapt_tau_s = float(adapt_tau_s)
        self.max_pose_spread_deg = float(max_pose_spread_deg)
        self._window: list[tuple[float, Face]] = []
        self._baseline: Baseline | None = None
        self._last_t: float | None = None

    @property
    def ready(self) -> bool:
        """True once a baseline exists."""
        return self._baseline is not None

    @property
    def baseline(self) -> Baseline | None:
        """The current baseline, None until :attr:`ready`."""
        return self._baseline

    @property
    def collected_s(self) -> float:
        """Seconds of steady window collected so far (``duration_s`` once ready)."""
        if self._baseline is not None:
            return self.duration_s
        if len(self._window) < 2:
            return 0.0
        return self._window[-1][0] - self._window[0][0]

    def reset(self, baseline: Baseline | None = None) -> None:
        """Start again, optionally from a known baseline (offline analysis)."""
        self._window.clear()
        self._baseline = baseline
        self._last_t = None

    def collect(self, obs: FaceObservation) -> bool:
        """Feed one observation while no baseline exists; returns :attr:`ready`."""
        if self._baseline is not None:
            return True
        self._take(obs)
        return self._baseline is not None

    def renew(self, obs: FaceObservation) -> bool:
        """Feed one observation once the baseline exists, and take the baseline again when
        the window ending with it is steady; returns True when it was replaced.

        Until the first prompt the person's rest is where they rest now, not where they first
        held still: a glance aside during the first steady second would otherwise stay the
        reference that every later movement is measured from.
        """
        if self._baseline is None:
            raise RuntimeError("renew() needs a baseline; collect() takes the first one")
        return self._take(obs)

    def _take(self, obs: FaceObservation) -> bool:
        """Slide the window to ``obs``; take the baseline from it when it is full and
        steady."""
        if obs.face is None or obs.n_faces != 1 or not _facing(obs.face):
            # A missing, second or turned-away face breaks the steady window.
            self._window.clear()
            return False
        self._window.append((obs.t, obs.face))
        while self._window and obs.t - self._window[0][0] > self.duration_s:
            self._window.pop(0)
        span = self._window[-1][0] - self._window[0][0]
        # A window spans (frames - 1) intervals; allow one frame interval of slack.
        interval = span / max(len(self._window) - 1, 1)
        if len(self._window) < self.min_frames or span + interval < self.duration_s - 1e-9:
            return False
        faces = [f for _, f in self._window]
        if _spread([f.yaw for f in faces]) > self.max_pose_spread_deg or \
                _spread([f.pitch for f in faces]) > self.max_pose_spread_deg:
            return False
        self._baseline = Baseline.from_faces(faces)
        self._last_t = obs.t
        return True

    def freeze(self) -> bool:
        """Take the baseline from whatever the window holds now (at least ``min_frames``).

        Returns True when a baseline exists afterwards.
        """
        if self._baseline is None and len(self._window) >= self.min_frames:
            self._baseline = Baseline.from_faces([f for _, f in self._window])
            self._last_t = self._window[-1][0]
        return self._baseline is not None

    def adapt(self, obs: FaceObservation) -> None:
        """Move the baseline slightly toward a face the caller judged neutral."""
        if self._baseline is None or obs.face is None:
            return
        dt = 0.0 if self._last_t is None else max(obs.t - self._last_t, 0.0)
        self._last_t = obs.t
        weight = 1.0 - math.exp(-dt / self.adapt_tau_s)
        if weight > 0.0:
            self._baseline = self._baseline.blended(obs.face, weight)

    def skip(self, obs: FaceObservation) -> None:
        """Note the time of a frame that is not neutral (so adaptation does not jump later)."""
        self._last_t = obs.t


def _facing(face: Face) -> bool:
    return abs(face.yaw) <= MAX_FRONTAL_DEG and abs(face.pitch) <= MAX_FRONTAL_DEG


def _spread(values: Sequence[float]) -> float:
    return float(max(values) - min(values)) if values else 0.0
