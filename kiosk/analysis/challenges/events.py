"""Every action detector over one observation stream, with the person's baseline.

:class:`ActionDetector` is what a live session feeds frame by frame; :func:`detect_events`
runs it over a recorded list of observations (``kiosk analyze``, evaluation, scripted mode).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kiosk.analysis.challenges.baseline import (
    Baseline,
    BaselineEstimator,
    eye_closure,
    smile_score,
)
from kiosk.analysis.challenges.blink import BlinkDetector
from kiosk.analysis.challenges.detector import Detector
from kiosk.analysis.challenges.head import PitchDetector, TurnDetector
from kiosk.analysis.challenges.smile import SmileDetector
from kiosk.model import Event, FaceObservation

# Limits of a "neutral" face, the only kind the baseline adapts to.
NEUTRAL_POSE_DEG = 5.0
NEUTRAL_CLOSURE = 0.35
NEUTRAL_SMILE = 0.1

#: Default pitch excursion for nods and looks up/down (no setting yet).
PITCH_ANGLE_DEG = 15.0


class ActionDetector:
    """The blink, smile, turn and pitch detectors sharing one baseline.

    Parameters
    ----------
    turn_angle_deg : float
        Least yaw excursion of a turn (settings ``liveness.turn_angle_deg``).
    pitch_angle_deg : float
        Least pitch excursion of a nod or a look up/down.
    baseline_s : float
        Seconds of steady neutral face the baseline needs (settings ``liveness.baseline_s``).
    baseline : Baseline, optional
        A known baseline (offline analysis); when None, the first steady ``baseline_s`` of the
        stream gives it and no event is reported before.
    adapt : bool
        Let the baseline follow the neutral face slowly (lighting, posture drift).
    detectors : sequence of Detector, optional
        Replace the default set (tests).
    """

    def __init__(self, *, turn_angle_deg: float = 20.0, pitch_angle_deg: float = PITCH_ANGLE_DEG,
                 baseline_s: float = 1.0, baseline: Baseline | None = None, adapt: bool = True,
                 detectors: Sequence[Detector] | None = None) -> None:
        self.estimator = BaselineEstimator(duration_s=baseline_s)
        if baseline is not None:
            self.estimator.reset(baseline)
        self.adapt = adapt
        defaults: tuple[Detector, ...] = (
            BlinkDetector(), SmileDetector(), TurnDetector(turn_angle_deg),
            PitchDetector(pitch_angle_deg))
        self.detectors = tuple(detectors) if detectors is not None else defaults

    @classmethod
    def from_settings(cls, liveness, **kwargs) -> ActionDetector:
        """Build from ``settings.liveness`` (turn angle, baseline length)."""
        kwargs.setdefault("turn_angle_deg", float(liveness.turn_angle_deg))
        kwargs.setdefault("pitch_angle_deg", float(liveness.pitch_angle_deg))
        kwargs.setdefault("baseline_s", float(liveness.baseline_s))
        return cls(**kwargs)

    @property
    def actions(self) -> tuple[str, ...]:
        """Every action some detector reports."""
        return tuple(a for d in self.detectors for a in d.actions)

    @property
    def baseline(self) -> Baseline | None:
        """The current baseline, None while it is being taken."""
        return self.estimator.baseline

    @property
    def ready(self) -> bool:
        """True once the baseline exists and events can be reported."""
        return self.estimator.ready

    def freeze_baseline(self) -> bool:
        """Take the baseline now from the frames seen so far; True when one exists."""
        return self.estimator.freeze()

    def pending(self) -> list[Event]:
        """Actions in progress past their threshold and not over yet (a head still turned),
        as provisional events ending at the latest frame."""
        return [e for e in (d.pending for d in self.detectors) if e is not None]

    def active(self, actions: Iterable[str] | None = None) -> bool:
        """True while any detector (of one of ``actions``, if given) sees the face off neutral."""
        wanted = None if actions is None else set(actions)
        return any(d.active for d in self.detectors
                   if wanted is None or wanted.intersection(d.actions))

    def reach(self, action: str) -> float | None:
        """For a head movement, how far the head is toward it now in thresholds (1.0 at the
        threshold); None for other actions."""
        for detector in self.detectors:
            if isinstance(detector, TurnDetector | PitchDetector):
                value = detector.reach(action)
                if value is not None:
                    return value
        return None

    def ongoing(self) -> list[Event]:
        """Actions that already qualify while they last (a smile still held)."""
        return [e for e in (d.ongoing for d in self.detectors) if e is not None]

    def finish(self) -> list[Event]:
        """The stream has ended: events of actions in progress that qualify without an end."""
        events = [e for d in self.detectors for e in d.finish()]
        return sorted(events, key=lambda e: (e.start, e.action))

    def reset(self) -> None:
        """Forget actions in progress (the baseline stays)."""
        for d in self.detectors:
            d.reset()

    def update(self, obs: FaceObservation, *, renew_baseline: bool = False) -> list[Event]:
        """Take one observation (``obs.t`` increasing); return the events that ended with it.

        ``renew_baseline``: take the baseline again from the latest steady window, if the
        window ending with ``obs`` is one (the prompt engine asks for this until its first
        prompt; see :meth:`BaselineEstimator.renew`).
        """
        if not self.estimator.ready:
            self.estimator.collect(obs)
            return []
        if renew_baseline:
            self.estimator.renew(obs)
        baseline = self.estimator.baseline
        assert baseline is not None  # ready
        events: list[Event] = []
        for detector in self.detectors:
            events.extend(detector.update(obs, baseline))
        if self.adapt:
            if self._neutral(obs, baseline):
                self.estimator.adapt(obs)
            else:
                self.estimator.skip(obs)
        return sorted(events, key=lambda e: (e.start, e.action))

    def _neutral(self, obs: FaceObservation, baseline: Baseline) -> bool:
        face = obs.face
        # Pending (past-threshold) actions block adaptation; a small steady offset does not,
        # so a posture that drifts a few degrees becomes the new rest.
        if face is None or obs.n_faces != 1 or any(d.pending is not None for d in self.detectors):
            return False
        if abs(face.yaw - baseline.yaw) > NEUTRAL_POSE_DEG or \
                abs(face.pitch - baseline.pitch) > NEUTRAL_POSE_DEG:
            return False
        if max(eye_closure(face, baseline)) > NEUTRAL_CLOSURE:
            return False
        return smile_score(face) - baseline.smile <= NEUTRAL_SMILE


def detect_events(observations: Iterable[FaceObservation], *, baseline: str | Baseline = "clip",
                  **kwargs) -> list[Event]:
    """Every event in a recorded observation stream, sorted by start.

    Parameters
    ----------
    observations : iterable of FaceObservation
        In time order.
    baseline : {"clip", "start"} or Baseline
        ``"clip"``: robust statistics over the whole recording (offline analysis; the first
        second of a recording may already hold an action). ``"start"``: the first steady
        ``baseline_s`` of the stream, as a live session does. Or a given :class:`Baseline`.
    **kwargs :
        Passed to :class:`ActionDetector`.

    Raises
    ------
    ValueError
        ``baseline="clip"`` and no frame has exactly one face, or ``baseline`` is unknown.
    """
    observations = list(observations)
    start: Baseline | None
    if baseline == "clip":
        start = Baseline.from_observations(observations)
    elif baseline == "start":
        start = None
    elif isinstance(baseline, Baseline):
        start = baseline
    else:
        raise ValueError(f"baseline must be 'clip', 'start' or a Baseline, got {baseline!r}")
    detector = ActionDetector(baseline=start, **kwargs)
    events: list[Event] = []
    for obs in observations:
        events.extend(detector.update(obs))
    events.extend(detector.finish())
    return sorted(events, key=lambda e: (e.start, e.action))
