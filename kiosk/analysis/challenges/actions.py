"""The challenge actions, which of them a kiosk may ask for, and how they relate.

Directions are the subject's own (see :mod:`kiosk.model`): ``turn_left`` is a yaw excursion
toward positive yaw, ``look_down`` a pitch excursion toward negative pitch.

Which actions contradict a prompt
---------------------------------
A prompt fails with ``WRONG_ACTION`` only when the person does something that cannot be an
honest attempt at it. The pairs were chosen from what real people do while answering:

- ``blink`` never contradicts anything: people blink every few seconds whatever they are asked.
- ``smile`` never contradicts anything: people smile while they turn, nod or blink on request
  (nervousness, politeness), and a small smile is part of many neutral faces.
- A deliberate head movement (``turn_left``, ``turn_right``, ``nod``, ``look_up``,
  ``look_down``; each needs a large excursion away from the person's own baseline and back)
  contradicts every prompt that does not ask for a movement on the same axis and in the same
  direction. Turning right when asked left is the textbook case; a 20-degree turn while asked to
  blink or smile is what a replayed video does, not what a person answering does.
- ``nod`` and ``look_down``/``look_up`` are the same axis: a nod is a quick pitch excursion and
  is also reported as ``look_down`` (or ``look_up``). They answer each other's prompts without
  contradiction, but ``look_up`` and ``look_down`` contradict each other.

Natural movement is not wrong
-----------------------------
People move their head while they blink, smile and talk. A head movement therefore counts as
wrong only when it is clear and deliberate (:func:`is_wrong`):

- the opposite direction on the asked axis (turning right when asked to turn left) as soon as
  it reaches the movement threshold (``liveness.turn_angle_deg``, ``pitch_angle_deg``);
- any other head movement (during a blink or smile prompt, or on the other axis during a head
  prompt) only when its excursion reaches :data:`DELIBERATE_FACTOR` times that threshold, i.e.
  30 degrees of yaw or 22.5 of pitch by default.

Which actions are asked
-----------------------
:data:`CHALLENGE_ACTIONS` holds the prompts a session draws from: blink, smile and the two
turns, whose detectors were measured on labelled developer clips. ``nod`` is detected and
reported (``kiosk analyze``) but not asked: no labelled nod exists in the developer set (its
slow looks up and down are not nods), so its precision has never been measured.
"""

from __future__ import annotations

BLINK = "blink"
SMILE = "smile"
TURN_LEFT = "turn_left"
TURN_RIGHT = "turn_right"
NOD = "nod"
LOOK_UP = "look_up"
LOOK_DOWN = "look_down"

#: Every action a detector reports.
ACTIONS: tuple[str, ...] = (BLINK, SMILE, TURN_LEFT, TURN_RIGHT, NOD, LOOK_UP, LOOK_DOWN)

#: The actions a session draws its prompts from by default (see the module docstring).
CHALLENGE_ACTIONS: tuple[str, ...] = (BLINK, TURN_LEFT, TURN_RIGHT, SMILE)

#: Actions people also do involuntarily: one that started just before a prompt, or too soon
#: after it, is ignored (it is not an answer) instead of failing the challenge.
SPONTANEOUS: frozenset[str] = frozenset({BLINK})

YAW_ACTIONS: frozenset[str] = frozenset({TURN_LEFT, TURN_RIGHT})
PITCH_ACTIONS: frozenset[str] = frozenset({NOD, LOOK_UP, LOOK_DOWN})
HEAD_ACTIONS: frozenset[str] = YAW_ACTIONS | PITCH_ACTIONS

#: A head movement off the asked axis or direction is deliberate from this many times the
#: movement threshold (see the module docstring and :func:`is_wrong`).
DELIBERATE_FACTOR = 1.5

#: Same-axis pairs that are not contradictions (a nod is also a look down or up).
_COMPATIBLE: frozenset[frozenset[str]] = frozenset({
    frozenset({NOD, LOOK_DOWN}), frozenset({NOD, LOOK_UP}),
})


def check_action(action: str) -> str:
    """Return ``action`` if it is known; raise ValueError naming the known actions otherwise."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known actions: {', '.join(ACTIONS)}")
    return action


def contradicts(asked: str, seen: str) -> bool:
    """True when action ``seen`` cannot be an honest attempt at ``asked`` (whatever its size).

    See the module docstring for the reasoning behind each pair.
    """
    check_action(asked)
    check_action(seen)
    if seen == asked or seen not in HEAD_ACTIONS:
        return False
    return frozenset({asked, seen}) not in _COMPATIBLE


def opposes(asked: str, seen: str) -> bool:
    """True when ``seen`` is the other direction on the asked axis (left for right, up for
    down)."""
    return contradicts(asked, seen) and (
        {asked, seen} <= YAW_ACTIONS or {asked, seen} <= {LOOK_UP, LOOK_DOWN})


def is_wrong(asked: str, seen: str, excursion: float) -> bool:
    """True when a movement ``seen`` while ``asked`` is on screen fails the prompt.

    Parameters
    ----------
    asked, seen : str
        The prompted action and the detected one.
    excursion : float
        The detected movement's size as a multiple of its detection threshold (1.0 at the
        threshold; see :func:`excursion_of`).
    """
    if not contradicts(asked, seen):
        return False
    return opposes(asked, seen) or excursion >= DELIBERATE_FACTOR


def excursion_of(confidence: float) -> float:
    """A head event's peak excursion in thresholds, from its confidence (0.5 at the threshold,
    1.0 at twice the threshold, linear between: see ``kiosk.analysis.challenges.head``)."""
    return 1.0 + 2.0 * (min(max(confidence, 0.5), 1.0) - 0.5)
