"""Scripted mode: replay a recording through the challenge engine with prompts at fixed times.

For evaluation only (``kiosk verify --source VIDEO --script "blink@0.5,turn_left@2.0"``); the
kiosk's own sessions always draw their prompts with :func:`~.sequence.draw_sequence`. A
script that matches what the recorded person does passes; a script that asks for actions at
times the recording does not perform them fails, which is what a replayed video faces when
the prompts are drawn at random.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kiosk.analysis.challenges.actions import check_action
from kiosk.analysis.challenges.sequence import ChallengeEngine, SequenceResult
from kiosk.model import FaceObservation

_ITEM = re.compile(r"^\s*([a-z_]+)\s*@\s*(\d+(?:\.\d*)?|\.\d+)\s*$")
_NEGATIVE = re.compile(r"^\s*[a-z_]+\s*@\s*-")


def parse_script(text: str) -> tuple[tuple[str, float], ...]:
    """Parse ``"blink@0.5,turn_left@2.0"`` into ``(("blink", 0.5), ("turn_left", 2.0))``.

    Raises
    ------
    ValueError
        An item is not ``action@seconds``, names an unknown action, or the times decrease.
    """
    items = [s for s in (text or "").split(",") if s.strip()]
    if not items:
        raise ValueError("the script is empty; give prompts like 'blink@0.5,turn_left@2.0'")
    script: list[tuple[str, float]] = []
    for item in items:
        match = _ITEM.match(item)
        if match is None and _NEGATIVE.match(item):
            raise ValueError(f"script item {item.strip()!r}: times are media seconds from the "
                             "recording's start, 0 or more")
        if match is None:
            raise ValueError(f"script item {item.strip()!r} is not of the form action@seconds")
        action, at = match.group(1), float(match.group(2))
        try:
            check_action(action)
        except ValueError as exc:
            raise ValueError(f"script item {item.strip()!r}: {exc}") from None
        if script and at < script[-1][1]:
            raise ValueError(f"script times must not decrease ({item.strip()!r} comes after "
                             f"{script[-1][0]}@{script[-1][1]:g})")
        script.append((action, at))
    return tuple(script)


def run_script(observations: Iterable[FaceObservation], script: Iterable[tuple[str, float]],
               **engine_options) -> SequenceResult:
    """Run a scripted sequence over an observation stream and return its outcome.

    Parameters
    ----------
    observations : iterable of FaceObservation
        In time order; ``t`` is the media time for recordings. Consumed lazily, so a live
        tracking loop can feed it; it stops early once the sequence is decided.
    script : iterable of (action, seconds)
        From :func:`parse_script`.
    **engine_options :
        Passed to :class:`ChallengeEngine` (``response_window_s``, ``min_reaction_ms``,
        ``turn_angle_deg``, ...).
    """
    script = tuple(script)
    engine = ChallengeEngine([a for a, _ in script], schedule=[t for _, t in script],
                             **engine_options)
    for obs in observations:
        engine.update(obs)
        if engine.done:
            break
    return engine.finish()
