"""What the runtime reports when it cannot serve: a part that cannot be built (staff correct the
set-up, and settings that put it right bring the kiosk back) and a bug (only a restart helps)."""

from __future__ import annotations

import dataclasses
import threading

from kiosk.audit import open_kiosk_log
from kiosk.errors import ResourceError
from kiosk.feed import FrameFeed
from kiosk.lab.standin import FixedMatcher, Responder, SyntheticCamera, match, standin_parts
from kiosk.runtime import KioskRuntime, TeeSink
from kiosk.runtime import events as ev
from tests.runtime.test_sessions import Recorder


def start(settings, tmp_path, **replace):
    responder, recorder = Responder(), Recorder()
    parts = dataclasses.replace(
        standin_parts(responder=responder,
                      audit_factory=lambda s: open_kiosk_log(s, tmp_path)), **replace)
    runtime = KioskRuntime(settings, FrameFeed(SyntheticCamera(speed=3.0), stall_s=3.0,
                                               restart_s=0.2),
                           parts, TeeSink(responder, recorder), idle_interval_s=0.05,
                           audit_retry_s=0.3)
    thread = threading.Thread(target=runtime.run, daemon=True)
    thread.start()
    return runtime, thread, recorder


def stop(runtime, thread) -> None:
    runtime.stop()
    thread.join(15)
    assert not thread.is_alive()


class BrokenTracker:
    """A tracker with a bug: the idle loop's first look at a frame raises."""

    def observe(self, frame):
        raise ZeroDivisionError("a bug in the tracker")


def test_a_bug_in_the_loop_is_reported_as_an_internal_failure(settings, tmp_path):
    runtime, thread, recorder = start(settings, tmp_path, tracker=BrokenTracker)
    recorder.wait_for(ev.Started)
    failed = recorder.wait_for(ev.RuntimeFailed)
    assert failed.reason == "internal error in the kiosk; see the log"
    recorder.wait_for(ev.Stopped)
    thread.join(15)
    assert not thread.is_alive()
    assert not any(isinstance(e, ev.StartupFailed) for e in recorder.events)


def test_settings_that_put_the_staffed_matcher_right_bring_the_kiosk_back(settings, tmp_path):
    """The staffed desk cannot serve without its matcher; the loop runs on, so staff
    correcting the settings in the operator panel need no restart."""
    built = []

    def matcher(s):
        if s.matching.matcher == "rekognition":
            raise ResourceError("no AWS region is configured")
        built.append(s.matching.matcher)
        return FixedMatcher(match(True))

    staffed = settings.replace("kiosk", mode="staffed")
    runtime, thread, recorder = start(staffed.replace("matching", matcher="rekognition"),
                                      tmp_path, matcher=matcher)
    try:
        failed = recorder.wait_for(ev.StartupFailed)
        assert failed.reason == "face matcher unavailable: no AWS region is configured"
        assert not any(isinstance(e, ev.Started) for e in recorder.events)
        runtime.apply_settings(staffed.replace("matching", matcher="local"))
        recorder.wait_for(ev.Started)
        assert built == ["local"]
    finally:
        stop(runtime, thread)
    assert isinstance(recorder.events[-1], ev.Stopped)
