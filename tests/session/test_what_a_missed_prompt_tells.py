"""What a session's prompts give away to someone who does not answer them.

Three findings of an attacker audit, each through the real session with a synthetic person
(:class:`kiosk.lab.standin.Responder` as the tracker, reacting to what the screen shows):

- letting every prompt time out, or pressing Stop, told the person whether the passive cues
  had fired ("Please ask a member of staff") or not ("We did not see the movement in time");
- a prompt's timer stood still without limit while the face was out of place: an operator
  dimmed his replay for 20 s to queue the clip that answered a 4 s prompt;
- a second chance avoided the prompt after it, so it told what that prompt was.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pytest

from kiosk.analysis.challenges.sequence import PAUSE_LIMIT
from kiosk.lab.standin import Responder
from kiosk.model import Frame
from kiosk.reasons import Reason
from kiosk.session import SessionRequest, Verifier
from kiosk.wording import result_message
from tests.session.test_session import FixedFusion

FPS = 30.0


def session(settings, person: Responder, *, fusion=None, audit=None, clock=None,
            stop_at_s: float | None = None, seed: int = 3):
    """Run one live session (random prompts) in front of ``person``; the decision and the
    prompts shown, as (action, second chance)."""
    stopped = [False]

    def frames() -> Iterator[Frame]:
        image = np.full((480, 640, 3), 100, np.uint8)
        for seq in range(int(90 * FPS)):
            t = seq / FPS
            if stop_at_s is not None and t >= stop_at_s:
                stopped[0] = True  # what Stop does: the kiosk ends the frames
                return
            yield Frame(image, seq, t, t)

    kwargs = {"clock": clock} if clock is not None else {}
    verifier = Verifier(settings, tracker=person, fusion=fusion or FixedFusion(97.0),
                        analyzers=list, audit=audit, rng=random.Random(seed), **kwargs)
    gen = verifier.session(frames(), SessionRequest(stopped=lambda: stopped[0]))
    shown: list[tuple[str, bool]] = []
    try:
        while True:
            progress = next(gen)
            person.on_progress(1, progress)
            if progress.prompt and (not shown or shown[-1] != (progress.prompt, progress.retry)):
                shown.append((progress.prompt, progress.retry))
    except StopIteration as stop:
        return stop.value, shown


@pytest.mark.parametrize("stop_at_s", [None, 4.0], ids=["prompts run out", "Stop pressed"])
def test_a_person_who_does_not_answer_learns_nothing_about_the_cues(settings, audit, clock,
                                                                    stop_at_s):
    told = {}
    for cues in ((), (Reason.SCREEN_SUSPECTED,)):
        fusion = FixedFusion(12.0 if cues else 97.0, cues)
        decision, _ = session(settings, Responder("still"), fusion=fusion, audit=audit,
                              clock=clock, stop_at_s=stop_at_s)
        assert decision.decision == "fail"
        # Staff still see whether a cue fired ...
        assert (Reason.LIVENESS_FAILED in decision.reasons) == bool(cues)
        told[cues] = result_message(decision)
    # ... the person reads the same sentence either way.
    assert told[()] == told[(Reason.SCREEN_SUSPECTED,)]
    expected = "You stopped the check" if stop_at_s else "We did not see the movement in time"
    assert told[()].detail.startswith(expected)


def test_a_prompt_paused_past_its_limit_times_out_as_a_missed_one(settings):
    """The operator's move: out of place (here out of the oval; dimmed, in the audit) for
    20 s on the first prompt, then the answer. The pause ends after one and a half response
    windows: the prompt has timed out, an ordinary miss (not an attack), and its second
    chance waits until the face is back."""
    window = settings.liveness.response_window_s
    decision, shown = session(settings, Responder(drift_s=20.0))
    first, second = decision.challenges[:2]
    assert (first["outcome"], first["reason"]) == ("retried", Reason.CHALLENGE_TIMEOUT)
    assert first["paused_s"] == pytest.approx(PAUSE_LIMIT * window, abs=0.1)
    assert second["retry"] and shown[1][1] and second["prompt_t"] > first["prompt_t"] + 20.0


def test_a_face_that_drifts_out_briefly_still_gets_the_pause(settings):
    """Longer than the prompt's own window (4 s) and still within the limit."""
    decision, _ = session(settings, Responder(drift_s=5.0))
    first = decision.challenges[0]
    assert decision.decision == "pass", decision.reasons
    assert first["outcome"] == "passed" and not first.get("retry")
    assert settings.liveness.response_window_s < first["paused_s"] < (
        PAUSE_LIMIT * settings.liveness.response_window_s)


def test_a_second_chance_may_ask_what_the_next_prompt_asks(settings):
    """Drawn without regard to the prompts still to come, a second chance is sometimes the
    action of the next prompt (it never was: it avoided that prompt, and so told whoever
    watched it what came next). A person who answers both passes."""
    repeated = 0
    for seed in range(30):
        decision, shown = session(settings, Responder(skip=1), seed=seed)
        assert decision.decision == "pass", (seed, decision.reasons)
        assert decision.challenges[0]["outcome"] == "retried"
        retry, following = shown[1], shown[2]
        assert retry[1] and not following[1]
        repeated += retry[0] == following[0]
    assert repeated > 0
