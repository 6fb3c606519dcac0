"""Spoken sentences: short sentences through the espeak-ng speech engine (no Qt).

With ``kiosk.sound`` on the kiosk says the person's sentences aloud (prompts, placement,
guidance, warnings, the result); :class:`Narrator` decides which and when, for speech and
screen readers alike. espeak-ng is the Debian package the set-up script installs; it plays
through the default audio output, and writes a WAV file with :meth:`Speaker.to_file` (how the
tests hear it without a sound card). Speaking never blocks the caller: a new sentence cuts
the one still playing, so the narrator waits for a prompt to end before saying anything else.
"""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.errors import ResourceError

log = logging.getLogger(__name__)

ENGINE = "espeak-ng"


class Speaker:
    """Says sentences with espeak-ng.

    Parameters
    ----------
    voice : str
        espeak-ng voice (language) name.
    words_per_minute : int
        Speaking rate; slower than espeak-ng's default 175 for a kiosk in a hall.
    command : str
        The engine's executable.
    popen : callable
        ``subprocess.Popen`` (injectable for tests).

    Raises
    ------
    ResourceError
        The engine is not installed.
    """

    def __init__(self, voice: str = "en", words_per_minute: int = 150, *,
                 command: str = ENGINE, popen: Callable[..., Any] = subprocess.Popen) -> None:
        path = shutil.which(command)
        if path is None:
            raise ResourceError(f"the speech engine {command} is not installed (Debian package "
                                f"{ENGINE}; scripts/setup.sh installs it)")
        self.command = path
        self.voice = voice
        self.rate = int(words_per_minute)
        self._popen = popen
        self._current: Any = None

    def _args(self, text: str) -> list[str]:
        if not text.strip():
            raise ValueError("text to speak must not be empty")
        return [self.command, "-v", self.voice, "-s", str(self.rate), "--", text]

    def say(self, text: str) -> None:
        """Start saying ``text`` (stopping the previous sentence); returns at once."""
        args = self._args(text)
        self.stop()
        try:
            self._current = self._popen(args, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            log.warning("the speech engine could not start: %s", exc)

    def to_file(self, text: str, path: str | Path, timeout_s: float = 30.0) -> Path:
        """Write ``text`` spoken as a WAV file at ``path``; returns the path."""
        out = Path(path)
        args = self._args(text)
        subprocess.run([*args[:-2], "-w", str(out), "--", text], check=True, timeout=timeout_s,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
        return out

    def stop(self) -> None:
        """Cut the sentence still playing, if any."""
        current, self._current = self._current, None
        if current is not None and current.poll() is None:
            current.terminate()

    def close(self) -> None:
        self.stop()


#: Seconds espeak-ng takes to start a sentence, added to its words' time.
START_S = 0.5


def speaking_s(text: str, words_per_minute: float = 150.0) -> float:
    """How long ``text`` takes to say at ``words_per_minute``, with the engine's start."""
    return START_S + len(text.split()) * 60.0 / words_per_minute


class Narrator:
    """Which of the person's sentences are said, and when (for speech and screen readers).

    Three kinds, in this order of precedence:

    - a *prompt* is said at once, and nothing else starts until it has been said;
    - a *notice* (placement, a pause, the light step's warning, a time-out warning, the
      result) is said once when it changes, after whatever is being said; only the newest
      waits, and one no longer shown is withdrawn;
    - *guidance* ("Move closer", ...) is said once it has stayed the same for ``hold_s``
      (the session already smooths it; this keeps a person moving about from being talked
      at every second), and again only after it has changed.

    Parameters
    ----------
    say : callable
        ``say(text)``: the outputs (a screen reader announcement, speech when on).
    clock : callable
        Monotonic seconds (``time.monotonic``; tests inject a fake).
    hold_s : float
        How long guidance must hold before it is said.
    words_per_minute : float
        The speaking rate, to tell when a sentence has been said (the :class:`Speaker`'s).

    Notes
    -----
    Call :meth:`tick` a few times a second: waiting sentences are said from there.
    """

    def __init__(self, say: Callable[[str], None], clock: Callable[[], float] = time.monotonic,
                 *, hold_s: float = 1.5, words_per_minute: float = 150.0) -> None:
        if hold_s < 0 or words_per_minute <= 0:
            raise ValueError("hold_s must be >= 0 and words_per_minute > 0")
        self._say = say
        self._clock = clock
        self.hold_s = float(hold_s)
        self.words_per_minute = float(words_per_minute)
        self._busy_until = -math.inf       # whatever is being said
        self._prompt_until = -math.inf     # a prompt being said
        self._notice: str | None = None     # waiting to be said
        self._told = ""                     # the last notice, said or waiting
        self._guidance = ("", 0.0)          # the current guidance and since when
        self._guided = ""                   # the last guidance said

    def prompt(self, text: str) -> None:
        """A new prompt: said now; a notice still waiting is out of date."""
        self._notice, self._told = None, ""
        self._out(text)
        self._prompt_until = self._busy_until

    def notice(self, text: str) -> None:
        """A sentence shown now: said once, when nothing else is being said; '' withdraws
        one still waiting (it is no longer shown)."""
        if text != self._told:
            self._told = text
            self._notice = text or None
            self.tick()

    def guidance(self, text: str) -> None:
        """The live guidance now ('' when the face is well placed)."""
        if text != self._guidance[0]:
            self._guidance = (text, self._clock())
        if not text:
            self._guided = ""  # said again if the person drifts away again
        self.tick()

    def reset(self) -> None:
        """A new screen: nothing waiting is said, and only a prompt still being said holds
        back the next sentence (the rest were about the screen that went)."""
        self._notice, self._told = None, ""
        self._guidance, self._guided = ("", 0.0), ""
        self._busy_until = self._prompt_until

    def tick(self) -> None:
        """Say what is due: a waiting notice first, then guidance that has held."""
        now = self._clock()
        if now < self._busy_until:
            return
        if self._notice is not None:
            text, self._notice = self._notice, None
            self._out(text)
            return
        text, since = self._guidance
        if text and text != self._guided and now - since >= self.hold_s:
            self._guided = text
            self._out(text)

    def _out(self, text: str) -> None:
        self._busy_until = self._clock() + speaking_s(text, self.words_per_minute)
        self._say(text)
