"""Scripted sessions on real recordings: bona fide clips answer the prompts they perform; the
monitor replay fails prompts it does not perform."""

from __future__ import annotations

import pytest

from kiosk.lab.scripted import parse_script, run_script

pytestmark = pytest.mark.data

D = "KwaiVGI_LivePortrait/assets/examples/driving/"
REAL = "tranvanluyt2203_face_anti_spoofing/videos/real.mp4"
FAKE = "tranvanluyt2203_face_anti_spoofing/videos/fake.mp4"


def run(track_clip, path, script, step=1):
    return run_script(track_clip(path)[::step], parse_script(script))


@pytest.mark.parametrize("step", [1, 2], ids=["30fps", "15fps"])
@pytest.mark.parametrize("path, script", [
    (REAL, "turn_left@1.5,turn_right@7.0,look_down@11.0"),
    (REAL, "turn_left@1.2,turn_right@6.8,look_up@14.0"),
    (D + "d7.mp4", "blink@0.4,blink@2.0,blink@3.0"),
    (D + "d0.mp4", "smile@0.4"),
    (D + "d19.mp4", "smile@2.2,smile@4.8,smile@6.2"),
])
def test_bona_fide_clips_pass_scripts_that_match_them(track_clip, path, script, step):
    result = run(track_clip, path, script, step)
    assert result.passed, [c.as_dict() for c in result.challenges]
    for c in result.challenges:
        assert c.reaction_s >= 0.15 and c.confidence >= 0.5


@pytest.mark.parametrize("script, reason", [
    ("turn_right@1.5", "WRONG_ACTION"),                 # he turns to his left
    ("smile@1.0,turn_left@5.0", "WRONG_ACTION"),        # he turns while asked to smile
    ("smile@15.0", "CHALLENGE_TIMEOUT"),                # he never smiles
    ("smile@16.8", "SOURCE_ENDED"),                     # the clip ends (20.7 s) in the window
    ("turn_left@3.0", "ACTION_BEFORE_PROMPT"),          # the turn began at 1.9 s
])
def test_bona_fide_clip_fails_scripts_it_does_not_match(track_clip, script, reason):
    result = run(track_clip, REAL, script)
    assert not result.passed and result.reason == reason


@pytest.mark.parametrize("script", [
    "blink@1.0,turn_left@3.0",
    "turn_right@1.0",
    "smile@1.0,blink@5.0",
    "nod@2.0,turn_left@6.0",
    "turn_left@9.0",
    "turn_right@13.5,look_up@15.0",
    "smile@16.5",
])
def test_replay_fails_prompts_it_does_not_perform(track_clip, script):
    result = run(track_clip, FAKE, script)
    assert not result.passed
    # NO_BASELINE: the replayed face leaves the frame just before the 16.5 s prompt.
    assert result.reason in {"CHALLENGE_TIMEOUT", "WRONG_ACTION", "ACTION_BEFORE_PROMPT",
                             "RESPONSE_TOO_FAST", "FACE_LOST", "NO_BASELINE"}


def test_replay_passes_a_script_that_happens_to_match_it(track_clip):
    """Why prompts must be random: a replay answers a prompt that matches its recording.
    The defence is the draw (5 actions, 4 s windows, no warning) and the passive cues."""
    result = run(track_clip, FAKE, "turn_left@4.2")
    assert result.passed
