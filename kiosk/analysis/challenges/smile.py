"""Smile detection: both mouth corners rise above the person's resting face, and the mouth widens.

The smile score is the smaller of MediaPipe's ``mouthSmileLeft``/``mouthSmileRight``
(:func:`smile_score`): a smile lifts both corners, a smirk one. It is measured against the
person's resting score, because some faces rest with a slight smile (0.5 on one developer
clip). The mouth must also widen a little relative to its resting width (landmarks, so a
blendshape misfire alone is not a smile), and the smile must be held for ``min_hold_s``.

The event is reported when the smile ends (or when the stream ends, :meth:`finish`); while it
is held and already qualifies, :attr:`SmileDetector.ongoing` reports it, so a session can
accept a person who keeps smiling instead of waiting for them to stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.analysis.challenges.actions import SMILE
from kiosk.analysis.challenges.baseline import Baseline, smile_score
from kiosk.analysis.challenges.detector import GapGuard, ramp
from kiosk.model import Event, FaceObservation


@dataclass
class _Smile:
    start: float
    last: float
    frames: int = 0
    peak: float = 0.0
    peak_width: float = 0.0


class SmileDetector:
    """Streaming smile detector (``smile``).

    Parameters
    ----------
    rise : float
        Smile score above rest at which a smile starts.
    min_score : float
        Smile score a smile must reach whatever the rest (a resting 0.0 face needs more than a
        0.3 twitch).
    release : float
        Smile score above rest below which the smile has ended (hysteresis).
    widen : float
        Mouth width over resting width the smile must reach at some frame.
    min_hold_s : float
        Shortest smile, from its first to just past its last frame.
    max_gap_s : float
        Longest face dropout bridged inside a smile.
    """

    actions: tuple[str, ...] = (SMILE,)

    def __init__(self, *, rise: float = 0.3, min_score: float = 0.5, release: float = 0.15,
                 widen: float = 1.04, min_hold_s: float = 0.2, max_gap_s: float = 0.4) -> None:
        if not 0.0 < release < rise:
            raise ValueError("need 0 < release < rise")
        self.rise = rise
        self.min_score = min_score
        self.release = release
        self.widen = widen
        self.min_hold_s = min_hold_s
        self._gap = GapGuard(max_gap_s)
        self._smile: _Smile | None = None
        self._last_t: float | None = None
        self._dt = 1.0 / 30.0
        self._level = 0.0

    def reset(self) -> None:
        self._smile = None
        self._gap.reset()
        self._last_t = None
        self._level = 0.0

    @property
    def pending(self) -> Event | None:
        smile = self._smile
        return Event(SMILE, smile.start, smile.last, 0.5) if smile is not None else None

    @property
    def active(self) -> bool:
        return self._smile is not None or self._level >= self.release

    @property
    def ongoing(self) -> Event | None:
        smile = self._smile
        return self._event(smile) if smile is not None else None

    def finish(self) -> list[Event]:
        smile, self._smile = self._smile, None
        event = self._event(smile) if smile is not None else None
        return [event] if event is not None else []

    def _event(self, smile: _Smile) -> Event | None:
        """The smile as an event if it qualifies (held long enough, mouth widened)."""
        held = smile.last - smile.start + self._dt
        if held < self.min_hold_s or smile.peak_width < self.widen:
            return None
        confidence = 0.5 + 0.3 * ramp(smile.peak, self.rise, self.rise + 0.3) \
            + 0.2 * ramp(smile.peak_width, self.widen, self.widen + 0.15)
        return Event(SMILE, smile.start, smile.last, round(confidence, 3))

    def update(self, obs: FaceObservation, baseline: Baseline) -> list[Event]:
        if self._gap.broken(obs):
            self.reset()
            if obs.face is not None:
                self._gap.broken(obs)
        face = obs.face
        if face is None:
            return []
        if self._last_t is not None and obs.t > self._last_t:
            # Running frame interval: a smile seen in n frames lasted about n intervals.
            self._dt += 0.2 * (min(obs.t - self._last_t, 0.2) - self._dt)
        self._last_t = obs.t
        score = smile_score(face)
        level = self._level = score - baseline.smile
        width = face.mouth_width / baseline.mouth_width if baseline.mouth_width > 0 else 0.0

        smile = self._smile
        if smile is None:
            if level >= self.rise and score >= self.min_score:
                smile = self._smile = _Smile(start=obs.t, last=obs.t)
            else:
                return []
        if level >= self.release:
            smile.last = obs.t
            smile.frames += 1
            smile.peak = max(smile.peak, level)
            smile.peak_width = max(smile.peak_width, width)
            return []
        self._smile = None
        event = self._event(smile)
        return [event] if event is not None else []
