"""Recording sessions for a site's own evaluation (``kiosk record OUT_DIR``).

Each session the kiosk runs is saved in its own folder under ``OUT_DIR``:

- ``video.avi``: every frame the session analysed (Motion-JPEG, lossless enough for the
  cues and readable by OpenCV everywhere), at the camera's nominal frame rate, or at the rate
  the frames really came when that differs by more than :data:`RATE_SLACK` (a loaded kiosk
  that analysed 10 of the camera's 30 frames a second): played at the nominal rate, such a
  session ran three times too fast, and ``kiosk evaluate`` judged at 30 frames a second what
  the kiosk had refused as too slow to judge. Frame ``i`` has media time ``i / fps``;
- ``sequence.json``: the light sequence as the screen painted it, its times mapped from the
  frame clock to that media time through the frames' own timestamps (so a camera that
  delivered frames unevenly still lines up frame by frame);
- ``timeline.json``: the prompts in media time (asked, answered, outcome), the decision and
  its reason codes (no scores: they are recomputed by ``kiosk evaluate``);

and a row is appended to ``OUT_DIR/manifest.csv`` (the label and species given when the
recording started, the sequence file in the ``sequence`` column, and ``unlabelled_events`` in
its notes until someone labels what the person did: an empty ``events`` column would read as
"did nothing", so every detected action counted as a false one), so ``kiosk evaluate
OUT_DIR/manifest.csv`` and ``kiosk evaluate --sessions`` judge the site's own recordings.
These folders hold faces: keep them as the site keeps its evidence.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kiosk.analysis.light import LightSequence, Segment
from kiosk.errors import InputError
from kiosk.model import Frame

log = logging.getLogger(__name__)

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("path", "media", "label", "species", "frames", "events", "subject",
                    "notes", "sequence")
LABELS = ("bona_fide", "attack")
SPECIES = ("print", "replay", "mask")
_SUBJECT = re.compile(r"^[A-Za-z0-9_.-]{0,64}$")


@dataclass(frozen=True)
class RecordPlan:
    """What ``kiosk record`` was told: where, and what is in front of the camera.

    Attributes
    ----------
    out_dir : Path
    label : str
        ``bona_fide`` or ``attack``.
    species : str
        For an attack: ``print``, ``replay`` or ``mask``; empty for bona fide.
    subject : str
        A pseudonymous tag for who (or which attack instrument) was recorded; never an ID
        number.
    fps : float
        The camera's nominal rate: the saved videos' frame rate unless their frames came
        at another (see :func:`saved_rate`).
    """

    out_dir: Path
    label: str
    species: str = ""
    subject: str = ""
    fps: float = 30.0

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise InputError(f"--label must be one of {', '.join(LABELS)}, got {self.label!r}")
        if (self.label == "attack") != bool(self.species):
            raise InputError("--species is needed for an attack (print, replay or mask) and "
                             "only for an attack")
        if self.species and self.species not in SPECIES:
            raise InputError(f"--species must be one of {', '.join(SPECIES)}, got "
                             f"{self.species!r}")
        if not _SUBJECT.match(self.subject):
            raise InputError("--subject-tag: up to 64 letters, digits, '.', '_' or '-'")
        if not 1.0 <= self.fps <= 120.0:
            raise InputError(f"the recording frame rate must be 1-120 fps, got {self.fps}")

    def open(self) -> None:
        """Create the folder; InputError when it cannot be written."""
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the recording folder {self.out_dir}: "
                             f"{exc.strerror or exc}") from None
        if not self.out_dir.is_dir():
            raise InputError(f"{self.out_dir} is not a folder")

    def session(self, started: datetime) -> SessionRecording:
        """A new recording for the session that starts now."""
        stamp = started.strftime("%Y%m%dT%H%M%S")
        folder = self.out_dir / stamp
        n = 1
        while folder.exists():
            n += 1
            folder = self.out_dir / f"{stamp}-{n}"
        return SessionRecording(self, folder)


RATE_SLACK = 0.05
"""How far the frames' own rate may differ from the nominal one before the video is saved
at theirs (a camera's delivered rate wanders a little; that is not worth a re-encode)."""

UNLABELLED = "unlabelled_events"
"""The manifest note of a recording whose actions nobody has labelled yet
(:mod:`kiosk.lab.events_eval` leaves its row out of the event figures)."""


def saved_rate(frame_t: Sequence[float], nominal: float) -> float:
    """The frame rate to save a session's frames at.

    Parameters
    ----------
    frame_t : sequence of float, shape (n,)
        The frame clock time of each saved frame, rising.
    nominal : float
        The camera's nominal rate.

    Returns
    -------
    float
        ``nominal``, or the frames' mean rate when it differs by more than RATE_SLACK.
    """
    if len(frame_t) < 2 or frame_t[-1] <= frame_t[0]:
        return nominal
    measured = (len(frame_t) - 1) / (frame_t[-1] - frame_t[0])
    return nominal if abs(measured / nominal - 1.0) <= RATE_SLACK else round(measured, 3)


def media_times(frame_t: Sequence[float], fps: float,
                times: Sequence[float]) -> np.ndarray:
    """Map frame-clock times to the saved video's media time.

    Parameters
    ----------
    frame_t : sequence of float, shape (n,)
        The frame clock time of each saved frame, rising.
    fps : float
        The video's frame rate: frame ``i`` plays at ``i / fps``.
    times : sequence of float, shape (m,)
        Times on the frame clock.

    Returns
    -------
    numpy.ndarray, shape (m,)
        Piecewise-linear between frames; beyond the ends at the nominal rate.
    """
    t = np.asarray(frame_t, dtype=float)
    q = np.asarray(times, dtype=float)
    if t.size == 0:
        raise ValueError("no frames were saved")
    media = np.arange(t.size, dtype=float) / fps
    out = np.interp(q, t, media)
    out = np.where(q < t[0], (q - t[0]), out)
    return np.where(q > t[-1], media[-1] + (q - t[-1]), out)


class SessionRecording:
    """One session's folder: :meth:`tee` the frames through it, then :meth:`finish`."""

    def __init__(self, plan: RecordPlan, folder: Path) -> None:
        self.plan = plan
        self.folder = folder
        self._writer: Any = None
        self._times: list[float] = []
        self._fps = plan.fps

    def tee(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        """Yield ``frames`` unchanged, saving each one first."""
        for frame in frames:
            self._write(frame)
            yield frame

    def _write(self, frame: Frame) -> None:
        image = frame.image
        if self._writer is None:
            self.folder.mkdir(parents=True)
            h, w = image.shape[:2]
            self._writer = cv2.VideoWriter(str(self.folder / "video.avi"),
                                           cv2.VideoWriter.fourcc(*"MJPG"), self.plan.fps,
                                           (w, h))
            if not self._writer.isOpened():
                raise InputError(f"cannot write a video in {self.folder}")
        self._writer.write(image)
        self._times.append(frame.t)

    def finish(self, decision: Any, painted: LightSequence | None) -> Path | None:
        """Close the video and write the sequence, the timeline and the manifest row.

        Parameters
        ----------
        decision : kiosk.session.Decision or None
            None when the session failed before deciding (the video is kept, its timeline
            says so, and no manifest row is written).
        painted : LightSequence or None
            The sequence as painted, in frame-clock time.

        Returns
        -------
        Path or None
            The session's folder; None when no frame was saved.
        """
        if self._writer is None:
            return None
        self._writer.release()
        fps = self._fps = saved_rate(self._times, self.plan.fps)
        if fps != self.plan.fps:
            self._retime(fps)
        sequence_name = ""
        if painted is not None:
            starts = media_times(self._times, fps, [s.start for s in painted.segments])
            ends = media_times(self._times, fps, [s.end for s in painted.segments])
            shifted = LightSequence(tuple(
                Segment(round(float(a), 4), round(float(b), 4), s.rgb)
                for a, b, s in zip(starts, ends, painted.segments, strict=True)))
            (self.folder / "sequence.json").write_text(shifted.to_json(), encoding="utf-8")
            sequence_name = "sequence.json"
        timeline = self._timeline(decision)
        (self.folder / "timeline.json").write_text(json.dumps(timeline, indent=1) + "\n",
                                                   encoding="utf-8")
        if decision is not None:
            self._append_row(sequence_name, timeline)
        log.info("session recorded in %s (%d frames)", self.folder, len(self._times))
        return self.folder

    def _retime(self, fps: float) -> None:
        """Set the saved video's frame rate to ``fps`` in its AVI headers (the main header's
        microseconds per frame, the video stream's rate and scale). The frames stay as
        written: encoding them again would add a second JPEG compression, a cue of its own."""
        path = self.folder / "video.avi"
        with path.open("r+b") as fh:
            head = fh.read(4096)  # OpenCV writes both headers in the file's first list
            main, stream = head.find(b"avih"), head.find(b"strh")
            if main < 0 or stream < 0 or head[stream + 8:stream + 12] != b"vids":
                raise InputError(f"{path}: no AVI video header to set its frame rate in")
            scale, rate = 1000, round(fps * 1000)
            fh.seek(main + 8)
            fh.write(struct.pack("<I", round(1e6 / fps)))
            fh.seek(stream + 28)
            fh.write(struct.pack("<II", scale, rate))
        log.info("session saved at %.1f frames a second, the rate its frames came (the "
                 "camera's nominal rate is %.0f)", fps, self.plan.fps)

    def _timeline(self, decision: Any) -> dict[str, Any]:
        fps = self._fps

        def media(t: Any) -> float | None:
            if t is None:
                return None
            return round(float(media_times(self._times, fps, [float(t)])[0]), 3)

        out: dict[str, Any] = {"frames": len(self._times), "fps": fps,
                               "nominal_fps": self.plan.fps,
                               "label": self.plan.label, "species": self.plan.species}
        if decision is None:
            out["decision"] = None
            return out
        out["decision"] = str(decision.decision)
        out["reasons"] = [str(r) for r in decision.reasons]
        out["prompts"] = [{"action": c["action"], "outcome": c["outcome"],
                           "asked": media(c.get("prompt_t")),
                           "answered": media(c.get("response_t"))}
                          for c in decision.challenges]
        return out

    def _append_row(self, sequence_name: str, timeline: dict[str, Any]) -> None:
        manifest = self.plan.out_dir / MANIFEST
        new = not manifest.exists()
        folder = self.folder.name
        prompts = ";".join(f"{p['action']}@{p['asked']}" for p in timeline["prompts"]
                           if p["asked"] is not None)
        row = {"path": f"{folder}/video.avi", "media": "video", "label": self.plan.label,
               "species": self.plan.species, "frames": "", "events": "",
               "subject": self.plan.subject,
               "notes": f"kiosk record; {UNLABELLED}" + (f"; prompts {prompts}" if prompts
                                                         else ""),
               "sequence": f"{folder}/{sequence_name}" if sequence_name else ""}
        with manifest.open("a", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS)
            if new:
                writer.writeheader()
            writer.writerow(row)


def keep(recording: SessionRecording | None, decision: Any, light: Any) -> None:
    """Close a session's recording, if it has one; a failure to write it is logged and the
    session's decision stands.

    Parameters
    ----------
    recording : SessionRecording or None
    decision : Decision or None
        None when the session failed before deciding.
    light : LightPlan or None
        The session's light step (its painted sequence is saved).
    """
    if recording is None:
        return
    try:
        recording.finish(decision, light.painted() if light is not None else None)
    except (OSError, InputError, ValueError) as exc:
        log.error("the session's recording could not be saved: %s", exc)
