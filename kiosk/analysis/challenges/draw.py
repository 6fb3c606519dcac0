"""Drawing prompts: the session's sequence and the fresh prompt of a second chance.

Prompts are drawn with an unpredictable source (``secrets``): a recorded video cannot answer
prompts it could not predict. A drawn prompt is never logged before it is shown.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from kiosk.analysis.challenges.actions import CHALLENGE_ACTIONS, SPONTANEOUS, check_action


def _pool(actions: Sequence[str]) -> tuple[str, ...]:
    pool = tuple(actions)
    for action in pool:
        check_action(action)
    if len(set(pool)) != len(pool):
        raise ValueError("actions must be distinct")
    return pool


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
