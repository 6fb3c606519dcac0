"""Spoken sentences: espeak-ng says them, to the audio output or into a WAV file; the
narrator decides which and when."""

from __future__ import annotations

import shutil
import wave

import numpy as np
import pytest

from kiosk.errors import ResourceError
from kiosk.speech import Narrator, Speaker, speaking_s
from kiosk.wording import PAUSED_TEXT, PLACE_TEXT, prompt_for

needs_engine = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (scripts/setup.sh does)")


@needs_engine
def test_a_prompt_becomes_real_speech_in_a_file(tmp_path):
    out = Speaker().to_file(prompt_for("turn_left").text, tmp_path / "prompt.wav")
    with wave.open(str(out)) as wav:
        rate, frames = wav.getframerate(), wav.getnframes()
        samples = np.frombuffer(wav.readframes(frames), dtype=np.int16)
    seconds = frames / rate
    assert 0.8 < seconds < 6.0   # "Turn your head to your left" at 150 words a minute
    # Speech, not silence: a loud envelope in short windows, with pauses between words.
    windows = samples[: len(samples) // 400 * 400].reshape(-1, 400).astype(np.float64)
    energy = np.sqrt((windows ** 2).mean(axis=1))
    assert energy.max() > 1000 and (energy < 0.05 * energy.max()).any()


class FakeProcess:
    def __init__(self, args, **kw):
        self.args, self.terminated = args, False

    def poll(self):
        return None

    def terminate(self):
        self.terminated = True


@needs_engine
def test_say_starts_at_once_and_a_new_sentence_cuts_the_old_one():
    started = []

    def popen(args, **kw):
        started.append(FakeProcess(args, **kw))
        return started[-1]

    speaker = Speaker(popen=popen)
    speaker.say("Blink")
    speaker.say("Smile")
    assert [p.args[-1] for p in started] == ["Blink", "Smile"]
    assert started[0].terminated and not started[1].terminated
    assert started[0].args[1:5] == ["-v", "en", "-s", "150"]
    speaker.close()
    assert started[1].terminated
    with pytest.raises(ValueError, match="empty"):
        speaker.say("  ")


def test_a_missing_engine_is_a_clear_error():
    with pytest.raises(ResourceError, match="speech engine no-such-engine is not installed"):
        Speaker(command="no-such-engine")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def narrated():
    """A narrator on a fake clock, and the sentences it said."""
    said: list[str] = []
    clock = Clock()
    return Narrator(said.append, clock, hold_s=1.5), said, clock


def test_nothing_cuts_a_prompt_and_a_notice_waits_for_it(narrated):
    narrator, said, clock = narrated
    turn = prompt_for("turn_left").text
    narrator.prompt(turn)
    narrator.notice(PAUSED_TEXT)
    narrator.tick()
    assert said == [turn]  # Speaker.say would have cut the prompt short
    clock.now += speaking_s(turn)
    narrator.tick()
    assert said == [turn, PAUSED_TEXT]
    narrator.notice(PAUSED_TEXT)  # the same sentence shown again: not said again
    clock.now += 60
    narrator.tick()
    assert said == [turn, PAUSED_TEXT]


def test_only_the_newest_notice_waits_and_a_prompt_drops_it(narrated):
    narrator, said, clock = narrated
    narrator.notice(PLACE_TEXT)
    narrator.notice("Get ready")
    narrator.notice("Hold still")
    assert said == [PLACE_TEXT]
    narrator.prompt("Smile")
    clock.now += 60
    narrator.tick()
    assert said == [PLACE_TEXT, "Smile"]


def test_guidance_is_said_once_it_has_held_and_not_every_frame(narrated):
    narrator, said, clock = narrated
    for _ in range(10):  # a frame every 0.1 s
        narrator.guidance("Move closer")
        clock.now += 0.1
    assert said == []  # held 1 s of the 1.5 it needs
    for _ in range(40):
        narrator.guidance("Move closer")
        clock.now += 0.1
    assert said == ["Move closer"]
    narrator.guidance("")  # placed: said again only if the person drifts away again
    narrator.guidance("Move closer")
    clock.now += 1.5
    narrator.tick()
    assert said == ["Move closer", "Move closer"]


def test_guidance_that_changes_before_it_holds_is_never_said(narrated):
    narrator, said, clock = narrated
    for text in ("Move closer", "Move back", "Move closer", ""):
        narrator.guidance(text)
        clock.now += 1.0
        narrator.tick()
    assert said == []


def test_a_reset_drops_what_waits(narrated):
    narrator, said, clock = narrated
    narrator.prompt("Smile")
    narrator.notice(PAUSED_TEXT)
    narrator.guidance("Move closer")
    narrator.reset()
    clock.now += 60
    narrator.tick()
    assert said == ["Smile"]
