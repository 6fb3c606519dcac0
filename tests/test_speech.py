"""Spoken prompts: espeak-ng says them, to the audio output or into a WAV file."""

from __future__ import annotations

import shutil
import wave

import numpy as np
import pytest

from kiosk.errors import ResourceError
from kiosk.speech import Speaker
from kiosk.wording import prompt_for

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
