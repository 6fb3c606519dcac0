"""``kiosk record``'s runtime part: a session with the light step saved as video, sequence
(painted times in the video's media time) and prompts, with a manifest row ``kiosk evaluate``
reads."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from kiosk.audit import open_kiosk_log
from kiosk.errors import InputError
from kiosk.feed import FrameFeed
from kiosk.lab.manifest import read_manifest
from kiosk.lab.standin import Responder, SyntheticCamera, standin_parts
from kiosk.model import Frame
from kiosk.runtime import KioskRuntime, TeeSink
from kiosk.runtime import events as ev
from kiosk.runtime.record import RecordPlan, media_times, saved_rate
from kiosk.session import SessionRequest
from tests.runtime.test_sessions import SEED, Recorder

PAINT_LAG_S = 0.05  # the stand-in screen paints this long after the frame that started it


class StandinScreen:
    """Plays the window's part: paints the sequence when the session asks for it and
    reports the painted times on the frame clock (the camera's clock)."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.runtime: KioskRuntime | None = None
        self.painted: dict[int, list] = {}

    def report(self, event: ev.RuntimeEvent) -> None:
        if not isinstance(event, ev.ProgressMade) or event.progress.light is None:
            return
        if event.session_id in self.painted:
            return
        t0 = self.responder._last_t + PAINT_LAG_S
        colours = [(t0 + a, t0 + b, rgb) for a, b, rgb in event.progress.light]
        self.painted[event.session_id] = colours
        assert self.runtime is not None
        self.runtime.light_painted(event.session_id, colours)


@dataclasses.dataclass(frozen=True)
class KeepingPlan(RecordPlan):
    """A RecordPlan that keeps its session recordings, so a test can read their frame
    times."""

    made: list = dataclasses.field(default_factory=list, compare=False)

    def session(self, started, **kw):
        recording = super().session(started, **kw)
        self.made.append(recording)
        return recording


@pytest.fixture
def recording_kiosk(settings, tmp_path):
    settings = settings.replace("liveness", light_challenge=True)
    responder = Responder()
    screen = StandinScreen(responder)
    recorder = Recorder()
    plan = KeepingPlan(tmp_path / "rec", "attack", "replay", "phone-1", fps=30.0)
    plan.open()
    parts = dataclasses.replace(
        standin_parts(responder=responder, audit_factory=lambda s: open_kiosk_log(s, tmp_path),
                      seed=SEED), record=plan)
    runtime = KioskRuntime(settings, FrameFeed(SyntheticCamera(speed=3.0), stall_s=3.0,
                                               restart_s=0.2),
                           parts, TeeSink(responder, screen, recorder), idle_interval_s=0.05)
    screen.runtime = runtime
    thread = threading.Thread(target=runtime.run, daemon=True)
    thread.start()
    recorder.wait_for(ev.Started)
    yield runtime, recorder, screen, plan
    runtime.stop()
    thread.join(15)


def test_a_recorded_session_keeps_its_video_sequence_and_prompts(recording_kiosk):
    runtime, recorder, screen, plan = recording_kiosk
    runtime.start_session(1, SessionRequest())
    decision = recorder.wait_for(ev.DecisionMade).decision
    folder = next(p for p in plan.out_dir.iterdir() if p.is_dir())
    video = cv2.VideoCapture(str(folder / "video.avi"))
    n_frames = int(video.get(cv2.CAP_PROP_FRAME_COUNT))
    fps = video.get(cv2.CAP_PROP_FPS)
    video.release()
    (recording,) = plan.made
    # The camera's 30 frames a second, unless the frames analysed came at another rate.
    assert fps == pytest.approx(saved_rate(recording._times, 30.0), abs=1e-3)
    timeline = json.loads((folder / "timeline.json").read_text())
    assert (timeline["fps"], timeline["nominal_fps"]) == (pytest.approx(fps, abs=1e-3), 30.0)
    assert timeline["frames"] == n_frames > 60
    assert timeline["decision"] == decision.decision and timeline["label"] == "attack"
    assert [p["action"] for p in timeline["prompts"]] == [c["action"] for c in
                                                          decision.challenges]
    assert "liveness" not in json.dumps(timeline)  # no scores in the recording
    # The manifest row names the video and its sequence; kiosk evaluate reads it back.
    (row,) = read_manifest(plan.out_dir / "manifest.csv")
    assert (row.path, row.label, row.species, row.subject) == (
        f"{folder.name}/video.avi", "attack", "replay", "phone-1")
    assert row.notes.startswith("kiosk record; unlabelled_events; prompts ")
    sequence = row.light_sequence(plan.out_dir)
    assert sequence is not None
    painted = screen.painted[1]
    assert len(sequence.segments) == len(painted)
    assert [s.rgb for s in sequence.segments] == [tuple(rgb) for _, _, rgb in painted]
    # A frame that saw a colour live lies in that colour's interval in the file, whatever
    # frames the feed dropped (frame i of the video plays at i / fps).
    frame_t = recording._times
    assert len(frame_t) == n_frames
    for (a, b, _), segment in zip(painted, sequence.segments, strict=True):
        live = {i for i, t in enumerate(frame_t) if a <= t < b}
        filed = {i for i in range(n_frames) if segment.start <= i / fps < segment.end}
        assert live and len(live ^ filed) <= 1, (live, filed)
    assert 0.0 < sequence.segments[0].start < timeline["prompts"][0]["asked"]


def test_a_session_analysed_slower_than_the_camera_is_saved_at_its_own_rate(tmp_path):
    """A loaded kiosk analysed 10 of the camera's 30 frames a second. Saved at 30, the session
    played three times too fast: kiosk evaluate judged at 30 frames a second what the kiosk
    had refused as too slow to judge, and every blink and reaction looked shorter."""
    plan = RecordPlan(tmp_path / "rec", "bona_fide", fps=30.0)
    plan.open()
    recording = plan.session(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    images = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(12)]
    frames = [Frame(image, i, 100.0 + i / 9.9, i / 9.9) for i, image in enumerate(images)]
    assert len(list(recording.tee(iter(frames)))) == 12
    folder = recording.finish(None, None)
    assert folder is not None
    video = cv2.VideoCapture(str(folder / "video.avi"))
    assert video.get(cv2.CAP_PROP_FPS) == pytest.approx(9.9, abs=1e-3)
    read = []
    while (got := video.read())[0]:
        read.append(got[1])
    video.release()
    # The same frames, not encoded again (a second JPEG pass would be a cue of its own).
    assert len(read) == 12
    assert [int(f.mean()) for f in read] == pytest.approx([20 * i for i in range(12)], abs=2)
    timeline = json.loads((folder / "timeline.json").read_text())
    assert (timeline["fps"], timeline["nominal_fps"]) == (9.9, 30.0)
    # A camera's rate that wanders a little is no reason to change the file.
    assert saved_rate([0.0, 1 / 29.0, 2 / 29.0], 30.0) == 30.0
    assert saved_rate([0.0], 30.0) == 30.0


def test_media_times_follow_the_frames_not_the_nominal_rate():
    # Frames delivered unevenly: frame i is at media time i / fps in the saved video.
    frame_t = [10.0, 10.1, 10.15, 10.4]
    got = media_times(frame_t, 10.0, [10.0, 10.125, 10.4, 10.5, 9.9])
    assert got == pytest.approx(np.array([0.0, 0.15, 0.3, 0.4, -0.1]))


@pytest.mark.parametrize(("label", "species", "message"), [
    ("attack", "", "--species is needed"), ("bona_fide", "print", "only for an attack"),
    ("other", "", "--label must be one of")])
def test_a_plan_says_what_is_wrong(tmp_path, label, species, message):
    with pytest.raises(InputError, match=message):
        RecordPlan(tmp_path, label, species)


def test_a_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot create the recording folder"):
        RecordPlan(tmp_path / "file" / "rec", "bona_fide").open()


def test_the_runtime_tells_the_recording_when_the_accessible_check_was_chosen(recording_kiosk):
    runtime, recorder, _, plan = recording_kiosk
    runtime.start_session(1, SessionRequest(accessible=True))
    recorder.wait_for(ev.DecisionMade)
    (recording,) = plan.made
    timeline = json.loads((recording.folder / "timeline.json").read_text())
    assert timeline["accessible"] is True
    (row,) = read_manifest(plan.out_dir / "manifest.csv")
    assert "accessible_check" in row.notes
    assert not (recording.folder / "sequence.json").exists()  # no light step


def test_a_full_disk_refuses_the_session_before_anyones_attempt_opens(recording_kiosk,
                                                                      monkeypatch, settings,
                                                                      tmp_path):
    """Each person's attempt was opened, then closed as INTERRUPTED on the first frame that
    could not be saved: a failure charged to them for the kiosk's full disk."""
    from kiosk.runtime import record

    runtime, recorder, _, plan = recording_kiosk
    monkeypatch.setattr(record, "START_FREE_BYTES", 2 ** 62)
    runtime.start_session(1, SessionRequest())
    failed = recorder.wait_for(ev.SessionFailed)
    assert "MB free for the recordings" in failed.reason
    assert plan.made == []
    log = open_kiosk_log(settings, tmp_path)
    try:
        assert log.list_attempts() == []
    finally:
        log.close()


def test_a_full_disk_takes_the_kiosk_out_of_service_until_room_is_made(recording_kiosk,
                                                                      monkeypatch):
    """Between sessions the recording kiosk looks at its free space: too little takes it out
    of service before the next person starts (each would be told the check could not be
    completed), and room made brings it back by itself."""
    from kiosk.runtime import loop, record

    runtime, recorder, _, _ = recording_kiosk
    monkeypatch.setattr(loop, "RECORDING_CHECK_S", 0.05)
    monkeypatch.setattr(record, "START_FREE_BYTES", 2 ** 62)
    failed = recorder.wait_for(ev.RecordingFailed)
    assert "MB free for the recordings" in failed.reason and "free some space" in failed.reason
    monkeypatch.setattr(record, "START_FREE_BYTES", 1)
    recorder.wait_for(ev.RecordingRecovered)
    events = [type(e) for e in recorder.events]
    assert events.count(ev.RecordingFailed) == 1 and events.count(ev.RecordingRecovered) == 1
    assert events.index(ev.RecordingFailed) < events.index(ev.RecordingRecovered)


def test_a_session_refused_for_room_puts_the_kiosk_out_of_service_at_once(recording_kiosk,
                                                                         monkeypatch):
    from kiosk.runtime import record

    runtime, recorder, _, _ = recording_kiosk
    monkeypatch.setattr(record, "START_FREE_BYTES", 2 ** 62)  # the idle check waits 5 s
    runtime.start_session(1, SessionRequest())
    recorder.wait_for(ev.SessionFailed)
    time.sleep(0.2)  # the report follows the session's within the same step
    assert [e for e in recorder.events if isinstance(e, ev.RecordingFailed)
            and "MB free" in e.reason]
