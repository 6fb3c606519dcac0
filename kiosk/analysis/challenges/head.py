"""Head movements: turns (yaw) and nods / looks up and down (pitch), relative to the person.

A movement is an *excursion*: the angle leaves the person's resting value, goes at least
``angle_deg`` away in one direction, and comes back toward rest, to within ``back_fraction``
of the largest excursion. It begins when the angle leaves the ``onset`` band around rest and
ends when it comes back; its confidence grows with the excursion's size. The event's start is
the *launch* of the movement that reached the threshold: the last moment, after the onset,
when the head was still (slower than :data:`STILL_DEG_S` over :data:`SPEED_WINDOW_S`), or the
onset itself. A head that drifts a few degrees, rests, and then turns when asked started its
turn when it left that rest, not when the drift began (the prompt engine compares the start
with the prompt to reject movements made before it). After an
excursion the angle must re-enter the onset band (or cross to the other side) before another
one in the same direction can start, so the tail of a slow return is not a second movement.

Faces drop out of tracking at extreme poses (near profile, chin on chest), i.e. in the middle
of exactly these movements; a dropout of up to ``max_gap_s`` (1.5 s) inside an excursion is
bridged, and the excursion is reported if the head is seen coming back.

Angles are measured from the baseline, not from zero: people sit off-centre, cameras sit above
or below the screen, and a 20-degree turn is 20 degrees from wherever the person faces.

Roll (tilting the head toward a shoulder) is not used. Yaw from the facial transformation
matrix is the horizontal direction of the face's forward axis, which a tilt about that axis
does not change; on the developer head-turn clip, where the turn to the subject's right comes
with 13 degrees of roll, the roll-free forward-vector yaw and the Euler yaw agree within a
degree, so roll neither hides nor fakes a turn. That turn reaches only about -21 degrees from
rest (the left one +44): MediaPipe's yaw for this subject's right turn is simply small, and
the 20-degree default is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.analysis.challenges.actions import LOOK_DOWN, LOOK_UP, NOD, TURN_LEFT, TURN_RIGHT
from kiosk.analysis.challenges.baseline import Baseline
from kiosk.analysis.challenges.detector import GapGuard, ramp
from kiosk.model import Event, Face, FaceObservation

STILL_DEG_S = 10.0
"""Angular speed under which the head counts as at rest (deliberate turns and looks run at
30 degrees a second and more; pose-estimate jitter over the window below is a few degrees a
second)."""

SPEED_WINDOW_S = 0.2
"""Span over which the speed is measured (single frames are too noisy)."""


@dataclass
class _Excursion:
    sign: int
    start: float
    peak: float = 0.0
    peak_t: float = 0.0
    armed: bool = False
    spoiled: bool = False
    launch: float = 0.0
    recent: list[tuple[float, float]] = field(default_factory=list)

    def note(self, t: float, along: float) -> None:
        """Track the launch until the threshold is reached: the last still moment."""
        if self.armed:
            return
        self.recent.append((t, along))
        while len(self.recent) > 2 and t - self.recent[1][0] >= SPEED_WINDOW_S:
            self.recent.pop(0)
        t0, a0 = self.recent[0]
        if t - t0 >= SPEED_WINDOW_S and abs(along - a0) / (t - t0) < STILL_DEG_S:
            self.launch = t


class ExcursionTracker:
    """Finds away-and-back excursions of one angle relative to its rest value.

    Parameters
    ----------
    angle_deg : float
        Least excursion that counts.
    onset_fraction : float
        The excursion starts when the angle leaves ``onset_fraction * angle_deg`` around rest
        (at least 3 degrees, above pose-estimate jitter).
    back_fraction : float
        The excursion ends when the angle returns within ``back_fraction`` of its peak.
    """

    def __init__(self, angle_deg: float, *, onset_fraction: float = 0.25,
                 back_fraction: float = 0.5) -> None:
        if angle_deg <= 0 or not 0.0 < back_fraction < 1.0:
            raise ValueError("need angle_deg > 0 and 0 < back_fraction < 1")
        self.angle_deg = float(angle_deg)
        self.onset_deg = max(onset_fraction * self.angle_deg, 3.0)
        self.back_fraction = back_fraction
        self._ex: _Excursion | None = None
        self.value = 0.0
        # Sign of the last reported excursion until the angle re-enters the onset band.
        self._blocked = 0

    def reset(self) -> None:
        self._ex = None
        self.value = 0.0
        self._blocked = 0

    @property
    def pending(self) -> tuple[int, float, float] | None:
        """``(sign, launch, peak)`` of an excursion past the threshold that has not come
        back."""
        ex = self._ex
        if ex is None or not ex.armed or ex.spoiled:
            return None
        return ex.sign, ex.launch, ex.peak

    @property
    def active(self) -> bool:
        return self._ex is not None or abs(self.value) >= self.onset_deg

    def spoil(self) -> None:
        """Mark the excursion in progress as unusable (it will end without an event)."""
        if self._ex is not None:
            self._ex.spoiled = True

    def update(self, t: float, value: float) -> tuple[int, float, float, float, float] | None:
        """Take the relative angle at time ``t``.

        Returns
        -------
        tuple or None
            ``(sign, start, launch, end, peak)`` of an excursion that just came back (sign +1
            or -1, peak in degrees; see the module docstring for start and launch), None
            otherwise.
        """
        self.value = value
        ex = self._ex
        magnitude = abs(value)
        sign = 1 if value > 0 else -1
        if ex is None:
            if magnitude < self.onset_deg or sign != self._blocked:
                self._blocked = 0
            if magnitude >= self.onset_deg and not self._blocked:
                self._ex = _Excursion(sign=sign, start=t, peak=magnitude, peak_t=t,
                                      armed=magnitude >= self.angle_deg, launch=t,
                                      recent=[(t, magnitude)])
            return None
        along = value * ex.sign
        ex.note(t, along)
        if along > ex.peak:
            ex.peak, ex.peak_t = along, t
            ex.armed = ex.armed or along >= self.angle_deg
        if not ex.armed:
            if along < self.onset_deg:
                # A partial movement that never reached the threshold; the angle may already
                # be past the onset on the other side.
                self._ex = None
                if magnitude >= self.onset_deg:
                    return self.update(t, value)
            return None
        if along <= self.back_fraction * ex.peak:
            self._ex = None
            self._blocked = ex.sign if along >= self.onset_deg else 0
            if ex.spoiled:
                return None
            return ex.sign, ex.start, ex.launch, t, ex.peak
        return None


def _confidence(peak: float, angle: float) -> float:
    """0.5 at the threshold, 1.0 at twice the threshold."""
    return round(0.5 + 0.5 * ramp(peak, angle, 2.0 * angle), 3)


class _AxisDetector:
    """What the yaw and pitch detectors share: one excursion tracker, gap bridging, and the
    pending event while the head is away. Subclasses name the actions of each direction and
    turn a finished excursion into events."""

    positive: str = ""
    negative: str = ""

    def __init__(self, angle_deg: float, *, back_fraction: float, max_gap_s: float) -> None:
        self.tracker = ExcursionTracker(angle_deg, back_fraction=back_fraction)
        self._gap = GapGuard(max_gap_s)
        self._last_t = 0.0

    def reset(self) -> None:
        self.tracker.reset()
        self._gap.reset()

    @property
    def pending(self) -> Event | None:
        now = self.tracker.pending
        if now is None:
            return None
        sign, start, peak = now
        return Event(self.positive if sign > 0 else self.negative, start, self._last_t,
                     _confidence(peak, self.tracker.angle_deg))

    @property
    def active(self) -> bool:
        return self.tracker.active

    def reach(self, action: str) -> float | None:
        """How far the head is toward ``action`` now, in thresholds (1.0 at the threshold, 0
        at rest or the other way); None when ``action`` is not a direction of this axis."""
        sign = 1 if action == self.positive else -1 if action == self.negative else 0
        if not sign:
            return None
        return max(sign * self.tracker.value / self.tracker.angle_deg, 0.0)

    @property
    def ongoing(self) -> Event | None:
        return None

    def finish(self) -> list[Event]:
        # A head still away when the stream ends never came back: not a movement.
        return []

    def _start(self, obs: FaceObservation) -> Face | None:
        """Bridge or break on face gaps; the face to measure, or None."""
        if self._gap.broken(obs):
            self.tracker.reset()
        if obs.face is not None:
            self._last_t = obs.t
        return obs.face


class TurnDetector(_AxisDetector):
    """Streaming head-turn detector (``turn_left``, ``turn_right``; subject's own sides).

    Parameters
    ----------
    angle_deg : float
        Least yaw excursion from rest (settings ``liveness.turn_angle_deg``, default 20).
    back_fraction : float
        The head counts as back when yaw is within this share of the peak excursion.
    max_gap_s : float
        Longest face dropout bridged inside a turn (faces near profile drop out).
    """

    actions: tuple[str, ...] = (TURN_LEFT, TURN_RIGHT)
    positive, negative = TURN_LEFT, TURN_RIGHT

    def __init__(self, angle_deg: float = 20.0, *, back_fraction: float = 0.5,
                 max_gap_s: float = 1.5) -> None:
        super().__init__(angle_deg, back_fraction=back_fraction, max_gap_s=max_gap_s)

    def update(self, obs: FaceObservation, baseline: Baseline) -> list[Event]:
        face = self._start(obs)
        if face is None:
            return []
        done = self.tracker.update(obs.t, face.yaw - baseline.yaw)
        if done is None:
            return []
        sign, _, launch, end, peak = done
        action = TURN_LEFT if sign > 0 else TURN_RIGHT
        return [Event(action, launch, end, _confidence(peak, self.tracker.angle_deg))]


class PitchDetector(_AxisDetector):
    """Streaming pitch detector: ``look_down``, ``look_up`` and ``nod``.

    Every pitch excursion is reported by its direction (``look_down`` or ``look_up``); one
    that is over within ``nod_max_s`` is also reported as a ``nod`` (down-and-back, or
    up-and-down, both count).

    Parameters
    ----------
    angle_deg : float
        Least pitch excursion from rest.
    nod_max_s : float
        Longest excursion that is also a nod.
    max_yaw_deg : float
        Pitch estimates drift when the head is turned far; an excursion during which the yaw
        leaves this band around rest is not reported.
    """

    actions: tuple[str, ...] = (NOD, LOOK_UP, LOOK_DOWN)
    positive, negative = LOOK_UP, LOOK_DOWN

    def __init__(self, angle_deg: float = 15.0, *, nod_max_s: float = 1.5,
                 back_fraction: float = 0.5, max_yaw_deg: float = 20.0,
                 max_gap_s: float = 1.5) -> None:
        super().__init__(angle_deg, back_fraction=back_fraction, max_gap_s=max_gap_s)
        self.nod_max_s = nod_max_s
        self.max_yaw_deg = max_yaw_deg

    def update(self, obs: FaceObservation, baseline: Baseline) -> list[Event]:
        face = self._start(obs)
        if face is None:
            return []
        done = self.tracker.update(obs.t, face.pitch - baseline.pitch)
        if abs(face.yaw - baseline.yaw) > self.max_yaw_deg:
            self.tracker.spoil()
        if done is None:
            return []
        sign, start, launch, end, peak = done
        confidence = _confidence(peak, self.tracker.angle_deg)
        events = [Event(LOOK_UP if sign > 0 else LOOK_DOWN, launch, end, confidence)]
        if end - start <= self.nod_max_s:  # the whole excursion is quick
            events.append(Event(NOD, launch, end, confidence))
        return events
