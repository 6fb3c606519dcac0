"""The pause before the next check after checks in a row that ended unjudged (kiosk.pacing),
through the screen state machine on a fake clock.

Found by a lock-down audit: Start, I agree and Stop 0.3 s into the live check, as fast as the
keys go, started 73 checks in 2 minutes (each one an audit row of about 5 kB), and nothing
slowed it down.
"""

from __future__ import annotations

import pytest

from kiosk.flow import FlowConfig, KioskFlow
from kiosk.pacing import FIRST_PAUSE_S, FREE_RUN, LONGEST_PAUSE_S, pause_after
from kiosk.reasons import Reason
from kiosk.vocabulary import FlowState
from tests.test_flow import Clock, decision


@pytest.fixture
def clock():
    return Clock()


def make(clock, **config) -> KioskFlow:
    return KioskFlow(FlowConfig(processing_s=0.0, **config), clock=clock)


def stop_a_check(flow: KioskFlow) -> None:
    """Start, I agree, and Stop at once."""
    assert flow.start() and flow.accept() and flow.state == FlowState.LIVE
    assert flow.stop() and flow.state == FlowState.IDLE


def decide(flow: KioskFlow, *reasons: str) -> None:
    """A check that ran to a decision with these reasons, then Done."""
    assert flow.start() and flow.accept()
    assert flow.decided(flow.session_id, decision("fail" if reasons else "pass", *reasons))
    assert flow.finish() and flow.state == FlowState.IDLE


def test_a_run_of_stopped_checks_makes_the_next_start_wait_longer_each_time(clock):
    flow = make(clock)
    for _ in range(FREE_RUN):
        stop_a_check(flow)  # a Stop by mistake, the next person after one who walked away
    stop_a_check(flow)
    assert not flow.start() and flow.state == FlowState.IDLE
    assert flow.start_wait_s() == FIRST_PAUSE_S == 10.0
    assert not flow.face_seen(ok=True, present=False)  # stepping up does not start it either
    clock.now += 4.0
    assert flow.start_wait_s() == 6.0 and not flow.start()
    waits = []
    for _ in range(4):
        clock.now += flow.start_wait_s()
        stop_a_check(flow)
        waits.append(flow.start_wait_s())
    assert waits == [20.0, 40.0, LONGEST_PAUSE_S, LONGEST_PAUSE_S] and LONGEST_PAUSE_S == 60.0


def test_the_pause_counts_from_the_end_of_the_check(clock):
    """A check that ended unjudged and showed its result (the camera or recording ended, the
    face never placed) counts as a Stop does; its result screen's time is part of the wait."""
    flow = make(clock)
    stop_a_check(flow)
    stop_a_check(flow)
    assert flow.start() and flow.accept()
    flow.decided(flow.session_id, decision("fail", Reason.SESSION_TIMEOUT, Reason.NOT_PLACED))
    assert flow.state == FlowState.RESULT and flow.start_wait_s() == FIRST_PAUSE_S
    clock.now += 7.0
    assert flow.finish() and flow.start_wait_s() == 3.0 and not flow.start()
    clock.now += 3.0
    assert flow.start()


@pytest.mark.parametrize("reasons", [(), (Reason.CHALLENGE_TIMEOUT,),
                                     (Reason.LIVENESS_FAILED, "SCREEN_SUSPECTED")],
                         ids=["pass", "missed prompt", "liveness"])
def test_a_judged_check_ends_the_run(clock, reasons):
    flow = make(clock)
    for _ in range(FREE_RUN + 1):
        stop_a_check(flow)
    clock.now += flow.start_wait_s()
    decide(flow, *reasons)
    assert flow.start_wait_s() == 0.0
    for _ in range(FREE_RUN):
        stop_a_check(flow)  # free again
    assert flow.start_wait_s() == 0.0


def test_a_check_that_ended_without_a_decision_neither_adds_nor_ends_the_run(clock):
    flow = make(clock)
    for _ in range(FREE_RUN):
        stop_a_check(flow)
    assert flow.start() and flow.accept()
    assert flow.session_failed(flow.session_id) and flow.finish()  # the worker's error
    assert flow.start_wait_s() == 0.0
    stop_a_check(flow)
    assert flow.start_wait_s() == FIRST_PAUSE_S


def test_a_staffed_desk_is_not_paced(clock):
    """Staff start every check there (the identity step): nobody can loop checks alone."""
    flow = make(clock, staffed=True)
    for _ in range(FREE_RUN + 3):
        assert flow.start() and flow.accept() and flow.identity_ready(object())
        assert flow.stop()
    assert flow.start_wait_s() == 0.0 and flow.start()


def test_the_pause_grows_to_its_cap():
    assert [pause_after(n) for n in range(8)] == [0.0, 0.0, 0.0, 10.0, 20.0, 40.0, 60.0, 60.0]
    # A night of unjudged checks (a camera that never places a face) stays at the cap.
    assert pause_after(5000) == 60.0
    with pytest.raises(ValueError, match="run"):
        pause_after(-1)
