"""What the runtime reports when it cannot serve: a part that cannot be built (staff correct the
set-up, and settings that put it right bring the kiosk back) and a bug (only a restart helps)."""

from __future__ import annotations

import dataclasses
import threading
import time

from kiosk.audit import open_kiosk_log
from kiosk.errors import ResourceError
from kiosk.feed import FrameFeed
from kiosk.lab.standin import FixedMatcher, Responder, SyntheticCamera, match, standin_parts
from kiosk.runtime import KioskRuntime, TeeSink
from kiosk.runtime import events as ev
from tests.runtime.test_sessions import Recorder


def start(settings, tmp_path, *, matcher_retry_s=60.0, **replace):
    responder, recorder = Responder(), Recorder()
    parts = dataclasses.replace(
        standin_parts(responder=responder,
                      audit_factory=lambda s: open_kiosk_log(s, tmp_path)), **replace)
    runtime = KioskRuntime(settings, FrameFeed(SyntheticCamera(speed=3.0), stall_s=3.0,
                                               restart_s=0.2),
                           parts, TeeSink(responder, recorder), idle_interval_s=0.05,
                           audit_retry_s=0.3, matcher_retry_s=matcher_retry_s)
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
    """The staffed desk cannot serve without its matcher; the loop runs on, so that new
    settings bring it back without a restart."""
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


def test_a_staffed_matcher_that_failed_to_start_is_built_again(settings, tmp_path, caplog):
    """A failure that passes (the matcher's child process could not start) mends itself; the
    same failure is logged once, not at every try, and its end once."""
    attempts = []

    def matcher(s):
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise ResourceError("the matcher process exited at start")
        return FixedMatcher(match(True))

    runtime, thread, recorder = start(settings.replace("kiosk", mode="staffed"), tmp_path,
                                      matcher=matcher, matcher_retry_s=0.2)
    try:
        recorder.wait_for(ev.Started)
    finally:
        stop(runtime, thread)
    failures = [e for e in recorder.events if isinstance(e, ev.StartupFailed)]
    assert len(attempts) == 3 and len(failures) == 2
    logged = [r.getMessage() for r in caplog.records if r.name == "kiosk.runtime.loop"]
    assert logged.count("face matcher unavailable: the matcher process exited at start") == 1
    assert logged.count("face matcher available again") == 1
    assert min(b - a for a, b in zip(attempts, attempts[1:], strict=False)) >= 0.2


def test_a_staffed_desk_without_any_matcher_says_so_once(settings, tmp_path):
    runtime, thread, recorder = start(settings.replace("kiosk", mode="staffed"), tmp_path,
                                      matcher_retry_s=0.05)
    try:
        recorder.wait_for(ev.StartupFailed)
        time.sleep(0.5)
    finally:
        stop(runtime, thread)
    failures = [e.reason for e in recorder.events if isinstance(e, ev.StartupFailed)]
    assert failures == ["no face matcher is configured for the staffed desk or member check-in"]
    assert not any(isinstance(e, ev.Started) for e in recorder.events)
