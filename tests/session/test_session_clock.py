"""A session's recorded times when the system clock is stepped while a person is in front of
the kiosk (an NTP correction soon after boot, a technician setting the date).

The frames come at the camera's pace: real time passes between them on both of the fake
machine's clocks, and a step moves its wall clock alone, once, at a chosen frame time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.audit import open_kiosk_log
from kiosk.session import SessionRequest, Verifier
from tests.session.test_session import (
    SCRIPT,
    CountingAnalyzer,
    FixedFusion,
    ReplayTracker,
    performing_stream,
    run,
)

FPS = 30.0


class Machine:
    """The machine's wall clock and monotonic clock; ``walls`` counts wall-clock readings."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
        self.mono = 5000.0
        self.walls = 0

    def wall(self) -> datetime:
        self.walls += 1
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        """Real time passes."""
        self.now += timedelta(seconds=seconds)
        self.mono += seconds

    def step(self, seconds: float) -> None:
        """The wall clock is set; no real time passes."""
        self.now += timedelta(seconds=seconds)


class PacedTracker(ReplayTracker):
    """Each frame takes a camera frame's time; the wall clock is stepped by ``step_s`` at the
    first frame at or after observation time ``step_at``."""

    def __init__(self, observations, machine: Machine, *, step_at: float, step_s: float):
        super().__init__(observations)
        self.machine, self.step_at, self.step_s = machine, step_at, step_s

    def observe(self, frame):
        self.machine.advance(1.0 / FPS)
        obs = super().observe(frame)
        if self.step_s and obs.t >= self.step_at:
            self.machine.step(self.step_s)
            self.step_s = 0.0
        return obs


@pytest.fixture
def machine():
    return Machine()


@pytest.fixture
def audit(settings, tmp_path, machine):
    log = open_kiosk_log(settings, tmp_path, clock=machine.wall, monotonic=machine.monotonic)
    yield log
    log.close()


def session(settings, machine, audit, *, step_at=0.0, step_s=0.0):
    tracker = PacedTracker(performing_stream(), machine, step_at=step_at, step_s=step_s)
    v = Verifier(settings, tracker=tracker, fusion=FixedFusion(96.0),
                 analyzers=lambda: [CountingAnalyzer()], audit=audit, clock=machine.wall,
                 monotonic=machine.monotonic)
    return run(v, performing_stream(), SessionRequest(script=SCRIPT, subject_number="A123"))


# 5.2 s: after the smile's prompt (5.0 s), before the face smiles (5.4 s).
@pytest.mark.parametrize("step_s", [0.0, -1.0, -10.0, 3600.0],
                         ids=["no step", "back 1 s", "back 10 s", "forward 1 h"])
def test_a_clock_stepped_mid_session_changes_neither_decision_nor_timeline(
        settings, machine, audit, step_s):
    started = machine.mono
    decision, _ = session(settings, machine, audit, step_at=5.2, step_s=step_s)
    elapsed = timedelta(seconds=machine.mono - started)
    # The honest person passes as without a step, and no interrupted try counts against them.
    assert decision.decision == "pass" and decision.reasons == ()
    assert [a.decision for a in audit.list_attempts(limit=5)] == ["pass"]
    record = audit.get_attempt(decision.attempt_id).record
    times = [t for c in record.challenges for t in (c["prompted_at"], c["responded_at"])]
    assert len(times) == 6 and times == sorted(times)  # no response before its prompt
    assert record.started_at <= times[0] and times[-1] <= record.ended_at
    # The attempt lasted the real time it took: a step neither shortens nor stretches it.
    assert abs(record.ended_at - record.started_at - elapsed) < timedelta(milliseconds=1)
    assert (decision.started_at, decision.ended_at) == (record.started_at, record.ended_at)


def test_a_session_reads_the_wall_clock_once(settings, machine):
    v = Verifier(settings, tracker=PacedTracker(performing_stream(), machine, step_at=0.0,
                                                step_s=0.0),
                 fusion=FixedFusion(96.0), analyzers=list, clock=machine.wall,
                 monotonic=machine.monotonic)
    started = machine.mono
    decision, _ = run(v, performing_stream(), SessionRequest(script=SCRIPT))
    assert decision.decision == "pass" and machine.walls == 1
    elapsed = decision.ended_at - decision.started_at
    assert abs(elapsed - timedelta(seconds=machine.mono - started)) < timedelta(milliseconds=1)
