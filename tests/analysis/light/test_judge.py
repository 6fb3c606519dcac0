"""The light judge on synthetic measurements: what answers, what does not, and why."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kiosk.analysis.light import LightSequence, Segment, draw_sequence, judge
from kiosk.analysis.light.limits import MAX_RATIO
from kiosk.reasons import Reason
from tests.analysis.light.synth import FACE, FLAT, trace


def seq(seed: int = 1, at: float = 0.6) -> LightSequence:
    return draw_sequence(random.Random(seed)).shifted(at)


def run(s: LightSequence, judged_against: LightSequence | None = None, **kw):
    t, face, bg, clipped = trace(s, **kw)
    return judge(t, face, bg, clipped, judged_against or s)


@pytest.mark.parametrize("fps", [15.0, 30.0])
def test_a_face_answers_with_the_cameras_delay(fps):
    r = run(seq(), fps=fps)
    assert r.responded and r.reasons == ()
    assert r.fit > 0.95 and r.confidence == 1.0 and r.segments_judged >= 8
    # Half of each change shows half an exposure after the 90 ms latency.
    assert r.delay_ms == pytest.approx(90 + 500 / fps, abs=12)
    assert r.delay_spread_ms is not None and r.delay_spread_ms < 0.5e3 / fps
    # 1.3 on the chin against 0.07 on the wall: the ratio is about ten.
    assert 6 < r.ratio < 20
    # Nose 0.85 against cheeks 0.7 and 0.72 (relative to the room's light).
    assert r.unevenness == pytest.approx(np.log(0.85) - np.log(0.71), abs=0.05)


def test_the_same_recording_against_another_sequence_does_not_answer():
    r = run(seq(1), judged_against=seq(2))
    assert not r.responded and r.reasons == (Reason.LIGHT_NOT_REFLECTED,)
    assert r.fit < 0.6 and r.confidence > 0


def test_a_tint_of_the_whole_picture_is_not_a_reflection():
    r = run(seq(), response=(0, 0, 0, 0, 0), wall=0.0, tint=0.6)
    assert not r.responded and Reason.LIGHT_NOT_REFLECTED in r.reasons
    assert r.ratio == pytest.approx(1.0, abs=0.3)


def test_a_flat_answer_is_a_print():
    r = run(seq(), response=FLAT)
    assert not r.responded and r.reasons == (Reason.LIGHT_FLAT,)
    assert r.unevenness < 0.03


def test_a_region_that_does_not_answer_is_not_a_face_unless_it_is_clipped():
    r = run(seq(), response=(0.0, 0.85, 1.3, 0.7, 0.72))
    assert not r.responded and Reason.LIGHT_FLAT in r.reasons
    # A forehead clipped white cannot show added light: it is not held against the face.
    r = run(seq(), response=(0.0, 0.85, 1.3, 0.7, 0.72), clipped=(0.5, 0, 0, 0, 0))
    assert r.responded
    # The weakest region of a face (a tenth-lit forehead would be odd) still answers.
    assert run(seq(), response=(0.3, 0.85, 1.3, 0.7, 0.72)).responded



def highlight(s: LightSequence, region: int, share, response=FACE, **kw):
    """A trace whose ``region`` has a highlight saturating ``share`` of its pixels (a float,
    or one per frame): its mean takes that share of full white, which cannot brighten, and
    darker half is the skin's own colour (a constant factor below the unclipped mean)."""
    t, face, bg, _ = trace(s, response=response, **kw)
    share = np.broadcast_to(np.asarray(share, np.float64), t.shape)
    clipped = np.zeros((t.size, 5))
    clipped[:, region] = share
    lower = face * 0.97
    face = face.copy()
    face[:, region] = (1 - share[:, None]) * face[:, region] + share[:, None] * 1.0
    return t, face, bg, clipped, lower


NOSE, CHEEK = 1, 3


@pytest.mark.parametrize("region", [NOSE, CHEEK])
def test_a_print_lit_until_its_nose_or_a_cheek_clips_is_flat_by_its_darker_half(region):
    # It answered as a face of unknown shape (a pass, confidence 0.75) while the clipped
    # region's mean was left out; its darker half still shows a plane.
    t, face, bg, clipped, lower = highlight(seq(), region, 0.3, response=FLAT)
    r = judge(t, face, bg, clipped, seq(), face_lower=lower)
    assert not r.responded and r.reasons == (Reason.LIGHT_FLAT,)
    assert r.unevenness < 0.03
    # Without the darker halves the shape is not seen, and an unseen shape never passes.
    r = judge(t, face, bg, clipped, seq())
    assert not r.responded and r.reasons == (Reason.LIGHT_TOO_BRIGHT_AMBIENT,)
    assert r.confidence == 0.0 and "clipped" in r.why


def test_a_face_with_a_shiny_nose_still_answers_in_relief():
    t, face, bg, clipped, lower = highlight(seq(), NOSE, 0.3)
    r = judge(t, face, bg, clipped, seq(), face_lower=lower)
    assert r.responded and r.reasons == () and r.confidence == 1.0
    # The relief of the same face unclipped (log 0.85 - log 0.71: 0.18).
    assert r.unevenness == pytest.approx(run(seq()).unevenness, abs=0.02)


def test_a_nose_clipped_in_half_of_it_is_too_bright_to_judge_not_a_pass():
    # Past MAX_HALF_CLIPPED in one frame, the darker half itself may have clipped.
    share = np.full(int((seq().end + 1.0) * 30), 0.3)
    share[40] = 0.45
    t, face, bg, clipped, lower = highlight(seq(), NOSE, share)
    r = judge(t, face, bg, clipped, seq(), face_lower=lower)
    assert not r.responded and r.reasons == (Reason.LIGHT_TOO_BRIGHT_AMBIENT,)
    assert "nose" in r.why
    # A late answer with a clipped nose stays a failure on its timing: a highlight is no way
    # out of the lockout count.
    t, face, bg, clipped, lower = highlight(seq(), NOSE, 0.5, delay=0.6)
    r = judge(t, face, bg, clipped, seq(), face_lower=lower)
    assert not r.responded and Reason.LIGHT_TIMING in r.reasons
    assert Reason.LIGHT_TOO_BRIGHT_AMBIENT not in r.reasons
    # So does a glass that mirrors the screen on part of the face (a forehead that does not
    # answer) with the nose clipped past measure.
    t, face, bg, clipped, lower = highlight(seq(), NOSE, 0.5, response=(0.0, 0.85, 1.3, 0.7,
                                                                        0.72))
    r = judge(t, face, bg, clipped, seq(), face_lower=lower)
    assert not r.responded and r.reasons == (Reason.LIGHT_FLAT,)


def test_a_late_answer_fails_on_timing():
    r = run(seq(), delay=0.6)
    assert not r.responded and r.reasons == (Reason.LIGHT_TIMING,)
    assert r.delay_ms > 500


def test_an_uneven_delay_across_changes_fails_on_timing():
    r = run(seq(), jitter=0.12, noise=0.001)
    assert not r.responded and Reason.LIGHT_TIMING in r.reasons
    assert r.delay_spread_ms > 30


def painted(s: LightSequence, wipe: float = 0.1) -> LightSequence:
    """``s`` as the kiosk's window reports it: each colour from the end of its wipe to the
    start of the next (the screen shows ``s``, with every change in a wipe's middle)."""
    return LightSequence(tuple(Segment(x.start + wipe / 2, x.end - wipe / 2, x.rgb)
                               for x in s.segments))


def test_the_changes_of_a_painted_sequence_are_timed_too():
    """The window's reports leave a wipe between colours; no change was timed then, and an
    answer whose delay varied from change to change (an injector relighting a face by hand)
    was taken for a face."""
    steady = run(seq(), judged_against=painted(seq()))
    assert steady.responded and steady.reasons == ()
    assert steady.delay_spread_ms is not None and steady.delay_spread_ms < 0.5e3 / 30
    uneven = run(seq(), judged_against=painted(seq()), jitter=0.12, noise=0.001)
    assert not uneven.responded and Reason.LIGHT_TIMING in uneven.reasons
    assert uneven.delay_spread_ms > 30


def test_auto_exposure_is_taken_out_by_the_background():
    r = run(seq(), auto_exposure=0.6)
    assert r.responded and r.ratio > 3


def test_a_short_sequence_is_judged_with_less_confidence():
    short = LightSequence((Segment(0.5, 0.9, (0, 255, 0)), Segment(0.9, 1.3, (255, 0, 255)),
                           Segment(1.3, 1.7, (0, 0, 255)), Segment(1.7, 2.1, (255, 255, 0))))
    r = run(short, seconds=3.0)
    assert r.responded and r.segments_judged == 4
    assert 0 < r.confidence < 0.5
    assert not run(short, judged_against=short.shifted(0.9), seconds=3.0).responded


@pytest.mark.parametrize("fps", [15.0, 30.0])
def test_drifting_recordings_never_answer_random_sequences(fps):
    # Head motion and exposure drift as a random walk, judged against 40 sequences.
    answered = 0
    for k in range(40):
        t, face, bg, clipped = trace(seq(100 + k), fps=fps, seed=k, response=(0,) * 5,
                                     wall=0.0, drift=0.01, noise=0.004)
        answered += judge(t, face, bg, clipped, seq(200 + k)).responded
    assert answered == 0


def test_not_enough_to_judge_says_why():
    s = seq()
    t, face, bg, clipped = trace(s)
    few = judge(t[:5], face[:5], bg[:5], clipped[:5], s)
    assert few.confidence == 0 and "frames" in few.why and few.reasons == ()
    slow = judge(t[::4], face[::4], bg[::4], clipped[::4], s)
    assert slow.confidence == 0 and "fps" in slow.why
    no_bg = judge(t, face, np.full_like(bg, np.nan), clipped, s)
    assert no_bg.confidence == 0 and "background" in no_bg.why
    elsewhere = judge(t, face, bg, clipped, s.shifted(100.0))
    assert elsewhere.confidence == 0


def test_clipped_skin_that_does_not_answer_asks_for_staff():
    s = seq()
    r = run(s, judged_against=seq(9), clipped=0.5)
    assert r.reasons == (Reason.LIGHT_TOO_BRIGHT_AMBIENT,) and r.confidence == 0
    assert "clipped" in r.why
    # Half of every region clipped but answering: the nose and cheeks cannot show the
    # answer's shape (their darker halves may have clipped), and an unseen shape is no pass.
    r = run(s, clipped=0.5)
    assert not r.responded and r.reasons == (Reason.LIGHT_TOO_BRIGHT_AMBIENT,)
    assert r.why.startswith("the nose, right cheek, left cheek clipped too much")


def test_inputs_are_checked_and_left_alone():
    s = seq()
    t, face, bg, clipped = trace(s)
    before = face.copy()
    judge(t, face, bg, clipped, s)
    assert np.array_equal(face, before)
    with pytest.raises(ValueError, match="face"):
        judge(t, face[:, :4], bg, clipped, s)
    with pytest.raises(ValueError, match="clipped"):
        judge(t, face, bg, clipped[:, :2], s)
    with pytest.raises(ValueError, match="increase"):
        judge(t[::-1], face, bg, clipped, s)


def test_the_verdict_as_a_signal():
    r = run(seq())
    sig = r.to_signal({"frames_seen": 10})
    assert sig.name == "light" and sig.score == 0.0 and sig.confidence == r.confidence
    assert sig.details["frames_seen"] == 10 and sig.details["responded"] is True
    bad = run(seq(1), judged_against=seq(2)).to_signal()
    assert bad.score == 1.0 and bad.reason == Reason.LIGHT_NOT_REFLECTED
    assert all(not isinstance(v, (list, dict)) for v in bad.details.values())
    assert r.as_dict()["ratio"] <= MAX_RATIO
