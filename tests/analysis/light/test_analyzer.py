"""LightAnalyzer as a session's analyzer: frames in, one verdict and one Signal out."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kiosk.analysis.light import LightAnalyzer, draw_sequence
from kiosk.analysis.signals import Analyzer
from kiosk.lab.simulate.light import emitted_average, srgb_encode
from kiosk.model import Frame
from kiosk.reasons import Reason
from tests.analysis.light.test_regions import mesh
from tests.factories import make_face, make_obs

FPS = 30.0
BOX = (240, 160, 400, 360)
SKIN = np.array([0.14, 0.19, 0.32], np.float32)       # linear B, G, R
WALL = np.array([0.25, 0.25, 0.25], np.float32)


def frames(seq, n: int, respond: float = 0.8, delay: float = 0.09):
    """A flat card (the whole face box lit alike) in front of a grey wall."""
    x0, y0, x1, y1 = BOX
    lm = mesh(BOX)
    face = make_face(box=tuple(float(v) for v in BOX), landmarks=lm)
    for i in range(n):
        t = i / FPS
        rgb = emitted_average(seq, t - delay - 1 / FPS, t - delay, (235, 235, 235))
        img = np.empty((480, 640, 3), np.float32)
        img[:] = WALL * (1 + 0.05 * rgb[::-1])
        img[y0:y1, x0:x1] = SKIN * (1 + respond * rgb[::-1])
        image = np.rint(srgb_encode(img)).astype(np.uint8)
        yield Frame(image, i, t, t), make_obs(face, t=t, seq=i)


def test_it_is_a_multi_frame_analyzer():
    a = LightAnalyzer()
    assert isinstance(a, Analyzer) and a.name == "light" and a.single_frame is False
    with pytest.raises(ValueError, match="settle_s"):
        LightAnalyzer(settle_s=0.5)
    with pytest.raises(ValueError, match="max_delay_s"):
        LightAnalyzer(max_delay_s=0)


def test_a_card_that_answers_evenly_is_flat_and_the_sequence_may_come_late():
    seq = draw_sequence(random.Random(4)).shifted(0.5)
    a = LightAnalyzer()
    for frame, obs in frames(seq, int((seq.end + 0.8) * FPS)):
        a.update(frame, obs)
    assert a.verdict().confidence == 0 and "no light sequence" in a.verdict().why
    a.set_sequence(seq)                      # painted times known only after painting
    v = a.verdict()
    assert v.fit > 0.95 and v.ratio > 5 and v.reasons == (Reason.LIGHT_FLAT,)
    assert v.delay_ms == pytest.approx(90 + 500 / FPS, abs=10)
    s = a.result()
    assert s.name == "light" and s.score == 1.0 and s.reason == Reason.LIGHT_FLAT
    assert s.details["frames_seen"] == int((seq.end + 0.8) * FPS)
    # Against another sequence the same frames do not answer.
    a.set_sequence(draw_sequence(random.Random(5)).shifted(0.5))
    assert a.verdict().reasons == (Reason.LIGHT_NOT_REFLECTED,)


def test_frames_without_a_face_or_out_of_order_are_skipped_and_reset_forgets():
    seq = draw_sequence(random.Random(4))
    a = LightAnalyzer(seq)
    image = np.zeros((480, 640, 3), np.uint8)
    a.update(Frame(image, 0, 0.0, 0.0), make_obs(None))
    assert a.verdict().why == "no face in 1 frames"
    face = make_face(landmarks=mesh())
    a.update(Frame(image, 1, 1.0, 1.0), make_obs(face, t=1.0, seq=1))
    a.update(Frame(image, 2, 0.5, 0.5), make_obs(face, t=0.5, seq=2))     # earlier: skipped
    assert len(a._t) == 1
    a.reset()
    assert a.verdict().why == "no face in 0 frames" and a.sequence is seq
    assert a.result().confidence == 0.0 and a.result().details["frames_seen"] == 0
