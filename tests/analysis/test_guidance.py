"""Guidance: one instruction per frame, in order of what to fix first."""

from __future__ import annotations

import pytest

from kiosk.analysis import guidance as g
from tests.factories import make_face, make_obs


def test_a_good_face_is_ok():
    assert g.guidance(make_obs(make_face())) is g.OK


@pytest.mark.parametrize("obs, expected", [
    (make_obs(None), g.NO_FACE),
    (make_obs(make_face(), n_faces=2), g.SEVERAL_FACES),
    (make_obs(make_face(size=0.10, box=(290.0, 200.0, 354.0, 270.0))), g.TOO_FAR),
    (make_obs(make_face(size=0.8, box=(64.0, 20.0, 576.0, 470.0))), g.TOO_CLOSE),
    (make_obs(make_face(box=(0.0, 140.0, 200.0, 360.0))), g.OFF_CENTRE),
    (make_obs(make_face(brightness=35.0)), g.TOO_DARK),
    (make_obs(make_face(brightness=140.0, exposure=0.4)), g.TOO_BRIGHT),
    (make_obs(make_face(yaw=35.0)), g.LOOK_AT_CAMERA),
    (make_obs(make_face(sharpness=8.0)), g.HOLD_STILL),
])
def test_each_problem_gets_its_instruction(obs, expected):
    assert g.guidance(obs) is expected


def test_a_turned_head_is_fine_during_a_turn_prompt():
    obs = make_obs(make_face(yaw=35.0))
    assert g.guidance(obs, frontal_required=False) is g.OK


def test_the_first_problem_wins():
    obs = make_obs(make_face(size=0.1, brightness=20.0, sharpness=1.0), n_faces=1)
    assert g.guidance(obs) is g.TOO_FAR
