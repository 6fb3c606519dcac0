"""Frame sampling shared by the single-frame analyzers.

A single-frame cue does not need every frame: it measures every ``stride``-th frame that has a
usable face (always the first one, so a still image works with one ``update``) and aggregates
the measurements with the median in ``result()``. Analyzers get different ``phase`` values so
their costly frames do not coincide. When a session grows past ``max_samples`` measurements,
every other one is dropped and the stride doubles, which keeps an even spread over the session
with bounded memory.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import numpy as np

from kiosk.model import Face, FaceObservation, Frame, Signal

log = logging.getLogger(__name__)


class FrameSampler:
    """Decides which eligible frames are measured.

    Parameters
    ----------
    stride : int
        Measure one eligible frame in ``stride``.
    phase : int
        Offset in ``[0, stride)`` of the measured frames (the first eligible frame is always
        measured too).
    max_samples : int
        Above this many kept measurements, every other one is dropped and the stride doubles.
    """

    def __init__(self, stride: int = 6, phase: int = 0, max_samples: int = 32) -> None:
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        if max_samples < 2:
            raise ValueError(f"max_samples must be >= 2, got {max_samples}")
        self.base_stride = int(stride)
        self.phase = int(phase) % self.base_stride
        self.max_samples = int(max_samples)
        self.reset()

    def reset(self) -> None:
        self.stride = self.base_stride
        self.count = 0

    def due(self) -> bool:
        """Call once per eligible frame; True when this one should be measured."""
        k = self.count
        self.count += 1
        return k == 0 or k % self.stride == self.phase % self.stride

    def thin(self, samples: list) -> list:
        """Halve ``samples`` (keep every other one) and double the stride when it is full."""
        if len(samples) <= self.max_samples:
            return samples
        self.stride *= 2
        return samples[::2]


class SampledAnalyzer:
    """Base of the single-frame analyzers: gating, sampling and the no-evidence Signal.

    Subclasses set ``name``, ``reason`` and ``confidence_cap`` and implement :meth:`_measure`
    (one frame to a dict of numbers, or a short reason string when it cannot be measured) and
    :meth:`_aggregate` (the kept measurements to a Signal, through :meth:`_signal`). They
    satisfy :class:`kiosk.analysis.signals.Analyzer`.

    Parameters
    ----------
    stride, phase, max_samples :
        See :class:`FrameSampler`.
    min_face_px : float
        Faces narrower than this many pixels are skipped (too few pixels for the cue).
    """

    name = "sampled"
    reason = ""
    single_frame = True
    #: Confidence of a cue measured on ``n_full`` frames or more (see sample_confidence).
    confidence_cap = 1.0

    def __init__(self, stride: int = 6, phase: int = 0, max_samples: int = 32,
                 min_face_px: float = 48.0) -> None:
        self._sampler = FrameSampler(stride, phase, max_samples)
        self.min_face_px = float(min_face_px)
        self.reset()

    def reset(self) -> None:
        self._sampler.reset()
        self._samples: list[dict[str, Any]] = []
        self._frames = 0
        self._skipped: Counter[str] = Counter()

    def update(self, frame: Frame, obs: FaceObservation) -> None:
        self._frames += 1
        face = obs.face
        if face is None:
            self._skipped["no_face"] += 1
            return
        if face.width < self.min_face_px:
            self._skipped["face_too_small"] += 1
            return
        why = self._ineligible(face)
        if why:
            self._skipped[why] += 1
            return
        if not self._sampler.due():
            return
        try:
            measured = self._measure(frame.image, face)
        except ValueError as exc:
            # A face box at the frame's edge can leave too little to measure.
            log.debug("%s: frame %d not measured: %s", self.name, frame.seq, exc)
            self._skipped["unmeasurable"] += 1
            return
        if isinstance(measured, str):
            self._skipped[measured] += 1
            return
        measured["seq"] = frame.seq
        self._samples.append(measured)
        self._samples = self._sampler.thin(self._samples)

    def result(self) -> Signal:
        if not self._samples:
            why = ("no frame was measured: " + ", ".join(
                f"{k} x{v}" for k, v in sorted(self._skipped.items()))
                if self._skipped else "no frames")
            return Signal(self.name, 0.0, 0.0, self.reason, self._base_details() | {"why": why})
        return self._aggregate(self._samples)

    # -- for subclasses -------------------------------------------------------------------

    def _ineligible(self, face: Face) -> str:
        """A short reason when this face should not count as a candidate frame, else ''."""
        return ""

    def _measure(self, image: np.ndarray, face: Face) -> dict[str, Any] | str:
        raise NotImplementedError

    def _aggregate(self, samples: list[dict[str, Any]]) -> Signal:
        raise NotImplementedError

    def _signal(self, samples: list[dict[str, Any]], score: float, details: dict[str, Any],
                *, cap: float | None = None) -> Signal:
        """The Signal of an aggregate: ``score``, the confidence earned by the number of
        samples (up to ``cap``, the class's ``confidence_cap`` by default) and ``details``
        after the sampling details."""
        cap = self.confidence_cap if cap is None else cap
        return Signal(self.name, float(score), sample_confidence(len(samples), cap),
                      self.reason, self._base_details() | details)

    def _base_details(self) -> dict[str, Any]:
        return {"frames": self._frames, "samples": len(self._samples),
                "skipped": dict(self._skipped),
                "sampled_seq": [int(s["seq"]) for s in self._samples]}


def median_of(samples: list[dict[str, Any]], key: str) -> float:
    """Median of one measured number over the samples, ignoring NaN (NaN when none)."""
    vals = np.array([s[key] for s in samples if key in s], dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    return float(np.median(vals)) if vals.size else float("nan")


def median_details(samples: list[dict[str, Any]], keys: tuple[str, ...],
                   digits: int = 4) -> dict[str, float]:
    """``{key: median, rounded}`` for each of ``keys`` (see :func:`median_of`)."""
    return {key: round(median_of(samples, key), digits) for key in keys}


def sample_confidence(n: int, cap: float, n_full: int = 5) -> float:
    """Confidence from the number of measured frames: ``cap / 2`` for one, ``cap`` from n_full.

    One frame is what a still gives; a few more frames average out noise and compression.
    """
    if n <= 0:
        return 0.0
    return float(cap * min(1.0, 0.5 + 0.5 * (n - 1) / max(n_full - 1, 1)))
