"""Simulated attacks rendered from bona fide media, for training and evaluating the fusion.

For tests and training only: every evaluation reports simulated and real material apart, and
real material is what counts. Three kinds are rendered from each bona fide clip (in this
order, so ``count`` attacks per clip take the first ``count`` kinds, cycling):

- ``print``: a frame printed on paper and held by hand (:func:`PrintParams.random`'s sway);
- ``replay``: the clip played on a phone, tablet or monitor (:func:`ReplayParams.random`);
- ``print_tilted``: the print turned and tilted as an attacker does to imitate the head
  turns and nods a kiosk prompts for (yaw 15-30 deg, pitch 6-15 deg: a prompted head turn
  is 20 deg or more, settings ``liveness.turn_angle_deg``). Without it no training print
  moves enough for the planar-motion cue to measure (its gate needs ~4-5 deg of rotation
  within 0.4 s), and the fusion could not learn that cue.

Pure numpy/OpenCV over images the caller decodes; the randomness comes from the
``numpy.random.Generator`` passed in, so one seed reproduces an attack exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import cycle
from pathlib import Path

import cv2
import numpy as np

from kiosk.errors import InputError
from kiosk.lab.simulate import (
    MotionParams,
    PrintParams,
    ReplayParams,
    choose_still,
    prepare_print,
    prepare_replay,
    render_print_frame,
    render_replay_frame,
)
from kiosk.model import FaceObservation

KINDS = ("print", "replay", "print_tilted")
SPECIES = {"print": "print", "print_tilted": "print", "replay": "replay"}
# Tilted print: amplitudes drawn uniformly in these ranges (degrees; see the module docstring).
TILT_YAW_DEG = (15.0, 30.0)
TILT_PITCH_DEG = (6.0, 15.0)
TILT_ROLL_DEG = (2.0, 5.0)


def kinds(count: int) -> list[str]:
    """The first ``count`` attack kinds, cycling through :data:`KINDS`."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    it = cycle(KINDS)
    return [next(it) for _ in range(count)]


def attack_params(kind: str, rng: np.random.Generator) -> PrintParams | ReplayParams:
    """Random parameters of one attack of ``kind`` (see the module docstring)."""
    if kind == "print":
        return PrintParams.random(rng)
    if kind == "print_tilted":
        motion = MotionParams(yaw_deg=rng.uniform(*TILT_YAW_DEG),
                              pitch_deg=rng.uniform(*TILT_PITCH_DEG),
                              roll_deg=rng.uniform(*TILT_ROLL_DEG), shift=0.03, scale=0.04)
        return PrintParams.random(rng, motion=motion)
    if kind == "replay":
        return ReplayParams.random(rng)
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


def print_frame_index(observations: Sequence[tuple[int, FaceObservation]]) -> int:
    """Which frame to print: the sharpest frontal open-eyed face among tracked candidates.

    Parameters
    ----------
    observations : sequence of (index, FaceObservation)
        Candidate frames (decode index) and what the tracker saw in them.

    Returns
    -------
    int
        The chosen decode index.
    """
    if not observations:
        raise ValueError("observations must hold at least one candidate frame")
    nan = float("nan")
    rows = [(o.face.sharpness, o.face.yaw, o.face.pitch,
             (o.face.ear_left + o.face.ear_right) / 2.0) if o.face is not None
            else (0.0, nan, nan, nan) for _, o in observations]
    arr = np.array(rows, np.float64)
    return observations[choose_still(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])][0]


def render_attack(kind: str, *, still: np.ndarray | None = None,
                  source: Iterable[np.ndarray] | None = None, n_frames: int, fps: float,
                  size: tuple[int, int], rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Frames of one simulated attack.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    still : ndarray (H, W, 3) uint8, BGR
        The picture to print (print kinds).
    source : iterable of ndarray (H, W, 3) uint8, BGR
        The frames to replay, at least ``n_frames`` of them (replay); loop a short clip.
    n_frames : int
    fps : float
    size : tuple of int
        ``(width, height)`` of the output (and of the replayed frames).
    rng : numpy.random.Generator

    Yields
    ------
    ndarray (height, width, 3) uint8, BGR
    """
    params = attack_params(kind, rng)
    if SPECIES[kind] == "print":
        if still is None:
            raise ValueError(f"a {kind} attack needs the still to print")
        assert isinstance(params, PrintParams)
        paper = prepare_print(still, n_frames, fps, params, rng, out_size=size)
        for i in range(n_frames):
            yield render_print_frame(paper, i, rng)
        return
    if source is None:
        raise ValueError("a replay attack needs the source frames")
    assert isinstance(params, ReplayParams)
    screen = prepare_replay(n_frames, fps, size, params, rng, out_size=size)
    frames = iter(source)
    for i in range(n_frames):
        frame = next(frames, None)
        if frame is None:
            raise ValueError(f"source ended after {i} of {n_frames} frames")
        yield render_replay_frame(screen, frame, i, rng)


def write_video(frames: Iterable[np.ndarray], path: str | Path, fps: float,
                size: tuple[int, int]) -> int:
    """Encode frames as an MP4 ('mp4v', as ``kiosk simulate`` does); returns the count.

    Raises
    ------
    InputError
        OpenCV cannot open ``path`` for writing.
    """
    path = Path(path)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), float(fps), size)
    if not writer.isOpened():
        writer.release()
        raise InputError(f"cannot write {path}: OpenCV cannot open it with the mp4v codec")
    count = 0
    try:
        for image in frames:
            writer.write(image)
            count += 1
    finally:
        writer.release()
    return count
