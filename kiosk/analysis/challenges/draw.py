"""Drawing prompts: the session's sequence and the fresh prompt of a second chance.

Prompts are drawn with an unpredictable source (``secrets``): a recorded video cannot answer
prompts it could not predict. A drawn prompt is never logged before it is shown.

A prompt is only a check when a face that does nothing on purpose would more likely miss it
than answer it. Spontaneous actions (a blink) arrive at a known rate, so whether asking for one
is a check depends on the response window: :func:`askable` leaves them out of the draw when
the window is long enough for one to fall into it by chance more often than not.

Every session asks for at least one head movement (when its pool has one), and a missed head
movement's second chance is a head movement too. A head movement has a direction and a size as
well as a time, so a recording answers it by chance far less often than a blink or a smile: on
the developer recordings taken as placed (``kiosk evaluate --sessions``), 5 of 109 turn prompts
against 12 of 33 blinks and 15 of 56 smiles when the rule was made (6 of 101 against 9 of 28
and 16 of 40 in the last evaluation, the README's). Without the rule, 2 of the 36 three-prompt
sequences (blink, smile, blink and smile, blink, smile) and the second chance of a sequence's
only turn left an expressive recording nothing but blinks and smiles to answer.

A second chance is drawn from what the person has already seen: the prompt it replaces and the
one answered just before it, never the prompts still to come. It used to avoid the next prompt
too (so that no action came twice in a row), which told whoever watched the second chance what
the next prompt was: exactly, in 18 % of the standard check's second chances before its last
prompt and 50 % of the accessible check's. A second chance may now be followed by a prompt of
the same action.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from kiosk.analysis.challenges.actions import (
    BLINK,
    CHALLENGE_ACTIONS,
    HEAD_ACTIONS,
    SPONTANEOUS,
    check_action,
)
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


def _moves_head(actions: Sequence[str]) -> bool:
    return any(a in HEAD_ACTIONS for a in actions)


def draw_sequence(n: int, actions: Sequence[str] = CHALLENGE_ACTIONS,
                  rng: Any = None) -> tuple[str, ...]:
    """Draw ``n`` prompts, uniformly over the allowed sequences: no immediate repeats and,
    when ``actions`` holds a head movement, at least one (see the module docstring).

    The first action is uniform over ``actions`` and each next one uniform over the others,
    which gives every sequence without repeats the same probability; a sequence without a
    head movement is drawn again, which keeps the others equally likely.

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
    while True:
        drawn = [rng.choice(pool)]
        while len(drawn) < n:
            drawn.append(rng.choice([a for a in pool if a != drawn[-1]]))
        if _moves_head(drawn) or not _moves_head(pool):
            return tuple(drawn)


def draw_retry(failed: str, previous: str | None = None,
               actions: Sequence[str] = CHALLENGE_ACTIONS, rng: Any = None) -> str:
    """The fresh prompt of a second chance: another action than ``failed``.

    Only what the person has seen decides it (see the module docstring): it is not
    ``previous``, the action answered just before (so the person is not asked the same thing
    twice in a row), and not a spontaneous action (a blink) whenever another is left: any
    recording of a face blinks every few seconds, so a second chance must not be easier to
    answer by chance than the prompt it replaces. For the same reason a missed head movement
    is replaced by a head movement whenever one is left, so every session keeps one.

    Parameters
    ----------
    failed : str
        The action of the prompt that was missed.
    previous : str, optional
        The action answered just before it; None for a session's first prompt.
    actions : sequence of str
        Distinct known actions to draw from.
    rng : object with ``choice``, optional
        The randomness source; ``secrets.SystemRandom()`` when None.

    Raises
    ------
    ValueError
        No action other than ``failed`` is allowed.
    """
    choices = retry_choices(failed, previous, actions)
    rng = secrets.SystemRandom() if rng is None else rng
    return str(rng.choice(choices))


def retry_choices(failed: str, previous: str | None = None,
                  actions: Sequence[str] = CHALLENGE_ACTIONS) -> list[str]:
    """The actions :func:`draw_retry` chooses from, each equally likely (same arguments).

    Raises
    ------
    ValueError
        No action other than ``failed`` is allowed.
    """
    pool = _pool(actions)
    choices = [a for a in pool if a not in (failed, previous)]
    if not choices:
        choices = [a for a in pool if a != failed]
    if not choices:
        raise ValueError(f"no action other than {failed!r} to retry with")
    candidates = [a for a in choices if a not in SPONTANEOUS] or choices
    if failed in HEAD_ACTIONS:
        candidates = [a for a in candidates if a in HEAD_ACTIONS] or candidates
    return candidates


def allowed_sequences(n: int, actions: Sequence[str] = CHALLENGE_ACTIONS
                      ) -> list[tuple[str, ...]]:
    """Every sequence :func:`draw_sequence` can draw, each equally likely."""
    pool = _pool(actions)
    heads = _moves_head(pool)
    return [s for s in itertools.product(pool, repeat=n)
            if all(a != b for a, b in itertools.pairwise(s)) and (_moves_head(s) or not heads)]


def chance_pass(rates: Mapping[str, float], n: int, actions: Sequence[str] = CHALLENGE_ACTIONS,
                retries: int = 1) -> float:
    """Probability that a face which answers each prompt independently, ``action`` with
    probability ``rates[action]``, gets through a drawn session's prompts.

    Exact over the draw (:func:`allowed_sequences`) and the second chances as the prompt
    engine gives them: a missed prompt is replaced once by a :func:`retry_choices` action,
    at most ``retries`` times a session, never for a second chance itself. With the rates a
    recording answers prompts by chance (``kiosk evaluate --sessions``), this is how often a
    recording would pass the prompts alone, before the light and passive checks.

    Parameters
    ----------
    rates : mapping of str to float
        Per action, in [0, 1]; an action not given is never answered.
    n : int
        Prompts per session.
    actions : sequence of str
        The pool, for the draw and the second chances alike.
    retries : int
        Second chances per session.
    """
    if any(not 0.0 <= float(r) <= 1.0 for r in rates.values()) or retries < 0:
        raise ValueError("rates must lie in [0, 1] and retries must be >= 0")
    pool = _pool(actions)

    def through(seq: tuple[str, ...], i: int, left: int) -> float:
        if i == len(seq):
            return 1.0
        p = float(rates.get(seq[i], 0.0))
        total = p * through(seq, i + 1, left)
        if left and p < 1.0:
            choices = retry_choices(seq[i], seq[i - 1] if i else None, pool)
            for choice in choices:
                q = float(rates.get(choice, 0.0))
                total += (1.0 - p) * q / len(choices) * through(
                    seq[:i] + (choice,) + seq[i + 1:], i + 1, left - 1)
        return total

    sequences = allowed_sequences(n, pool)
    return sum(through(s, 0, retries) for s in sequences) / len(sequences)
