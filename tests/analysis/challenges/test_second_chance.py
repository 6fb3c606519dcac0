"""The engine for a real person: placement first, paused timers, second chances, natural
movement, and the failures that stay immediate. Driven by a synthetic person who reacts to
what the engine shows, frame by frame."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from kiosk.analysis.challenges.actions import CHALLENGE_ACTIONS
from kiosk.analysis.challenges.draw import (
    askable,
    chance_answer,
    chance_pass,
    draw_retry,
    draw_sequence,
)
from kiosk.analysis.challenges.sequence import ChallengeEngine
from kiosk.lab import synthetic as S
from kiosk.model import FaceObservation
from kiosk.reasons import Reason

FPS = 30.0
REACTION_S = 0.5


def act(action: str, start: float) -> S.Action:
    return {"blink": lambda: S.blink(start), "smile": lambda: S.smile(start, hold_s=0.5),
            "turn_left": lambda: S.turn(start, 30.0), "turn_right": lambda: S.turn(start, -30.0),
            }[action]()


class Person:
    """A synthetic person in front of the engine.

    ``answers`` lists, per prompt shown (second chances included), whether to answer it;
    ``placed(t)`` and ``present(t)`` say where the face is; ``extra`` are movements made
    whatever is asked (talking, fidgeting)."""

    def __init__(self, answers: list[bool] | None = None, *,
                 placed: Callable[[float], bool] = lambda t: True,
                 present: Callable[[float], bool] = lambda t: True,
                 faces: Callable[[float], int] = lambda t: 1,
                 extra: tuple[S.Action, ...] = (), neutral=S.NEUTRAL) -> None:
        self.answers = list(answers) if answers is not None else None
        self.placed, self.present, self.faces = placed, present, faces
        self.actions: list[S.Action] = list(extra)
        self.neutral = neutral
        self.prompts: list[tuple[str, float, bool]] = []   # (action, time shown, retry)
        self._seen: set[tuple[int, str]] = set()

    def observe(self, t: float, seq: int) -> FaceObservation:
        v = dict(self.neutral)
        for action in self.actions:
            action(t, v)
        face = S.make_face(v) if self.present(t) else None
        n = self.faces(t) if face is not None else 0
        return FaceObservation(seq=seq, t=t, media_t=t, frame_shape=(480, 640), n_faces=n,
                               face=face)

    def react(self, progress, t: float) -> None:
        if progress.action is None or (progress.index, progress.action) in self._seen:
            return
        self._seen.add((progress.index, progress.action))
        self.prompts.append((progress.action, t, progress.retry))
        answer = True if self.answers is None else self.answers.pop(0)
        if answer:
            self.actions.append(act(progress.action, t + REACTION_S))


def run(engine: ChallengeEngine, person: Person, seconds: float = 30.0):
    progress = []
    for i in range(int(seconds * FPS)):
        t = i / FPS
        p = engine.update(person.observe(t, i), placed=person.placed(t))
        progress.append((t, p))
        person.react(p, t)
        if engine.done:
            break
    return engine.finish(), progress


def engine(actions=("blink", "turn_left", "smile"), **kw) -> ChallengeEngine:
    kw.setdefault("rng", random.Random(5))
    return ChallengeEngine(list(actions), **kw)


def test_nothing_starts_before_the_face_is_placed():
    person = Person(placed=lambda t: t >= 3.0)
    result, progress = run(engine(), person)
    assert result.passed
    assert all(p.state == "placement" for t, p in progress if t < 3.0)
    # The baseline is measured after placement, then the first prompt.
    assert person.prompts[0][1] >= 3.0 + 1.0
    ready = [p.ready_in for t, p in progress if p.state == "baseline" and p.ready_in is not None]
    assert ready and ready[0] > ready[-1]


def test_the_timer_pauses_while_the_face_is_not_placed():
    # The person drifts out of the oval 0.2 s into the first prompt for 5 s, then answers.
    shown: list[float] = []

    def placed(t: float) -> bool:
        return not (shown and shown[0] + 0.2 <= t < shown[0] + 5.2)

    person = Person(answers=[True, True], placed=placed)  # the first prompt is answered below
    eng = engine(retries=0)
    progress = []
    for i in range(int(30 * FPS)):
        t = i / FPS
        p = eng.update(person.observe(t, i), placed=placed(t))
        progress.append((t, p))
        if p.action is not None and not shown:
            shown.append(t)
            person.actions.append(act(p.action, shown[0] + 5.6))  # answered after the pause
            person._seen.add((p.index, p.action))
            person.prompts.append((p.action, t, False))
        person.react(p, t)
        if eng.done:
            break
    result = eng.finish()
    assert result.passed, result.reason
    first = result.challenges[0]
    assert first.paused_s == pytest.approx(5.0, abs=0.1)
    assert first.reaction_s > eng.window_s  # later than the window, but within placed time
    assert any(p.paused and p.action == first.action for _, p in progress)
    lefts = [p.time_left for t, p in progress if shown[0] + 0.5 < t < shown[0] + 5.0]
    assert max(lefts) - min(lefts) < 0.05  # the countdown stood still


def test_a_missed_prompt_gets_one_second_chance_of_another_action():
    person = Person(answers=[False, True, True, True])
    result, _ = run(engine(retries=1), person)
    assert result.passed, result.reason
    outcomes = [(c.action, c.outcome, c.retry) for c in result.challenges]
    assert outcomes[0] == ("blink", "retried", False)
    assert outcomes[1][1:] == ("passed", True) and outcomes[1][0] != "blink"
    assert result.challenges[0].reason == Reason.CHALLENGE_TIMEOUT
    assert [o for _, o, _ in outcomes[2:]] == ["passed", "passed"]


def test_the_retry_budget_and_no_second_chance_for_a_second_chance():
    result, _ = run(engine(retries=1), Person(answers=[False, False]))
    assert not result.passed and result.reason == Reason.CHALLENGE_TIMEOUT
    assert [c.outcome for c in result.challenges] == ["retried", "failed", "not_shown",
                                                      "not_shown"]
    result, _ = run(engine(retries=1), Person(answers=[False, True, False]))
    assert not result.passed and result.reason == Reason.CHALLENGE_TIMEOUT
    result, _ = run(engine(retries=0), Person(answers=[False]))
    assert [c.outcome for c in result.challenges] == ["failed", "not_shown", "not_shown"]


def test_a_face_lost_during_a_prompt_is_placed_again_then_asked_anew():
    shown: list[float] = []

    def away(t: float) -> bool:
        return not (shown and shown[0] + 0.3 <= t < shown[0] + 3.3)

    person = Person(answers=[False, True, True, True], present=away, placed=away)
    eng = engine(retries=1)
    for i in range(int(40 * FPS)):
        t = i / FPS
        p = eng.update(person.observe(t, i), placed=person.placed(t))
        if p.action is not None and not shown:
            shown.append(t)
        person.react(p, t)
        if eng.done:
            break
    result = eng.finish()
    assert result.passed, result.reason
    assert (result.challenges[0].outcome, result.challenges[0].reason) == (
        "retried", Reason.FACE_LOST)
    # The second chance came only after the face was back and placed.
    assert person.prompts[1][1] > shown[0] + 3.3 and person.prompts[1][2]


def test_a_face_lost_at_the_extreme_of_an_asked_turn_still_counts():
    # Near profile the tracker loses the face for 1.3 s (more than the usual 1 s).
    shown: list[float] = []

    def present(t: float) -> bool:
        return not (shown and shown[0] + 0.8 <= t < shown[0] + 2.1)

    person = Person(answers=[True, True], present=present)
    eng = engine(("turn_left", "blink"), retries=0)
    for i in range(int(20 * FPS)):
        t = i / FPS
        p = eng.update(person.observe(t, i), placed=True)
        if p.action == "turn_left" and not shown:
            shown.append(t)
            person.actions.append(S.turn(t + REACTION_S, 40.0, hold_s=1.2))
            person._seen.add((p.index, p.action))
        person.react(p, t)
        if eng.done:
            break
    result = eng.finish()
    assert result.passed, result.reason
    assert result.challenges[0].outcome == "passed"


def test_natural_head_movement_while_blinking_is_not_wrong():
    # A 25-degree glance (more than the 20-degree turn threshold, less than deliberate)
    # while a blink is asked: the blink that follows passes.
    person = Person(answers=[True, True], extra=(S.turn(2.6, 25.0, hold_s=0.3),))
    result, _ = run(engine(("blink", "smile"), retries=0), person)
    assert result.passed, result.reason


@pytest.mark.parametrize("actions, movement, reason", [
    (("blink", "smile"), S.turn(2.6, 36.0), Reason.WRONG_ACTION),       # deliberate turn
    (("turn_left", "smile"), S.turn(2.6, -24.0), Reason.WRONG_ACTION),  # the other way
])
def test_a_clear_wrong_movement_fails_at_once_without_a_second_chance(actions, movement,
                                                                      reason):
    person = Person(answers=[False, True, True], extra=(movement,))
    result, _ = run(engine(actions, retries=1), person)
    assert not result.passed and result.reason == reason
    assert result.challenges[0].outcome == "failed"


def test_several_faces_wait_before_the_prompts_and_fail_during_them():
    person = Person(faces=lambda t: 2 if 0.5 <= t < 2.0 else 1)
    result, _ = run(engine(), person)
    assert result.passed, result.reason
    shown: list[float] = []
    person = Person(answers=[False], faces=lambda t: 2 if shown and t > shown[0] + 0.5 else 1)
    eng = engine(retries=1)
    for i in range(int(20 * FPS)):
        t = i / FPS
        p = eng.update(person.observe(t, i), placed=True)
        if p.action is not None and not shown:
            shown.append(t)
        person.react(p, t)
        if eng.done:
            break
    result = eng.finish()
    assert result.reason == Reason.MULTIPLE_FACES and result.challenges[0].outcome == "failed"


def test_a_different_face_coming_back_is_a_changed_face():
    shown: list[float] = []

    def away(t: float) -> bool:
        return not (shown and shown[0] + 0.3 <= t < shown[0] + 3.0)

    other = dict(S.NEUTRAL, shape=1.6)   # another person's proportions
    person = Person(answers=[False, True, True], present=away, placed=away)
    eng = engine(retries=1)
    for i in range(int(30 * FPS)):
        t = i / FPS
        if shown and t >= shown[0] + 3.0:
            person.neutral = other
        p = eng.update(person.observe(t, i), placed=person.placed(t))
        if p.action is not None and not shown:
            shown.append(t)
        person.react(p, t)
        if eng.done:
            break
    result = eng.finish()
    assert result.reason == Reason.FACE_CHANGED


def test_the_session_has_a_hard_bound():
    result, _ = run(engine(session_limit_s=8.0), Person(placed=lambda t: False), seconds=12)
    assert result.reason == Reason.SESSION_TIMEOUT
    assert {c.outcome for c in result.challenges} == {"not_shown"}


def test_scripted_mode_has_no_second_chance_and_no_pause():
    eng = ChallengeEngine(["blink", "smile"], schedule=[1.5, 5.0], retries=2,
                          session_limit_s=3.0)
    assert eng.retries == 0 and eng.session_limit_s is None
    obs = S.stream(8.0, FPS, S.blink(1.9))
    for o in obs:
        eng.update(o, placed=False)   # placement is reported, never used
        if eng.done:
            break
    result = eng.finish()
    assert [c.outcome for c in result.challenges] == ["passed", "failed"]
    assert result.challenges[0].paused_s == 0.0


def test_a_second_chance_is_another_deliberate_action():
    rng = random.Random(1)
    draws = {draw_retry("blink", "smile", rng=rng) for _ in range(200)}
    assert draws == {"turn_left", "turn_right"}
    assert {draw_retry("blink", rng=rng) for _ in range(200)} == {
        "turn_left", "turn_right", "smile"}
    # A blink only when nothing else is left.
    assert draw_retry("smile", actions=("smile", "blink"), rng=rng) == "blink"
    with pytest.raises(ValueError, match="no action other than"):
        draw_retry("smile", actions=("smile",))


def test_a_second_chance_keeps_the_sessions_head_movement():
    rng = random.Random(5)
    # A missed turn is replaced by the other turn, never by a smile, whether or not another
    # turn is still to come (which the draw must not look at) ...
    assert {draw_retry("turn_left", "blink", rng=rng) for _ in range(100)} == {"turn_right"}
    # ... unless that turn was answered just before, or no head movement is left to draw.
    assert draw_retry("turn_left", "turn_right", rng=rng) == "smile"
    assert draw_retry("turn_left", "blink", ("turn_left", "blink", "smile"), rng=rng) == "smile"
    # Through the engine: a missed first turn in turn, blink, smile comes back as a turn.
    for seed in range(20):
        engine = ChallengeEngine(["turn_left", "blink", "smile"], rng=random.Random(seed),
                                 retries=1)
        result, _ = run(engine, Person(answers=[False, True, True, True]))
        assert result.passed, result.reason
        assert [c.action for c in result.challenges[:2]] == ["turn_left", "turn_right"]


def test_how_often_chance_alone_gets_through_the_prompts():
    # Equal rates: the draw does not matter; one second chance adds n (1 - p) p^n.
    p = 0.3
    assert chance_pass(dict.fromkeys(CHALLENGE_ACTIONS, p), 3, retries=0) == pytest.approx(p ** 3)
    assert chance_pass(dict.fromkeys(CHALLENGE_ACTIONS, p), 3) == pytest.approx(
        p ** 3 * (1 + 3 * (1 - p)))
    # A recording that answers every blink and smile and never a turn never gets through:
    # each session holds a turn, and a second chance keeps it.
    assert chance_pass({"blink": 1.0, "smile": 1.0}, 3) == 0.0
    assert chance_pass({"blink": 1.0, "smile": 1.0}, 2) == 0.0
    # The exact figure is what the engine's own draws give (20 000 simulated sessions).
    rates = {"blink": 0.4, "smile": 0.3, "turn_left": 0.05, "turn_right": 0.1}
    rng = random.Random(8)
    passed = 0
    for _ in range(20_000):
        seq, left, ok = list(draw_sequence(3, rng=rng)), 1, True
        for i in range(3):
            if rng.random() < rates[seq[i]]:
                continue
            if not left:
                ok = False
                break
            left -= 1
            seq[i] = draw_retry(seq[i], seq[i - 1] if i else None, rng=rng)
            if rng.random() >= rates[seq[i]]:
                ok = False
                break
        passed += ok
    exact = chance_pass(rates, 3)
    assert passed / 20_000 == pytest.approx(exact, abs=4 * (exact / 20_000) ** 0.5)
    with pytest.raises(ValueError, match="rates must lie"):
        chance_pass({"blink": 1.5}, 3)


def test_a_head_prompt_reports_how_far_the_head_has_gone() -> None:
    """Someone who turns 12 degrees of the 20 asked is 0.6 of the way (the screen then says
    "a little further"); a blink prompt has no reach."""
    engine = ChallengeEngine(["turn_left", "blink"], schedule=[1.2, 6.0])
    reaches = []
    for obs in S.stream(4.0, FPS, S.turn(1.5, 12.0, hold_s=1.5)):
        progress = engine.update(obs)
        if progress.action == "turn_left" and progress.reach is not None:
            reaches.append(progress.reach)
    assert reaches[0] == pytest.approx(0.0, abs=0.05)
    assert max(reaches) == pytest.approx(0.6, abs=0.05)
    assert engine.detector.reach("blink") is None
    assert engine.detector.reach("turn_right") == pytest.approx(0.0, abs=0.05)


def test_a_blink_is_asked_only_while_chance_would_more_likely_miss_it():
    # 7 spontaneous blinks a minute: 37 % within the kiosk's 4 s window, 75 % within 12 s.
    assert chance_answer("blink", 4.0) == pytest.approx(1 - math.exp(-4 * 7 / 60))
    assert chance_answer("blink", 4.0) < 0.5 < chance_answer("blink", 12.0)
    assert chance_answer("turn_left", 60.0) == 0.0
    assert askable(("blink", "smile", "turn_left", "turn_right"), 4.0) == (
        "blink", "smile", "turn_left", "turn_right")
    assert askable(("blink", "smile", "turn_left", "turn_right"), 12.0) == (
        "smile", "turn_left", "turn_right")
    # The boundary: ln 2 / rate = 5.94 s.
    assert "blink" in askable(("blink", "smile", "turn_left"), 5.9)
    assert "blink" not in askable(("blink", "smile", "turn_left"), 6.0)
    # A pool that would shrink below two keeps its actions (a sequence needs two).
    assert askable(("blink", "smile"), 12.0) == ("blink", "smile")


def test_a_second_chance_follows_the_same_rule():
    """With long windows the retry pool drops the blink too: a smile missed after a turn
    could otherwise be retried as a blink."""
    from kiosk.settings import Settings

    liveness = Settings().liveness
    engine = ChallengeEngine.from_settings(["smile"], liveness, response_window_s=12.0)
    assert "blink" not in engine.retry_actions
    assert set(ChallengeEngine.from_settings(["smile"], liveness).retry_actions) == {
        "blink", "smile", "turn_left", "turn_right"}
    rng = random.Random(3)
    assert {draw_retry("smile", "turn_left", engine.retry_actions, rng=rng)
            for _ in range(50)} == {"turn_right"}
    assert {draw_retry("smile", "turn_left", ("blink", "smile", "turn_left"), rng=rng)
            for _ in range(50)} == {"blink"}


@pytest.mark.parametrize("stop_at_s", [0.5, None])
def test_a_sequence_stopped_from_outside_records_that_cause_not_a_timeout(stop_at_s):
    # The session stops the engine when its frames come too slowly to judge: before any
    # prompt (0.5 s, still on the baseline) or while one is on screen.
    eng, person = engine(retries=1), Person(answers=[False, False])
    for i in range(int(30 * FPS)):
        t = i / FPS
        p = eng.update(person.observe(t, i), placed=True)
        person.react(p, t)
        if (stop_at_s is not None and t >= stop_at_s) or (stop_at_s is None and person.prompts):
            break
    result = eng.stop(Reason.CAPTURE_TOO_SLOW, "the frames came too slowly to judge")
    assert not result.passed and result.reason == Reason.CAPTURE_TOO_SLOW
    first = result.challenges[0]
    assert (first.outcome, first.reason) == (
        ("not_shown" if stop_at_s is not None else "failed"), Reason.CAPTURE_TOO_SLOW)
    assert [c.outcome for c in result.challenges[1:]] == ["not_shown", "not_shown"]
    assert eng.stop(Reason.CAPTURE_TOO_SLOW, "again") is result  # decided once
