"""Sessions that ended before the person could be judged on their answers.

A session stopped at the kiosk, whose camera or recording ended, or whose face was never
placed never passes, and its person learns nothing from it; what it may say about an attack
is narrower than what a judged session says. The verifier reads it when it decides whether
such a session failed on liveness (:meth:`kiosk.session.Verifier.session`), and the kiosk's
screens when they pace the next start (:mod:`kiosk.pacing`), so both read a session's end
the same way.

A liveness score under the threshold is no evidence of an attack after a few seconds: it is
earned by evidence of life, which takes time to show (3 of the 12 developer videos that pass
a scripted session score under 90 on their first 3 s, none on 10 s), and a cue's small push
toward an attack has not yet been weighed against it (a live face stopped 0.7 s into the
check scores about 67, its expression cue pushing 0.15 log-odds after 14 frames without a
blink). Such a session therefore fails on liveness only for a cue that is evidence of an
attack on its own, by the rule the fusion keeps for captures too slow to judge
(:data:`kiosk.analysis.fusion.STRONG_LOGIT`, a likelihood ratio of 9): a replay stopped the
moment its bezel or its screen's colour is seen still counts toward the kiosk's lockout, as
it did when every cue counted, while a live face stopped again and again does not (before,
any cue's reason did, and 15 such stops 0.3 s into the check locked a kiosk in 2 minutes).
"""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.reasons import Reason

#: A session that ended for one of these was never judged on the person's answers: it was
#: stopped, its camera or recording ended, or the face was never placed.
ENDED_UNJUDGED = frozenset({Reason.STOPPED, Reason.SOURCE_ENDED, Reason.NO_BASELINE,
                            Reason.NOT_PLACED, Reason.TOO_DARK, Reason.TOO_BRIGHT,
                            Reason.SEVERAL_IN_VIEW})


def ended_unjudged(reasons: Iterable[str]) -> bool:
    """True when a session with these reason codes ended before it could be judged."""
    return not ENDED_UNJUDGED.isdisjoint(reasons)
