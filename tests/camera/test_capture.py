"""CaptureThread: frames into the slot, clean stop, error reporting and retry."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from kiosk.camera.capture import CaptureThread
from kiosk.camera.device import DeviceSource
from kiosk.camera.health import CameraHealth, HealthMonitor
from kiosk.camera.slot import LatestFrameSlot
from kiosk.camera.video import VideoFileSource
from kiosk.errors import CameraError, InputError
from kiosk.model import Frame
from tests.camera.fakes import FakeCamera, FakeSysfs, add_usb_webcam, no_querycap, pattern

WAIT = 10.0   # generous join timeout: a hang fails the test instead of blocking the suite


class ScriptedSource:
    """A source that follows a script of frames, errors and an optional end."""

    def __init__(self, script: list[object], *, live: bool, endless: bool = False) -> None:
        self.script = list(script)
        self.is_live = live
        self.endless = endless
        self.fps = 30.0
        self.description = "scripted"
        self.monitor = HealthMonitor(30.0)
        self.opened = threading.Event()
        self.closed_in: str | None = None
        self.seq = 0
        self.retry_in = 0.0

    @property
    def health(self) -> CameraHealth:
        return self.monitor.snapshot()

    def open(self) -> None:
        self.opened.set()

    def read(self) -> Frame | None:
        if self.script:
            item = self.script.pop(0)
            if isinstance(item, Exception):
                raise item
        elif not self.endless:
            return None
        f = Frame(image=pattern(self.seq, 8, 8), seq=self.seq, t=self.seq / 30,
                  media_t=self.seq / 30)
        self.seq += 1
        self.monitor.observe(f)
        return f

    def close(self) -> None:
        self.closed_in = threading.current_thread().name

    def __enter__(self) -> ScriptedSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self):  # pragma: no cover - not used by the thread
        return iter(())


def drain(slot: LatestFrameSlot) -> list[Frame]:
    frames = []
    while (f := slot.get(timeout=WAIT)) is not None:
        frames.append(f)
    return frames


def test_file_through_the_thread(video_mp4: Path) -> None:
    thread = CaptureThread(VideoFileSource(video_mp4))
    thread.start()
    frames = drain(thread.slot)
    thread.join(WAIT)
    assert not thread.is_alive()
    assert thread.finished and thread.error is None
    assert thread.slot.closed
    seqs = [f.seq for f in frames]
    assert seqs == sorted(seqs) and seqs[-1] == 29
    assert len(frames) + thread.slot.dropped == 30
    health = thread.health
    assert health.frames == 30
    assert health.dropped == thread.slot.dropped       # slot drops are reported as drops


def test_stop_ends_an_endless_live_source_and_closes_it_in_the_thread() -> None:
    source = ScriptedSource([], live=True, endless=True)
    thread = CaptureThread(source, name="cam-test")
    thread.start()
    assert thread.slot.get(timeout=WAIT) is not None
    assert thread.stop(timeout=WAIT) is True
    assert not thread.is_alive()
    assert source.closed_in == "cam-test"
    assert thread.slot.closed
    assert not thread.finished and thread.error is None


def test_stop_before_start_is_harmless() -> None:
    thread = CaptureThread(ScriptedSource([], live=True))
    assert thread.stop(timeout=0.1) is True


def test_finite_source_error_ends_the_thread_and_is_reported() -> None:
    errors: list[Exception] = []
    failure = InputError("video file x.mp4 has no decodable frames")
    source = ScriptedSource([None, failure], live=False)
    thread = CaptureThread(source, on_error=errors.append)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert errors == [failure] and thread.error is failure
    assert not thread.finished
    assert thread.slot.closed and source.closed_in is not None


def test_live_source_errors_are_reported_and_retried() -> None:
    errors: list[Exception] = []
    source = ScriptedSource([CameraError("gone"), CameraError("still gone"), None, None],
                            live=True)
    thread = CaptureThread(source, on_error=errors.append)
    thread.start()
    frames = drain(thread.slot)
    thread.join(WAIT)
    assert [str(e) for e in errors] == ["gone", "still gone"]
    assert thread.finished                              # the scripted source ran out
    assert frames and frames[-1].seq == 1


def test_unexpected_exception_is_reported_not_swallowed() -> None:
    errors: list[Exception] = []
    source = ScriptedSource([RuntimeError("bug in a source")], live=True, endless=True)
    thread = CaptureThread(source, on_error=errors.append)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert isinstance(thread.error, RuntimeError) and errors == [thread.error]
    assert thread.slot.closed


def test_a_failing_callback_does_not_kill_the_thread() -> None:
    def explode(exc: Exception) -> None:
        raise ValueError("callback bug")

    source = ScriptedSource([CameraError("blip"), None], live=True)
    thread = CaptureThread(source, on_error=explode)
    thread.start()
    frames = drain(thread.slot)
    thread.join(WAIT)
    assert thread.finished and len(frames) == 1
    assert str(thread.error) == "blip"


def test_device_plugged_late_then_unplugged_and_replugged(tmp_path: Path) -> None:
    """The thread picks up a camera plugged in after start, and one that comes back."""
    sysfs = FakeSysfs(tmp_path / "sys")
    add_usb_webcam(sysfs, 0)
    def slow_image(i: int):
        time.sleep(0.002)                    # about a real camera's pace, not a busy loop
        return pattern(i, 64, 48)

    camera = FakeCamera(plugged=False, make_image=slow_image)
    errors: list[Exception] = []
    lost = threading.Event()

    def on_error(exc: Exception) -> None:
        errors.append(exc)
        if len(errors) == 2:                 # two failed attempts, then the cable goes in
            camera.plugged = True
        if "stopped delivering frames" in str(exc):
            lost.set()

    source = DeviceSource(0, reconnect_min_s=0.01, reconnect_max_s=0.02,
                          capture_factory=camera.factory, sysfs_root=sysfs.root,
                          querycap=no_querycap, platform="linux")
    thread = CaptureThread(source, on_error=on_error)
    thread.start()
    try:
        first = thread.slot.get(timeout=WAIT)
        assert first is not None and first.image.shape == (48, 64, 3)
        assert "cannot open camera 0" in str(errors[0])
        camera.plugged = False
        assert lost.wait(WAIT)
        thread.slot.get_nowait()             # discard a frame taken before the unplug
        camera.plugged = True
        after = thread.slot.get(timeout=WAIT)
        assert after is not None and after.seq > first.seq
        assert source.health.reconnects == 1
    finally:
        assert thread.stop(WAIT)
    assert thread.error is not None          # the last error is kept after recovery


def test_a_camera_failing_all_night_is_logged_once_a_while(caplog) -> None:
    """Before: one warning per reconnect try (about 10,800 a day for a camera unplugged all
    night). The callback still gets every error; the log gets a changed error at once, the
    same one again after REPEAT_LOG_S, and one line when frames come back."""
    import logging

    from kiosk.logrepeat import REPEAT_LOG_S

    now = [0.0]

    def clock() -> float:
        now[0] += 60.0  # a minute between tries
        return now[0]

    gone = [CameraError("gone")] * 12 + [CameraError("busy")] + [None] + [CameraError("gone")]
    errors: list[Exception] = []
    thread = CaptureThread(ScriptedSource(gone, live=True), on_error=errors.append,
                           clock=clock)
    with caplog.at_level(logging.WARNING, logger="kiosk.camera.capture"):
        thread.start()
        drain(thread.slot)
        thread.join(WAIT)
    assert len(errors) == 14
    lines = [r.getMessage() for r in caplog.records]
    # 12 tries a minute apart: logged at the first and again 10 minutes later.
    assert REPEAT_LOG_S == 600.0
    assert lines == ["camera: gone", "camera: gone", "camera: busy",
                     "camera: working again (after: busy)", "camera: gone"]
