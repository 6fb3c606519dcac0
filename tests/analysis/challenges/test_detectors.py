"""Action detectors on synthetic observation streams (no video needed)."""

from __future__ import annotations

import pytest

from kiosk.analysis.challenges.baseline import Baseline, BaselineEstimator, eye_closure
from kiosk.analysis.challenges.blink import BlinkDetector
from kiosk.analysis.challenges.events import ActionDetector, detect_events
from kiosk.analysis.challenges.head import ExcursionTracker, TurnDetector
from kiosk.lab import synthetic as S


def actions(observations, **kwargs):
    return [e.action for e in detect_events(observations, baseline="start", **kwargs)]


def events_of(observations, action, **kwargs):
    return [e for e in detect_events(observations, baseline="start", **kwargs)
            if e.action == action]


# -- blinks ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fps", [15, 30])
@pytest.mark.parametrize("phase", [i / 8 for i in range(8)])
def test_a_100ms_blink_is_caught_at_every_sampling_phase(fps, phase):
    obs = S.stream(4.0, fps, S.blink(2.0, closed_s=0.1), phase_s=phase / fps)
    blinks = events_of(obs, "blink")
    assert len(blinks) == 1
    assert 1.95 <= blinks[0].start <= 2.2 and blinks[0].end <= 2.3
    assert blinks[0].confidence >= 0.8


@pytest.mark.parametrize("fps", [15, 30])
def test_blinks_behind_glasses_are_caught(fps):
    # Open EAR 0.2 and eyeBlink reading 0.5 with the eyes open: relative measures still work.
    obs = S.stream(6.0, fps, S.blink(2.0), S.blink(4.0, closed_s=0.3), neutral=S.GLASSES,
                   noise=1.0, seed=11)
    assert actions(obs) == ["blink", "blink"]


def test_glasses_baseline_is_measured_not_assumed():
    obs = S.stream(2.0, 30, neutral=S.GLASSES)
    base = Baseline.from_observations(obs)
    assert base.ear_left == pytest.approx(0.2) and base.blink_left == pytest.approx(0.5)
    # The same absolute EAR is half-closed for a wide-eyed person and open for this one.
    face = obs[0].face
    wide = Baseline.from_observations(S.stream(1.0, 30, neutral=dict(S.NEUTRAL, ear_left=0.4,
                                                                      ear_right=0.4)))
    assert eye_closure(face, base) == (0.0, 0.0)
    assert eye_closure(face, wide)[0] == pytest.approx(0.5)


@pytest.mark.parametrize("fps", [15, 30])
def test_noise_alone_gives_no_event(fps):
    for neutral, seed in ((S.NEUTRAL, 1), (S.GLASSES, 2)):
        obs = S.stream(30.0, fps, neutral=neutral, noise=1.5, seed=seed)
        assert actions(obs) == []


def test_partial_closure_is_not_a_blink():
    assert actions(S.stream(4.0, 30, S.blink(2.0, depth=0.3))) == []


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_wink_is_not_a_blink(side):
    assert actions(S.stream(4.0, 30, S.wink(2.0, side=side))) == []


def test_smile_squint_is_not_a_blink_but_a_blink_during_a_smile_is():
    squint_only = S.stream(5.0, 30, S.smile(1.5, hold_s=2.0, squint=0.45))
    assert actions(squint_only) == ["smile"]
    with_blink = S.stream(5.0, 30, S.smile(1.5, hold_s=2.0, squint=0.45), S.blink(2.5))
    assert actions(with_blink) == ["smile", "blink"]


def test_lowered_gaze_is_not_a_blink():
    # Lids lowered slowly to 85% closure and held: no blink, at either frame rate.
    for fps in (15, 30):
        assert actions(S.stream(5.0, fps, S.gaze_down(1.5))) == []


def test_a_closure_that_lasts_too_long_is_not_a_blink():
    assert actions(S.stream(6.0, 30, S.blink(2.0, closed_s=2.5))) == []
    assert actions(S.stream(6.0, 30, S.blink(2.0, closed_s=0.8))) == ["blink"]


@pytest.mark.parametrize("fps", [15, 30])
def test_a_blink_that_reopens_into_a_squint_is_a_blink(fps):
    # The lids come back only to a 35% squint and stay there for 2 s (as after a wink, or in a
    # frown): the blink ends at half amplitude, not when the squint ends 2 s later.
    obs = S.stream(6.0, fps, S.blink(2.0), S.eyes(2.1, closed_s=2.0, rise_s=0.1, depth=0.35))
    blinks = events_of(obs, "blink")
    assert len(blinks) == 1
    assert 1.95 <= blinks[0].start <= 2.1 and blinks[0].end <= 2.35


def test_a_squint_held_after_a_slow_closure_is_still_no_blink():
    # The half-amplitude end does not make a slow lowering of the lids into a blink.
    assert actions(S.stream(6.0, 30, S.eyes(2.0, closed_s=2.0, rise_s=0.6, depth=0.85))) == []


def test_blink_detector_reports_pending_while_eyes_are_shut():
    obs = S.stream(3.0, 30, S.blink(2.0, closed_s=0.5))
    detector = BlinkDetector()
    base = Baseline.from_observations(obs[:20])
    seen = []
    for o in obs:
        detector.update(o, base)
        seen.append(detector.pending is not None)
    assert any(seen) and not seen[-1]


# -- smiles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fps", [15, 30])
def test_smile_is_detected_and_a_smirk_is_not(fps):
    smiles = events_of(S.stream(4.0, fps, S.smile(1.5)), "smile")
    assert len(smiles) == 1 and 1.5 <= smiles[0].start <= 1.8
    assert actions(S.stream(4.0, fps, S.smile(1.5, one_sided=True))) == []


def test_smile_is_relative_to_a_smiling_rest_face():
    # A face that rests with smile scores of 0.5: a 0.2 rise is no smile, a full one is.
    smiley = dict(S.NEUTRAL, smile_left=0.5, smile_right=0.5)
    assert actions(S.stream(4.0, 30, S.smile(1.5, strength=0.2), neutral=smiley)) == []
    assert actions(S.stream(4.0, 30, S.smile(1.5, strength=0.45), neutral=smiley)) == ["smile"]


def test_a_twitch_is_too_short_for_a_smile():
    twitch = S.smile(1.5, hold_s=0.0, rise_s=0.05, fall_s=0.05)
    assert actions(S.stream(4.0, 30, twitch)) == []


def test_a_smile_held_to_the_end_is_reported_and_is_ongoing_while_held():
    obs = S.stream(3.0, 30, S.smile(1.5, hold_s=5.0))
    assert actions(obs) == ["smile"]
    detector = ActionDetector()
    for o in obs:
        detector.update(o)
    assert [e.action for e in detector.ongoing()] == ["smile"]


# -- head turns ------------------------------------------------------------------------------

@pytest.mark.parametrize("fps", [15, 30])
def test_turns_in_both_directions(fps):
    obs = S.stream(6.0, fps, S.turn(1.5, 30.0), S.turn(3.5, -26.0))
    turns = detect_events(obs, baseline="start")
    assert [e.action for e in turns] == ["turn_left", "turn_right"]
    left, right = turns
    assert 1.5 <= left.start <= 1.7 and 2.6 <= left.end <= 3.0
    assert left.confidence > right.confidence >= 0.5


def test_partial_turn_and_turn_without_return_are_not_turns():
    assert actions(S.stream(5.0, 30, S.turn(1.5, 15.0))) == []
    assert actions(S.stream(5.0, 30, S.turn(1.5, 35.0, back_s=None))) == []


def test_turn_angle_is_measured_from_the_baseline():
    # Someone sitting 12 degrees off-axis: 12 -> 35 is a 23-degree left turn, 12 -> -10 a
    # 22-degree right turn, although -10 alone is far from 20.
    off_axis = dict(S.NEUTRAL, yaw=12.0)
    assert actions(S.stream(4.0, 30, S.turn(1.5, 23.0), neutral=off_axis)) == ["turn_left"]
    assert actions(S.stream(4.0, 30, S.turn(1.5, -22.0), neutral=off_axis)) == ["turn_right"]
    assert actions(S.stream(4.0, 30, S.turn(1.5, -16.0), neutral=off_axis)) == []


def test_turn_angle_is_configurable():
    obs = S.stream(4.0, 30, S.turn(1.5, 16.0))
    assert actions(obs, turn_angle_deg=15.0) == ["turn_left"]
    assert actions(obs) == []


def test_slow_return_is_one_turn_not_two():
    obs = S.stream(6.0, 30, S.turn(1.0, 40.0, hold_s=0.3, back_s=2.5))
    assert actions(obs) == ["turn_left"]


def test_excursion_tracker_reports_sign_start_and_peak():
    tracker = ExcursionTracker(20.0)
    angles = [0, 2, 6, 15, 25, 31, 28, 14, 2]
    done = [tracker.update(i * 0.1, a) for i, a in enumerate(angles)]
    assert done[:7] == [None] * 7
    # A movement without a rest: it was launched when it left the onset band.
    assert done[7] == (1, pytest.approx(0.2), pytest.approx(0.2), pytest.approx(0.7), 31)
    with pytest.raises(ValueError):
        ExcursionTracker(0.0)


def test_a_turn_launched_after_a_rest_starts_at_the_rest() -> None:
    """A head that drifts 10 degrees, rests there, then turns: the turn started when it left
    the rest (the drift before a prompt is not the answer to it), at 30 fps."""
    tracker = ExcursionTracker(20.0)
    angles = ([0.0] * 15 + [i * 10.0 / 30 for i in range(30)]     # drift 0 -> 10 deg in 1 s
              + [10.0 + 0.2 * (i % 2) for i in range(20)]          # rest, with jitter
              + [10.0 + 2.0 * i for i in range(1, 11)]             # turn to 30 deg
              + [30.0 - 3.0 * i for i in range(1, 11)])            # and back
    done = [tracker.update(i / 30, a) for i, a in enumerate(angles)]
    (sign, start, launch, end, peak), = [d for d in done if d is not None]
    assert sign == 1 and peak == pytest.approx(30.0)
    assert start == pytest.approx(30 / 30, abs=0.05)          # left the 5-degree band
    assert launch == pytest.approx((15 + 30 + 19) / 30, abs=0.05)  # the last still frame
    assert end > launch


def test_turn_is_pending_while_the_head_is_away():
    obs = S.stream(3.0, 30, S.turn(1.0, 30.0, back_s=None))
    detector = TurnDetector()
    base = Baseline.from_observations(obs[:15])
    for o in obs:
        detector.update(o, base)
    assert detector.pending is not None and detector.pending.action == "turn_left"


def test_face_dropout_inside_a_turn_is_bridged_but_a_long_one_is_not():
    def drop(start, end):
        return lambda t, v: None if start <= t < end else {}
    turn = S.turn(1.0, 40.0, hold_s=1.0)
    assert actions(S.stream(4.0, 30, turn, edit=drop(1.5, 2.2))) == ["turn_left"]
    assert actions(S.stream(5.0, 30, turn, edit=drop(1.5, 3.8))) == []


# -- nods and looks --------------------------------------------------------------------------

@pytest.mark.parametrize("fps", [15, 30])
def test_nod_and_slow_looks(fps):
    assert actions(S.stream(4.0, fps, S.pitch(1.5, -20.0))) == ["look_down", "nod"]
    assert actions(S.stream(5.0, fps, S.pitch(1.5, -20.0, hold_s=1.6))) == ["look_down"]
    assert actions(S.stream(5.0, fps, S.pitch(1.5, 22.0, hold_s=1.6))) == ["look_up"]
    assert actions(S.stream(4.0, fps, S.pitch(1.5, -10.0))) == []


def test_pitch_during_a_big_turn_is_not_a_look():
    obs = S.stream(5.0, 30, S.turn(1.0, 40.0, hold_s=1.5), S.pitch(1.6, 18.0, hold_s=0.5))
    assert actions(obs) == ["turn_left"]


# -- baseline --------------------------------------------------------------------------------

def test_baseline_waits_for_a_steady_head():
    # The head swings for the first 1.5 s; the baseline comes from the steady second after.
    obs = S.stream(4.0, 30, S.turn(0.0, 30.0, move_s=0.5, hold_s=0.3, back_s=0.5))
    estimator = BaselineEstimator(duration_s=1.0)
    ready_at = next(o.t for o in obs if estimator.collect(o))
    assert ready_at >= 2.0
    assert estimator.baseline.yaw == pytest.approx(0.0, abs=1e-6)


def test_a_renewed_baseline_is_the_latest_steady_second():
    # A glance 12 degrees aside fills the first steady second; the person then rests ahead.
    obs = S.stream(4.0, 30, S.turn(0.0, -12.0, move_s=0.05, hold_s=1.3, back_s=0.3))
    estimator = BaselineEstimator(duration_s=1.0)
    first = next(i for i, o in enumerate(obs) if estimator.collect(o))
    assert estimator.baseline.yaw == pytest.approx(-12.0, abs=0.5)
    renewed = [o.t for o in obs[first + 1:] if estimator.renew(o)]
    # At every steady frame, but not once the move back (1.35-1.65 s) spreads the window
    # over more than 8 degrees, until it holds less again.
    assert not [t for t in renewed if 1.6 < t < 2.4]
    assert max(renewed) == pytest.approx(obs[-1].t)
    assert estimator.baseline.yaw == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(RuntimeError, match="needs a baseline"):
        BaselineEstimator().renew(obs[0])


def test_baseline_ignores_a_blink_in_its_window():
    obs = S.stream(1.2, 30, S.blink(0.5, closed_s=0.1))
    base = Baseline.from_observations(obs)
    assert base.ear_left == pytest.approx(0.3)


def test_baseline_adapts_slowly_to_a_neutral_face():
    drifted = dict(S.NEUTRAL, pitch=-9.0)
    obs = S.stream(1.5, 30) + [
        o for o in S.stream(20.0, 30, neutral=drifted, phase_s=1.5)]
    detector = ActionDetector(adapt=True)
    for o in obs:
        detector.update(o)
    # 20 s at a 20 s time constant: most of the way, not all of it.
    assert -9.0 < detector.baseline.pitch < -7.0
    frozen = ActionDetector(adapt=False)
    for o in obs:
        frozen.update(o)
    assert frozen.baseline.pitch == pytest.approx(-5.0)


def test_no_event_before_the_baseline_exists():
    obs = S.stream(3.0, 30, S.blink(0.4))
    assert actions(obs) == []
    assert [e.action for e in detect_events(obs)] == ["blink"]  # whole-clip baseline


def test_detect_events_rejects_unknown_baseline_mode():
    with pytest.raises(ValueError, match="baseline"):
        detect_events(S.stream(1.0, 30), baseline="median")
