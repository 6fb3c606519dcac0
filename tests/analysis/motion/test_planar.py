"""PlanarAnalyzer on synthetic sessions with a known answer (see test_motion_synth)."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.analysis.motion import PlanarAnalyzer
from kiosk.analysis.motion.planar import R_LIVE, R_PLANE_POINTS
from kiosk.analysis.signals import Analyzer
from kiosk.reasons import Reason
from tests.analysis.motion.test_synth import observation, plane_session, relief_session


def run(session, analyzer=None):
    analyzer = analyzer or PlanarAnalyzer()
    for frame, obs in session:
        analyzer.update(frame, obs)
    return analyzer.result()


@pytest.fixture(scope="module")
def turned_plane():
    return plane_session(n=60, yaw_amp=20.0, pitch_amp=10.0)


@pytest.fixture(scope="module")
def turned_relief():
    return relief_session(n=48, yaw_amp=20.0, pitch_amp=10.0)


def test_is_an_analyzer():
    a = PlanarAnalyzer()
    assert isinstance(a, Analyzer)
    assert a.name == "planar" and a.single_frame is False


def test_a_turned_picture_is_planar(turned_plane):
    sig = run(turned_plane)
    d = sig.details
    assert sig.reason == Reason.PLANAR_FACE
    assert sig.score > 0.9 and sig.confidence > 0.5
    # Tracked corners on a flat picture obey its homography up to tracking noise ...
    assert d["ratio_points"] < R_PLANE_POINTS
    assert d["residual_points"] < 0.01
    # ... and so do (synthetic, exact) landmarks.
    assert d["ratio_landmarks"] < 0.1
    assert d["informative_points"] >= 2


def test_a_turned_relief_shows_parallax(turned_relief):
    sig = run(turned_relief)
    d = sig.details
    assert sig.score < 0.1 and sig.confidence > 0.5
    assert d["ratio_points"] > 0.7 and d["ratio_landmarks"] > 0.7
    assert d["ratio_points"] == pytest.approx(R_LIVE, abs=0.1)


def test_small_turns_of_a_relief_still_show_parallax():
    sig = run(relief_session(n=48, yaw_amp=6.0, pitch_amp=3.0, seed=2))
    assert sig.score < 0.2 and sig.confidence > 0.3


@pytest.mark.parametrize("maker", [plane_session, relief_session], ids=["plane", "relief"])
def test_no_turn_is_no_evidence(maker):
    # Shift and in-plane roll only: both a picture and a head move as a similarity.
    sig = run(maker(n=30, yaw_amp=0.0, pitch_amp=0.0, seed=3))
    assert sig.confidence == 0.0 and sig.score == 0.0
    assert "no head movement" in sig.details["why"]


def test_a_picture_barely_tilted_is_no_evidence_not_a_live_verdict():
    sig = run(plane_session(n=40, yaw_amp=4.0, pitch_amp=2.0, seed=4))
    assert sig.confidence < 0.3


def test_frames_without_a_face_and_reset(turned_plane):
    a = PlanarAnalyzer()
    frame, _ = turned_plane[0]
    for i in range(20):
        a.update(*observation(i, frame.image, None))
    sig = a.result()
    assert sig.confidence == 0.0 and sig.details["frames_with_face"] == 0
    assert "why" in sig.details
    for frame, obs in turned_plane:
        a.update(frame, obs)
    assert a.result().score > 0.9
    a.reset()
    assert a.result().details["frames"] == 0


def test_update_does_not_change_the_frame(turned_plane):
    a = PlanarAnalyzer()
    frame, obs = turned_plane[0]
    before = frame.image.copy()
    marks = obs.face.landmarks.copy()
    for frame, obs in turned_plane[:15]:
        a.update(frame, obs)
    assert np.array_equal(turned_plane[0][0].image, before)
    assert np.array_equal(turned_plane[0][1].face.landmarks, marks)


def test_details_are_plain_values(turned_plane):
    sig = run(turned_plane)
    for key, value in sig.details.items():
        assert value is None or isinstance(value, (bool, int, float, str)), key


@pytest.mark.parametrize("kwargs, name", [({"window_s": 0.0}, "window_s"),
                                          ({"work_width": 8}, "work_width"),
                                          ({"max_points": 2}, "max_points")])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        PlanarAnalyzer(**kwargs)


def retimed(session, fps):
    """The same frames at another frame rate: the head turns more slowly per second."""
    return [observation(frame.seq, frame.image, obs.face, fps=fps) for frame, obs in session]


def test_a_slowly_turning_relief_shows_parallax_over_longer_windows():
    # Small turns (6 and 3 degrees) played four times slower: 1.6 degrees per 0.4 s window, below
    # the gate; the landmark windows stretch until the head has turned enough.
    slow = retimed(relief_session(n=48, yaw_amp=6.0, pitch_amp=3.0, seed=2), fps=7.5)
    sig = run(slow)
    d = sig.details
    assert d["informative_points"] < 2              # tracked corners keep 0.4 s windows
    assert d["informative_landmarks"] >= 2
    assert d["ratio_landmarks"] > 0.7
    assert sig.score < 0.2 and sig.confidence > 0.2


def test_a_slowly_turning_picture_stays_planar_over_longer_windows():
    # A picture needs a larger turn than a head to pass the gate (no relief); played four times
    # slower, its longer windows still obey one homography.
    slow = retimed(plane_session(n=48, yaw_amp=20.0, pitch_amp=10.0, seed=2), fps=7.5)
    sig = run(slow)
    assert sig.details["informative_landmarks"] >= 2
    assert sig.details["ratio_landmarks"] < 0.1
    assert sig.score > 0.9
