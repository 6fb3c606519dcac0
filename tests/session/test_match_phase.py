"""The session's best-frame and match phases: k frames to the matcher, the quality gate's
verdicts, and the cloud calls recorded (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from kiosk.analysis.quality import BEST_FRAMES
from kiosk.audit import open_kiosk_log
from kiosk.cloud.results import MatchResult
from kiosk.lab import synthetic as syn
from kiosk.lab.standin import FixedFusion
from kiosk.model import Frame, Signal
from kiosk.reasons import Reason
from kiosk.session import SessionRequest, Verifier
from kiosk.session.gate import gate_outcome
from kiosk.vocabulary import Verdict

SCRIPT = [("blink", 1.5), ("turn_left", 3.0), ("smile", 5.0)]
REFERENCE = np.zeros((400, 300, 3), np.uint8)


def stream():
    """A face that blinks, turns to its left and smiles, each ~0.4 s after its prompt."""
    return syn.stream(8.0, 30.0, syn.blink(1.9), syn.turn(3.4, 28.0), syn.smile(5.4), seed=1)


class ReplayTracker:
    def __init__(self, observations):
        self._obs = iter(observations)

    def observe(self, frame):
        return next(self._obs)


class Analyzer:
    name, single_frame = "counting", False

    def reset(self):
        pass

    def update(self, frame, obs):
        pass

    def result(self):
        return Signal(self.name, 0.1, 0.8, "TEXTURE_SUSPECTED", {})


class FramesMatcher:
    """Records the frames it is given and answers ``result``."""

    name, threshold = "local", 95.0

    def __init__(self, result: MatchResult) -> None:
        self.result = result
        self.frames: list = []

    def compare(self, live, reference, *, live_box=None):  # the FaceMatcher protocol
        raise AssertionError("the session must offer every kept frame")

    def compare_frames(self, frames, reference):
        self.frames = list(frames)
        return self.result


def frames_for(observations):
    # Each frame's pixels carry its index, so the test can tell which frames were sent.
    return [Frame(np.full((480, 640, 3), i % 250, np.uint8), o.seq, o.t, o.media_t)
            for i, o in enumerate(observations)]


@pytest.fixture
def audit(settings, tmp_path):
    log = open_kiosk_log(settings, tmp_path, clock=lambda: datetime(2026, 11, 29, 9, 0,
                                                                    tzinfo=UTC))
    yield log
    log.close()


def run(settings, audit, matcher, mode="unattended"):
    observations = stream()
    verifier = Verifier(settings.replace("kiosk", mode=mode),
                        tracker=ReplayTracker(observations),
                        fusion=FixedFusion(96.0),
                        analyzers=lambda: [Analyzer()], matcher=matcher, audit=audit)
    session = verifier.session(frames_for(observations),
                               SessionRequest(reference=REFERENCE, script=SCRIPT))
    try:
        while True:
            next(session)
    except StopIteration as stop:
        return stop.value


def result(**kwargs) -> MatchResult:
    values = dict(matched=True, similarity=99.0, threshold=95.0, matcher="local", offline=True,
                  reasons=(Reason.MATCH_OFFLINE,))
    values.update(kwargs)
    return MatchResult(**values)


def test_the_matcher_gets_the_k_best_frames_with_their_boxes(settings, audit):
    matcher = FramesMatcher(result(frames=BEST_FRAMES))
    decision = run(settings, audit, matcher, mode="staffed")
    assert decision.decision == Verdict.PASS
    assert len(matcher.frames) == BEST_FRAMES
    values = [int(f.image[0, 0, 0]) for f in matcher.frames]
    assert len(set(values)) == BEST_FRAMES  # different frames, not copies of one
    assert all(len(f.box) == 4 and f.image.shape == (480, 640, 3) for f in matcher.frames)
    assert decision.cloud_calls == ()


@pytest.mark.parametrize(("mode", "verdict"), [("staffed", Verdict.REVIEW),
                                               ("unattended", Verdict.FAIL)])
def test_a_comparison_the_gate_stopped_is_review_or_retry_never_a_mismatch(settings, audit,
                                                                          mode, verdict):
    stopped = result(matched=False, similarity=None, compared=False, frames=0,
                     reasons=(Reason.LIVE_FACE_BLURRED, Reason.MATCH_OFFLINE))
    decision = run(settings, audit, FramesMatcher(stopped), mode=mode)
    assert decision.decision == verdict
    assert Reason.LIVE_FACE_BLURRED in decision.reasons
    assert Reason.FACE_MISMATCH not in decision.reasons
    assert decision.match["similarity"] is None and decision.match["matched"] is False
    stored = audit.get_attempt(decision.attempt_id)
    assert stored.decision == verdict


def test_a_real_mismatch_still_fails_with_face_mismatch(settings, audit):
    mismatch = result(matched=False, similarity=12.0,
                      reasons=(Reason.MATCH_BELOW_THRESHOLD, Reason.MATCH_OFFLINE))
    decision = run(settings, audit, FramesMatcher(mismatch), mode="staffed")
    assert decision.decision == Verdict.FAIL
    assert decision.reasons[0] == Reason.FACE_MISMATCH


def test_the_cloud_calls_are_the_matchers_operations_in_order(settings, audit):
    cloud = result(offline=False, matcher="rekognition", reasons=(),
                   operations=("DetectFaces", "DetectFaces", "CompareFaces"))
    decision = run(settings, audit, FramesMatcher(cloud))
    assert decision.decision == Verdict.PASS
    assert decision.cloud_calls == ("DetectFaces", "DetectFaces", "CompareFaces")


def test_gate_outcome_arguments():
    assert gate_outcome(result(), mode="staffed") is None
    with pytest.raises(ValueError, match="mode"):
        gate_outcome(result(compared=False), mode="kiosk")
