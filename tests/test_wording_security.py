"""The result sentence says nothing about the security checks when the person can act.

An audit's attacker let every prompt time out (or pressed Stop) and read the sentence: "We did
not see the movement in time" when his replay had beaten the passive cues, "Please ask a member
of staff" when a cue had fired. The rule now: a reason the person can act on gives its sentence
whatever security reasons come with it; "Please ask a member of staff" only when there is none.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kiosk.reasons import CATALOGUE, Reason, ReasonKind
from kiosk.wording import RESULT_STAFF, result_message

#: Reasons with a sentence for the person, and those without one (a lockout has its own).
ACTIONABLE = sorted(code for code, info in CATALOGUE.items() if info.person is not None)
SECURITY = sorted(code for code, info in CATALOGUE.items()
                  if info.person is None and info.kind != ReasonKind.LOCKOUT)


def fail(*reasons: str) -> SimpleNamespace:
    return SimpleNamespace(decision="fail", reasons=reasons)


@pytest.mark.parametrize("reasons, words", [
    ((Reason.CHALLENGE_TIMEOUT, Reason.LIVENESS_FAILED, Reason.SCREEN_SUSPECTED),
     "We did not see the movement in time"),
    ((Reason.CHALLENGE_TIMEOUT, Reason.LIGHT_NOT_REFLECTED), "We did not see the movement"),
    ((Reason.STOPPED, Reason.LIVENESS_FAILED, Reason.GLARE), "You stopped the check"),
    ((Reason.FACE_LOST, Reason.LIVENESS_FAILED), "Your face left the picture"),
    ((Reason.SESSION_TIMEOUT, Reason.NOT_PLACED, Reason.LIVENESS_FAILED),
     "We could not see your face in the oval"),
])
def test_a_cue_beside_a_reason_the_person_can_act_on_changes_nothing(reasons, words):
    told = result_message(fail(*reasons))
    assert told.detail.startswith(words)
    assert told == result_message(fail(*(r for r in reasons if CATALOGUE[r].person)))


def test_no_security_reason_changes_the_sentence_of_any_actionable_one():
    for code in ACTIONABLE:
        alone = result_message(fail(code))
        for security in SECURITY:
            assert result_message(fail(code, security)) == alone, (code, security)
            assert result_message(fail(security, code)) == alone, (code, security)


@pytest.mark.parametrize("reasons", [
    (Reason.LIVENESS_FAILED, Reason.SCREEN_SUSPECTED),
    (Reason.LIGHT_NOT_REFLECTED, Reason.LIVENESS_FAILED, Reason.GLARE),
    (Reason.RESPONSE_TOO_FAST, Reason.LIVENESS_FAILED), (Reason.FACE_CHANGED,)])
def test_security_reasons_alone_still_only_say_ask_a_member_of_staff(reasons):
    assert result_message(fail(*reasons)) == RESULT_STAFF
