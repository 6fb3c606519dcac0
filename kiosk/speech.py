"""Spoken prompts: short sentences through the espeak-ng speech engine (no Qt).

The kiosk says each prompt aloud when ``kiosk.sound`` is on. espeak-ng is the Debian
package the set-up script installs; it plays through the default audio output, and writes a
WAV file with :meth:`Speaker.to_file` (how the tests hear it without a sound card). Speaking
never blocks the caller: a new sentence cuts the one still playing.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
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
