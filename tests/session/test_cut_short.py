"""A check cut short counts as an attack only for a cue that is evidence of one on its own.

Found by a lock-down audit: Start, I agree and Stop 0.3 s into the live check, in a loop, with
a bona fide video, locked the kiosk for everyone in 2 minutes. 15 of 73 stopped sessions were
recorded as STOPPED, LIVENESS_FAILED, NO_EXPRESSION: the expression cue had pushed 0.15
log-odds after 14 frames without a blink, and any cue's reason made a session that ended
unjudged a liveness failure. These sessions run the real fusion (the shipped model) on the
cues as that audit recorded them (``kiosk audit show 73``).
"""

from __future__ import annotations

import pytest

from kiosk.analysis.fusion import Fusion
from kiosk.lab import synthetic as syn
from kiosk.model import Signal
from kiosk.reasons import Reason, suggests_attack
from kiosk.session import SessionRequest, Verifier
from tests.session.test_session import SCRIPT, ReplayTracker, performing_stream, run

#: (score, confidence) of each cue that answered in the audit's attempt 73: a live face
#: (LivePortrait d9) stopped 0.7 s into the check, 14 frames at 20 a second.
STOPPED_LIVE = {"display": (0.009, 0.23), "edges": (0.011, 0.38), "expression": (0.998, 0.06),
                "glare": (0.05, 0.38), "lighting": (0.067, 0.19), "moire": (0.083, 0.53),
                "texture": (0.029, 0.23)}
#: A device's edge in view (a phone or tablet held up): 11.97 x 0.38 x 0.9 = 4.1 log-odds.
BEZEL = {"edges": (0.95, 0.38)}


class FixedCue:
    """An analyzer that returns one given Signal, whatever the frames."""

    single_frame = False

    def __init__(self, signal: Signal) -> None:
        self.name, self._signal = signal.name, signal

    def reset(self) -> None:
        pass

    def update(self, frame, obs) -> None:
        pass

    def result(self) -> Signal:
        return self._signal


def fixed_cues(fusion: Fusion, cues: dict[str, tuple[float, float]]):
    """``analyzers()`` for a Verifier: one :class:`FixedCue` per ``name: (score, confidence)``."""
    return lambda: [FixedCue(Signal(name, score, conf, fusion.reasons[name], {}))
                    for name, (score, conf) in cues.items()]


def stopped_session(settings, audit, clock, cues):
    """One check stopped at the kiosk 0.7 s in (the kiosk ends the frames and says so)."""
    fusion = Fusion.load()
    observations = syn.stream(0.7, 20.0)
    verifier = Verifier(settings, tracker=ReplayTracker(observations), fusion=fusion,
                        analyzers=fixed_cues(fusion, cues), audit=audit, clock=clock)
    decision, _ = run(verifier, observations, SessionRequest(stopped=lambda: True))
    return decision


def test_a_live_face_stopped_at_once_is_not_a_liveness_failure(settings, audit, clock):
    """Its score is low for want of evidence of life (67), and its one weak cue is no attack:
    the attempt fails as STOPPED alone, which the kiosk's lockout does not count."""
    decision = stopped_session(settings, audit, clock, STOPPED_LIVE)
    assert decision.decision == "fail" and decision.reasons == (Reason.STOPPED,)
    assert decision.liveness_score == pytest.approx(67.3, abs=0.1)
    assert not suggests_attack(decision.reasons)
    assert audit.get_attempt(decision.attempt_id).record.liveness_score == pytest.approx(
        67.3, abs=0.1)  # recorded for staff all the same


def test_stopping_a_live_check_again_and_again_never_locks_the_kiosk(settings, tmp_path,
                                                                      clock):
    from kiosk.audit import open_kiosk_log

    strict = settings.replace("audit", kiosk_max_failures=3)
    log = open_kiosk_log(strict, tmp_path, clock=clock)
    try:
        decisions = [stopped_session(strict, log, clock, STOPPED_LIVE) for _ in range(5)]
    finally:
        log.close()
    assert [d.reasons for d in decisions] == [(Reason.STOPPED,)] * 5
    assert all(d.lockouts == () for d in decisions)


def test_a_replay_stopped_once_its_bezel_shows_still_counts(settings, audit, clock):
    """A cue that is evidence of an attack on its own (a push of ln 9 or more) makes the check
    cut short a liveness failure, and it alone is named: the weak cue beside it is not."""
    decision = stopped_session(settings, audit, clock, STOPPED_LIVE | BEZEL)
    assert decision.reasons == (Reason.STOPPED, Reason.LIVENESS_FAILED, "DEVICE_EDGES")
    assert suggests_attack(decision.reasons)


def test_a_judged_check_still_fails_on_every_cue(settings, audit, clock):
    """The rule for checks cut short leaves judged ones as they were: the same low score after
    the prompts were answered fails on liveness, with the weak cue named."""
    fusion = Fusion.load()
    observations = performing_stream()
    verifier = Verifier(settings, tracker=ReplayTracker(observations), fusion=fusion,
                        analyzers=fixed_cues(fusion, STOPPED_LIVE), audit=audit,
                        clock=clock)
    decision, _ = run(verifier, observations, SessionRequest(script=SCRIPT))
    assert [c["outcome"] for c in decision.challenges] == ["passed"] * 3
    assert decision.reasons == (Reason.LIVENESS_FAILED, "NO_EXPRESSION")
