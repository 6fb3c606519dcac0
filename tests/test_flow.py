"""The kiosk's screen state machine, without Qt, on a fake clock."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import kiosk.flow as flow_module
from kiosk.cloud.timing import comparison_limit_s
from kiosk.flow import ACCESSIBLE_RESULT_FACTOR, FlowConfig, KioskFlow
from kiosk.settings import Settings
from kiosk.vocabulary import FaultCause, FlowState
from kiosk.wording import (
    RESULT_ERROR,
    RESULT_FAIL,
    RESULT_LOCKED,
    RESULT_LOCKED_PERSON,
    RESULT_PASS,
    RESULT_REVIEW,
    RESULT_STAFF,
    SUBJECT_LOCKED_NOTICE,
    every_result,
    reading_s,
    result_sentence,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def make(clock, **config):
    config.setdefault("processing_s", 0.0)  # see test_processing_shows_for_its_minimum_time
    flow = KioskFlow(FlowConfig(**config), clock=clock)
    changes = []
    flow.add_listener(lambda old, new: changes.append((old, new)))
    return flow, changes


def decision(kind, *reasons):
    return SimpleNamespace(decision=kind, reasons=tuple(reasons))


REFERENCE = np.zeros((10, 10, 3), np.uint8)


def test_unattended_walk_through(clock):
    flow, changes = make(clock)
    assert flow.start() and flow.state == FlowState.CONSENT
    assert flow.accept() and flow.state == FlowState.LIVE and flow.session_id == 1
    assert flow.request.reference is None
    assert flow.progress(1, "challenge") and flow.state == FlowState.LIVE
    assert flow.progress(1, "analysing") and flow.state == FlowState.PROCESSING
    assert flow.decided(1, decision("pass")) and flow.state == FlowState.RESULT
    assert flow.result == RESULT_PASS
    assert flow.finish() and flow.state == FlowState.IDLE
    assert [new for _, new in changes] == [FlowState.CONSENT, FlowState.LIVE, FlowState.PROCESSING, FlowState.RESULT, FlowState.IDLE]


def test_staffed_walk_through_carries_the_id_photo_only_while_needed(clock):
    flow, _ = make(clock, staffed=True)
    flow.start()
    flow.accept()
    assert flow.state == FlowState.IDENTITY
    with pytest.raises(ValueError, match="reference photo"):
        flow.identity_ready(None)
    assert flow.identity_ready(REFERENCE, "  ID-7 ")
    assert flow.state == FlowState.LIVE
    assert flow.request.reference is REFERENCE and flow.request.subject_number == "ID-7"
    flow.decided(1, decision("review"))
    assert flow.result == RESULT_REVIEW
    assert flow.request.reference is None  # dropped once the session is over


def test_empty_id_number_is_none(clock):
    flow, _ = make(clock, staffed=True)
    flow.start(), flow.accept(), flow.identity_ready(REFERENCE, "   ")
    assert flow.request.subject_number is None


@pytest.mark.parametrize("kind,reasons,expected", [
    ("fail", ("CHALLENGE_TIMEOUT",), RESULT_FAIL.title),
    ("fail", ("LIVENESS_FAILED", "SCREEN_SUSPECTED"), RESULT_STAFF.title),
    ("fail", ("FACE_MISMATCH",), RESULT_STAFF.title),
    ("fail", ("RATE_LIMITED",), RESULT_LOCKED.title),
    ("review", ("MATCH_UNAVAILABLE",), RESULT_REVIEW.title),
])
def test_results_are_plain_words(clock, kind, reasons, expected):
    flow, _ = make(clock)
    flow.start(), flow.accept()
    flow.decided(1, decision(kind, *reasons))
    assert flow.result.title == expected


def test_processing_shows_for_its_minimum_time(clock):
    flow, changes = make(clock, processing_s=0.8)
    flow.start(), flow.accept()
    flow.progress(1, "analysing")
    clock.now += 0.05
    assert flow.decided(1, decision("pass")) and flow.state == FlowState.PROCESSING
    clock.now += 0.5
    assert not flow.tick() and flow.state == FlowState.PROCESSING
    clock.now += 0.35
    assert flow.tick() and flow.state == FlowState.RESULT and flow.result == RESULT_PASS
    # A decision that arrives without a processing stage (a refused, locked-out person)
    # shows the processing screen too.
    flow.finish(), flow.start(), flow.accept()
    flow.decided(2, decision("fail", "RATE_LIMITED"))
    assert flow.state == FlowState.PROCESSING
    clock.now += 0.9
    assert flow.tick() and flow.result == RESULT_LOCKED_PERSON


def test_a_locked_kiosk_does_not_start_and_the_accessible_check_is_per_person(clock):
    flow, _ = make(clock, approach_s=0.5)
    flow.lockouts(kiosk=True, subject=False)
    assert flow.kiosk_locked and not flow.start() and flow.state == FlowState.IDLE
    flow.face_seen(True), clock.__setattr__("now", clock.now + 1.0)
    assert not flow.face_seen(True) and flow.state == FlowState.IDLE
    flow.lockouts(kiosk=False, subject=False)
    assert flow.set_accessible(True) and flow.start() and flow.accept()
    assert flow.request.accessible
    flow.decided(1, decision("fail", "CHALLENGE_TIMEOUT"))
    flow.finish()
    assert flow.state == FlowState.IDLE and not flow.accessible


def test_reports_of_an_older_session_are_ignored(clock):
    flow, _ = make(clock)
    flow.start(), flow.accept()
    flow.fault(FaultCause.CAMERA, "unplugged")
    flow.clear(FaultCause.CAMERA)
    flow.start(), flow.accept()
    assert flow.session_id == 2
    assert not flow.progress(1, "analysing") and flow.state == FlowState.LIVE
    assert not flow.decided(1, decision("pass")) and flow.state == FlowState.LIVE
    assert not flow.session_failed(1)
    assert flow.decided(2, decision("fail")) and flow.state == FlowState.RESULT


def test_a_session_without_a_decision_shows_the_error_result(clock):
    flow, _ = make(clock)
    flow.start(), flow.accept()
    assert flow.session_failed(1) and flow.result == RESULT_ERROR


@pytest.mark.parametrize("state_path,limit", [
    (("start",), "consent_timeout_s"),
    (("start", "accept"), "identity_timeout_s"),
])
def test_unanswered_screens_time_out_to_idle(clock, state_path, limit):
    flow, _ = make(clock, staffed=True, consent_timeout_s=60, identity_timeout_s=120)
    for step in state_path:
        getattr(flow, step)()
    seconds = getattr(flow.config, limit)
    clock.now += seconds - 1
    flow.touch()  # activity restarts the timeout
    clock.now += seconds - 1
    assert not flow.tick()
    assert flow.seconds_left() == pytest.approx(1.0)
    clock.now += 1
    assert flow.tick() and flow.state == FlowState.IDLE


def test_the_result_returns_to_idle_after_result_seconds(clock):
    flow, _ = make(clock, result_s=6)
    flow.start(), flow.accept(), flow.decided(1, decision("pass"))
    clock.now += 5.9
    assert not flow.tick() and flow.state == FlowState.RESULT
    clock.now += 0.1
    assert flow.tick() and flow.state == FlowState.IDLE


def test_a_stalled_session_goes_out_of_service_and_back_on_its_report(clock):
    flow, _ = make(clock, stall_s=90)
    flow.start(), flow.accept()
    clock.now += 89
    assert flow.progress(1, "challenge")
    clock.now += 89
    assert not flow.tick()
    clock.now += 2
    assert flow.tick() and flow.state == FlowState.OUT_OF_SERVICE
    assert FaultCause.SESSION in flow.faults
    # The late decision is not shown (the person has been told to ask staff) but clears it.
    assert not flow.decided(1, decision("pass"))
    assert flow.faults == {} and flow.state == FlowState.IDLE
    assert flow.clear(FaultCause.SESSION) is False  # already cleared by the report


def test_faults_come_from_anywhere_and_clear_only_when_all_are_gone(clock):
    flow, changes = make(clock)
    flow.start(), flow.accept()
    assert flow.fault(FaultCause.CAMERA, "unplugged") and flow.state == FlowState.OUT_OF_SERVICE
    assert changes[-1] == (FlowState.LIVE, FlowState.OUT_OF_SERVICE)
    assert not flow.fault(FaultCause.AUDIT, "locked")
    assert flow.fault_reason == "camera: unplugged; audit: locked"
    assert not flow.clear(FaultCause.CAMERA) and flow.state == FlowState.OUT_OF_SERVICE
    assert not flow.clear(FaultCause.CAMERA)  # not active any more
    assert flow.clear(FaultCause.AUDIT) and flow.state == FlowState.IDLE
    assert flow.start() and flow.state == FlowState.CONSENT


def test_a_fault_after_the_decision_lets_the_person_see_their_result_first(clock):
    """A disk that filled or a camera lost once the decision was made does not change it: the
    person learns it, then the kiosk goes out of service (before: the result was dropped)."""
    flow, changes = make(clock, processing_s=0.8)
    flow.start(), flow.accept()
    assert flow.decided(1, decision("pass")) and flow.state == FlowState.PROCESSING
    assert not flow.fault(FaultCause.RECORDING, "only 1861 MB free")
    clock.now += 1.0
    assert flow.tick() and flow.state == FlowState.RESULT and flow.result == RESULT_PASS
    assert not flow.fault(FaultCause.CAMERA, "unplugged") and flow.state == FlowState.RESULT
    assert flow.finish() and flow.state == FlowState.OUT_OF_SERVICE
    assert changes[-1] == (FlowState.RESULT, FlowState.OUT_OF_SERVICE)
    assert flow.fault_reason == "recording: only 1861 MB free; camera: unplugged"
    # The result screen's own time-out ends it the same way, and a fault cleared while it
    # showed leaves nothing behind.
    flow.clear(FaultCause.RECORDING), flow.clear(FaultCause.CAMERA)
    assert flow.state == FlowState.IDLE
    flow.start(), flow.accept(), flow.decided(2, decision("fail"))
    clock.now += 1.0
    flow.tick()
    flow.fault(FaultCause.CAMERA, "unplugged")
    flow.clear(FaultCause.CAMERA)
    clock.now += 3600
    assert flow.tick() and flow.state == FlowState.IDLE


def test_a_fault_before_the_decision_still_ends_the_check_at_once(clock):
    flow, _ = make(clock, processing_s=0.8)
    flow.start(), flow.accept()
    assert flow.progress(1, "analysing") and flow.state == FlowState.PROCESSING
    assert flow.fault(FaultCause.CAMERA, "unplugged") and flow.state == FlowState.OUT_OF_SERVICE


def test_no_input_works_while_out_of_service(clock):
    flow, _ = make(clock)
    flow.fault(FaultCause.CAMERA, "unplugged")
    assert not flow.start() and not flow.accept() and not flow.finish()
    assert not flow.face_seen(True) and flow.state == FlowState.OUT_OF_SERVICE


def test_a_face_held_for_approach_s_starts_the_kiosk(clock):
    flow, _ = make(clock, approach_s=1.0)
    assert not flow.face_seen(True)
    clock.now += 0.6
    assert not flow.face_seen(False, present=True)  # moved: starts again
    clock.now += 0.1
    assert not flow.face_seen(True)
    clock.now += 0.99
    assert not flow.face_seen(True)
    clock.now += 0.01
    assert flow.face_seen(True) and flow.state == FlowState.CONSENT


def test_auto_start_rearms_only_when_nobody_is_in_view(clock):
    flow, _ = make(clock, approach_s=1.0)
    flow.start(), flow.accept(), flow.decided(1, decision("pass")), flow.finish()
    assert not flow.auto_start_armed
    for _ in range(5):
        clock.now += 1
        assert not flow.face_seen(True)
    flow.face_seen(False, present=False)
    assert flow.auto_start_armed
    flow.face_seen(True)
    clock.now += 1
    assert flow.face_seen(True) and flow.state == FlowState.CONSENT


def test_declining_consent_does_not_restart_at_once(clock):
    flow, _ = make(clock, approach_s=0.5)
    flow.start()
    assert flow.decline() and flow.state == FlowState.IDLE and not flow.auto_start_armed


def test_the_operator_panel_opens_only_between_sessions(clock):
    flow, _ = make(clock)
    flow.start(), flow.accept()
    assert not flow.open_operator()
    flow.progress(1, "matching")
    assert not flow.open_operator()
    flow.decided(1, decision("fail"))
    assert flow.open_operator() and flow.state == FlowState.OPERATOR
    assert not flow.open_operator()
    # Faults while the panel is open do not take the panel away; closing shows them.
    assert not flow.fault(FaultCause.CAMERA, "unplugged") and flow.state == FlowState.OPERATOR
    assert flow.close_operator() and flow.state == FlowState.OUT_OF_SERVICE
    flow.clear(FaultCause.CAMERA)
    assert flow.open_operator() and flow.close_operator() and flow.state == FlowState.IDLE
    assert not flow.close_operator()


def test_config_from_settings():
    s = Settings().replace("kiosk", mode="staffed", result_seconds=9.0)
    config = FlowConfig.from_settings(s)
    assert config.staffed and config.result_s == 9.0
    # The stall limit comes after the matcher's own limit: three calls of (3 + 10) s x 3
    # attempts with botocore's pauses (1 + 2 s) between them, the local fallback's 30 s, then
    # 30 s more. Before, it counted one call (90 s), shorter than one comparison's calls.
    assert config.stall_s == 3 * ((3.0 + 10.0) * 3 + 3.0) + 30.0 + 30.0
    slow = s.replace("matching", read_timeout_s=60.0, max_attempts=5)
    assert FlowConfig.from_settings(slow).stall_s == 3 * ((3.0 + 60.0) * 5 + 15.0) + 60.0
    assert FlowConfig.from_settings(slow).stall_s > comparison_limit_s(slow.matching)
    assert FlowConfig.from_settings(Settings(), approach_s=2.0).approach_s == 2.0


def test_a_stalled_session_that_then_fails_clears_the_stall(clock):
    """The worker answers again, with an error instead of a decision: the kiosk is no longer
    stuck (before, the stall stayed, out of service for good)."""
    flow, _ = make(clock, stall_s=90)
    flow.start(), flow.accept()
    clock.now += 91
    assert flow.tick() and flow.state == FlowState.OUT_OF_SERVICE
    assert not flow.session_failed(1)
    assert flow.faults == {} and flow.state == FlowState.IDLE


def test_a_session_silent_for_twice_the_stall_limit_needs_a_restart(clock):
    flow, _ = make(clock, stall_s=90)
    flow.start(), flow.accept()
    clock.now += 91
    assert flow.tick() and FaultCause.SESSION in flow.faults
    clock.now += 88
    assert not flow.tick() and FaultCause.INTERNAL not in flow.faults
    clock.now += 1
    assert flow.tick()
    assert flow.faults[FaultCause.INTERNAL] == "the verification has not responded for 180 s"
    assert not flow.tick()  # said once
    # A decision that comes after all clears the stall, not the need for a restart.
    assert not flow.decided(1, decision("pass"))
    assert set(flow.faults) == {FaultCause.INTERNAL}
    assert flow.state == FlowState.OUT_OF_SERVICE


def test_an_unattended_kiosk_with_a_members_collection_checks_people_in(clock):
    # Before: matching.collection_id changed nothing in a session (the README offered
    # member check-in, the kiosk never searched).
    members = Settings().replace("matching", collection_id="members")
    assert FlowConfig.from_settings(members).member_check_in
    assert not FlowConfig.from_settings(Settings()).member_check_in
    assert not FlowConfig.from_settings(members.replace("kiosk", mode="staffed")).member_check_in
    flow, _ = make(clock, member_check_in=True)
    assert flow.start() and flow.accept()
    assert flow.request.member_check_in and flow.request.reference is None


def test_any_input_keeps_the_result_on_screen(clock):
    """Before, the result went back to idle after its time whatever the person did."""
    flow, _ = make(clock, result_s=20)
    flow.start(), flow.accept(), flow.decided(1, decision("fail"))
    clock.now += 19
    flow.touch()  # a key, a click, the wheel or a touch while reading
    clock.now += 19
    assert not flow.tick() and flow.state == FlowState.RESULT
    clock.now += 1
    assert flow.tick() and flow.state == FlowState.IDLE


def test_the_accessible_checks_result_stays_longer(clock):
    flow, _ = make(clock, result_s=20)
    flow.set_accessible(True)
    flow.start(), flow.accept(), flow.decided(1, decision("pass"))
    assert flow.seconds_left() == pytest.approx(20 * ACCESSIBLE_RESULT_FACTOR)
    clock.now += 20
    assert not flow.tick() and flow.state == FlowState.RESULT


def test_the_default_result_time_is_long_enough_to_read_the_longest_result():
    longest = max(reading_s(result_sentence(m)) for m in every_result())
    assert 15 < longest < Settings().kiosk.result_seconds
    assert FlowConfig().result_s == Settings().kiosk.result_seconds
    # A person who walks away holds up the next for well under a minute.
    assert Settings().kiosk.result_seconds <= 30


def test_the_consent_screen_warns_before_it_gives_up(clock):
    flow, _ = make(clock, consent_timeout_s=60)
    flow.start()
    clock.now += 39.9
    assert flow.warning_left() is None
    clock.now += 0.2
    assert flow.warning_left() == pytest.approx(19.9)
    flow.touch()  # activity: no warning, the whole time again
    assert flow.warning_left() is None and flow.seconds_left() == pytest.approx(60)
    short, _ = make(clock, consent_timeout_s=10)  # a short time-out warns for half of it
    short.start()
    clock.now += 4.9
    assert short.warning_left() is None
    clock.now += 0.2
    assert short.warning_left() == pytest.approx(4.9)


def test_the_warning_is_for_the_consent_screen_only(clock):
    flow, _ = make(clock, result_s=20)
    flow.start(), flow.accept(), flow.decided(1, decision("pass"))
    clock.now += 19
    assert flow.warning_left() is None


def test_stop_leaves_the_live_check_and_does_not_restart_at_once(clock):
    flow, changes = make(clock, approach_s=0.5)
    assert not flow.stop()  # nothing to stop on the idle screen
    flow.start(), flow.accept()
    assert flow.stop() and flow.state == FlowState.IDLE
    assert changes[-1] == (FlowState.LIVE, FlowState.IDLE)
    # The person who stopped is still in view: the kiosk waits until nobody is.
    clock.now += 1
    assert not flow.face_seen(True) and flow.state == FlowState.IDLE
    flow.start(), flow.accept(), flow.progress(2, "analysing")
    assert not flow.stop() and flow.state == FlowState.PROCESSING


# -- the idle screen's notice about the last person, and the next person who cannot auto-start


def locked_out(clock, *, accessible=False, **config):
    """A flow whose person was just locked out by their failure, back on the idle screen."""
    flow, changes = make(clock, **config)
    flow.set_accessible(accessible)
    flow.start(), flow.accept()
    until = SimpleNamespace()  # the lockout's end (a datetime in the runtime)
    flow.decided(1, SimpleNamespace(decision="fail", reasons=("SCREEN_SUSPECTED",),
                                    lockout_started=True, lockouts=(("subject", until),)))
    assert flow.result == RESULT_LOCKED_PERSON and flow.subject_locked
    flow.lockouts(kiosk=False, subject=True)  # the runtime's report of the same lockout
    flow.finish()
    assert flow.state == FlowState.IDLE and flow.subject_locked
    return flow, changes


def test_the_last_persons_lockout_notice_does_not_stay_for_the_queue(clock):
    """The auditor's window: the notice was still there 30, 60 and 90 s after the locked
    person had gone, nobody having pressed Start. It is for them: long enough to read when
    they look back at the screen, then gone."""
    flow, _ = locked_out(clock)
    notice_s = reading_s(SUBJECT_LOCKED_NOTICE)  # at a slow reading pace
    clock.now += notice_s
    flow.tick()
    assert flow.subject_locked and flow.state == FlowState.IDLE
    clock.now += 30 - notice_s
    flow.tick()
    assert not flow.subject_locked and flow.state == FlowState.IDLE
    # The runtime reports the same lockout again (say, when the kiosk's own lockout state
    # changes): the notice does not come back; the lockout itself still holds (the log's).
    flow.lockouts(kiosk=True, subject=True)
    flow.lockouts(kiosk=False, subject=True)
    assert not flow.subject_locked


def test_the_lockout_notice_lasts_subject_notice_s_after_the_idle_screen_shows(clock):
    flow, _ = locked_out(clock, result_s=25)
    # The result screen's own default time, and the notice read slowly twice over.
    assert Settings().kiosk.result_seconds == flow_module.SUBJECT_NOTICE_S
    assert 2 * reading_s(SUBJECT_LOCKED_NOTICE) < flow_module.SUBJECT_NOTICE_S
    clock.now += flow_module.SUBJECT_NOTICE_S - 0.1
    flow.tick()
    assert flow.subject_locked
    clock.now += 0.1
    assert not flow.tick()  # not a change of screen
    assert not flow.subject_locked and flow.state == FlowState.IDLE
    # Its person chose more time: their notice stays as much longer as their result did.
    slow, _ = locked_out(clock, accessible=True)
    clock.now += flow_module.SUBJECT_NOTICE_S * ACCESSIBLE_RESULT_FACTOR - 0.1
    slow.tick()
    assert slow.subject_locked
    clock.now += 0.1
    slow.tick()
    assert not slow.subject_locked
    # The time starts on the idle screen: the result's own time (read or not) is not taken
    # from it, and the operator panel in between does not restart it.
    late, _ = make(clock, result_s=25)
    late.start(), late.accept()
    late.decided(1, SimpleNamespace(decision="fail", reasons=("SCREEN_SUSPECTED",),
                                    lockout_started=True, lockouts=(("subject", None),)))
    clock.now += 25
    assert late.tick() and late.state == FlowState.IDLE and late.subject_locked
    clock.now += flow_module.SUBJECT_NOTICE_S / 2
    late.open_operator(), late.close_operator()
    clock.now += flow_module.SUBJECT_NOTICE_S / 2
    late.tick()
    assert not late.subject_locked


@pytest.mark.parametrize("way_in", ["start", "auto_start", "accessible"])
def test_every_way_into_a_new_check_clears_the_last_persons_notice(clock, way_in):
    """Before, only Start cleared it: the next person who stepped up and declined left it
    standing, as if it were about them."""
    flow, _ = locked_out(clock, approach_s=1.0)
    if way_in == "start":
        assert flow.start()
    elif way_in == "auto_start":
        flow.face_seen(False, present=False)  # the locked person leaves; the next steps up
        flow.face_seen(True)
        clock.now += 1.0
        assert flow.face_seen(True)
    else:
        assert flow.set_accessible(True)
    assert not flow.subject_locked
    flow.decline()
    assert flow.state == FlowState.IDLE and not flow.subject_locked
    flow.lockouts(kiosk=False, subject=True)  # the runtime still holds the same lockout
    assert not flow.subject_locked
    # A lockout that ends and a new one are shown again.
    flow.lockouts(kiosk=False, subject=False)
    flow.lockouts(kiosk=False, subject=True)
    assert flow.subject_locked


def test_the_kiosk_lockout_is_not_about_a_person_and_stays(clock):
    flow, _ = locked_out(clock)
    flow.lockouts(kiosk=True, subject=True)
    clock.now += 3600
    flow.tick()
    assert flow.kiosk_locked and not flow.start() and flow.state == FlowState.IDLE
    assert not flow.subject_locked  # the person's notice went in its time; the kiosk's stays


def test_a_placed_face_that_cannot_start_the_kiosk_is_told_to_press_start(clock):
    """The auditor's queue: the next person replaced the last with no gap and stood placed
    for 12 s; auto-start stayed disarmed (the person just served must not start a second
    check by standing still) and nothing told them to press Start."""
    flow, _ = make(clock, approach_s=1.0)
    flow.start(), flow.accept(), flow.decided(1, decision("fail")), flow.finish()
    assert flow.state == FlowState.IDLE and not flow.auto_start_armed
    hint_s = flow_module.START_HINT_S
    assert flow.config.approach_s < hint_s <= 5.0
    for _ in range(int(hint_s / 0.2) - 1):  # reports come a few times a second
        assert not flow.face_seen(True) and not flow.start_hint
        clock.now += 0.2
    clock.now += 0.2
    assert not flow.face_seen(True) and flow.start_hint
    for _ in range(60):  # standing still never starts a check
        clock.now += 0.2
        assert not flow.face_seen(True) and flow.start_hint
    assert flow.state == FlowState.IDLE
    # Out of the oval: the hint goes (guidance takes the line); back in, it waits again.
    flow.face_seen(False, present=True)
    assert not flow.start_hint
    flow.face_seen(True)
    clock.now += hint_s - 0.1
    flow.face_seen(True)
    assert not flow.start_hint and flow.state == FlowState.IDLE
    clock.now += 0.1
    flow.face_seen(True)
    assert flow.start_hint
    # Pressing Start works, and the hint is for the idle screen only.
    assert flow.start() and not flow.start_hint


def test_no_press_start_hint_where_the_face_starts_the_kiosk_or_nothing_can(clock):
    flow, _ = make(clock, approach_s=1.0)
    assert flow.auto_start_armed
    flow.face_seen(True)
    clock.now += 1.0
    assert flow.face_seen(True) and not flow.start_hint  # armed: it starts
    flow.decline()
    flow.lockouts(kiosk=True, subject=False)  # a locked kiosk offers no Start
    for _ in range(30):
        clock.now += 0.2
        flow.face_seen(True)
    assert not flow.start_hint
