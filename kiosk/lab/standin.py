"""A kiosk without camera, face or matcher: stand-ins for tests, benchmarks and demos.

A synthetic camera of noise pictures, a synthetic person who answers the prompts as they
appear (used as the face tracker, and as an event sink of the runtime so it sees the
prompts), a fixed liveness fusion, a frame-counting analyzer, a fixed matcher and a
one-face detector. Everything else (the runtime, the session, the audit log) is the real
code, so each test sets exactly one thing that decides the outcome. No Qt here: the UI
tests connect the same pieces to the Qt worker.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from kiosk.camera import BaseSource
from kiosk.cloud.results import FaceBox, MatchResult, SearchMatch, SearchResult
from kiosk.errors import CameraError
from kiosk.lab import synthetic as syn
from kiosk.model import FaceObservation, Signal
from kiosk.runtime import RuntimeEvent, RuntimeParts
from kiosk.runtime.events import ProgressMade
from kiosk.session import SessionProgress

FRAME_SHAPE = (480, 640)


class SyntheticCamera(BaseSource):
    """A live camera of noise pictures at ``fps`` (frame time), delivered ``speed`` times
    faster than real time; :meth:`unplug` makes it fail until :meth:`plug`."""

    is_live = True

    def __init__(self, fps: float = 30.0, speed: float = 1.0, seed: int = 0) -> None:
        super().__init__("synthetic camera", nominal_fps=fps)
        rng = np.random.default_rng(seed)
        self._images = [rng.integers(60, 200, (*FRAME_SHAPE, 3), dtype=np.uint8)
                        for _ in range(4)]
        self._period = 1.0 / fps
        self._speed = float(speed)
        self._failing = threading.Event()
        self._t = time.monotonic()
        self._next_wall = 0.0  # set when the source opens

    def unplug(self) -> None:
        self._failing.set()

    def plug(self) -> None:
        self._failing.clear()

    def _open(self) -> None:
        self._next_wall = time.monotonic()

    def _close(self) -> None:
        pass

    def _read(self):
        if self._failing.is_set():
            time.sleep(0.05)
            raise CameraError("synthetic camera unplugged")
        wait = self._next_wall - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._next_wall = max(self._next_wall + self._period / self._speed,
                              time.monotonic() - 0.1)
        self._t += self._period
        image = self._images[self._seq % len(self._images)]
        return self._emit(image, self._t, t=self._t)


def _act(action: str, start: float):
    if action == "blink":
        return syn.blink(start)
    if action == "turn_left":
        return syn.turn(start, 28.0)
    if action == "turn_right":
        return syn.turn(start, -28.0)
    if action == "smile":
        return syn.smile(start, hold_s=0.5)
    if action == "nod":
        return syn.pitch(start, -20.0)
    if action == "look_up":
        return syn.pitch(start, 22.0, hold_s=1.0)
    if action == "look_down":
        return syn.pitch(start, -22.0, hold_s=1.0)
    raise ValueError(action)


def _drift(start: float, away_s: float, px: float) -> syn.Action:
    """The face slides ``px`` sideways at ``start``, stays ``away_s``, and slides back."""
    def apply(t: float, v: dict) -> None:
        v["cx"] += px * syn.trapezoid(t, start, 0.2, away_s, 0.2)
    return apply


class Responder:
    """A synthetic person in front of the camera, used as the face tracker.

    It watches the screen as the runtime's event sink (:meth:`report`, called in the
    runtime's thread right after each frame, like a person seeing a prompt) and starts each
    prompted action ``reaction_s`` of frame time later.

    behaviour : ``follow`` (does what is asked), ``still`` (a photo: never moves) or
    ``wrong`` (turns the other way, or turns when asked anything else).
    skip : int
        Prompts not answered at first (each session): a person who misses a prompt.
    drift_s : float
        On the first prompt of each session the face drifts out of the oval 0.2 s after it
        appears and comes back this much later; the prompt is answered once it is back.
    """

    #: How far a drifting face moves sideways (pixels of the 640-pixel frame).
    DRIFT_PX = 220.0

    def __init__(self, behaviour: str = "follow", reaction_s: float = 0.45,
                 present: bool = True, *, skip: int = 0, drift_s: float = 0.0) -> None:
        self.behaviour = behaviour
        self.reaction_s = reaction_s
        self.present = present
        self.skip = int(skip)
        self.drift_s = float(drift_s)
        self._answered: dict[int, int] = {}   # prompts seen per session
        self._lock = threading.Lock()
        self._actions: list = []
        self._seen: set[tuple[int, int, str]] = set()
        self._last_t = 0.0
        self.prompts: list[tuple[int, str, float]] = []   # (session, action, frame time)

    def report(self, event: RuntimeEvent) -> None:
        """The runtime's event sink: a prompt on screen is what the person reacts to."""
        if isinstance(event, ProgressMade):
            self.on_progress(event.session_id, event.progress)

    def on_progress(self, session_id: int, progress: SessionProgress) -> None:
        if progress.prompt is None:
            return
        key = (session_id, progress.index, progress.prompt)
        if key in self._seen:
            return
        self._seen.add(key)
        self.prompts.append((session_id, progress.prompt, self._last_t))
        seen = self._answered.get(session_id, 0)
        self._answered[session_id] = seen + 1
        action = progress.prompt
        if self.behaviour == "still" or seen < self.skip:
            return
        if self.behaviour == "wrong":
            action = "turn_right" if action == "turn_left" else "turn_left"
        start = self._last_t + self.reaction_s
        with self._lock:
            if seen == 0 and self.drift_s > 0:
                away = self._last_t + 0.2
                self._actions.append(_drift(away, self.drift_s, self.DRIFT_PX))
                start = away + self.drift_s + 0.5 + self.reaction_s
            self._actions.append(_act(action, start))

    def observe(self, frame) -> FaceObservation:
        self._last_t = frame.t
        face = None
        if self.present:
            values = dict(syn.NEUTRAL)
            with self._lock:
                actions = list(self._actions)
            for action in actions:
                action(frame.t, values)
            face = syn.make_face(values)
        return FaceObservation(seq=frame.seq, t=frame.t, media_t=frame.media_t,
                               frame_shape=frame.shape, n_faces=int(face is not None),
                               face=face)

    def close(self) -> None:
        pass


class FixedFusion:
    """A fixed score and reasons; each cue named is evidence of an attack on its own
    (``strong``: see :class:`kiosk.analysis.fusion.FusionResult`)."""

    def __init__(self, score: float = 96.0, reasons=()) -> None:
        self.score, self.reasons = score, tuple(reasons)

    def fuse(self, signals, *, still=False, frame_rate=None):
        return SimpleNamespace(score=self.score, reasons=self.reasons, refused=False,
                               frame_rate=frame_rate, strong=self.reasons)


class CountingAnalyzer:
    name, single_frame = "counting", False

    def __init__(self) -> None:
        self.frames = 0

    def reset(self) -> None:
        self.frames = 0

    def update(self, frame, obs) -> None:
        self.frames += 1

    def result(self) -> Signal:
        return Signal(self.name, 0.9, 0.8, "", {"frames": self.frames})


class FixedMatcher:
    name, threshold = "local", 95.0

    def __init__(self, result: MatchResult | None = None, error: Exception | None = None,
                 found: SearchResult | None = None):
        self.result, self.error, self.found, self.calls = result, error, found, 0

    def compare(self, live, reference, *, live_box=None):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.result

    def search(self, live, *, live_box=None):
        """Member check-in: ``found`` (or the error)."""
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.found


def members_found(*external_ids: str, similarity: float = 99.0,
                  reasons: tuple[str, ...] = ()) -> SearchResult:
    """A search of the members' collection that found these members, best first."""
    return SearchResult(collection_id="members", threshold=95.0, matches=tuple(
        SearchMatch(external_id=e, face_id=f"face-{i}", similarity=similarity - i)
        for i, e in enumerate(external_ids)), face_box=None, calls=2, reasons=reasons)


def match(matched: bool, *, offline: bool = False, similarity: float | None = 99.0):
    return MatchResult(matched=matched, similarity=similarity, threshold=95.0,
                       matcher="local" if offline else "rekognition", offline=offline)


class OneFaceDetector:
    """Stands in for dlib's HOG detector on the test's ID photos: one centred face."""

    def detect(self, image, *, thorough=True):
        h, w = image.shape[:2]
        return [FaceBox(w * 0.3, h * 0.2, w * 0.7, h * 0.7)]


def standin_parts(*, responder: Responder, audit_factory: Callable[[Any], Any],
                  fusion: Any = None, matcher: Any = None, seed: int = 7) -> RuntimeParts:
    """RuntimeParts over the synthetic person: the responder as tracker, a fixed fusion
    (96 unless given), one counting analyzer, the given matcher and a seeded draw."""
    return RuntimeParts(
        tracker=lambda: responder,
        fusion=lambda: fusion if fusion is not None else FixedFusion(),
        analyzers=lambda s: [CountingAnalyzer()],
        audit=audit_factory,
        matcher=(lambda s: matcher) if matcher is not None else None,
        id_detector=OneFaceDetector, card_detector=OneFaceDetector,
        rng=random.Random(seed))
