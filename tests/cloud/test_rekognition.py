"""RekognitionMatcher against botocore's Stubber: requests, parsing and call counts."""

from __future__ import annotations

import numpy as np
import pytest
from botocore.stub import ANY

from kiosk.cloud.detect import HogFaceDetector
from kiosk.cloud.errors import (
    CollectionNotFound,
    ImageRejected,
    LivenessSessionError,
    NoFaceInImage,
    NotEnrolled,
    SeveralFaces,
)
from kiosk.cloud.protocol import FaceMatcher, LiveFrame
from kiosk.cloud.rekognition import RekognitionMatcher
from kiosk.cloud.results import FaceBox
from kiosk.errors import ConfigError, InputError
from kiosk.reasons import Reason
from tests.cloud import responses as r
from tests.cloud.conftest import side_by_side

H, W = 480, 640
FACE = r.bbox(0.35, 0.25, 0.3, 0.45)  # the tracked person, centre (320, 228) px
OTHER = r.bbox(0.02, 0.30, 0.2, 0.3)  # someone at the left edge
TRACKED = FaceBox(210, 100, 430, 350)  # MediaPipe-style box around FACE


@pytest.fixture
def frames():
    rng = np.random.default_rng(11)
    live = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    reference = rng.integers(0, 256, (300, 240, 3), dtype=np.uint8)
    return live, reference


def compare_params(threshold: float = 95.0, quality_filter: str = "AUTO") -> dict:
    return {"SourceImage": {"Bytes": ANY}, "TargetImage": {"Bytes": ANY},
            "SimilarityThreshold": threshold, "QualityFilter": quality_filter}


DETECT_PARAMS = {"Image": {"Bytes": ANY}, "Attributes": ["ALL"]}


def test_verification_makes_exactly_two_calls(stubbed, frames):
    client, stubber, counter = stubbed
    live, reference = frames
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(FACE)), DETECT_PARAMS)
    stubber.add_response("compare_faces", r.compare_faces([(FACE, 99.2)]), compare_params())
    matcher = RekognitionMatcher(client)
    assert isinstance(matcher, FaceMatcher)
    result = matcher.compare(live, reference, live_box=TRACKED)
    assert counter["calls"] == 2  # counted by botocore's own event hook
    assert result.calls == 2 and result.operations == ("DetectFaces", "CompareFaces")
    assert result.matched and result.similarity == pytest.approx(99.2)
    assert result.matcher == "rekognition" and not result.offline and result.compared
    assert result.reasons == ()
    assert result.quality.passed and result.quality.faces == 1
    assert result.quality.eyes_open is True and result.quality.sharpness == pytest.approx(86.9)
    assert result.face_box.as_tuple() == pytest.approx((0.35 * W, 0.25 * H, 0.65 * W, 0.70 * H))


def test_settings_reach_the_request(stubbed, frames):
    client, stubber, _ = stubbed
    live, reference = frames
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(FACE)), DETECT_PARAMS)
    stubber.add_response("compare_faces", r.compare_faces([], [FACE]), compare_params(99.0, "HIGH"))
    matcher = RekognitionMatcher(client, threshold=99.0, quality_filter="HIGH")
    result = matcher.compare(live, reference, live_box=TRACKED)
    assert not result.matched and result.similarity is None and result.compared
    assert result.reasons == (Reason.MATCH_BELOW_THRESHOLD,)
    assert result.face_box is not None  # the tracked face was seen, just not matched


def test_match_on_another_face_than_the_tracked_one_fails(stubbed, frames):
    client, stubber, _ = stubbed
    live, reference = frames
    # A photo of the enrolled person held at the edge of the frame matches; the live person not.
    # Two faces are not a quality problem another frame could cure: the comparison goes on.
    stubber.add_response("detect_faces",
                         r.detect_faces(r.face_detail(FACE), r.face_detail(OTHER)), DETECT_PARAMS)
    stubber.add_response("compare_faces", r.compare_faces([(OTHER, 99.8)], [FACE]),
                         compare_params())
    result = RekognitionMatcher(client).compare(live, reference, live_box=TRACKED)
    assert not result.matched
    assert result.reasons == (Reason.MATCH_OTHER_FACE, Reason.CLOUD_QUALITY_MULTIPLE_FACES)
    assert result.live_faces == 2 and result.calls == 2


def test_a_frame_refused_for_quality_is_not_compared(stubbed, frames):
    client, stubber, counter = stubbed
    live, reference = frames
    # One frame only, eyes closed: no CompareFaces, no similarity to misread.
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(FACE, eyes_open=False)),
                         DETECT_PARAMS)
    result = RekognitionMatcher(client).compare(live, reference, live_box=TRACKED)
    assert not result.matched and not result.compared and result.similarity is None
    assert result.reasons == (Reason.CLOUD_EYES_CLOSED, Reason.LIVE_EYES_CLOSED)
    assert result.operations == ("DetectFaces",) and counter["calls"] == 1
    assert not result.quality.passed


def test_a_second_frame_is_tried_only_when_the_first_is_refused(stubbed, frames):
    client, stubber, counter = stubbed
    live, reference = frames
    second = np.ascontiguousarray(live[::-1])
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(FACE, sharpness=4.0)),
                         DETECT_PARAMS)
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(FACE)), DETECT_PARAMS)
    stubber.add_response("compare_faces", r.compare_faces([(FACE, 98.5)]), compare_params())
    result = RekognitionMatcher(client).compare_frames(
        [LiveFrame(live, TRACKED), LiveFrame(second, TRACKED), LiveFrame(live, TRACKED)],
        reference)
    assert result.matched and result.compared and result.reasons == ()
    assert result.operations == ("DetectFaces", "DetectFaces", "CompareFaces")
    assert result.calls == counter["calls"] == 3


def test_good_first_frame_keeps_two_calls_whatever_else_is_offered(stubbed, frames):
    client, stubber, counter = stubbed
    live, reference = frames
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(FACE)), DETECT_PARAMS)
    stubber.add_response("compare_faces", r.compare_faces([(FACE, 97.0)]), compare_params())
    result = RekognitionMatcher(client).compare_frames([LiveFrame(live, TRACKED)] * 5,
                                                       reference)
    assert result.matched and counter["calls"] == 2 and result.frames == 1


def test_every_frame_refused_gives_the_gate_reasons(stubbed, frames):
    client, stubber, counter = stubbed
    live, reference = frames
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(FACE, yaw=52.0,
                                                                      brightness=8.0)),
                         DETECT_PARAMS)
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(FACE, occluded=True)),
                         DETECT_PARAMS)
    result = RekognitionMatcher(client).compare_frames(
        [LiveFrame(live, TRACKED), LiveFrame(live, TRACKED), LiveFrame(live, TRACKED)],
        reference)
    assert not result.compared and not result.matched and counter["calls"] == 2
    # The first (best) frame's problems are reported.
    assert result.reasons == (Reason.CLOUD_POSE, Reason.CLOUD_DARK, Reason.LIVE_FACE_NOT_FRONTAL,
                              Reason.LIVE_FACE_DARK)
    assert result.operations == ("DetectFaces", "DetectFaces") and result.frames == 2


def test_cross_check_can_be_switched_off(stubbed, frames):
    client, stubber, counter = stubbed
    live, reference = frames
    stubber.add_response("compare_faces", r.compare_faces([(FACE, 99.0)]), compare_params())
    result = RekognitionMatcher(client, cross_check=False).compare(live, reference)
    assert result.matched and result.quality is None and result.calls == counter["calls"] == 1


def test_reference_with_two_people_is_refused_before_any_call(stubbed, faces):
    client, _, counter = stubbed
    matcher = RekognitionMatcher(client, reference_detector=HogFaceDetector())
    with pytest.raises(SeveralFaces):
        matcher.compare(faces["obama2"], side_by_side(faces["obama"], faces["biden"]))
    assert counter["calls"] == 0


def test_check_quality_alone_is_one_call(stubbed, frames):
    client, stubber, counter = stubbed
    stubber.add_response("detect_faces", r.detect_faces(), DETECT_PARAMS)
    report = RekognitionMatcher(client).check_quality(frames[0])
    assert report.faces == 0 and not report.passed and counter["calls"] == 1


# -- search ------------------------------------------------------------------------------

SEARCH_PARAMS = {"CollectionId": "members", "Image": {"Bytes": ANY}, "MaxFaces": 5,
                 "FaceMatchThreshold": 95.0, "QualityFilter": "AUTO"}


def test_search_finds_the_member(stubbed, frames):
    client, stubber, _ = stubbed
    stubber.add_response("search_faces_by_image",
                         r.search_faces(FACE, [("m-0042", "a1b2c3d4-0000-4000-8000-000000000042",
                                                99.6)]), SEARCH_PARAMS)
    stubber.add_response("detect_faces", r.detect_faces(r.face_detail(FACE)), DETECT_PARAMS)
    result = RekognitionMatcher(client, collection_id="members").search(frames[0],
                                                                       live_box=TRACKED)
    assert result.matched and result.member == "m-0042"
    assert result.matches[0].similarity == pytest.approx(99.6)
    assert result.calls == 2 and result.reasons == ()


def test_search_of_another_face_does_not_check_in(stubbed, frames):
    client, stubber, _ = stubbed
    stubber.add_response("search_faces_by_image",
                         r.search_faces(OTHER, [("m-7", "a1b2c3d4-0000-4000-8000-000000000007",
                                                 99.9)]), SEARCH_PARAMS)
    result = RekognitionMatcher(client, collection_id="members").search(
        frames[0], live_box=TRACKED, quality=False)
    assert result.member == "m-7" and not result.matched
    assert result.reasons == (Reason.MATCH_OTHER_FACE,) and result.calls == 1


def test_search_needs_a_collection(stubbed, frames):
    client, _, counter = stubbed
    with pytest.raises(ConfigError, match="matching.collection_id is empty"):
        RekognitionMatcher(client).search(frames[0])
    assert counter["calls"] == 0


def test_search_in_a_missing_collection(stubbed, frames):
    client, stubber, _ = stubbed
    stubber.add_client_error("search_faces_by_image", "ResourceNotFoundException",
                             "The collection id: members does not exist", 400)
    with pytest.raises(CollectionNotFound, match="collection does not exist"):
        RekognitionMatcher(client, collection_id="members").search(frames[0], quality=False)


# -- enrolment ---------------------------------------------------------------------------

INDEX_PARAMS = {"CollectionId": "members", "Image": {"Bytes": ANY}, "ExternalImageId": "m-0042",
                "MaxFaces": 1, "QualityFilter": "AUTO", "DetectionAttributes": ["DEFAULT"]}
FACE_ID = "5e1c1b0a-7f3e-4d2a-9c1b-2a3b4c5d6e7f"


def test_enrol_creates_the_collection_on_first_use(stubbed, frames):
    client, stubber, _ = stubbed
    stubber.add_client_error("index_faces", "ResourceNotFoundException",
                             "The collection id: members does not exist", 400)
    stubber.add_response("create_collection", {
        "StatusCode": 200, "CollectionArn": "aws:rekognition:us-east-1:123456789012:"
        "collection/members", "FaceModelVersion": "7.0", "ResponseMetadata": r.META},
        {"CollectionId": "members"})
    stubber.add_response("index_faces", r.index_faces(FACE_ID, "m-0042", FACE), INDEX_PARAMS)
    result = RekognitionMatcher(client, collection_id="members").enrol("m-0042", frames[1])
    assert result.face_id == FACE_ID and result.created_collection and result.calls == 3


def test_enrol_in_an_existing_collection_is_one_call(stubbed, frames):
    client, stubber, _ = stubbed
    stubber.add_response("index_faces", r.index_faces(FACE_ID, "m-0042", FACE), INDEX_PARAMS)
    result = RekognitionMatcher(client, collection_id="members").enrol("m-0042", frames[1])
    assert not result.created_collection and result.calls == 1


def test_enrol_of_a_poor_face_says_why(stubbed, frames):
    client, stubber, _ = stubbed
    stubber.add_response("index_faces", r.index_faces(None, "m-0042", FACE, [
        (["LOW_SHARPNESS", "LOW_BRIGHTNESS"], FACE)]), INDEX_PARAMS)
    with pytest.raises(ImageRejected, match="LOW_BRIGHTNESS, LOW_SHARPNESS"):
        RekognitionMatcher(client, collection_id="members").enrol("m-0042", frames[1])


def test_enrol_without_face(stubbed, frames):
    client, stubber, _ = stubbed
    stubber.add_response("index_faces", r.index_faces(None, "m-0042", FACE), INDEX_PARAMS)
    with pytest.raises(NoFaceInImage, match="no face in the member photo"):
        RekognitionMatcher(client, collection_id="members").enrol("m-0042", frames[1])


def test_enrol_of_a_two_person_photo_is_undone(stubbed, frames):
    client, stubber, counter = stubbed
    second = r.bbox(0.55, 0.2, 0.28, 0.4)  # about as wide as FACE
    stubber.add_response("index_faces", r.index_faces(FACE_ID, "m-0042", FACE, [
        (["EXCEEDS_MAX_FACES"], second)]), INDEX_PARAMS)
    stubber.add_response("delete_faces", {"DeletedFaces": [FACE_ID], "ResponseMetadata": r.META},
                         {"CollectionId": "members", "FaceIds": [FACE_ID]})
    with pytest.raises(SeveralFaces, match="shows 2 faces"):
        RekognitionMatcher(client, collection_id="members").enrol("m-0042", frames[1])
    assert counter["calls"] == 2


def test_enrol_ignores_a_small_background_face(stubbed, frames):
    client, stubber, _ = stubbed
    tiny = r.bbox(0.9, 0.1, 0.05, 0.07)
    stubber.add_response("index_faces", r.index_faces(FACE_ID, "m-0042", FACE, [
        (["EXCEEDS_MAX_FACES", "SMALL_BOUNDING_BOX"], tiny)]), INDEX_PARAMS)
    result = RekognitionMatcher(client, collection_id="members").enrol("m-0042", frames[1])
    assert result.face_id == FACE_ID


@pytest.mark.parametrize("member", ["", "Jane Doe", "x" * 256, "m/1"])
def test_member_id_is_checked_before_any_call(stubbed, frames, member):
    client, _, counter = stubbed
    with pytest.raises(InputError, match="member id"):
        RekognitionMatcher(client, collection_id="members").enrol(member, frames[1])
    assert counter["calls"] == 0


# -- removal -----------------------------------------------------------------------------

def test_remove_lists_every_page_and_deletes_the_members_faces(stubbed):
    client, stubber, _ = stubbed
    mine = ["5e1c1b0a-0000-4d2a-9c1b-00000000000" + str(i) for i in range(3)]
    stubber.add_response("list_faces", r.list_faces(
        [(mine[0], "m-0042"), ("5e1c1b0a-1111-4d2a-9c1b-000000000009", "m-9")], "page-2"),
        {"CollectionId": "members", "MaxResults": 4096})
    stubber.add_response("list_faces", r.list_faces([(mine[1], "m-0042"), (mine[2], "m-0042")]),
                         {"CollectionId": "members", "MaxResults": 4096, "NextToken": "page-2"})
    stubber.add_response("delete_faces", {"DeletedFaces": mine, "ResponseMetadata": r.META},
                         {"CollectionId": "members", "FaceIds": mine})
    result = RekognitionMatcher(client, collection_id="members").remove("m-0042")
    assert result.face_ids == tuple(mine) and result.calls == 3


def test_remove_with_stored_face_ids_skips_listing(stubbed):
    client, stubber, _ = stubbed
    stubber.add_response("delete_faces", {"DeletedFaces": [FACE_ID], "ResponseMetadata": r.META},
                         {"CollectionId": "members", "FaceIds": [FACE_ID]})
    result = RekognitionMatcher(client, collection_id="members").remove("m-0042", (FACE_ID,))
    assert result.calls == 1


def test_remove_of_an_unknown_member(stubbed):
    client, stubber, _ = stubbed
    stubber.add_response("list_faces", r.list_faces([(FACE_ID, "m-1")]),
                         {"CollectionId": "members", "MaxResults": 4096})
    with pytest.raises(NotEnrolled, match="member m-0042 is not enrolled in collection members"):
        RekognitionMatcher(client, collection_id="members").remove("m-0042")


# -- AWS Face Liveness -------------------------------------------------------------------

SESSION = "f3c4b5a6-1d2e-4f3a-8b9c-0d1e2f3a4b5c"


def test_create_liveness_session(stubbed):
    client, stubber, _ = stubbed
    stubber.add_response("create_face_liveness_session",
                         {"SessionId": SESSION, "ResponseMetadata": r.META},
                         {"Settings": {"AuditImagesLimit": 2}, "ClientRequestToken": "kiosk-1-7"})
    session = RekognitionMatcher(client).create_liveness_session(
        audit_images_limit=2, client_request_token="kiosk-1-7")
    assert session == SESSION


@pytest.mark.parametrize(("status", "confidence", "passed", "reasons"), [
    ("SUCCEEDED", 98.7, True, ()),
    ("SUCCEEDED", 62.0, False, (Reason.CLOUD_LIVENESS_BELOW_THRESHOLD,)),
    ("IN_PROGRESS", None, False, (Reason.CLOUD_LIVENESS_NOT_FINISHED,)),
    ("EXPIRED", None, False, (Reason.CLOUD_LIVENESS_FAILED,)),
])
def test_liveness_result_uses_the_confidence_threshold(stubbed, status, confidence, passed,
                                                       reasons):
    client, stubber, _ = stubbed
    response = {"SessionId": SESSION, "Status": status, "ResponseMetadata": r.META}
    if confidence is not None:
        response["Confidence"] = confidence
        response["ReferenceImage"] = {"Bytes": b"\xff\xd8jpeg", "BoundingBox": FACE}
    stubber.add_response("get_face_liveness_session_results", response, {"SessionId": SESSION})
    result = RekognitionMatcher(client, liveness_threshold=90.0).liveness_result(SESSION)
    assert result.passed is passed and result.reasons == reasons
    assert result.status == status and result.threshold == 90.0 and result.calls == 1
    assert "jpeg" not in repr(result)  # the reference image never reaches a log line


def test_unknown_liveness_session(stubbed):
    client, stubber, _ = stubbed
    stubber.add_client_error("get_face_liveness_session_results", "SessionNotFoundException",
                             "Session not found", 400)
    with pytest.raises(LivenessSessionError, match="does not exist or has expired"):
        RekognitionMatcher(client).liveness_result(SESSION)


def test_constructor_checks(stubbed):
    client, _, _ = stubbed
    with pytest.raises(ValueError, match="quality_filter"):
        RekognitionMatcher(client, quality_filter="BEST")
    with pytest.raises(ValueError, match="threshold"):
        RekognitionMatcher(client, threshold=120)
