"""The session's light step (kiosk.session.light) inside a whole session: when it starts,
which times judge it, how its verdict decides, and what the audit row keeps."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kiosk.analysis.guidance import guidance
from kiosk.analysis.light import LightResult, LightSequence, Segment, Unjudged, draw_sequence
from kiosk.analysis.light.result import not_judged
from kiosk.model import Frame
from kiosk.reasons import Reason
from kiosk.session import SessionRequest
from kiosk.session.light import (
    CAMERA_MARGIN_S,
    REPORT_WAIT_S,
    DrawnLight,
    LightOutcome,
    RecordedLight,
    ScreenLight,
    sequence_detail,
)
from kiosk.vocabulary import Stage, Verdict
from tests.session.test_session import SCRIPT, performing_stream, verifier


def lit(settings):
    return settings.replace("liveness", light_challenge=True)


def frames_for(observations, level: int = 100):
    image = np.full((480, 640, 3), level, np.uint8)
    return [Frame(image, o.seq, o.t, o.media_t) for o in observations]


class PaintingScreen(ScreenLight):
    """The window's part: reports the drawn colours as painted ``lag_s`` after the step
    started (None: never reports)."""

    def __init__(self, lag_s: float | None = 0.05) -> None:
        super().__init__(rng=random.Random(3))
        self.lag_s = lag_s
        self.started: float | None = None

    def begin(self, t: float) -> LightSequence:
        drawn = super().begin(t)
        self.started = t
        if self.lag_s is not None:
            self.deliver(drawn.shifted(t + self.lag_s))
        return drawn


def run(v, observations, request, level=100):
    gen = v.session(frames_for(observations, level), request)
    progress = []
    try:
        while True:
            progress.append(next(gen))
    except StopIteration as stop:
        return stop.value, progress


def long_stream():
    # Placement, the light step (up to ~4.5 s), then the scripted prompts.
    from kiosk.lab import synthetic as syn

    return syn.stream(14.0, 30.0, syn.blink(7.9), syn.turn(9.4, 28.0), syn.smile(11.4), seed=1)


LATE_SCRIPT = [("blink", 7.5), ("turn_left", 9.0), ("smile", 11.0)]


def test_the_step_starts_once_placed_and_ends_after_the_painted_colours(settings, audit,
                                                                        clock):
    screen = PaintingScreen()
    obs = long_stream()
    v, _ = verifier(lit(settings), audit, clock, obs=obs)
    decision, progress = run(v, obs, SessionRequest(script=LATE_SCRIPT, light=screen))
    light = [p for p in progress if p.stage == Stage.LIGHT]
    # Placed (held 0.5 s) before the colours; the colours are offered from then on.
    assert light[0].light is None and light[-1].light is not None
    assert screen.started == pytest.approx(settings.liveness.placement_hold_s, abs=0.1)
    painted = screen.painted()
    assert painted is not None
    # The prompts come after the last painted colour and the camera's margin.
    first_prompt = next(p for p in progress if p.prompt is not None)
    assert first_prompt.stage == Stage.CHALLENGE
    n_light = len(light)
    assert n_light / 30.0 == pytest.approx(painted.segments[-1].end + CAMERA_MARGIN_S, abs=0.1)
    # The audit row keeps the sequence as painted, never the raw timestamps.
    stored = audit.get_attempt(decision.attempt_id)
    detail = stored.record.signals["light"]["details"]["sequence"]
    assert detail == sequence_detail(painted, painted.segments[0].start)
    assert detail.startswith("000000@0+")


def test_the_first_random_prompt_follows_the_light_at_once(settings, audit, clock):
    # The baseline is measured while the person holds still for the light.
    obs = long_stream()
    v, _ = verifier(lit(settings), audit, clock, obs=obs)
    _, progress = run(v, obs, SessionRequest(light=PaintingScreen()))
    n_light = sum(p.stage == Stage.LIGHT for p in progress)
    first_prompt = next(i for i, p in enumerate(progress) if p.prompt is not None)
    assert first_prompt == n_light and all(p.prompt is None for p in progress[:n_light])


def test_the_first_prompt_is_judged_from_where_the_person_rests_after_the_light(
        settings, audit, clock):
    """A glance 12 degrees to the right fills the first steady second of the light step;
    the person then rests ahead and, asked to turn right, turns 25 degrees: 13 from the
    glance, which was the baseline before it was taken again until the first prompt."""
    from kiosk.analysis.challenges import CHALLENGE_ACTIONS, askable
    from kiosk.analysis.challenges import draw_sequence as draw_prompts
    from kiosk.lab import synthetic as syn
    from kiosk.session import Verifier
    from tests.session.test_session import FixedFusion, ReplayTracker

    settings = lit(settings)
    pool = askable(CHALLENGE_ACTIONS, settings.liveness.response_window_s)
    seed = next(s for s in range(100)
                if draw_prompts(settings.liveness.challenge_count, pool,
                                rng=random.Random(s))[0] == "turn_right")
    obs = syn.stream(10.0, 30.0, syn.turn(0.0, -12.0, move_s=0.05, hold_s=1.5, back_s=0.3),
                     syn.turn(5.5, -25.0), seed=1)
    v = Verifier(settings, tracker=ReplayTracker(obs), fusion=FixedFusion(96.0),
                 analyzers=lambda: [], audit=audit, clock=clock, rng=random.Random(seed))
    decision, progress = run(v, obs, SessionRequest(light=PaintingScreen()))
    first_prompt_t = next(o.t for o, p in zip(obs, progress, strict=False) if p.prompt)
    assert 3.0 < first_prompt_t < 5.3  # after the light, before the turn
    first = decision.challenges[0]
    assert (first["action"], first["outcome"]) == ("turn_right", "passed")


def judged_as(result: LightResult):
    """A light step that takes the first second of frames and finds ``result``."""

    def step(plan, frames, observe, progress, *, placement, limit_s):
        for frame in frames:
            obs = observe(frame)
            yield progress(obs, placement.update(obs.t, guidance(obs)), placement, light=None)
            if obs.t >= 1.0:
                break
        shown = plan.begin(1.0).shifted(0.2)
        return LightOutcome(result, result.to_signal(), shown)
    return step


NOT_REFLECTED = LightResult(False, 0.1, None, None, 1.0, None,
                            (Reason.LIGHT_NOT_REFLECTED,), 1.0, 8)
TOO_BRIGHT = LightResult(False, 0.2, None, None, None, None,
                         (Reason.LIGHT_TOO_BRIGHT_AMBIENT,), 0.0, 8, "35% of the skin clipped")
NOT_SEEN = not_judged(Unjudged.FACE, "only 3 frames with a face during the sequence")
NO_BACKGROUND = not_judged(Unjudged.BACKGROUND, "the background beside the face was not visible")
TOO_SLOW = not_judged(Unjudged.FRAME_RATE, "frame rate 11.0 fps, below 12")
ANSWERED = LightResult(True, 0.95, 90.0, 8.0, 11.0, 0.12, (), 1.0, 8)


@pytest.mark.parametrize(("result", "verdict", "reasons"), [
    (ANSWERED, Verdict.PASS, ()),
    (NOT_REFLECTED, Verdict.FAIL, (Reason.LIGHT_NOT_REFLECTED,)),
    (TOO_BRIGHT, Verdict.REVIEW, (Reason.LIGHT_TOO_BRIGHT_AMBIENT,)),
    (NOT_SEEN, Verdict.FAIL, (Reason.LIGHT_NOT_SEEN,)),
    (NO_BACKGROUND, Verdict.FAIL, (Reason.LIGHT_NOT_SEEN,)),
    (TOO_SLOW, Verdict.FAIL, (Reason.LIGHT_UNAVAILABLE,))])
def test_the_light_verdict_decides_as_stated(settings, audit, clock, monkeypatch, result,
                                             verdict, reasons):
    """A judged non-answer fails on its own, as an unanswered prompt does; a room too bright
    to judge is for staff to see; a check that could not be judged never passes (the
    person's placement, or the kiosk's camera), and is no attack sign."""
    monkeypatch.setattr("kiosk.session.verifier.light_step", judged_as(result))
    obs = long_stream()
    v, _ = verifier(lit(settings), audit, clock, obs=obs)
    decision, _ = run(v, obs, SessionRequest(script=LATE_SCRIPT, light=PaintingScreen()))
    assert [c["outcome"] for c in decision.challenges] == ["passed"] * 3
    assert decision.decision == verdict and decision.reasons == reasons
    assert decision.signals["light"]["details"]["responded"] is result.responded


def test_a_room_too_bright_does_not_hide_a_failed_prompt(settings, audit, clock, monkeypatch):
    monkeypatch.setattr("kiosk.session.verifier.light_step", judged_as(TOO_BRIGHT))
    obs = long_stream()
    v, _ = verifier(lit(settings), audit, clock, obs=obs)
    wrong = [("look_up", 7.5), ("turn_left", 9.0), ("smile", 11.0)]
    decision, _ = run(v, obs, SessionRequest(script=wrong, light=PaintingScreen()))
    assert decision.decision == Verdict.FAIL
    assert decision.reasons[-1] == Reason.LIGHT_TOO_BRIGHT_AMBIENT


def test_without_a_report_of_what_was_painted_the_light_is_not_judged(settings, audit,
                                                                      clock):
    screen = PaintingScreen(lag_s=None)
    obs = long_stream()
    v, _ = verifier(lit(settings), audit, clock, obs=obs)
    decision, progress = run(v, obs, SessionRequest(script=LATE_SCRIPT, light=screen))
    signal = decision.signals["light"]
    assert signal["confidence"] == 0 and signal["details"]["cause"] == "not_shown"
    # The kiosk's screen, not the person: never a pass, and no attack sign.
    assert decision.decision == Verdict.FAIL
    assert decision.reasons == (Reason.LIGHT_UNAVAILABLE,)
    assert [c["outcome"] for c in decision.challenges] == ["passed"] * 3
    # The step waited for the report, then went on.
    n_light = sum(p.stage == Stage.LIGHT for p in progress)
    drawn_end = screen.started + draw_sequence(random.Random(3)).duration
    assert n_light / 30.0 == pytest.approx(drawn_end + REPORT_WAIT_S, abs=0.1)


def test_no_light_step_without_a_plan_in_the_accessible_check_or_when_off(settings, audit,
                                                                         clock):
    for request, s in ((SessionRequest(script=SCRIPT), lit(settings)),
                       (SessionRequest(script=SCRIPT, light=PaintingScreen(),
                                       accessible=True), lit(settings)),
                       (SessionRequest(script=SCRIPT, light=PaintingScreen()), settings)):
        v, _ = verifier(s, audit, clock)
        decision, progress = run(v, performing_stream(), request)
        assert all(p.stage != Stage.LIGHT for p in progress)
        assert "light" not in decision.signals


def test_recorded_and_drawn_plans():
    seq = draw_sequence(random.Random(1)).shifted(2.0)
    recorded = RecordedLight(seq)
    assert recorded.begin(0.7).segments[0].start == 0.0 and recorded.painted() == seq
    drawn = DrawnLight(random.Random(1))
    assert drawn.painted() is None
    shown = drawn.begin(3.0)
    assert drawn.painted() == shown.shifted(3.0)


def test_an_unusable_report_is_dropped():
    screen = ScreenLight(random.Random(2))
    screen.begin(0.0)
    screen.deliver_colours([(0.0, 0.5, (0, 0, 0)), (0.4, 0.2, (0, 255, 0))])
    assert screen.painted() is None
    screen.deliver_colours([(a, b, rgb) for a, b, rgb in
                            ((0.0, 0.5, (0, 0, 0)), (0.6, 1.0, (0, 255, 0)),
                             (1.1, 1.5, (255, 0, 255)), (1.6, 2.0, (0, 0, 255)))])
    assert screen.painted() == LightSequence((
        Segment(0.0, 0.5, (0, 0, 0)), Segment(0.6, 1.0, (0, 255, 0)),
        Segment(1.1, 1.5, (255, 0, 255)), Segment(1.6, 2.0, (0, 0, 255))))


def test_the_audit_detail_is_short():
    seq = draw_sequence(random.Random(5))
    detail = sequence_detail(seq, 0.0)
    assert len(detail) <= 160 and detail.count("@") == len(seq.segments)


def test_the_accessible_check_asks_more_prompts_for_the_light_it_never_has(settings):
    from kiosk.analysis.challenges import askable
    from kiosk.analysis.challenges.actions import CHALLENGE_ACTIONS
    from kiosk.analysis.challenges.draw import chance_pass
    from kiosk.session.attempt import effective_liveness

    accessible = SessionRequest(accessible=True)
    off = effective_liveness(settings.liveness, accessible)
    on = effective_liveness(lit(settings).liveness, accessible)
    # At a site with the light check off too: its two prompts alone let a recording through
    # by chance three times as often as the standard check (before, they were all it asked).
    assert off.challenge_count == on.challenge_count == 2 + 2
    rates = {"blink": 9 / 28, "smile": 16 / 40, "turn_left": 6 / 101, "turn_right": 6 / 101}
    standard = settings.liveness

    def chance(lv, n):
        return chance_pass(rates, n, askable(CHALLENGE_ACTIONS, lv.response_window_s),
                           lv.retries)

    assert chance(off, 2) > 3 * chance(standard, standard.challenge_count)
    assert chance(off, off.challenge_count) < chance(standard, standard.challenge_count) / 5
    assert on.response_window_s == settings.liveness.accessible_window_s
    assert effective_liveness(lit(settings).liveness, SessionRequest()).challenge_count == 3


def test_a_face_kept_out_of_view_while_the_colours_play_fails_the_session(settings, audit,
                                                                         clock):
    """The dodge: placed, then out of view for the colours, back for the prompts and
    answering all three. Before, the light check was not judged ("no evidence either way")
    and the session passed on the prompts alone, as if the kiosk had no light check."""
    import dataclasses

    obs = [dataclasses.replace(o, face=None, n_faces=0) if 0.8 <= o.t <= 6.0 else o
           for o in long_stream()]
    screen = PaintingScreen()
    v, _ = verifier(lit(settings), audit, clock, obs=obs)
    decision, progress = run(v, obs, SessionRequest(script=LATE_SCRIPT, light=screen))
    assert screen.started is not None and screen.started < 0.8  # the colours did play
    assert [c["outcome"] for c in decision.challenges] == ["passed"] * 3
    light = decision.signals["light"]
    assert light["confidence"] == 0 and light["details"]["cause"] == "face"
    assert decision.decision == Verdict.FAIL and decision.reasons == (Reason.LIGHT_NOT_SEEN,)
    # Not an attack sign: an honest person who stepped aside must not lock the kiosk.
    from kiosk.reasons import CATALOGUE

    assert not CATALOGUE[Reason.LIGHT_NOT_SEEN].attack
    assert not CATALOGUE[Reason.LIGHT_UNAVAILABLE].attack


def test_a_check_stopped_during_the_colours_is_stopped_not_a_fault(settings, audit, clock):
    """Stop or Escape while the colours played: the report of what was painted never came,
    which read as the kiosk's screen failing (LIGHT_UNAVAILABLE, "check the camera and the
    kiosk's load") beside STOPPED."""
    obs = long_stream()[:120]  # placement, then the frames end four seconds in
    v, _ = verifier(lit(settings), audit, clock, obs=obs)
    decision, progress = run(v, obs, SessionRequest(script=LATE_SCRIPT,
                                                    light=PaintingScreen(lag_s=None),
                                                    stopped=lambda: True))
    assert any(p.stage == Stage.LIGHT for p in progress)
    assert decision.decision == Verdict.FAIL and decision.reasons == (Reason.STOPPED,)
    # The same end of frames without a stop is the screen's fault, as before.
    v, _ = verifier(lit(settings), audit, clock, obs=obs)
    decision, _ = run(v, obs, SessionRequest(script=LATE_SCRIPT,
                                             light=PaintingScreen(lag_s=None)))
    assert Reason.LIGHT_UNAVAILABLE in decision.reasons
