"""The offline dlib matcher on real photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.cloud.errors import NoFaceInImage, SeveralFaces
from kiosk.cloud.local import LocalMatcher, dlib_box_from_landmark_box
from kiosk.cloud.protocol import FaceMatcher, LiveFrame
from kiosk.cloud.results import FaceBox
from kiosk.lab.photo_variants import variant
from kiosk.reasons import Reason
from tests.cloud.conftest import side_by_side


def test_is_a_face_matcher(local_matcher: LocalMatcher):
    assert isinstance(local_matcher, FaceMatcher)
    assert local_matcher.name == "local"
    assert local_matcher.threshold_distance == pytest.approx(0.45)


def test_same_person_matches(local_matcher: LocalMatcher, faces):
    result = local_matcher.compare(faces["obama2"], faces["obama"])
    assert result.matched
    assert result.matcher == "local" and result.offline and result.calls == 0
    assert result.reasons == (Reason.MATCH_OFFLINE,)
    assert result.distance < 0.45  # PROVENANCE quotes 0.37 for this pair
    assert result.similarity >= 95.0
    assert result.live_faces == 1 and result.face_box is not None


def test_different_people_do_not_match(local_matcher: LocalMatcher, faces):
    result = local_matcher.compare(faces["biden"], faces["obama"])
    assert not result.matched
    assert result.distance > 0.7  # PROVENANCE quotes 0.82-0.87
    assert result.similarity < 5.0
    assert Reason.MATCH_BELOW_THRESHOLD in result.reasons


def test_threshold_decides(detector, faces):
    # The same pair fails a matcher whose threshold is above its similarity.
    strict = LocalMatcher(99.9, detector=detector)
    result = strict.compare(faces["obama2"], faces["obama"])
    assert not result.matched and result.threshold == 99.9


def test_tracked_landmark_box_gives_nearly_the_same_descriptor(local_matcher, faces):
    live = faces["obama2"]
    detected = local_matcher.detect(live)[0]
    # A MediaPipe-style landmark box: narrower than dlib's square, same centre.
    cx, cy = detected.center
    half = detected.width / 1.10 / 2
    landmark_box = (cx - half, cy - half * 1.25, cx + half, cy + half * 1.25)
    via_box = local_matcher.embed(live, landmark_box)
    via_detector = local_matcher.embed(live)
    assert np.linalg.norm(via_box.vector - via_detector.vector) < 0.1
    assert via_box.box.contains(*detected.center)
    assert via_box.box.width == pytest.approx(detected.width, rel=0.2)


def test_tracked_box_where_dlib_sees_no_face_uses_the_converted_box(local_matcher, faces):
    live = faces["obama2"].copy()
    detected = local_matcher.detect(live)[0]
    # Hide the face from HOG: the tracked box is still described, from the converted box.
    x0, y0, x1, y1 = (int(v) for v in detected.as_tuple())
    live[y0:y1, x0:x1] = 128
    cx, cy = detected.center
    landmark_box = (cx - 100, cy - 120, cx + 100, cy + 120)
    embedding = local_matcher.embed(live, landmark_box)
    assert embedding.box == dlib_box_from_landmark_box(landmark_box)
    assert embedding.vector.shape == (128,)


def test_landmark_box_conversion_is_a_centred_square():
    box = dlib_box_from_landmark_box((100, 50, 200, 180))
    assert box.center == pytest.approx((150, 115))
    assert box.width == pytest.approx(110) and box.height == pytest.approx(110)
    with pytest.raises(ValueError, match="x1 > x0"):
        dlib_box_from_landmark_box((10, 10, 5, 20))


def test_embedding_repr_never_shows_the_descriptor(local_matcher, faces):
    embedding = local_matcher.embed(faces["obama"])
    assert embedding.vector.shape == (128,)
    assert "vector" not in repr(embedding)


def test_reference_with_two_people_is_refused(local_matcher, faces):
    with pytest.raises(SeveralFaces, match="the reference photo shows 2 faces"):
        local_matcher.compare(faces["obama2"], side_by_side(faces["obama"], faces["biden"]))


def test_reference_without_face_is_refused(local_matcher, faces):
    blank = np.full((300, 300, 3), 90, np.uint8)
    with pytest.raises(NoFaceInImage, match="no face was found in the reference photo"):
        local_matcher.compare(faces["obama2"], blank)


def test_live_without_face_or_with_two_faces_does_not_match(local_matcher, faces):
    blank = np.full((300, 300, 3), 90, np.uint8)
    empty = local_matcher.compare(blank, faces["obama"])
    assert not empty.matched and empty.live_faces == 0
    assert empty.reasons[0] == Reason.MATCH_NO_FACE_LIVE
    crowd = local_matcher.compare(side_by_side(faces["obama2"], faces["biden"]), faces["obama"])
    assert not crowd.matched and crowd.live_faces == 2
    assert crowd.reasons[0] == Reason.MATCH_SEVERAL_FACES_LIVE


def test_tracked_box_selects_the_person_in_a_two_face_frame(local_matcher, faces):
    frame = side_by_side(faces["biden"], faces["obama2"])
    boxes = local_matcher.detect(frame)
    obama_box = max(boxes, key=lambda b: b.x0)  # the right-hand face
    biden_box = min(boxes, key=lambda b: b.x0)
    as_landmarks = [FaceBox(b.x0 + 5, b.y0, b.x1 - 5, b.y1) for b in (obama_box, biden_box)]
    assert local_matcher.compare(frame, faces["obama"], live_box=as_landmarks[0]).matched
    assert not local_matcher.compare(frame, faces["obama"], live_box=as_landmarks[1]).matched


def test_invalid_arguments(local_matcher):
    with pytest.raises(ValueError, match="threshold"):
        LocalMatcher(101.0, detector=local_matcher.detector)
    with pytest.raises(ValueError, match="live must be"):
        local_matcher.compare(np.zeros((5, 5), np.uint8), np.zeros((5, 5, 3), np.uint8))


# -- tight crops, card-size photos, several frames and the quality gate (issue 14) ----------

@pytest.mark.parametrize(("reference", "live", "same"), [
    ("obama", "obama2", True), ("biden", "obama2", False)])
def test_tight_and_card_size_id_photos_are_found_and_matched(local_matcher, faces, reference,
                                                             live, same):
    photo = faces[reference]
    box = local_matcher.detect(photo)[0]
    similarities = {}
    for name in ("full", "tight", "card"):
        result = local_matcher.compare(faces[live], variant(photo, name, box))
        assert result.compared and result.matched is same
        similarities[name] = round(result.similarity, 1)
    print(f"\n{reference} / {live}: similarity full {similarities['full']}, tight "
          f"{similarities['tight']}, card {similarities['card']}")
    assert variant(photo, "card", box).shape == (150, 120, 3)
    if same:
        assert min(similarities.values()) >= 95.0
    else:
        assert max(similarities.values()) < 5.0


def test_several_frames_are_combined_by_their_mean_descriptor(local_matcher, faces):
    live, reference = faces["obama2"], faces["obama"]
    mirrored = np.ascontiguousarray(live[:, ::-1])  # another view of the same person
    frames = [LiveFrame(live), LiveFrame(mirrored)]
    result = local_matcher.compare_frames(frames, reference)
    assert result.frames == 2 and result.compared and result.matched
    vectors = [local_matcher.embed(img).vector for img in (live, mirrored)]
    expected = np.linalg.norm(np.mean(vectors, axis=0) - local_matcher.embed(reference).vector)
    assert result.distance == pytest.approx(expected, abs=1e-9)
    single = local_matcher.compare(live, reference)
    assert single.frames == 1 and single.distance != pytest.approx(result.distance)


def test_frames_the_gate_refuses_are_left_out_of_the_mean(local_matcher, faces):
    live, reference = faces["obama2"], faces["obama"]
    eyes = local_matcher.embed(live).quality.interocular
    blurred = cv2.GaussianBlur(live, (0, 0), 0.08 * eyes)
    result = local_matcher.compare_frames([LiveFrame(blurred), LiveFrame(live)], reference)
    assert result.compared and result.frames == 1 and result.matched
    only_bad = local_matcher.compare_frames([LiveFrame(blurred)], reference)
    assert not only_bad.compared and not only_bad.matched and only_bad.similarity is None
    assert only_bad.reasons == (Reason.LIVE_FACE_BLURRED, Reason.MATCH_OFFLINE)
    assert only_bad.frames == 0


def test_a_poor_reference_is_not_compared(local_matcher, faces):
    tiny = cv2.resize(faces["obama"], (100, 125), interpolation=cv2.INTER_AREA)
    result = local_matcher.compare(faces["obama2"], tiny)
    assert not result.compared and not result.matched and result.similarity is None
    assert result.reasons == (Reason.ID_PHOTO_TOO_SMALL, Reason.MATCH_OFFLINE)
    # Without the gate (evaluation only) the same pair is compared.
    ungated = LocalMatcher(95.0, detector=local_matcher.detector, gate=None)
    assert ungated.compare(faces["obama2"], tiny).compared


def test_frames_without_a_face_are_dropped_and_the_first_problem_is_told(local_matcher, faces):
    blank = np.full((300, 300, 3), 90, np.uint8)
    result = local_matcher.compare_frames([LiveFrame(blank), LiveFrame(faces["obama2"])],
                                          faces["obama"])
    assert result.matched and result.frames == 1
    nothing = local_matcher.compare_frames([LiveFrame(blank)], faces["obama"])
    assert nothing.reasons[0] == Reason.MATCH_NO_FACE_LIVE and nothing.frames == 0
    with pytest.raises(ValueError, match="at least one"):
        local_matcher.compare_frames([], faces["obama"])
    with pytest.raises(ValueError, match="max_frames"):
        LocalMatcher(max_frames=0, detector=local_matcher.detector)


def test_at_most_max_frames_are_described(detector, faces):
    matcher = LocalMatcher(95.0, detector=detector, max_frames=2)
    result = matcher.compare_frames([LiveFrame(faces["obama2"])] * 4, faces["obama"])
    assert result.frames == 2 and result.matched


def test_linked_groups_join_chains_and_part_strangers():
    from kiosk.cloud.one_person import linked_groups

    points = np.array([[2.0], [0.0], [0.4], [0.8]])  # (4, 1) "descriptors"
    groups, distances = linked_groups(points, 0.45)
    assert distances.shape == (4, 4) and distances[1, 3] == pytest.approx(0.8)
    assert groups == [[0], [1, 2, 3]]
    assert linked_groups(points, 1.5)[0] == [[0, 1, 2, 3]]
    assert linked_groups(points[:1], 0.45)[0] == [[0]]


def test_one_person_is_a_chain_of_matches_not_every_pair():
    from kiosk.cloud.one_person import LiveFacesDiffer, check_one_person
    from kiosk.errors import InputError

    # One person's frames: 0.8 apart end to end (a grimace against a calm face), joined by
    # a frame that matches both; a single frame or none has nothing to check.
    check_one_person([np.array([v]) for v in (0.0, 0.4, 0.8)], 0.45)
    check_one_person([np.array([0.0])], 0.45)
    check_one_person([], 0.45)
    with pytest.raises(LiveFacesDiffer, match=r"2 groups .* \(closest 0\.800 apart, one "
                                              r"person's at most 0\.450") as info:
        check_one_person([np.array([v]) for v in (0.0, 0.1, 0.9)], 0.45)
    assert info.value.code == Reason.FACE_CHANGED and isinstance(info.value, InputError)


def test_frames_of_two_people_are_refused_when_one_person_is_asked(local_matcher, faces):
    from kiosk.cloud.one_person import LiveFacesDiffer

    obama, mirrored = faces["obama2"], np.ascontiguousarray(faces["obama2"][:, ::-1])
    two = [LiveFrame(obama), LiveFrame(mirrored), LiveFrame(faces["biden"])]
    assert local_matcher.compare_frames(two, faces["obama"]).frames == 3  # the session's way
    with pytest.raises(LiveFacesDiffer, match="more than one person: its 3 best frames"):
        local_matcher.compare_frames(two, faces["obama"], one_person=True)
    with pytest.raises(LiveFacesDiffer):
        local_matcher.check_frames_one_person(two)
    one = local_matcher.compare_frames(two[:2], faces["obama"], one_person=True)
    assert one.matched and one.frames == 2
    local_matcher.check_frames_one_person(two[:2])
