"""LightAnalyzer: the light challenge as a passive analyzer of the session's frames.

It keeps, per frame with a face, the linear colour of five skin regions (their means, and
their darker halves' for a region a highlight clips) and of two background bands (a median
of 2.3 ms a frame, ``benchmarks/light.py``), and judges them against the sequence at the
end (:func:`kiosk.analysis.light.judge.judge`).
"""

from __future__ import annotations

import numpy as np

from kiosk.analysis.light.judge import MAX_DELAY_S, judge
from kiosk.analysis.light.regions import background_means, face_region_means
from kiosk.analysis.light.result import NAME, LightResult, Unjudged, not_judged
from kiosk.analysis.light.sequence import LightSequence
from kiosk.model import FaceObservation, Frame, Signal

#: Frames kept at most (two minutes at 30 fps): a session is bounded far below.
MAX_FRAMES = 3600


class LightAnalyzer:
    """The light cue over a session (multi-frame).

    Parameters
    ----------
    sequence : LightSequence, optional
        What the screen showed, in the time base of ``frame.t``; may come later through
        :meth:`set_sequence` (the session knows the painted times only once painted).
    settle_s : float
        Time after a painted time before the whole screen shows the new colour (a wipe).
    max_delay_s : float
        The latest delay this kiosk's camera can have (``judge.MAX_DELAY_S``).

    Notes
    -----
    Frames outside the sequence (with margins for the camera's delay) are kept too, since
    the sequence may be set after them; only ``MAX_FRAMES`` are kept. ``result()`` without a
    sequence has confidence 0.
    """

    name = NAME
    single_frame = False

    def __init__(self, sequence: LightSequence | None = None, *, settle_s: float = 0.0,
                 max_delay_s: float = MAX_DELAY_S) -> None:
        if not 0.0 <= settle_s < 0.35:
            raise ValueError(f"settle_s must be in [0, 0.35), got {settle_s}")
        if not 0.0 < max_delay_s <= 1.0:
            raise ValueError(f"max_delay_s must be in (0, 1], got {max_delay_s}")
        self.settle_s = float(settle_s)
        self.max_delay_s = float(max_delay_s)
        self._sequence = sequence
        self.reset()

    def reset(self) -> None:
        """Forget the frames (the sequence is kept; set a new one for a new session)."""
        self._frames = 0
        self._t: list[float] = []
        self._face: list[np.ndarray] = []
        self._lower: list[np.ndarray] = []
        self._clipped: list[np.ndarray] = []
        self._background: list[np.ndarray] = []
        self._verdict: LightResult | None = None

    def set_sequence(self, sequence: LightSequence | None) -> None:
        """What the screen showed, with its times in the base of ``frame.t``."""
        self._sequence = sequence
        self._verdict = None

    @property
    def sequence(self) -> LightSequence | None:
        return self._sequence

    def update(self, frame: Frame, obs: FaceObservation) -> None:
        """Measure one frame (``frame.image`` (H, W, 3) uint8 BGR) with a face."""
        self._frames += 1
        face = obs.face
        if face is None or len(self._t) >= MAX_FRAMES:
            return
        if self._t and obs.t <= self._t[-1]:
            return
        means, _, clipped, lower = face_region_means(frame.image, face.landmarks)
        bg, _ = background_means(frame.image, face.landmarks)
        self._t.append(float(obs.t))
        self._face.append(means)
        self._lower.append(lower)
        self._clipped.append(clipped)
        self._background.append(bg)
        self._verdict = None

    def verdict(self) -> LightResult:
        """The judge's verdict over every frame seen since :meth:`reset`."""
        if self._verdict is None:
            self._verdict = self._judge()
        return self._verdict

    def _judge(self) -> LightResult:
        if self._sequence is None:
            return not_judged(Unjudged.NOT_SHOWN, "no light sequence was shown")
        if not self._t:
            return not_judged(Unjudged.FACE, f"no face in {self._frames} frames")
        return judge(np.array(self._t), np.array(self._face), np.array(self._background),
                     np.array(self._clipped), self._sequence, settle_s=self.settle_s,
                     max_delay_s=self.max_delay_s, face_lower=np.array(self._lower))

    def result(self) -> Signal:
        """The verdict as a Signal (score 0 = answered, i.e. live; confidence 0 when not
        judged, with ``details["why"]``)."""
        return self.verdict().to_signal({"frames_seen": self._frames})
