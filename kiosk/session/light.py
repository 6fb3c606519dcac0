"""The light step of a session: the screen lights the face with a random colour sequence and
the face must reflect it (:mod:`kiosk.analysis.light` judges it).

The step runs once the face is placed in the oval, before the prompts. Where the sequence
comes from and which times judge it depends on where the frames come from:

- :class:`ScreenLight`, the kiosk: a sequence drawn with ``secrets`` when the step starts,
  shown by the window, judged against the times the window reports it *painted* (frame
  clock), never the times it asked for;
- :class:`RecordedLight`, ``kiosk verify --light SEQUENCE.json``: a recording made in front
  of a screen, judged against the sequence filmed with it (media times);
- :class:`DrawnLight`, ``kiosk verify --light random``: what an injected or pre-recorded
  stream faces, a fresh sequence it could not know, placed where the step starts.

The sequence is never logged before it is shown; the shown sequence goes into the audit row
(the light signal's ``sequence`` detail) after.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass

from kiosk.analysis.guidance import PlacementTracker, guidance
from kiosk.analysis.light import (
    LightAnalyzer,
    LightResult,
    LightSequence,
    Segment,
    draw_sequence,
)
from kiosk.errors import InputError
from kiosk.model import FaceObservation, Frame, Signal
from kiosk.session.types import LightPlan, SessionProgress

log = logging.getLogger(__name__)

CAMERA_MARGIN_S = 0.35
"""Frames this long after the last colour still carry it: the camera's delay (a frame or
two) and its exposure time."""

REPORT_WAIT_S = 2.0
"""How long after the sequence's planned end the step waits for the screen's report of what
it painted; without one the light is not judged (a kiosk whose screen cannot show the
sequence has no light evidence, and says so in the signal)."""


class ScreenLight:
    """The kiosk's own screen: :meth:`deliver` receives what the window painted (any
    thread).

    Parameters
    ----------
    rng : random.Random, optional
        Only for tests; the kiosk draws with ``secrets``.
    """

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng
        self._lock = threading.Lock()
        self._drawn: LightSequence | None = None
        self._painted: LightSequence | None = None

    def begin(self, t: float) -> LightSequence:
        with self._lock:
            self._drawn, self._painted = draw_sequence(self._rng), None
            return self._drawn

    def deliver(self, painted: LightSequence) -> None:
        """The window's report: the colours with the monotonic times they were on screen."""
        with self._lock:
            if self._drawn is not None:
                self._painted = painted

    def deliver_colours(self, colours: Sequence[tuple[float, float, Sequence[int]]]) -> None:
        """:meth:`deliver` from plain ``(start, end, rgb)`` triples; an unusable report is
        logged and dropped (the light is then not judged)."""
        try:
            painted = LightSequence(tuple(
                Segment(float(a), float(b), (int(rgb[0]), int(rgb[1]), int(rgb[2])))
                for a, b, rgb in colours))
        except (InputError, ValueError, IndexError) as exc:
            log.error("the painted light sequence is unusable: %s", exc)
            return
        self.deliver(painted)

    def painted(self) -> LightSequence | None:
        with self._lock:
            return self._painted


class RecordedLight:
    """A recording filmed in front of a screen that showed ``sequence`` (media times)."""

    def __init__(self, sequence: LightSequence) -> None:
        self._sequence = sequence

    def begin(self, t: float) -> LightSequence:
        return self._sequence.shifted(-self._sequence.segments[0].start)

    def painted(self) -> LightSequence | None:
        return self._sequence


class DrawnLight:
    """A fresh sequence, placed at the step's start: what a stream that cannot see the
    screen is judged against."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng
        self._placed: LightSequence | None = None

    def begin(self, t: float) -> LightSequence:
        drawn = draw_sequence(self._rng)
        self._placed = drawn.shifted(t)
        return drawn

    def painted(self) -> LightSequence | None:
        return self._placed


@dataclass(frozen=True)
class LightOutcome:
    """What the step found: the verdict and the light signal (None when it never started),
    and the sequence as shown."""

    result: LightResult | None
    signal: Signal | None
    shown: LightSequence | None


def light_step(plan: LightPlan, frames: Iterator[Frame],
               observe: Callable[[Frame], FaceObservation],
               progress: Callable[..., SessionProgress], *, placement: PlacementTracker,
               limit_s: float) -> Generator[SessionProgress, None, LightOutcome]:
    """Run the light step over ``frames`` (consumed only as far as the step needs).

    Parameters
    ----------
    plan : LightPlan
    frames : iterator of Frame
        The session's frames; the challenges continue with the same iterator.
    observe : callable
        Tracks one frame and feeds the session's passive analyzers and best-frame choice;
        returns the observation.
    progress : callable
        ``progress(obs, shown_guidance, placement, light=...)`` builds the screen's
        progress.
    placement : PlacementTracker
        The session's placement: the colours start once the face is placed (held still for
        its ``hold_s``); the prompts that follow go on with it.
    limit_s : float
        The step gives up after this long without a placed face (the session's bound).
    """
    analyzer = LightAnalyzer()
    first_t: float | None = None
    started: float | None = None
    shown: tuple[tuple[float, float, tuple[int, int, int]], ...] | None = None
    planned_end = 0.0
    for frame in frames:
        obs = observe(frame)
        first_t = obs.t if first_t is None else first_t
        current = placement.update(obs.t, guidance(obs))
        analyzer.update(frame, obs)
        if started is None and placement.placed:
            sequence = plan.begin(obs.t)
            started, planned_end = obs.t, obs.t + sequence.duration
            shown = tuple((s.start, s.end, tuple(s.rgb)) for s in sequence.segments)
        yield progress(obs, current, placement, light=shown)
        if started is None:
            if obs.t - first_t > limit_s:
                break
            continue
        painted = plan.painted()
        if painted is not None and obs.t >= painted.segments[-1].end + CAMERA_MARGIN_S:
            break
        if obs.t > planned_end + REPORT_WAIT_S:
            break
    if started is None:
        return LightOutcome(None, None, None)
    painted = plan.painted()
    if painted is not None:
        analyzer.set_sequence(painted)
    return LightOutcome(analyzer.verdict(), analyzer.result(), painted)


def sequence_detail(sequence: LightSequence, origin: float) -> str:
    """The shown sequence for the audit row, one short string (at most 160 characters for
    11 colours): ``rrggbb@start+length`` in hundredths of a second from ``origin``."""
    return " ".join(f"{r:02x}{g:02x}{b:02x}@{round((s.start - origin) * 100)}+"
                    f"{round((s.end - s.start) * 100)}"
                    for s in sequence.segments for r, g, b in [s.rgb])

