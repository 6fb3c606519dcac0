"""What live faces do unasked, at what rate: shared by the cues that read it and the prompt
draw that must not ask for it.

People looking at a screen blink about 7 times a minute, against about 15-20 in conversation
(Tsubota and Nakamori, "Dry eyes and video display terminals", NEJM 328:584, 1993). The lower,
screen rate is the conservative one wherever it is used: it makes a rigid face count as a
picture later (:mod:`kiosk.analysis.life.expression`) and a blink prompt count as answerable
by chance later (:mod:`kiosk.analysis.challenges.draw`).
"""

from __future__ import annotations

BLINKS_PER_S = 7.0 / 60.0

# A blink closes the lids for 100 to 400 ms (Schiffman, "Sensation and Perception", 5th ed.,
# 2001); the shortest ones are the limit a camera must sample to see every blink at least once.
SHORTEST_BLINK_S = 0.1
