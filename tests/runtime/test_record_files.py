"""``kiosk record``'s files: lossless frames, private folders, whole sessions or none (a full
disk), interrupted sessions left out of the manifest, the accessible check marked."""

from __future__ import annotations

import errno
import json
import os
import random
import stat
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from kiosk.analysis.light import LightSequence, draw_sequence
from kiosk.lab.manifest import read_manifest
from kiosk.model import Frame
from kiosk.runtime import record
from kiosk.runtime.record import RecordingError, RecordPlan, SessionRecording, keep
from kiosk.session import Decision
from kiosk.vocabulary import Verdict

STARTED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
N_FRAMES = 12


class Painted:
    """A light step whose screen painted a sequence from the first frame on."""

    def painted(self) -> LightSequence:
        return draw_sequence(random.Random(3)).shifted(100.0)


def noisy_frames(n: int = N_FRAMES, fps: float = 30.0) -> list[Frame]:
    """Camera-like frames: sensor noise is what a lossy codec smooths away first."""
    rng = np.random.default_rng(7)
    return [Frame(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), i, 100.0 + i / fps,
                  i / fps) for i in range(n)]


def decision(*reasons: str) -> Decision:
    return Decision(Verdict.FAIL if reasons else Verdict.PASS, tuple(reasons), challenges=(
        {"action": "blink", "outcome": "passed", "prompt_t": 100.1, "response_t": 100.2},))


def recorded(plan: RecordPlan, *, accessible: bool = False,
             frames: list[Frame] | None = None) -> SessionRecording:
    """A session whose frames all went through the recording."""
    recording = plan.session(STARTED, accessible=accessible)
    list(recording.tee(iter(frames or noisy_frames())))
    return recording


@pytest.fixture
def plan(tmp_path) -> RecordPlan:
    made = RecordPlan(tmp_path / "rec", "bona_fide", subject="staff-1", fps=30.0)
    made.open()
    return made


def read_video(path) -> list[np.ndarray]:
    video = cv2.VideoCapture(str(path))
    frames = []
    while (got := video.read())[0]:
        frames.append(got[1])
    video.release()
    return frames


def leftovers(plan: RecordPlan) -> list[str]:
    return sorted(p.name for p in plan.out_dir.iterdir())


# -- 1. lossless -------------------------------------------------------------------------------

@pytest.mark.parametrize("fps", [30.0, 9.9])  # 9.9: saved at its own rate (header patched)
def test_the_saved_frames_are_the_analysed_frames_bit_for_bit(plan, fps):
    """Re-encoded as Motion-JPEG, a session's texture and planar cues differed from live, and
    a session the kiosk failed live passed from its file."""
    frames = noisy_frames(fps=fps)
    folder = recorded(plan, frames=frames).finish(None, None)
    assert folder is not None
    read = read_video(folder / "video.avi")
    assert len(read) == len(frames)
    assert all(np.array_equal(a.image, b) for a, b in zip(frames, read, strict=True))
    assert cv2.VideoCapture(str(folder / "video.avi")).get(cv2.CAP_PROP_FPS) == \
        pytest.approx(fps, abs=1e-3)


# -- 2. private ----------------------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_recordings_are_readable_by_the_kiosk_user_only_whatever_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        plan = RecordPlan(tmp_path / "new" / "rec", "bona_fide", fps=30.0)
        plan.open()
        folder = recorded(plan).finish(decision(), Painted().painted())
    finally:
        os.umask(previous)
    assert folder is not None

    def mode(path):
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(plan.out_dir) == mode(folder) == 0o700
    files = [folder / "video.avi", folder / "sequence.json", folder / "timeline.json",
             plan.out_dir / "manifest.csv"]
    assert [mode(f) for f in files] == [0o600] * 4


# -- 3. whole sessions or none ----------------------------------------------------------------

class FailingWriter:
    """OpenCV's writer on a disk that fills after ``ok`` frames (it then returns False)."""

    ok = 3
    real = cv2.VideoWriter
    fourcc = staticmethod(cv2.VideoWriter.fourcc)

    def __init__(self, *args) -> None:
        self._writer = self.real(*args)
        self._written = 0

    def isOpened(self) -> bool:  # noqa: N802  (OpenCV's name)
        return self._writer.isOpened()

    def write(self, image) -> bool:
        self._written += 1
        return self._written <= self.ok and self._writer.write(image)

    def release(self) -> None:
        self._writer.release()


def test_a_frame_the_disk_refuses_stops_the_session_and_leaves_nothing(plan, monkeypatch):
    """On a full disk the session went on, leaving a truncated video, an empty
    sequence.json, no timeline and no manifest row, and only a log line said so."""
    monkeypatch.setattr(record.cv2, "VideoWriter", FailingWriter)
    recording = plan.session(STARTED)
    with pytest.raises(RecordingError, match="frame 3 could not be written"):
        list(recording.tee(iter(noisy_frames())))
    error = keep(recording, None, Painted())
    assert isinstance(error, RecordingError)
    assert leftovers(plan) == []


def test_a_session_does_not_start_recording_without_room(plan, monkeypatch):
    monkeypatch.setattr(record, "START_FREE_BYTES", 2 ** 62)
    with pytest.raises(RecordingError, match="MB free for the recordings"):
        plan.open()  # kiosk record refuses to start
    with pytest.raises(RecordingError, match="MB free for the recordings"):
        plan.session(STARTED)  # before anyone's attempt is opened
    assert leftovers(plan) == []


def test_a_recording_stops_before_the_disk_is_full(plan, monkeypatch):
    """The reserve is kept for the audit log, which shares the disk."""
    recording = plan.session(STARTED)
    frames = iter(noisy_frames())
    next(recording.tee(frames))
    monkeypatch.setattr(record, "RESERVE_BYTES", 2 ** 62)
    with pytest.raises(RecordingError):
        list(recording.tee(frames))
    assert keep(recording, None, None) is not None
    assert leftovers(plan) == []


@pytest.mark.parametrize("failing", ["sequence.json", "timeline.json", ".manifest.csv.part"])
def test_a_file_that_cannot_be_written_at_the_end_leaves_no_half_session(plan, monkeypatch,
                                                                         failing):
    kept = recorded(plan).finish(decision(), None)  # an earlier session stays as it was
    manifest = (plan.out_dir / "manifest.csv").read_bytes()
    write = record._write_private

    def full_disk(path, data):
        if path.name == failing:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write(path, data)

    monkeypatch.setattr(record, "_write_private", full_disk)
    error = keep(recorded(plan), decision(), Painted())
    assert isinstance(error, RecordingError) and "No space left" in str(error)
    assert kept is not None and leftovers(plan) == [kept.name, "manifest.csv"]
    assert (plan.out_dir / "manifest.csv").read_bytes() == manifest


def test_half_sessions_a_crash_left_are_removed_when_recording_starts(plan):
    recording = plan.session(STARTED)
    next(recording.tee(iter(noisy_frames())))  # the kiosk dies here
    assert leftovers(plan) == [f".{recording.folder.name}.part"]
    plan.open()
    assert leftovers(plan) == []


# -- 4. interrupted sessions -----------------------------------------------------------------

@pytest.mark.parametrize("reason", ["STOPPED", "SOURCE_ENDED"])
def test_an_interrupted_session_keeps_its_files_but_gets_no_manifest_row(plan, reason):
    """Stopped, or the camera lost: no full presentation, yet evaluate counted it as one."""
    folder = recorded(plan).finish(decision(reason, "LIVENESS_FAILED"), Painted().painted())
    assert folder is not None and (folder / "video.avi").is_file()
    assert json.loads((folder / "timeline.json").read_text())["interrupted"] == reason
    assert not (plan.out_dir / "manifest.csv").exists()
    folder = recorded(plan).finish(decision("LIVENESS_FAILED"), None)
    assert folder is not None
    assert json.loads((folder / "timeline.json").read_text())["interrupted"] is None
    assert [row.path for row in read_manifest(plan.out_dir / "manifest.csv")] == [
        f"{folder.name}/video.avi"]


# -- 5. the accessible check --------------------------------------------------------------

def test_the_accessible_check_is_marked_in_the_timeline_and_the_notes(plan):
    for accessible in (True, False):
        folder = recorded(plan, accessible=accessible).finish(decision(), None)
        assert folder is not None
        assert json.loads((folder / "timeline.json").read_text())["accessible"] is accessible
    notes = [row.notes for row in read_manifest(plan.out_dir / "manifest.csv")]
    assert [record.ACCESSIBLE in n for n in notes] == [True, False]
    assert notes[0].startswith("kiosk record; unlabelled_events; accessible_check; prompts ")
