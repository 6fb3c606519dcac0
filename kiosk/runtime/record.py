"""Recording sessions for a site's own evaluation (``kiosk record OUT_DIR``).

Each session the kiosk runs is saved in its own folder under ``OUT_DIR``:

- ``video.avi``: every frame the session analysed, losslessly (:data:`CODEC`: the file holds
  the very pixels the kiosk judged; a lossy codec changed the cues, and a session the kiosk
  failed live passed from its file), at the camera's nominal frame rate, or at the rate
  the frames really came when that differs by more than :data:`RATE_SLACK` (a loaded kiosk
  that analysed 10 of the camera's 30 frames a second): played at the nominal rate, such a
  session ran three times too fast, and ``kiosk evaluate`` judged at 30 frames a second what
  the kiosk had refused as too slow to judge. Frame ``i`` has media time ``i / fps``;
- ``sequence.json``: the light sequence as the screen painted it, its times mapped from the
  frame clock to that media time through the frames' own timestamps (so a camera that
  delivered frames unevenly still lines up frame by frame);
- ``timeline.json``: the prompts in media time (asked, answered, outcome), the decision and
  its reason codes (no scores: they are recomputed by ``kiosk evaluate``), whether the person
  chose the accessible check, and why the session was interrupted, if it was;

and a row is appended to ``OUT_DIR/manifest.csv`` (the label and species given when the
recording started, the sequence file in the ``sequence`` column, ``unlabelled_events`` in
its notes until someone labels what the person did: an empty ``events`` column would read as
"did nothing", so every detected action counted as a false one; and :data:`ACCESSIBLE` for
the accessible check), so ``kiosk evaluate OUT_DIR/manifest.csv`` and ``kiosk evaluate
--sessions`` judge the site's own recordings. A session that was interrupted (Stop pressed,
the camera lost or frozen: :data:`INTERRUPTED`) keeps its folder but gets no row: it shows
nobody's full presentation, and ``kiosk evaluate`` would count it as one.

These folders hold faces: they are made readable by the kiosk's own user only (folders
0700, files 0600, whatever the umask), and a session is written under a hidden ``.part``
name and renamed when complete, so a full disk or a crash never leaves a half session where
``kiosk evaluate`` would read it (:class:`RecordingError`; a session does not start with less
than :data:`START_FREE_BYTES` free, and stops before the disk falls below
:data:`RESERVE_BYTES`). Keep and delete them as the site keeps its evidence.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import shutil
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kiosk.analysis.light import LightSequence, Segment
from kiosk.errors import InputError, KioskError
from kiosk.model import Frame
from kiosk.reasons import Reason

log = logging.getLogger(__name__)

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("path", "media", "label", "species", "frames", "events", "subject",
                    "notes", "sequence")
LABELS = ("bona_fide", "attack")
SPECIES = ("print", "replay", "mask")
_SUBJECT = re.compile(r"^[A-Za-z0-9_.-]{0,64}$")

VIDEO = "video.avi"
CODEC = "HFYU"
"""HuffYUV: lossless and bit-exact through OpenCV's writer and reader, and cheap enough for
the analysis thread that writes it (1.4 ms a 640x480 frame, about 115 MB per 10 s of a
developer clip; FFV1 took 13.9 ms for 95 MB, too much of a 30 fps frame's 33 ms beside the
analysis)."""

PART = ".part"
"""The suffix of a session folder (or manifest) still being written; hidden by a leading dot."""

START_FREE_BYTES = 2 * 1024 ** 3
"""Free space needed before a session starts: about three minutes of a 640x480 camera at
HuffYUV's 115 MB per 10 s (a minute of the noisiest)."""

RESERVE_BYTES = 256 * 1024 ** 2
"""Free space a recording never eats into (the audit log and the system share the disk)."""

INTERRUPTED = (Reason.STOPPED, Reason.SOURCE_ENDED)
"""Reasons that cut a session short: its recording gets no manifest row."""

ACCESSIBLE = "accessible_check"
"""The manifest note of a session the person took as the accessible check (longer windows,
no blink, prompts in place of the light step)."""


class RecordingError(KioskError):
    """A session's recording could not be saved (disk full, a write refused); its
    half-written files have been removed."""


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
        """Create the folder (0700 when it is new) and remove the half sessions a crash left
        in it; InputError when it cannot be written, RecordingError when its disk has too
        little room for a session (:data:`START_FREE_BYTES`)."""
        try:
            if not self.out_dir.exists():
                self.out_dir.mkdir(parents=True)
                self.out_dir.chmod(0o700)
            for stale in self.out_dir.glob(f".*{PART}"):
                log.warning("removing %s: a session recording left unfinished", stale)
                _remove(stale)
        except OSError as exc:
            raise InputError(f"cannot create the recording folder {self.out_dir}: "
                             f"{exc.strerror or exc}") from None
        if not self.out_dir.is_dir():
            raise InputError(f"{self.out_dir} is not a folder")
        _check_space(self.out_dir, START_FREE_BYTES)

    def check_room(self) -> None:
        """RecordingError when the disk has too little room for a session
        (:data:`START_FREE_BYTES`): the kiosk stays out of service until room is made."""
        _check_space(self.out_dir, START_FREE_BYTES)

    def session(self, started: datetime, *, accessible: bool = False) -> SessionRecording:
        """A new recording for the session that starts now (``accessible``: the person
        chose the accessible check); RecordingError, before anyone's attempt is opened, when
        the disk has too little room for it (:data:`START_FREE_BYTES`)."""
        self.check_room()
        stamp = started.strftime("%Y%m%dT%H%M%S")
        folder = self.out_dir / stamp
        n = 1
        while folder.exists() or _part(folder).exists():
            n += 1
            folder = self.out_dir / f"{stamp}-{n}"
        return SessionRecording(self, folder, accessible=accessible)


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


def interrupted(reasons: Sequence[str]) -> str | None:
    """The reason that cut a session short (:data:`INTERRUPTED`), or None."""
    return next((str(r) for r in INTERRUPTED if r in reasons), None)


class SessionRecording:
    """One session's folder: :meth:`tee` the frames through it, then :meth:`finish`.

    Everything is written in a hidden ``.<name>.part`` folder, renamed to ``folder`` once
    the video, the sequence and the timeline are complete."""

    def __init__(self, plan: RecordPlan, folder: Path, *, accessible: bool = False) -> None:
        self.plan = plan
        self.folder = folder
        self.accessible = accessible
        self._part = _part(folder)
        self._writer: Any = None
        self._times: list[float] = []
        self._fps = plan.fps
        self._error: RecordingError | None = None

    def tee(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        """Yield ``frames`` unchanged, saving each one first.

        Raises
        ------
        RecordingError
            A frame could not be saved (too little free space, a write refused): the
            session stops rather than run on unrecorded; :meth:`finish` removes its files.
        """
        for frame in frames:
            try:
                self._write(frame)
            except OSError as exc:
                self._error = RecordingError(f"cannot write in {self._part}: "
                                             f"{exc.strerror or exc}")
                raise self._error from None
            except RecordingError as exc:
                self._error = exc
                raise
            yield frame

    def _write(self, frame: Frame) -> None:
        if self._writer is None:
            self._writer = self._open_video(frame.image.shape)
        _check_space(self._part, RESERVE_BYTES)
        # OpenCV's writer reports a failed write (a full disk) only by this return value.
        if not self._writer.write(frame.image):
            raise RecordingError(f"frame {len(self._times)} could not be written to "
                                 f"{self._part / VIDEO} (is the disk full?)")
        self._times.append(frame.t)

    def _open_video(self, shape: tuple[int, ...]) -> Any:
        """The session's video writer, in a new private folder."""
        self._part.mkdir()
        self._part.chmod(0o700)  # whatever the umask: the folder holds faces
        path = self._part / VIDEO
        _write_private(path, b"")  # the writer truncates it and keeps its 0600 mode
        h, w = shape[:2]
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*CODEC), self.plan.fps,
                                 (w, h))
        if not writer.isOpened():
            raise RecordingError(f"this OpenCV cannot write {CODEC} (lossless) video to {path}")
        return writer

    def finish(self, decision: Any, painted: LightSequence | None) -> Path | None:
        """Close the video, write the sequence and the timeline, move the folder in place
        and add the manifest row.

        Parameters
        ----------
        decision : kiosk.session.Decision or None
            None when the session failed before deciding (the video is kept, its timeline
            says so, and no manifest row is written; nor for an :func:`interrupted` one).
        painted : LightSequence or None
            The sequence as painted, in frame-clock time.

        Returns
        -------
        Path or None
            The session's folder; None when no frame was saved.

        Raises
        ------
        RecordingError
            The session could not be saved whole; nothing of it is left.
        """
        try:
            if self._error is not None:
                raise self._error
            if self._writer is None:
                return None
            self._complete(decision, painted)
        except RecordingError:
            self._discard()
            raise
        except (OSError, InputError, ValueError) as exc:
            self._discard()
            raise RecordingError(f"cannot save the session in {self.folder}: "
                                 f"{getattr(exc, 'strerror', None) or exc}") from None
        return self.folder

    def _complete(self, decision: Any, painted: LightSequence | None) -> None:
        self._writer.release()
        fps = self._fps = saved_rate(self._times, self.plan.fps)
        if fps != self.plan.fps:
            self._retime(fps)
        sequence_name = self._save_sequence(painted)
        timeline = self._timeline(decision)
        _write_private(self._part / "timeline.json",
                       (json.dumps(timeline, indent=1) + "\n").encode("utf-8"))
        self._part.rename(self.folder)
        cut = timeline.get("interrupted")
        if decision is not None and cut is None:
            self._append_row(sequence_name, timeline)
        log.info("session recorded in %s (%d frames)%s", self.folder, len(self._times),
                 f"; interrupted ({cut}): not in the manifest" if cut else "")

    def _discard(self) -> None:
        """Remove whatever the session wrote: a half session is worse than none."""
        if self._writer is not None:
            self._writer.release()
        for path in (self._part, self.folder):
            try:
                _remove(path)
            except OSError as exc:
                log.error("cannot remove the unsaved recording %s: %s", path, exc)

    def _save_sequence(self, painted: LightSequence | None) -> str:
        """Write the painted sequence in media time; its file name, or "" without one."""
        if painted is None:
            return ""
        starts = media_times(self._times, self._fps, [s.start for s in painted.segments])
        ends = media_times(self._times, self._fps, [s.end for s in painted.segments])
        shifted = LightSequence(tuple(
            Segment(round(float(a), 4), round(float(b), 4), s.rgb)
            for a, b, s in zip(starts, ends, painted.segments, strict=True)))
        _write_private(self._part / "sequence.json", shifted.to_json().encode("utf-8"))
        return "sequence.json"

    def _retime(self, fps: float) -> None:
        """Set the saved video's frame rate to ``fps`` in its AVI headers (the main header's
        microseconds per frame, the video stream's rate and scale). The frames stay as
        written: there is no need to encode them again."""
        path = self._part / VIDEO
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
                               "label": self.plan.label, "species": self.plan.species,
                               "accessible": self.accessible}
        if decision is None:
            out["decision"] = None
            return out
        out["decision"] = str(decision.decision)
        out["reasons"] = [str(r) for r in decision.reasons]
        out["interrupted"] = interrupted(decision.reasons)
        out["prompts"] = [{"action": c["action"], "outcome": c["outcome"],
                           "asked": media(c.get("prompt_t")),
                           "answered": media(c.get("response_t"))}
                          for c in decision.challenges]
        return out

    def _append_row(self, sequence_name: str, timeline: dict[str, Any]) -> None:
        """Add the session's row: the manifest is rewritten whole under a temporary name
        and renamed, so a full disk never leaves half a row."""
        manifest = self.plan.out_dir / MANIFEST
        old = manifest.read_bytes() if manifest.exists() else b""
        if old and not old.endswith(b"\n"):
            old += b"\r\n"  # a hand-edited last line: the row goes on a line of its own
        folder = self.folder.name
        prompts = ";".join(f"{p['action']}@{p['asked']}" for p in timeline["prompts"]
                           if p["asked"] is not None)
        notes = ["kiosk record", UNLABELLED] + ([ACCESSIBLE] if self.accessible else []) + (
            [f"prompts {prompts}"] if prompts else [])
        row = {"path": f"{folder}/{VIDEO}", "media": "video", "label": self.plan.label,
               "species": self.plan.species, "frames": "", "events": "",
               "subject": self.plan.subject, "notes": "; ".join(notes),
               "sequence": f"{folder}/{sequence_name}" if sequence_name else ""}
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=MANIFEST_COLUMNS)
        if not old:
            writer.writeheader()
        writer.writerow(row)
        staged = _part(manifest)
        try:
            _write_private(staged, old + text.getvalue().encode("utf-8"))
            staged.replace(manifest)
        except OSError:
            staged.unlink(missing_ok=True)
            raise


def _part(path: Path) -> Path:
    """The hidden name ``path`` is written under until it is complete."""
    return path.with_name(f".{path.name}{PART}")


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file only its owner can read (0600 whatever the umask), to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
            fh.flush()
        os.fsync(fd)  # a full disk shows here, not after the rename
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    """Remove a file or a folder tree, if it is there."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _check_space(path: Path, need: int) -> None:
    """RecordingError when the disk holding ``path`` has less than ``need`` bytes free."""
    free = shutil.disk_usage(path).free
    if free < need:
        raise RecordingError(f"only {free // 2 ** 20} MB free for the recordings in "
                             f"{path} (a session needs {need // 2 ** 20} MB): free some space "
                             f"or record to another disk")


def keep(recording: SessionRecording | None, decision: Any,
         light: Any) -> RecordingError | None:
    """Close a session's recording, if it has one; the session's decision stands either way.

    Parameters
    ----------
    recording : SessionRecording or None
    decision : Decision or None
        None when the session failed before deciding.
    light : LightPlan or None
        The session's light step (its painted sequence is saved).

    Returns
    -------
    RecordingError or None
        Why the session could not be saved (logged; nothing of it is left), for the
        runtime to report.
    """
    if recording is None:
        return None
    try:
        recording.finish(decision, light.painted() if light is not None else None)
    except RecordingError as exc:
        log.error("the session's recording could not be saved: %s", exc)
        return exc
    return None
