"""Drawing prompts: the session's sequence and the fresh prompt of a second chance.

Prompts are drawn with an unpredictable source (``secrets``): a recorded video cannot answer
prompts it could not predict. A drawn prompt is never logged before it is shown.

A prompt is only a check when a face that does nothing on purpose would more likely miss it
than answer it. Spontaneous actions (a blink) arrive at a known rate, so whether asking for one
is a check depends on the response window: :func:`askable` leaves them out of the draw when
the window is long enough for one to fall into it by chance more often than not.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from typing import Any

from kiosk.analysis.challenges.actions import BLINK, CHALLENGE_ACTIONS, SPONTANEOUS, check_action
from kiosk.analysis.physiology import BLINKS_PER_S

#: How often each spontaneous action happens unasked (per second; see kiosk.analysis.physiology).
SPONTANEOUS_PER_S = {BLINK: BLINKS_PER_S}

#: A prompt that a face doing nothing on purpose answers with a higher probability is not drawn.
#: With 7 blinks a minute a blink prompt passes this at windows of 5.9 s and longer: the
#: kiosk's 4 s window (37 % by chance, 36 % measured on the developer recordings) keeps it, the
#: accessible check's 12 s window (75 %) does not.
CHANCE_LIMIT = 0.5


def _pool(actions: Sequence[str]) -> tuple[str, ...]:
    pool = tuple(actions)
    for action in pool:
        check_action(action)
    if len(set(pool)) != len(pool):
        raise ValueError("actions must be distinct")
    return pool


def chance_answer(action: str, window_s: float) -> float:
    """Probability that ``action`` happens unasked within ``window_s`` seconds (a Poisson
    process at its spontaneous rate; 0 for deliberate actions)."""
    rate = SPONTANEOUS_PER_S.get(check_action(action), 0.0)
    return 1.0 - math.exp(-rate * max(float(window_s), 0.0))


def askable(actions: Sequence[str], window_s: float) -> tuple[str, ...]:
    """The actions worth prompting for with a response window of ``window_s`` seconds: those
    whose :func:`chance_answer` is at most :data:`CHANCE_LIMIT`, or all of them when fewer
    than two would be left (a sequence needs two to avoid repeats)."""
    pool = _pool(actions)
    kept = tuple(a for a in pool if chance_answer(a, window_s) <= CHANCE_LIMIT)
    return kept if len(kept) >= 2 else pool


def draw_sequence(n: int, actions: Sequence[str] = CHALLENGE_ACTIONS,
                  rng: Any = None) -> tuple[str, ...]:
    """Draw ``n`` prompts, uniformly over all sequences without immediate repeats.

    The first action is uniform over ``actions`` and each next one uniform over the others,
    so each allowed sequence has probability ``1 / (k (k-1)^(n-1))``.

    Parameters
    ----------
    n : int
        Number of prompts (settings ``liveness.challenge_count``), at least 1.
    actions : sequence of str
        Distinct known actions to draw from; at least 2 when ``n >= 2``.
    rng : object with ``choice``, optional
        The randomness source; ``secrets.SystemRandom()`` when None. Tests inject a seeded
        ``random.Random``.
    """
    pool = _pool(actions)
    if n < 1 or (n >= 2 and len(pool) < 2) or not pool:
        raise ValueError(f"cannot draw {n} prompts without repeats from {len(pool)} actions")
    rng = secrets.SystemRandom() if rng is None else rng
    drawn = [rng.choice(pool)]
    while len(drawn) < n:
        drawn.append(rng.choice([a for a in pool if a != drawn[-1]]))
    return tuple(drawn)


def draw_retry(failed: str, avoid: Sequence[str] = (), actions: Sequence[str] = CHALLENGE_ACTIONS,
               rng: Any = None) -> str:
    """The fresh prompt of a second chance: another action than ``failed``.

    It also avoids the actions in ``avoid`` (the neighbouring prompts, so no prompt repeats
    back to back) and the spontaneous ones (a blink) whenever another action is left: any
    recording of a face blinks every few seconds, so a second chance must not be easier to
    answer by chance than the prompt it replaces.

    Raises
    ------
    ValueError
        No action other than ``failed`` is allowed.
    """
    pool = _pool(actions)
    choices = [a for a in pool if a != failed and a not in avoid]
    if not choices:
        choices = [a for a in pool if a != failed]
    if not choices:
        raise ValueError(f"no action other than {failed!r} to retry with")
    deliberate = [a for a in choices if a not in SPONTANEOUS]
    rng = secrets.SystemRandom() if rng is None else rng
    return str(rng.choice(deliberate or choices))
