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

#: The actions a session draws its prompts from by default.
CHALLENGE_ACTIONS: tuple[str, ...] = (BLINK, TURN_LEFT, TURN_RIGHT, SMILE, NOD)

#: Actions people also do involuntarily: one that started just before a prompt, or too soon
#: after it, is ignored (it is not an answer) instead of failing the challenge.
SPONTANEOUS: frozenset[str] = frozenset({BLINK})

YAW_ACTIONS: frozenset[str] = frozenset({TURN_LEFT, TURN_RIGHT})
PITCH_ACTIONS: frozenset[str] = frozenset({NOD, LOOK_UP, LOOK_DOWN})
HEAD_ACTIONS: frozenset[str] = YAW_ACTIONS | PITCH_ACTIONS

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
    """True when an event of action ``seen`` during a prompt for ``asked`` is a wrong action.

    See the module docstring for the reasoning behind each pair.
    """
    check_action(asked)
    check_action(seen)
    if seen == asked or seen not in HEAD_ACTIONS:
        return False
    return frozenset({asked, seen}) not in _COMPATIBLE
