"""Placement: the oval, one instruction per frame in order of what to fix first, hysteresis."""

from __future__ import annotations

import pytest

from kiosk.analysis import guidance as g
from tests.factories import make_face, make_obs


def box_around(cx: float, cy: float, height: float) -> tuple[float, float, float, float]:
    width = height / g.FACE_ASPECT
    return (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def test_a_good_face_is_ok():
    assert g.guidance(make_obs(make_face())) is g.OK


@pytest.mark.parametrize("obs, expected", [
    (make_obs(None), g.NO_FACE),
    (make_obs(make_face(), n_faces=2), g.SEVERAL_FACES),
    (make_obs(make_face(box=box_around(320, 230, 120))), g.TOO_FAR),
    (make_obs(make_face(box=box_around(320, 235, 400))), g.TOO_CLOSE),
    (make_obs(make_face(box=(0.0, 140.0, 200.0, 360.0))), g.OFF_CENTRE),
    (make_obs(make_face(box=box_around(180, 230, 260))), g.OFF_CENTRE),  # in view, beside
    (make_obs(make_face(brightness=35.0)), g.TOO_DARK),
    (make_obs(make_face(brightness=140.0, exposure=0.4)), g.TOO_BRIGHT),
    (make_obs(make_face(yaw=35.0)), g.LOOK_AT_CAMERA),
    (make_obs(make_face(sharpness=8.0)), g.HOLD_STILL),
])
def test_each_problem_gets_its_instruction(obs, expected):
    assert g.guidance(obs) is expected


def test_a_turned_head_is_fine_during_a_turn_prompt():
    # A turn moves the face box sideways too: the centre is not checked then.
    obs = make_obs(make_face(yaw=35.0, box=box_around(250, 230, 250)))
    assert g.guidance(obs) is not g.OK
    assert g.guidance(obs, frontal_required=False) is g.OK


def test_the_first_problem_wins():
    obs = make_obs(make_face(box=box_around(320, 230, 100), brightness=20.0, sharpness=1.0))
    assert g.guidance(obs) is g.TOO_FAR


@pytest.mark.parametrize("shape", [(480, 640), (656, 368), (1280, 720), (480, 480)])
def test_the_oval_is_the_checks(shape):
    """A face exactly on the oval is placed, in landscape and portrait frames alike; one
    shrunk or grown past the limits, or moved out of the oval's middle, is not."""
    oval = g.target_oval(shape)
    h, w = shape
    assert 0 < oval.width < w and 0 < oval.height < h
    assert oval.height == pytest.approx(g.FACE_HEIGHT_SHARE * min(h, w))
    on = make_face(box=box_around(oval.cx, oval.cy, oval.height))
    assert g.guidance(make_obs(on, shape=shape)) is g.OK
    small = make_face(box=box_around(oval.cx, oval.cy, oval.height * (g.MIN_SCALE - 0.05)))
    big = make_face(box=box_around(oval.cx, oval.cy, oval.height * (g.MAX_SCALE + 0.05)))
    assert g.guidance(make_obs(small, shape=shape)) is g.TOO_FAR
    assert g.guidance(make_obs(big, shape=shape)) in (g.TOO_CLOSE, g.OFF_CENTRE)
    aside = make_face(box=box_around(oval.cx + 0.6 * oval.width, oval.cy, oval.height * 0.8))
    assert g.guidance(make_obs(aside, shape=shape)) is g.OFF_CENTRE
    cx, cy, rx, ry = oval.ellipse()
    assert rx > oval.width / 2 and ry > oval.height / 2  # the drawn guide holds the face


def test_target_oval_refuses_an_empty_frame():
    with pytest.raises(ValueError, match="frame_shape"):
        g.target_oval((0, 640))


def feed(tracker, samples, fps=30.0, t0=0.0):
    shown = []
    for i, guidance in enumerate(samples):
        shown.append(tracker.update(t0 + i / fps, guidance))
    return shown


def test_a_single_bad_frame_neither_flickers_nor_unplaces():
    tracker = g.PlacementTracker(hold_s=0.5, switch_s=0.3)
    feed(tracker, [g.OK] * 20)
    assert tracker.placed and tracker.shown is g.OK
    shown = feed(tracker, [g.OK] * 5 + [g.HOLD_STILL] + [g.OK] * 5, t0=20 / 30)
    assert all(s is g.OK for s in shown) and tracker.placed


def test_placement_needs_a_held_ok_and_is_lost_after_a_persistent_problem():
    tracker = g.PlacementTracker(hold_s=0.5, switch_s=0.3)
    feed(tracker, [g.OK] * 14)   # 0.43 s
    assert not tracker.placed and tracker.held_s(13 / 30) == pytest.approx(13 / 30)
    feed(tracker, [g.OK] * 3, t0=14 / 30)
    assert tracker.placed
    shown = feed(tracker, [g.TOO_FAR] * 12, t0=17 / 30)
    assert shown[0] is g.OK and shown[-1] is g.TOO_FAR   # shown once it persisted 0.3 s
    assert not tracker.placed and tracker.held_s(29 / 30) == 0.0


def test_alternating_problems_show_the_one_that_persists():
    tracker = g.PlacementTracker(hold_s=0.5, switch_s=0.3)
    shown = feed(tracker, [g.TOO_DARK, g.TOO_FAR] * 15)
    assert all(s is g.NO_FACE for s in shown)  # neither persisted: nothing new is shown
    shown = feed(tracker, [g.TOO_DARK] * 15, t0=1.0)
    assert shown[-1] is g.TOO_DARK


def test_a_face_placed_through_brief_tracking_glitches_counts_as_placed():
    # One bad frame in every six (a replayed GIF's dropped frames, a tracker that misses a
    # frame): the shown instruction stays OK, so the face must also become placed. Before,
    # every glitch restarted the 0.5 s hold: the screen said "Put your face in the oval" with
    # an empty guidance line, forever.
    tracker = g.PlacementTracker(hold_s=0.5, switch_s=0.3)
    shown = feed(tracker, ([g.OK] * 5 + [g.NO_FACE]) * 5)   # 1 s
    assert all(s is g.OK for s in shown[12:]) and tracker.placed  # OK shown from 0.3 s
    # A problem that persists still unplaces and restarts the hold.
    feed(tracker, [g.TOO_FAR] * 10, t0=1.0)
    assert not tracker.placed and tracker.held_s(1.3) == 0.0


@pytest.mark.parametrize("fps", [10.0, 25.0, 30.0, 60.0])
def test_a_new_instruction_is_shown_at_any_frame_rate(fps):
    tracker = g.PlacementTracker(hold_s=0.5, switch_s=0.3)
    shown = feed(tracker, [g.OK] * int(fps), fps=fps)
    assert shown[-1] is g.OK and tracker.placed
    shown = feed(tracker, [g.TOO_DARK] * int(fps), fps=fps, t0=1.0)
    assert shown[-1] is g.TOO_DARK and not tracker.placed
    # It takes a share of a full switch_s window, never a single frame.
    assert shown[0] is g.OK and shown[1] is g.OK
