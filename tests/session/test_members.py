"""Member check-in (kiosk.session.members): after the liveness check, the best frame is
searched among the enrolled members' faces, never compared with nothing."""

from __future__ import annotations

import json

import pytest

from kiosk.cloud.errors import CloudUnavailable
from kiosk.lab.standin import FixedMatcher, members_found
from kiosk.reasons import CATALOGUE, Reason
from kiosk.session import SessionRequest
from kiosk.session.members import checks_members
from kiosk.settings import Settings
from kiosk.vocabulary import Verdict
from tests.session.test_session import SCRIPT, performing_stream, run, verifier


def check_in(settings, audit, clock, matcher, score=96.0):
    v, _ = verifier(settings, audit, clock, score=score, matcher=matcher)
    decision, _ = run(v, performing_stream(), SessionRequest(script=SCRIPT, member_check_in=True))
    return decision


def test_a_member_found_passes_and_only_the_site_gets_the_id(settings, audit, clock):
    matcher = FixedMatcher(found=members_found("M-1042", "M-7"))
    decision = check_in(settings, audit, clock, matcher)
    assert decision.decision == Verdict.PASS and decision.reasons == ()
    assert decision.member == "M-1042" and decision.as_dict()["member"] == "M-1042"
    assert decision.cloud_calls == ("SearchFacesByImage",)
    stored = audit.get_attempt(decision.attempt_id).record
    assert stored.match is not None and stored.match["matched"] is True
    assert stored.match["similarity"] == 99.0
    # The audit row keeps that a member was found, not who (the site's systems get the id).
    assert "M-1042" not in json.dumps(stored.match) and "M-1042" not in str(stored)


def test_nobody_found_fails_without_saying_so_and_locks_no_kiosk(settings, audit, clock):
    decision = check_in(settings, audit, clock, FixedMatcher(found=members_found()))
    assert decision.decision == Verdict.FAIL and decision.reasons == (Reason.MEMBER_NOT_FOUND,)
    assert decision.member is None
    info = CATALOGUE[Reason.MEMBER_NOT_FOUND]
    assert info.person is None and not info.attack  # "Please ask a member of staff" only


def test_a_member_found_on_another_face_fails(settings, audit, clock):
    found = members_found("M-1042", reasons=(Reason.MATCH_OTHER_FACE,))
    decision = check_in(settings, audit, clock, FixedMatcher(found=found))
    assert decision.decision == Verdict.FAIL and decision.reasons == (Reason.MATCH_OTHER_FACE,)
    assert decision.member is None


def test_no_cloud_is_a_review_never_a_pass(settings, audit, clock):
    error = CloudUnavailable("network unreachable")
    error.operations = ("SearchFacesByImage",)
    decision = check_in(settings, audit, clock, FixedMatcher(error=error))
    assert decision.decision == Verdict.REVIEW
    assert decision.reasons == (Reason.MATCH_UNAVAILABLE, Reason.CLOUD_UNAVAILABLE)
    assert decision.cloud_calls == ("SearchFacesByImage",)


def test_the_search_comes_only_after_the_liveness_check_passed(settings, audit, clock):
    matcher = FixedMatcher(found=members_found("M-1042"))
    decision = check_in(settings, audit, clock, matcher, score=30.0)
    assert decision.decision == Verdict.FAIL and Reason.LIVENESS_FAILED in decision.reasons
    assert matcher.calls == 0 and decision.member is None


def test_a_check_in_takes_no_id_photo_and_needs_a_matcher(settings, audit, clock):
    import numpy as np

    with pytest.raises(ValueError, match="takes no ID photo"):
        SessionRequest(reference=np.zeros((4, 4, 3), np.uint8), member_check_in=True)
    v, _ = verifier(settings, audit, clock)
    with pytest.raises(ValueError, match="member check-in"):
        next(v.session([], SessionRequest(member_check_in=True)))


def test_which_kiosks_check_members_in():
    s = Settings()
    assert not checks_members(s)
    assert checks_members(s.replace("matching", collection_id="members"))
    assert not checks_members(s.replace("matching", collection_id="members")
                              .replace("kiosk", mode="staffed"))
