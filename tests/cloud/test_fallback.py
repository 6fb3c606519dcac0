"""Cloud first with local fallback, the offline policy, and the matcher factory."""

from __future__ import annotations

import pytest
from botocore.stub import ANY

from kiosk.cloud.errors import CloudThrottled, NoCredentials, NoFaceInImage
from kiosk.cloud.factory import build_matcher
from kiosk.cloud.fallback import ResilientMatcher
from kiosk.cloud.local import LocalMatcher
from kiosk.cloud.rekognition import RekognitionMatcher
from kiosk.cloud.results import MatchResult, QualityReport
from kiosk.reasons import Reason
from kiosk.session.attempt import cloud_calls
from kiosk.session.verdict import match_outcome, offline_may_pass
from kiosk.settings import Settings
from kiosk.vocabulary import Verdict
from tests.cloud import responses as r
from tests.cloud.conftest import fake_session


@pytest.mark.parametrize(("mode", "policy", "expected"), [
    ("staffed", "auto", True), ("unattended", "auto", False),
    ("staffed", "review", False), ("unattended", "pass", True),
])
def test_offline_may_pass(mode, policy, expected):
    assert offline_may_pass(mode, policy) is expected


def test_offline_policy_arguments_are_checked():
    with pytest.raises(ValueError, match="offline_policy"):
        offline_may_pass("staffed", "maybe")
    with pytest.raises(ValueError, match="mode"):
        offline_may_pass("kiosk", "auto")


def _result(matched=True, offline=False, reasons=(), quality=None) -> MatchResult:
    return MatchResult(matched=matched, similarity=99.0 if matched else 10.0, threshold=95.0,
                       matcher="local" if offline else "rekognition", offline=offline,
                       reasons=reasons, quality=quality)


def test_outcomes():
    online = _result()
    assert match_outcome(online, mode="unattended", offline_policy="auto") == (Verdict.PASS, ())
    assert match_outcome(_result(matched=False), mode="staffed",
                         offline_policy="pass")[0] == Verdict.FAIL
    offline = _result(offline=True, reasons=(Reason.MATCH_OFFLINE,))
    assert match_outcome(offline, mode="staffed", offline_policy="auto") == (Verdict.PASS,
                                                                             (Reason.MATCH_OFFLINE,))
    assert match_outcome(offline, mode="unattended", offline_policy="auto") == (
        Verdict.REVIEW, (Reason.MATCH_OFFLINE, Reason.MATCH_OFFLINE_REVIEW))
    crowd = _result(reasons=(Reason.CLOUD_QUALITY_MULTIPLE_FACES,),
                    quality=QualityReport(faces=2, reasons=(Reason.CLOUD_QUALITY_MULTIPLE_FACES,)))
    assert match_outcome(crowd, mode="staffed", offline_policy="pass")[0] == Verdict.FAIL
    # A site with a busy lobby may decide a bystander only asks for review.
    assert match_outcome(crowd, mode="staffed", offline_policy="pass",
                         fail_reasons=frozenset())[0] == Verdict.REVIEW
    eyes = _result(reasons=(Reason.CLOUD_EYES_CLOSED,),
                   quality=QualityReport(faces=1, reasons=(Reason.CLOUD_EYES_CLOSED,)))
    assert match_outcome(eyes, mode="staffed", offline_policy="pass") == (
        Verdict.REVIEW, (Reason.CLOUD_EYES_CLOSED, Reason.MATCH_QUALITY_REVIEW))


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


COMPARE = {"SourceImage": {"Bytes": ANY}, "TargetImage": {"Bytes": ANY},
           "SimilarityThreshold": 95.0, "QualityFilter": "AUTO"}
DETECT = {"Image": {"Bytes": ANY}, "Attributes": ["ALL"]}


def test_cloud_down_falls_back_offline_and_cools_down(stubbed, local_matcher, faces):
    client, stubber, counter = stubbed
    clock = _Clock()
    matcher = ResilientMatcher(RekognitionMatcher(client), local_matcher, cooldown_s=60,
                               clock=clock)
    stubber.add_client_error("detect_faces", "ThrottlingException", "Rate exceeded", 400)
    first = matcher.compare(faces["obama2"], faces["obama"])
    assert first.matched and first.offline and first.matcher == "local"
    assert first.reasons[0] == CloudThrottled.code and Reason.MATCH_OFFLINE in first.reasons
    assert "throttling" in first.note and "local matcher" in first.note
    assert counter["calls"] == 1
    # AWS received the face before it refused: the call stays on the audit record.
    assert (first.operations, first.calls) == (("DetectFaces",), 1)
    assert cloud_calls(first) == ("DetectFaces",)
    # Within the cool-down the cloud is not asked again.
    clock.now += 30
    second = matcher.compare(faces["biden"], faces["obama"])
    assert not second.matched and second.offline and counter["calls"] == 1
    assert (second.operations, second.calls, cloud_calls(second)) == ((), 0, ())
    assert "moments ago" in second.note
    # After it, the cloud answers again.
    clock.now += 31
    live = faces["obama2"]
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(r.bbox(0.3, 0.2, 0.4, 0.5))),
                         DETECT)
    stubber.add_response("compare_faces", r.compare_faces([(r.bbox(0.3, 0.2, 0.4, 0.5), 99.0)]),
                         COMPARE)
    third = matcher.compare(live, faces["obama"])
    assert third.matcher == "rekognition" and not third.offline and third.matched
    assert counter["calls"] == 3 and third.operations == ("DetectFaces", "CompareFaces")


def test_the_calls_before_a_failure_are_kept_with_the_offline_answer(stubbed, local_matcher,
                                                                     faces):
    client, stubber, _ = stubbed
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(r.bbox(0.3, 0.2, 0.4, 0.5))),
                         DETECT)
    stubber.add_client_error("compare_faces", "ThrottlingException", "Rate exceeded", 400)
    result = ResilientMatcher(RekognitionMatcher(client), local_matcher).compare(
        faces["obama2"], faces["obama"])
    assert result.offline and result.matcher == "local"
    assert result.operations == ("DetectFaces", "CompareFaces") and result.calls == 2


def test_a_face_problem_is_not_hidden_by_the_fallback(stubbed, local_matcher, faces):
    client, stubber, _ = stubbed
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(r.bbox(0.3, 0.2, 0.4, 0.5))),
                         DETECT)
    stubber.add_client_error("compare_faces", "InvalidParameterException",
                             "Request has invalid parameters", 400)
    matcher = ResilientMatcher(RekognitionMatcher(client), local_matcher)
    with pytest.raises(NoFaceInImage):
        matcher.compare(faces["obama2"], faces["obama"])


def test_access_denied_falls_back_with_its_reason(stubbed, local_matcher, faces):
    client, stubber, _ = stubbed
    stubber.add_client_error("detect_faces", "AccessDeniedException", "denied", 400)
    result = ResilientMatcher(RekognitionMatcher(client), local_matcher).compare(
        faces["obama2"], faces["obama"])
    assert result.offline and result.reasons[0] == "CLOUD_ACCESS_DENIED"


def test_factory_choices(aws_env, detector):
    settings = Settings()
    assert isinstance(build_matcher(settings, choice="local", detector=detector), LocalMatcher)
    # No AWS configuration at all: auto means local.
    assert isinstance(build_matcher(settings, detector=detector), LocalMatcher)
    session = fake_session()
    auto = build_matcher(settings, session=session, detector=detector)
    assert isinstance(auto, ResilientMatcher) and auto.name == "rekognition+local"
    assert auto.cloud.reference_detector is detector and auto.local.detector is detector
    cloud = build_matcher(settings.replace("matching", matcher="rekognition", collection_id="m"),
                          session=session, detector=detector)
    assert isinstance(cloud, RekognitionMatcher) and cloud.collection_id == "m"
    with pytest.raises(ValueError, match="matcher"):
        build_matcher(settings, choice="best", detector=detector)


@pytest.mark.parametrize(("env", "says"), [
    ({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
     "no AWS region is configured"),
    ({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
      "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://user:hunter2@[bad"},
     "the Rekognition endpoint URL is not valid"),
], ids=["credentials without a region", "an endpoint that is not a URL"])
def test_a_half_configured_aws_falls_back_at_every_comparison(aws_env, detector,
                                                             local_matcher, faces, env, says):
    """Before: auto raised at build time, so ``kiosk verify`` exited 2 and the window had no
    matcher, although the docstring promised the failure as a reason code."""
    for name, value in env.items():
        aws_env.setenv(name, value)
    with pytest.raises(NoCredentials, match=f"^{says}") as refused:
        build_matcher(Settings(), choice="rekognition", detector=detector)
    assert "hunter2" not in str(refused.value)  # a URL's password is never quoted
    matcher = build_matcher(Settings(), detector=detector)
    assert isinstance(matcher, ResilientMatcher) and matcher.cloud is None
    matcher.local = local_matcher  # the session's loaded models
    for _ in range(2):
        result = matcher.compare(faces["obama2"], faces["obama"])
        assert result.offline and result.matched and result.operations == ()
        assert result.reasons[0] == Reason.CLOUD_NO_CREDENTIALS
        assert says in result.note and "hunter2" not in result.note


SEARCH = {"CollectionId": "members", "Image": {"Bytes": ANY}, "MaxFaces": 5,
          "FaceMatchThreshold": 95.0, "QualityFilter": "AUTO"}


def test_member_search_has_no_local_stand_in(stubbed, local_matcher, faces):
    """The members' faces are in Rekognition only: a cloud that cannot be used raises (the
    session: review), within the cool-down without asking again, and records no call then."""
    client, stubber, counter = stubbed
    clock = _Clock()
    matcher = ResilientMatcher(RekognitionMatcher(client, collection_id="members"),
                               local_matcher,
                               cooldown_s=60, clock=clock)
    stubber.add_response("search_faces_by_image", r.search_faces(
        r.bbox(0.3, 0.2, 0.4, 0.5), [("m-1", "a1b2c3d4-0000-4000-8000-000000000001", 99.2)]),
        SEARCH)
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(r.bbox(0.3, 0.2, 0.4,
                                                                             0.5))), DETECT)
    found = matcher.search(faces["obama"], live_box=None)
    assert found.matched and found.member == "m-1" and counter["calls"] == 2
    stubber.add_client_error("search_faces_by_image", "ThrottlingException", "Rate exceeded",
                             400)
    with pytest.raises(CloudThrottled) as first:
        matcher.search(faces["obama"])
    assert first.value.operations == ("SearchFacesByImage",) and counter["calls"] == 3
    clock.now += 30
    with pytest.raises(CloudThrottled) as second:
        matcher.search(faces["obama"])
    assert second.value.operations == () and counter["calls"] == 3
    with pytest.raises(NoCredentials, match="member check-in searches"):
        local_matcher.search(faces["obama"])


def test_frames_of_two_people_are_refused_before_anything_is_sent(stubbed, local_matcher,
                                                                  faces):
    from kiosk.cloud.one_person import LiveFacesDiffer
    from kiosk.cloud.protocol import LiveFrame

    client, _, counter = stubbed
    two = [LiveFrame(faces["obama2"]), LiveFrame(faces["biden"])]
    online = ResilientMatcher(RekognitionMatcher(client), local_matcher)
    with pytest.raises(LiveFacesDiffer):
        online.compare_frames(two, faces["obama"], one_person=True)
    assert counter["calls"] == 0  # Rekognition would have answered for the best frame alone
    offline = ResilientMatcher(None, local_matcher, unusable=NoCredentials("no region"))
    with pytest.raises(LiveFacesDiffer):
        offline.compare_frames(two, faces["obama"], one_person=True)
    assert offline.compare_frames(two[:1], faces["obama"], one_person=True).matched
