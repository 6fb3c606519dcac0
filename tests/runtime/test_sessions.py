"""Whole sessions through the kiosk runtime without Qt: the same scenarios as the window's.

The runtime runs in a plain thread with the stand-in camera and person of
:mod:`kiosk.lab.standin`; a recording sink receives its events. The session code, the audit
log (a real one in tmp_path) and the offline policy are the real ones.
"""

from __future__ import annotations

import queue
import random
import threading
import time

import numpy as np
import pytest

from kiosk.analysis.challenges import draw_sequence
from kiosk.analysis.fusion import Fusion
from kiosk.audit import open_kiosk_log
from kiosk.camera import DeviceSource
from kiosk.cloud.errors import CloudUnavailable
from kiosk.feed import FrameFeed
from kiosk.lab.standin import (
    CountingAnalyzer,
    FixedFusion,
    FixedMatcher,
    Responder,
    SyntheticCamera,
    match,
    standin_parts,
)
from kiosk.reasons import Reason, describe
from kiosk.runtime import KioskRuntime, TeeSink
from kiosk.runtime import events as ev
from kiosk.session import SessionRequest
from kiosk.vocabulary import Verdict
from kiosk.wording import result_message
from tests.camera.fakes import FakeCamera, FakeSysfs, add_usb_video, pattern

SEED = 7
TIMEOUT_S = 30.0


class Recorder:
    """An event sink that keeps every event and lets the test wait for one."""

    def __init__(self) -> None:
        self.events: list[ev.RuntimeEvent] = []
        self._queue: queue.SimpleQueue[ev.RuntimeEvent] = queue.SimpleQueue()

    def report(self, event: ev.RuntimeEvent) -> None:
        self.events.append(event)
        self._queue.put(event)

    def wait_for(self, kind: type, timeout: float = TIMEOUT_S, where=lambda e: True):
        # A deadline for the whole wait: a runtime that reports other events forever (an
        # audit log retried every 0.3 s) must fail the test, not hang it.
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._queue.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                raise AssertionError(f"no {kind.__name__} within {timeout} s; saw "
                                     f"{[type(e).__name__ for e in self.events][-10:]}") from None
            if isinstance(event, kind) and where(event):
                return event


class Kiosk:
    """A started runtime, its recorder, camera and person."""

    def __init__(self, settings, tmp_path, *, responder=None, fusion=None, matcher=None,
                 fps=30.0, camera=None):
        self.settings, self.tmp_path = settings, tmp_path
        self.responder = responder or Responder()
        self.camera = camera or SyntheticCamera(fps=fps, speed=3.0)
        self.recorder = Recorder()
        parts = standin_parts(responder=self.responder, fusion=fusion, matcher=matcher,
                              audit_factory=lambda s: open_kiosk_log(s, tmp_path), seed=SEED)
        self.runtime = KioskRuntime(settings, FrameFeed(self.camera, stall_s=3.0, restart_s=0.2),
                                    parts, TeeSink(self.responder, self.recorder),
                                    idle_interval_s=0.05, audit_retry_s=0.3)
        self.thread = threading.Thread(target=self.runtime.run, daemon=True)
        self.thread.start()
        self.recorder.wait_for(ev.Started)
        self._sid = 0

    def verify(self, request: SessionRequest | None = None) -> ev.DecisionMade:
        self._sid += 1
        sid = self._sid
        self.runtime.start_session(sid, request or SessionRequest())
        return self.recorder.wait_for(ev.DecisionMade, where=lambda e: e.session_id == sid)

    def attempts(self):
        log = open_kiosk_log(self.settings, self.tmp_path)
        try:
            return log.list_attempts()
        finally:
            log.close()

    def close(self) -> None:
        self.runtime.stop()
        self.thread.join(15)
        assert not self.thread.is_alive()


@pytest.fixture
def kiosk(settings, tmp_path):
    built = []

    def build(s=None, **options):
        k = Kiosk(s or settings, tmp_path, **options)
        built.append(k)
        return k

    yield build
    for k in built:
        k.close()
        assert isinstance(k.recorder.events[-1], ev.Stopped)


def staffed(settings, **matching):
    s = settings.replace("kiosk", mode="staffed")
    return s.replace("matching", **matching) if matching else s


ID_PHOTO = np.full((300, 240, 3), 128, np.uint8)


def test_a_live_person_passes(kiosk, settings):
    k = kiosk()
    made = k.verify()
    assert made.decision.decision == Verdict.PASS
    expected = list(draw_sequence(settings.liveness.challenge_count, rng=random.Random(SEED)))
    assert [a for _, a, _ in k.responder.prompts] == expected
    progress = [e.progress for e in k.recorder.events if isinstance(e, ev.ProgressMade)]
    assert any(p.time_left is not None and 0 < p.time_left <= p.window_s for p in progress)
    stored = k.attempts()[0]
    assert stored.decision == "pass" and stored.id == made.decision.attempt_id
    assert [c["outcome"] for c in stored.record.challenges] == ["passed"] * 3


def test_a_failed_challenge_fails(kiosk):
    k = kiosk(responder=Responder("still"))
    made = k.verify()
    assert made.decision.decision == Verdict.FAIL
    assert made.decision.reasons[0] == Reason.CHALLENGE_TIMEOUT
    assert k.attempts()[0].record.reasons[0] == "CHALLENGE_TIMEOUT"


def test_a_spoof_that_answers_the_prompts_is_rejected(kiosk):
    k = kiosk(fusion=FixedFusion(12.0, (Reason.SCREEN_SUSPECTED,)))
    made = k.verify()
    assert made.decision.decision == Verdict.FAIL
    assert k.attempts()[0].record.reasons[:2] == ("LIVENESS_FAILED", "SCREEN_SUSPECTED")


def test_a_face_mismatch_fails(kiosk, settings):
    matcher = FixedMatcher(match(False, similarity=None))
    k = kiosk(staffed(settings), matcher=matcher)
    made = k.verify(SessionRequest(reference=ID_PHOTO, subject_number="ID-42"))
    assert made.decision.decision == Verdict.FAIL
    assert Reason.FACE_MISMATCH in made.decision.reasons and matcher.calls == 1
    stages = [e.progress.stage for e in k.recorder.events if isinstance(e, ev.ProgressMade)]
    assert stages[-2:] == ["analysing", "matching"]
    assert k.attempts()[0].record.subject_ref is not None  # the number, hashed


@pytest.mark.parametrize("case, verdict", [("cloud_down", Verdict.REVIEW),
                                           ("offline_review_policy", Verdict.REVIEW),
                                           ("offline_staffed_default", Verdict.PASS)])
def test_a_cloud_failure_follows_the_offline_policy(kiosk, settings, case, verdict):
    if case == "cloud_down":
        s, matcher = staffed(settings), FixedMatcher(error=CloudUnavailable("network down"))
    elif case == "offline_review_policy":
        s = staffed(settings, offline_policy="review")
        matcher = FixedMatcher(match(True, offline=True))
    else:
        s, matcher = staffed(settings), FixedMatcher(match(True, offline=True))
    k = kiosk(s, matcher=matcher)
    made = k.verify(SessionRequest(reference=ID_PHOTO))
    assert made.decision.decision == verdict
    assert k.attempts()[0].decision == verdict


def test_repeated_failures_lock_the_kiosk(kiosk, settings):
    s = settings.replace("audit", kiosk_max_failures=2, max_failures=2)
    k = kiosk(s, responder=Responder("wrong"))
    for _ in range(2):
        assert k.verify().decision.decision == Verdict.FAIL
    refused = k.verify()
    assert refused.decision.reasons == (Reason.RATE_LIMITED,)
    assert len(k.attempts()) == 2  # the refused try is not an attempt


def test_the_camera_fails_the_session_is_recorded_and_the_kiosk_recovers(kiosk):
    k = kiosk()
    k.runtime.start_session(1, SessionRequest())
    k.recorder.wait_for(ev.ProgressMade)
    k.camera.unplug()
    assert "unplugged" in k.recorder.wait_for(ev.CameraFailed).reason
    made = k.recorder.wait_for(ev.DecisionMade)
    assert made.decision.decision == Verdict.FAIL  # recorded, not dropped
    assert len(k.attempts()) == 1
    k.camera.plug()
    k.recorder.wait_for(ev.CameraRecovered)
    k._sid = 1
    assert k.verify().decision.decision == Verdict.PASS


def test_the_attempt_names_the_camera_that_served_it(kiosk, tmp_path):
    # Staff investigating an injected stream see which device an attempt came from.
    sysfs = FakeSysfs(tmp_path / "sys")
    add_usb_video(sysfs, 0, "Cam Link 4K", "0fd9:0066", "1-1")
    paced = FakeCamera(make_image=lambda i: time.sleep(1 / 30) or pattern(i))
    camera = DeviceSource(0, capture_factory=paced.factory, sysfs_root=sysfs.root,
                          querycap=lambda path: None, platform="linux", allow_virtual=True)
    k = kiosk(camera=camera)
    k.runtime.start_session(1, SessionRequest())
    k.recorder.wait_for(ev.ProgressMade)
    k.runtime.cancel_session(1)
    assert k.recorder.wait_for(ev.DecisionMade).decision.reasons == (Reason.STOPPED,)
    (stored,) = k.attempts()
    assert stored.camera is not None and stored.camera == stored.record.camera
    assert (stored.camera["device"], stored.camera["usb"], stored.camera["allow_virtual"]) == \
        ("/dev/video0", "0fd9:0066", True)
    assert "a video capture device (Elgato Cam Link 4K)" in stored.camera["virtual"]


def stored_challenges(k, attempt_id):
    """The challenges of the attempt as its audit row holds them."""
    log = open_kiosk_log(k.settings, k.tmp_path)
    try:
        record = log.get_attempt(attempt_id).record
    finally:
        log.close()
    assert record is not None
    return record.challenges


def test_a_missed_prompt_is_followed_by_a_second_chance_and_passes(kiosk):
    k = kiosk(responder=Responder(skip=1))
    made = k.verify()
    assert made.decision.decision == Verdict.PASS
    outcomes = [(c["outcome"], c["retry"]) for c in made.decision.challenges]
    assert outcomes[0] == ("retried", False) and outcomes[1] == ("passed", True)
    assert len(k.responder.prompts) == 4   # three prompts and one second chance
    # Staff read the second chance in the attempt's timeline.
    stored = stored_challenges(k, made.decision.attempt_id)
    assert [c.get("retry", False) for c in stored] == [False, True, False, False]


def test_a_face_drifting_out_of_the_oval_pauses_the_prompt_then_passes(kiosk):
    k = kiosk(responder=Responder(drift_s=3.0))
    made = k.verify()
    assert made.decision.decision == Verdict.PASS, made.decision.reasons
    first = made.decision.challenges[0]
    assert first["outcome"] == "passed" and first["paused_s"] >= 2.5
    # Staff read how long the prompt stood still (it answered "after" more than its window).
    stored = stored_challenges(k, made.decision.attempt_id)
    assert stored[0]["paused_s"] == first["paused_s"]
    assert all("paused_s" not in c for c in stored[1:])
    paused = [e.progress for e in k.recorder.events
              if isinstance(e, ev.ProgressMade) and e.progress.paused]
    assert paused and not paused[0].placed and paused[0].guidance.code == "OFF_CENTRE"


def test_five_timeouts_by_five_people_do_not_lock_the_kiosk(kiosk, settings):
    # A kiosk limit of 2: any two failures it counted would lock it.
    settings = settings.replace("audit", kiosk_max_failures=2)
    k = kiosk(settings, responder=Responder("still"))
    for i in range(5):
        made = k.verify(SessionRequest(subject_number=f"PERSON-{i}"))
        assert made.decision.reasons[0] == Reason.CHALLENGE_TIMEOUT
        assert not made.decision.lockout_started
    assert not any(isinstance(e, ev.LockoutState) and e.kiosk_until is not None
                   for e in k.recorder.events)
    log = open_kiosk_log(settings, k.tmp_path)
    try:
        assert log.active_lockout() is None
    finally:
        log.close()


def test_a_camera_too_slow_to_show_life_is_the_kiosks_failure_not_the_persons(kiosk, settings):
    # The real fusion: at 8 frames a second it does not judge liveness at all. A kiosk limit
    # of 2: any two failures it counted would lock it.
    settings = settings.replace("audit", kiosk_max_failures=2)
    k = kiosk(settings, fusion=Fusion.load(), fps=8.0)
    for i in range(5):
        made = k.verify(SessionRequest(subject_number=f"PERSON-{i}"))
        decision = made.decision
        assert decision.decision == Verdict.FAIL
        # It ends once 3 s of frames show the rate, not after the person answered every
        # prompt only to hear that the camera was at fault.
        assert [c["outcome"] for c in decision.challenges][-1] == "not_shown"
        assert decision.reasons == (Reason.CAPTURE_TOO_SLOW,)
        assert decision.liveness_score is None and not decision.lockout_started
        message = result_message(decision)
        assert message.detail == describe(Reason.CAPTURE_TOO_SLOW).person
    log = open_kiosk_log(settings, k.tmp_path)
    try:
        assert log.active_lockout() is None
    finally:
        log.close()
    # The same person in front of a 30 fps camera is judged: the stand-in's one counting
    # analyzer gives the fusion no evidence, so it fails on liveness, which the kiosk counts.
    k.close()
    judged = kiosk(settings, fusion=Fusion.load())
    for i in range(2):
        made = judged.verify(SessionRequest(subject_number=f"OTHER-{i}"))
        assert Reason.LIVENESS_FAILED in made.decision.reasons
        assert Reason.CAPTURE_TOO_SLOW not in made.decision.reasons
    assert made.decision.lockout_started


def test_five_liveness_failures_lock_that_subject_and_are_reported(kiosk, settings):
    k = kiosk(fusion=FixedFusion(12.0, (Reason.SCREEN_SUSPECTED,)))
    for _ in range(5):
        made = k.verify(SessionRequest(subject_number="ZX-4471"))
        assert made.decision.decision == Verdict.FAIL
    assert made.decision.lockouts and made.decision.lockouts[0][0] == "subject"
    state = k.recorder.wait_for(ev.LockoutState, where=lambda e: e.subject_until is not None)
    assert state.kiosk_until is None   # the kiosk itself stays open for the next person
    refused = k.verify(SessionRequest(subject_number="ZX 4471"))   # the same number, typed apart
    assert refused.decision.reasons == (Reason.RATE_LIMITED,)
    assert k.verify(SessionRequest(subject_number="OTHER-1")).decision.reasons != (
        Reason.RATE_LIMITED,)


def test_a_staff_unlock_clears_the_idle_notice_of_the_locked_person(kiosk, settings, tmp_path):
    """The notice stayed until the lockout's recorded end, up to 30 minutes after staff had
    unlocked the person."""
    two = settings.replace("audit", max_failures=2)
    k = kiosk(two, fusion=FixedFusion(12.0, (Reason.SCREEN_SUSPECTED,)))
    for _ in range(2):
        made = k.verify(SessionRequest(subject_number="ZX-4471"))
    assert made.decision.lockouts and made.decision.lockouts[0][0] == "subject"
    k.recorder.wait_for(ev.LockoutState, where=lambda e: e.subject_until is not None)
    with open_kiosk_log(two, tmp_path) as staff:  # the operator panel or the CLI
        staff.unlock("subject", staff.subject_ref("zx 4471"), actor="alice", reason="badge")
    k.recorder.wait_for(ev.LockoutState, where=lambda e: e.subject_until is None)


def test_a_log_moved_away_while_running_keeps_the_kiosk_out_until_it_is_back(kiosk, settings,
                                                                            tmp_path, caplog):
    # Before stop 24 the open connection went on writing into the moved file: every later
    # attempt and lockout landed where the next start would never look. Then the kiosk began
    # an empty log at the path, forgetting every lockout; now it waits for its own log.
    k = kiosk()
    assert k.verify().decision.decision == Verdict.PASS
    moved = tmp_path / "moved"
    moved.mkdir()
    for part in tmp_path.glob("kiosk.db*"):
        part.rename(moved / part.name)
    k.runtime.start_session(2, SessionRequest())
    failed = k.recorder.wait_for(ev.SessionFailed)
    assert "was moved, deleted or replaced while the kiosk ran" in failed.reason
    gone = k.recorder.wait_for(ev.AuditFailed, where=lambda e: "is gone" in e.reason)
    assert "kiosk audit new-log" in gone.reason
    # Retried every 0.3 s here (5 s at a kiosk, all night if need be): one error line, not
    # one per try (about 17,000 a day before).
    k.recorder.wait_for(ev.AuditFailed, where=lambda e: sum(
        isinstance(x, ev.AuditFailed) and "is gone" in x.reason
        for x in k.recorder.events) >= 4)
    errors = [r for r in caplog.records if r.getMessage().startswith("audit log unavailable")]
    assert len(errors) == 1
    assert not (tmp_path / "kiosk.db").exists()  # no empty log began in its place
    for part in moved.glob("kiosk.db*"):
        part.rename(tmp_path / part.name)
    k.recorder.wait_for(ev.AuditRecovered, where=lambda e: True)
    assert any(r.getMessage() == "audit log open again" for r in caplog.records)
    k._sid = 2
    assert k.verify().decision.decision == Verdict.PASS
    with open_kiosk_log(settings, tmp_path) as log:  # one log, both attempts
        assert len(log.list_attempts()) == 2 and log.verify().ok


def test_a_kiosk_too_loaded_to_analyse_goes_out_of_service_for_a_pause(kiosk, settings,
                                                                       monkeypatch):
    # The camera delivers 30 frames a second, but each takes the analysis 0.25 s: the
    # session ends on its rate, and the kiosk stops taking people for a pause rather than
    # failing them one after another.
    update = CountingAnalyzer.update

    def slow(self, frame, obs):
        time.sleep(0.25)
        return update(self, frame, obs)

    monkeypatch.setattr(CountingAnalyzer, "update", slow)
    k = kiosk(settings)
    made = k.verify()
    assert made.decision.reasons[0] == Reason.CAPTURE_TOO_SLOW
    failed = k.recorder.wait_for(ev.CameraFailed, where=lambda e: "too loaded" in e.reason)
    assert "while the camera delivers" in failed.reason
