"""What every action detector looks like, and the bookkeeping they share.

A detector reads the observation stream incrementally: :meth:`Detector.update` takes one
:class:`~kiosk.model.FaceObservation` and the current :class:`Baseline` and returns the events
that ended with it (usually none). Events are reported when the action is over (eyes open
again, head back), so their start and end are both known; :attr:`Detector.pending` tells a
caller that an action has started and has not ended yet, and :attr:`Detector.ongoing` gives an
action that already counts while it lasts (a smile that is still held).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from kiosk.analysis.challenges.baseline import Baseline
from kiosk.model import Event, FaceObservation

# A face missing for longer than this ends whatever action was in progress: the action was
# not seen, so it cannot be reported. Shorter dropouts (a lost frame during a fast turn) are
# bridged.
MAX_GAP_S = 0.4


@runtime_checkable
class Detector(Protocol):
    """One detector of one family of actions (e.g. ``turn_left`` and ``turn_right``)."""

    #: The actions this detector can report.
    actions: tuple[str, ...]

    def update(self, obs: FaceObservation, baseline: Baseline) -> list[Event]:
        """Take the next observation (``obs.t`` strictly increasing); return finished events."""

    def reset(self) -> None:
        """Forget any action in progress."""

    @property
    def pending(self) -> Event | None:
        """An action in progress that may still be reported (past its threshold, not over
        yet), as a provisional event ending at the latest frame; None when there is none."""

    @property
    def active(self) -> bool:
        """True while the face is away from neutral for this detector (even below threshold)."""

    @property
    def ongoing(self) -> Event | None:
        """An action that already qualifies but has not ended (a smile still held), as an
        event ending at the latest frame; None for actions that qualify only once over."""

    def finish(self) -> list[Event]:
        """The stream has ended: report actions still in progress that qualify without an end."""


def clip01(value: float) -> float:
    """``value`` limited to [0, 1]."""
    return min(max(value, 0.0), 1.0)


def ramp(value: float, low: float, high: float) -> float:
    """0 at ``low``, 1 at ``high``, linear between, clipped."""
    if high <= low:
        raise ValueError(f"high ({high}) must exceed low ({low})")
    return clip01((value - low) / (high - low))


class GapGuard:
    """Tells a detector when the face has been missing long enough to drop its state."""

    def __init__(self, max_gap_s: float = MAX_GAP_S) -> None:
        self.max_gap_s = float(max_gap_s)
        self._last_face_t: float | None = None

    def broken(self, obs: FaceObservation) -> bool:
        """Update with ``obs``; True when the time since the last face exceeds the limit.

        An observation without a face returns True once the gap has grown too long,
        and False while it is still short (the caller keeps its state and skips the frame).
        """
        if obs.face is None:
            return self._last_face_t is not None and obs.t - self._last_face_t > self.max_gap_s
        broken = self._last_face_t is not None and obs.t - self._last_face_t > self.max_gap_s
        self._last_face_t = obs.t
        return broken

    def reset(self) -> None:
        self._last_face_t = None
